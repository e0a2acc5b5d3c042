//! The registry client (`updraft-registry`) against real services: Debian's
//! docker-registry started by `infra/local/registry.sh` (anonymous, htpasswd
//! Basic, Bearer tokens from a real token server) with images pushed by the
//! tests, and a scripted axum registry for the faults registry 2.8 cannot
//! produce. Every test runs under a time bound.

#[path = "../registry_fake.rs"]
mod fake;
#[path = "../registry_support.rs"]
mod support;

use std::future::Future;
use std::time::{Duration, Instant};

use updraft_core::Platform;
use updraft_registry::manifest::{DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, parse_created};
use updraft_registry::{
    ClientOptions, Credentials, Registries, RegistryClient, RequestCounts, RetryPolicy,
};

use fake::{FakeOptions, HUGE_TAGS};
use support::{Format, ImageSpec, PushAuth, Pusher, Services, digest_of};

/// Every test finishes within this, or fails.
const BOUND: Duration = Duration::from_secs(90);

async fn bounded<F: Future>(f: F) -> F::Output {
    tokio::time::timeout(BOUND, f)
        .await
        .expect("the test exceeded its time bound")
}

/// A client for `url`, configured through registries.conf text (`extra`
/// holds more keys of the entry, each line starting with two spaces).
fn client(url: &str, extra: &str, options: ClientOptions) -> RegistryClient {
    let yaml =
        format!("registries:\n- name: test\n  api_url: {url}\n  prefix: test.local\n{extra}");
    let registries = Registries::parse(&yaml, "test registries.conf").unwrap();
    let endpoint = registries.endpoint_for(Some("test.local"), "any").unwrap();
    RegistryClient::new(endpoint, options).unwrap()
}

/// Quick retries, so fault tests stay short.
fn fast() -> ClientOptions {
    ClientOptions {
        retry: RetryPolicy {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(100),
            max_retry_after: Duration::from_secs(10),
        },
        request_timeout: Duration::from_secs(10),
        connect_timeout: Duration::from_secs(5),
        ..ClientOptions::default()
    }
}

fn p(text: &str) -> Platform {
    Platform::parse(text).unwrap()
}

fn ns(text: &str) -> i64 {
    parse_created(text).unwrap()
}

fn counts(ping: u64, token: u64, tags: u64, manifest: u64, blob: u64) -> RequestCounts {
    RequestCounts {
        ping,
        token,
        tags,
        manifest,
        blob,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_registry_tags_digests_and_metadata() {
    bounded(async {
        let services = Services::start(&["anon"]).unwrap();
        let url = services.get("ANON_URL");
        let pusher = Pusher::new(&url, PushAuth::None);
        let repo = "team/app";
        let v1 = pusher
            .image(
                repo,
                Some("v1.0.0"),
                &ImageSpec::new("2024-01-01T00:00:00Z", "linux/amd64")
                    .label("org.opencontainers.image.version", "1.0.0"),
            )
            .await
            .unwrap();
        let v11 = pusher
            .image(
                repo,
                Some("v1.1.0"),
                &ImageSpec::new("2024-03-01T00:00:00.123456789Z", "linux/amd64"),
            )
            .await
            .unwrap();
        let docker = pusher
            .image(
                repo,
                Some("docker-v2"),
                &ImageSpec::new("2024-02-01T00:00:00Z", "linux/amd64").docker(),
            )
            .await
            .unwrap();
        let (multi, children) = pusher
            .index(
                repo,
                "multi",
                &[
                    ImageSpec::new("2024-04-01T00:00:00Z", "linux/amd64"),
                    ImageSpec::new("2024-05-01T00:00:00Z", "linux/arm64"),
                    ImageSpec::new("2024-06-01T00:00:00Z", "linux/arm/v7"),
                ],
                Format::Oci,
                true,
            )
            .await
            .unwrap();
        let (list, _) = pusher
            .index(
                repo,
                "list",
                &[
                    ImageSpec::new("2024-07-01T00:00:00Z", "linux/amd64"),
                    ImageSpec::new("2024-08-01T00:00:00Z", "linux/arm64"),
                ],
                Format::Docker,
                false,
            )
            .await
            .unwrap();

        let client = client(&url, "", ClientOptions::default());
        let mut tags = client.list_tags(repo).await.unwrap();
        tags.sort();
        assert_eq!(tags, ["docker-v2", "list", "multi", "v1.0.0", "v1.1.0"]);
        assert_eq!(client.counts(), counts(1, 0, 1, 0, 0));

        // Digests by HEAD: one request each.
        let before = client.counts();
        for (tag, expected) in [
            ("v1.0.0", &v1.digest),
            ("multi", &multi.digest),
            ("docker-v2", &docker.digest),
            ("list", &list.digest),
        ] {
            assert_eq!(
                &client.manifest_digest(repo, tag).await.unwrap(),
                expected,
                "{tag}"
            );
        }
        assert_eq!(client.counts().since(&before), counts(0, 0, 0, 4, 0));

        // A single OCI image: manifest + config blob.
        let amd64 = [p("linux/amd64")];
        let before = client.counts();
        let m = client.tag_metadata(repo, "v1.1.0", &amd64).await.unwrap();
        assert_eq!(client.counts().since(&before), counts(0, 0, 0, 1, 1));
        assert!(m.platform_matched);
        assert_eq!(m.digest, v11.digest);
        assert_eq!(m.created, Some(ns("2024-03-01T00:00:00.123456789Z")));
        assert_eq!(m.images[0].config_digest, v11.config_digest);
        assert_eq!(m.available_platforms, vec![p("linux/amd64")]);
        let candidate = m.to_candidate();
        assert_eq!(candidate.name, "v1.1.0");
        assert_eq!(candidate.platforms, vec!["linux/amd64".to_string()]);

        let m = client.tag_metadata(repo, "v1.0.0", &amd64).await.unwrap();
        assert_eq!(m.labels()["org.opencontainers.image.version"], "1.0.0");

        // Docker schema 2.
        let m = client
            .tag_metadata(repo, "docker-v2", &amd64)
            .await
            .unwrap();
        assert_eq!(m.media_type, DOCKER_MANIFEST);
        assert_eq!(m.created, Some(ns("2024-02-01T00:00:00Z")));

        // A single image of another platform: not matched, metadata says so.
        let m = client
            .tag_metadata(repo, "v1.0.0", &[p("linux/arm64")])
            .await
            .unwrap();
        assert!(!m.platform_matched);
        assert_eq!(m.created, None);
        assert!(m.images.is_empty());
        assert_eq!(m.available_platforms, vec![p("linux/amd64")]);

        // OCI index: children chosen by platform; created = newest match.
        let before = client.counts();
        let m = client
            .tag_metadata(repo, "multi", &[p("linux/arm64")])
            .await
            .unwrap();
        assert_eq!(client.counts().since(&before), counts(0, 0, 0, 2, 1));
        assert_eq!(m.media_type, OCI_INDEX);
        assert_eq!(m.digest, multi.digest);
        assert_eq!(m.created, Some(ns("2024-05-01T00:00:00Z")));
        assert_eq!(m.images.len(), 1);
        assert_eq!(m.images[0].digest, children[1].digest);
        // The attestation entry is not a platform.
        assert_eq!(
            m.available_platforms,
            vec![p("linux/amd64"), p("linux/arm64"), p("linux/arm/v7")]
        );
        // `linux/arm` accepts `linux/arm/v7` (Image Updater's variant rule).
        let m = client
            .tag_metadata(repo, "multi", &[p("linux/arm")])
            .await
            .unwrap();
        assert_eq!(m.created, Some(ns("2024-06-01T00:00:00Z")));
        assert_eq!(m.images[0].platform, Some(p("linux/arm/v7")));
        // `linux/arm/v6` does not.
        let m = client
            .tag_metadata(repo, "multi", &[p("linux/arm/v6")])
            .await
            .unwrap();
        assert!(!m.platform_matched);
        // Several wanted platforms: the newest of the matches.
        let m = client
            .tag_metadata(repo, "multi", &[p("linux/amd64"), p("linux/arm64")])
            .await
            .unwrap();
        assert_eq!(m.images.len(), 2);
        assert_eq!(m.created, Some(ns("2024-05-01T00:00:00Z")));
        // No platform wanted: every image, attestation excluded.
        let m = client.tag_metadata(repo, "multi", &[]).await.unwrap();
        assert_eq!(m.images.len(), 3);
        assert_eq!(m.created, Some(ns("2024-06-01T00:00:00Z")));
        // No match: only the index was fetched.
        let before = client.counts();
        let m = client
            .tag_metadata(repo, "multi", &[p("windows/amd64")])
            .await
            .unwrap();
        assert_eq!(client.counts().since(&before), counts(0, 0, 0, 1, 0));
        assert!(!m.platform_matched);
        assert_eq!(m.created, None);
        assert_eq!(m.available_platforms.len(), 3);

        // Docker manifest list.
        let m = client
            .tag_metadata(repo, "list", &[p("linux/arm64")])
            .await
            .unwrap();
        assert_eq!(m.media_type, DOCKER_MANIFEST_LIST);
        assert_eq!(m.created, Some(ns("2024-08-01T00:00:00Z")));

        // Errors name the registry, repository and tag.
        let err = client.list_tags("team/missing").await.unwrap_err();
        assert_eq!(err.code(), "not-found", "{err}");
        let text = err.to_string();
        assert!(
            text.contains("team/missing") && text.contains(&url),
            "{text}"
        );
        let err = client.tag_metadata(repo, "v9", &[]).await.unwrap_err();
        assert_eq!(err.code(), "not-found");
        assert!(err.to_string().contains("tag 'v9'"), "{err}");
        let err = client.list_tags("Team/App").await.unwrap_err();
        assert_eq!(err.code(), "invalid-name", "{err}");

        // One ping for the whole client; the registry saw exactly what the
        // client counted.
        let total = client.counts();
        assert_eq!(total.ping, 1);
        assert_eq!(total.token, 0);
        assert_eq!(services.access_log_reads("anon") as u64, total.total());
        assert_eq!(
            services.access_log_count("anon", "\"GET /v2/team/app/tags/list?n=1000 "),
            1
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_auth_with_file_dockerconfig_and_ext_credentials() {
    bounded(async {
        use base64::Engine as _;
        let services = Services::start(&["basic"]).unwrap();
        let url = services.get("BASIC_URL");
        let user = services.get("REGISTRY_USER");
        let password = services.get("REGISTRY_PASSWORD");
        let pusher = Pusher::new(
            &url,
            PushAuth::Basic {
                user: user.clone(),
                password: password.clone(),
            },
        );
        let pushed = pusher
            .image(
                "team/app",
                Some("v1"),
                &ImageSpec::new("2024-01-02T03:04:05Z", "linux/amd64"),
            )
            .await
            .unwrap();
        let dir = services.dir();

        // file: — resolved once, then cached (no credsexpire).
        let creds = dir.join("creds");
        std::fs::write(&creds, format!("{user}:{password}\n")).unwrap();
        let c = client(
            &url,
            &format!("  credentials: file:{}\n", creds.display()),
            ClientOptions::default(),
        );
        assert_eq!(c.list_tags("team/app").await.unwrap(), ["v1"]);
        let m = c.tag_metadata("team/app", "v1", &[]).await.unwrap();
        assert_eq!(m.digest, pushed.digest);
        assert_eq!(c.list_tags("team/app").await.unwrap(), ["v1"]);
        assert_eq!(c.credential_resolutions(), 1);
        assert_eq!(c.counts(), counts(1, 0, 2, 1, 1));

        // dockerconfig: — the auths entry for this host.
        let host = url.trim_start_matches("http://");
        let config = dir.join("config.json");
        let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        std::fs::write(
            &config,
            format!(
                r#"{{"auths":{{"other.example":{{"auth":"eDp5"}},"{host}":{{"auth":"{auth}"}}}}}}"#
            ),
        )
        .unwrap();
        let c = client(
            &url,
            &format!("  credentials: dockerconfig:{}\n", config.display()),
            ClientOptions::default(),
        );
        assert_eq!(c.list_tags("team/app").await.unwrap(), ["v1"]);

        // ext: — a script printing user:password.
        let script = dir.join("creds.sh");
        std::fs::write(&script, format!("#!/bin/sh\necho '{user}:{password}'\n")).unwrap();
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let c = client(
            &url,
            &format!("  credentials: ext:{}\n", script.display()),
            ClientOptions::default(),
        );
        assert_eq!(c.list_tags("team/app").await.unwrap(), ["v1"]);

        // credsexpire: resolved again once expired.
        let c = client(
            &url,
            &format!(
                "  credentials: file:{}\n  credsexpire: 2s\n",
                creds.display()
            ),
            ClientOptions::default(),
        );
        c.list_tags("team/app").await.unwrap();
        c.list_tags("team/app").await.unwrap();
        assert_eq!(c.credential_resolutions(), 1);
        tokio::time::sleep(Duration::from_millis(2100)).await;
        c.list_tags("team/app").await.unwrap();
        assert_eq!(c.credential_resolutions(), 2);

        // No credentials: a clear error.
        let c = client(&url, "", fast());
        let err = c.list_tags("team/app").await.unwrap_err();
        assert_eq!(err.code(), "unauthorized", "{err}");
        let text = err.to_string();
        assert!(
            text.contains("team/app") && text.contains("none are configured"),
            "{text}"
        );

        // Wrong password: refused, and the password appears nowhere.
        let wrong = dir.join("wrong");
        std::fs::write(&wrong, format!("{user}:NotThePassword123")).unwrap();
        let c = client(
            &url,
            &format!("  credentials: file:{}\n", wrong.display()),
            fast(),
        );
        let err = c.list_tags("team/app").await.unwrap_err();
        assert_eq!(err.code(), "unauthorized", "{err}");
        for shown in [err.to_string(), format!("{err:?}"), format!("{c:?}")] {
            assert!(!shown.contains("NotThePassword123"), "{shown}");
        }
        // Configured credentials are re-read once after a 401 (rotation).
        assert_eq!(c.credential_resolutions(), 2);

        // Image-level credentials on a shared client.
        let anonymous = client(&url, "", fast());
        let with = anonymous.with_credentials(Some(Credentials::new(&user, &password)));
        assert_eq!(with.list_tags("team/app").await.unwrap(), ["v1"]);
        assert!(anonymous.list_tags("team/app").await.is_err());
        assert_eq!(anonymous.counts(), with.counts());

        // Missing variable for env:.
        let c = client(
            &url,
            "  credentials: env:UPDRAFT_IT_NO_SUCH_VARIABLE\n",
            fast(),
        );
        let err = c.list_tags("team/app").await.unwrap_err();
        assert_eq!(err.code(), "credentials");
        assert!(
            err.to_string()
                .contains("UPDRAFT_IT_NO_SUCH_VARIABLE is not set"),
            "{err}"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bearer_tokens_are_fetched_once_per_scope_and_reused() {
    bounded(async {
        let services = Services::start(&["bearer"]).unwrap();
        let url = services.get("BEARER_URL");
        let user = services.get("REGISTRY_USER");
        let password = services.get("REGISTRY_PASSWORD");
        let pusher = Pusher::new(
            &url,
            PushAuth::Bearer {
                token_url: services.get("TOKEN_URL"),
                service: services.get("TOKEN_SERVICE"),
                user: user.clone(),
                password: password.clone(),
            },
        );
        pusher
            .image(
                "team/app",
                Some("v1"),
                &ImageSpec::new("2024-01-01T00:00:00Z", "linux/amd64"),
            )
            .await
            .unwrap();
        pusher
            .index(
                "team/app",
                "multi",
                &[
                    ImageSpec::new("2024-02-01T00:00:00Z", "linux/amd64"),
                    ImageSpec::new("2024-03-01T00:00:00Z", "linux/arm64"),
                ],
                Format::Oci,
                false,
            )
            .await
            .unwrap();
        pusher
            .image(
                "public/app",
                Some("latest"),
                &ImageSpec::new("2024-01-01T00:00:00Z", "linux/amd64"),
            )
            .await
            .unwrap();
        let issued_by_pusher = services.tokens_issued();

        let creds = services.dir().join("creds");
        std::fs::write(&creds, format!("{user}:{password}")).unwrap();
        let c = client(
            &url,
            &format!("  credentials: file:{}\n", creds.display()),
            ClientOptions::default(),
        );
        let mut tags = c.list_tags("team/app").await.unwrap();
        tags.sort();
        assert_eq!(tags, ["multi", "v1"]);
        c.manifest_digest("team/app", "v1").await.unwrap();
        let m = c.tag_metadata("team/app", "multi", &[]).await.unwrap();
        assert_eq!(m.created, Some(ns("2024-03-01T00:00:00Z")));
        // One ping, one token for the repository's scope, reused.
        assert_eq!(c.counts(), counts(1, 1, 1, 4, 2));
        c.list_tags("public/app").await.unwrap();
        assert_eq!(c.counts().token, 2);
        c.list_tags("team/app").await.unwrap();
        assert_eq!(c.counts().token, 2);
        // The token server saw exactly those requests.
        assert_eq!(services.tokens_issued() - issued_by_pusher, 2);

        // Anonymous: a pull token for public/, nothing for the rest.
        let anonymous = client(&url, "", fast());
        assert_eq!(anonymous.list_tags("public/app").await.unwrap(), ["latest"]);
        let err = anonymous.list_tags("team/app").await.unwrap_err();
        assert_eq!(err.code(), "unauthorized", "{err}");
        assert!(err.to_string().contains("team/app"), "{err}");

        // Image-level credentials on the shared anonymous client.
        let with = anonymous.with_credentials(Some(Credentials::new(&user, &password)));
        assert_eq!(with.list_tags("team/app").await.unwrap().len(), 2);

        // Wrong credentials: the token server refuses them.
        let wrong = services.dir().join("wrong");
        std::fs::write(&wrong, format!("{user}:Wr0ngSecret")).unwrap();
        let c = client(
            &url,
            &format!("  credentials: file:{}\n", wrong.display()),
            fast(),
        );
        let err = c.list_tags("team/app").await.unwrap_err();
        assert_eq!(err.code(), "token", "{err}");
        let text = err.to_string();
        assert!(
            text.contains("refused user 'testuser'") && text.contains("team/app"),
            "{text}"
        );
        assert!(!text.contains("Wr0ngSecret") && !format!("{err:?}").contains("Wr0ngSecret"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn link_pagination_relative_and_absolute() {
    bounded(async {
        let fake = fake::start(FakeOptions::default()).await;
        let expected: Vec<String> = (0..250).map(|i| format!("t{i:06}")).collect();
        for repo in ["paged/app", "absolute/app"] {
            let c = client(&fake.url, "", ClientOptions::default());
            let tags = c.list_tags(repo).await.unwrap();
            assert_eq!(tags, expected, "{repo}");
            // The server caps pages at 100: three pages.
            assert_eq!(c.counts(), counts(1, 0, 3, 0, 0), "{repo}");
        }
        let pages: Vec<_> = fake
            .seen()
            .into_iter()
            .filter(|s| s.path == "/v2/paged/app/tags/list")
            .collect();
        assert_eq!(fake.count("/v2/paged/app/tags/list"), 3);
        assert_eq!(pages[0].query.as_deref(), Some("n=1000"));
        assert_eq!(pages[1].query.as_deref(), Some("n=100&last=t000099"));

        // A configured page size.
        let c = client(
            &fake.url,
            "",
            ClientOptions {
                tag_page_size: 50,
                ..ClientOptions::default()
            },
        );
        assert_eq!(c.list_tags("paged/app").await.unwrap().len(), 250);
        assert_eq!(c.counts().tags, 5);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn link_loops_are_detected() {
    bounded(async {
        let fake = fake::start(FakeOptions::default()).await;
        let c = client(&fake.url, "", ClientOptions::default());
        let err = c.list_tags("loop/app").await.unwrap_err();
        assert_eq!(err.code(), "pagination-loop", "{err}");
        let text = err.to_string();
        assert!(
            text.contains("loop/app") && text.contains("last=b"),
            "{text}"
        );
        assert_eq!(c.counts().tags, 3);

        // Pages that never add a tag stop too.
        let err = c.list_tags("stuck/app").await.unwrap_err();
        assert_eq!(err.code(), "pagination-loop", "{err}");
        assert!(err.to_string().contains("stuck/app"));
        assert_eq!(c.counts().tags, 3 + 4);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_429_in_seconds_and_as_a_date() {
    bounded(async {
        let fake = fake::start(FakeOptions::default()).await;
        let c = client(&fake.url, "", fast());
        let started = Instant::now();
        assert_eq!(c.list_tags("ratelimited/app").await.unwrap(), ["x", "y"]);
        assert!(
            started.elapsed() >= Duration::from_millis(950),
            "Retry-After: 1 not honoured"
        );
        assert_eq!(c.counts().tags, 2);

        let started = Instant::now();
        assert_eq!(c.list_tags("ratelimited-date/app").await.unwrap(), ["x"]);
        assert!(
            started.elapsed() >= Duration::from_millis(500),
            "HTTP-date Retry-After not honoured"
        );
        assert_eq!(c.counts().tags, 4);

        // Asked to wait an hour: fail at once, saying so.
        let started = Instant::now();
        let err = c.list_tags("ratelimited-long/app").await.unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(err.code(), "retry-after-too-long", "{err}");
        let text = err.to_string();
        assert!(
            text.contains("3600 s") && text.contains("ratelimited-long/app"),
            "{text}"
        );
        assert_eq!(c.counts().tags, 5);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_are_retried_then_reported() {
    bounded(async {
        let fake = fake::start(FakeOptions::default()).await;
        let c = client(&fake.url, "", fast());
        assert_eq!(c.list_tags("flaky/app").await.unwrap(), ["ok"]);
        assert_eq!(c.counts().tags, 3);

        let err = c.list_tags("broken/app").await.unwrap_err();
        assert_eq!(err.code(), "http-status", "{err}");
        let text = err.to_string();
        assert!(
            text.contains("broken/app")
                && text.contains("HTTP 500")
                && text.contains("database on fire")
                && text.contains("after 3 attempt(s)"),
            "{text}"
        );
        assert_eq!(c.counts().tags, 3 + 3);

        // Connection refused: retried, then a transport error.
        let closed = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap()
        };
        let c = client(&format!("http://{closed}"), "", fast());
        let err = c.list_tags("team/app").await.unwrap_err();
        assert_eq!(err.code(), "transport", "{err}");
        assert!(err.to_string().contains("team/app"), "{err}");
        assert_eq!(c.counts().ping, 3);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_answers_time_out() {
    bounded(async {
        let fake = fake::start(FakeOptions::default()).await;
        let options = ClientOptions {
            request_timeout: Duration::from_millis(300),
            retry: RetryPolicy {
                max_attempts: 2,
                initial_backoff: Duration::from_millis(10),
                ..RetryPolicy::default()
            },
            ..ClientOptions::default()
        };
        let c = client(&fake.url, "", options);
        let started = Instant::now();
        let err = c.list_tags("slow/app").await.unwrap_err();
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(err.code(), "timeout", "{err}");
        let text = err.to_string();
        assert!(
            text.contains("slow/app")
                && text.contains("timed out")
                && text.contains("2 attempt(s)"),
            "{text}"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_json_is_an_invalid_response() {
    bounded(async {
        let fake = fake::start(FakeOptions::default()).await;
        let c = client(&fake.url, "", fast());
        let err = c.list_tags("truncated/app").await.unwrap_err();
        assert_eq!(err.code(), "invalid-response", "{err}");
        let text = err.to_string();
        assert!(
            text.contains("truncated/app") && text.contains("tag list"),
            "{text}"
        );
        assert_eq!(c.counts().tags, 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_hundred_thousand_tags() {
    bounded(async {
        let fake = fake::start(FakeOptions::default()).await;
        // Paginated with n=1000: 100 pages.
        let c = client(&fake.url, "", ClientOptions::default());
        let tags = c.list_tags("huge/app").await.unwrap();
        assert_eq!(tags.len(), HUGE_TAGS);
        assert_eq!(
            tags.iter().collect::<std::collections::HashSet<_>>().len(),
            HUGE_TAGS
        );
        assert_eq!(c.counts().tags, 100);
        // One page, as registry 2.8 answers.
        let tags = c.list_tags("onepage/app").await.unwrap();
        assert_eq!(tags.len(), HUGE_TAGS);
        assert_eq!(c.counts().tags, 101);

        // The caps hold, with errors that say which option to raise.
        let c = client(
            &fake.url,
            "",
            ClientOptions {
                max_tags: 50_000,
                ..ClientOptions::default()
            },
        );
        let err = c.list_tags("huge/app").await.unwrap_err();
        assert_eq!(err.code(), "tag-limit");
        assert!(err.to_string().contains("max_tags") && err.to_string().contains("huge/app"));
        assert_eq!(c.counts().tags, 51);
        let c = client(
            &fake.url,
            "",
            ClientOptions {
                max_tag_pages: 10,
                ..ClientOptions::default()
            },
        );
        let err = c.list_tags("huge/app").await.unwrap_err();
        assert!(err.to_string().contains("max_tag_pages"), "{err}");
        assert_eq!(c.counts().tags, 10);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn digest_without_header_is_hashed_from_a_get() {
    bounded(async {
        let fake = fake::start(FakeOptions::default()).await;
        let c = client(&fake.url, "", fast());
        let digest = c.manifest_digest("nodigest/app", "v1").await.unwrap();
        assert_eq!(digest, digest_of(&fake::image_manifest()));
        assert_eq!(c.counts().manifest, 2);
        // With the header, HEAD alone.
        let digest = c.manifest_digest("redirect/app", "v1").await.unwrap();
        assert_eq!(digest, digest_of(&fake::image_manifest()));
        assert_eq!(c.counts().manifest, 3);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blob_redirects_do_not_carry_credentials_to_another_host() {
    bounded(async {
        let store = fake::start_blob_store().await;
        let fake = fake::start(FakeOptions {
            basic: Some(("robot".into(), "s3cret".into())),
            blob_store: Some(store.url.clone()),
        })
        .await;
        let c = client(&fake.url, "", fast())
            .with_credentials(Some(Credentials::new("robot", "s3cret")));
        let m = c.tag_metadata("redirect/app", "v1", &[]).await.unwrap();
        assert_eq!(m.created, Some(ns("2024-05-01T10:00:00Z")));
        assert_eq!(m.labels()["source"], "fake");
        // The registry got credentials; the blob store (another origin) did not.
        let blob_requests: Vec<_> = fake
            .seen()
            .into_iter()
            .filter(|s| s.path.contains("/blobs/"))
            .collect();
        assert_eq!(blob_requests.len(), 1);
        assert!(blob_requests[0].authorization);
        let stored = store.seen();
        assert_eq!(stored.len(), 1);
        assert!(
            !stored[0].authorization,
            "Authorization leaked to the blob store"
        );
        assert_eq!(stored[0].method, "GET");
        assert_eq!(stored[0].query.as_deref(), Some("signature=abc"));
        // Both hops are counted as blob requests.
        assert_eq!(c.counts(), counts(1, 0, 0, 1, 2));

        // Content that does not hash to its digest is refused.
        let err = c.tag_metadata("mismatch/app", "v1", &[]).await.unwrap_err();
        assert_eq!(err.code(), "digest-mismatch", "{err}");
        assert!(err.to_string().contains("mismatch/app"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registries_conf_limit_spaces_requests() {
    bounded(async {
        let fake = fake::start(FakeOptions::default()).await;
        let c = client(&fake.url, "  limit: 10\n", fast());
        let started = Instant::now();
        for _ in 0..10 {
            c.list_tags("small/app").await.unwrap();
        }
        // 11 requests (ping + 10) at 10 per second: at least one second.
        assert_eq!(c.counts().total(), 11);
        assert!(
            started.elapsed() >= Duration::from_millis(950),
            "{:?}",
            started.elapsed()
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_is_verified_unless_the_registry_is_insecure() {
    bounded(async {
        let services = Services::start(&["tls"]).unwrap();
        let url = services.get("TLS_URL");
        // A self-signed certificate: refused by default.
        let c = client(&url, "", fast());
        let err = c.list_tags("team/app").await.unwrap_err();
        assert_eq!(err.code(), "transport", "{err}");
        let text = err.to_string();
        assert!(text.contains(&url) && text.contains("team/app"), "{text}");
        assert!(text.to_lowercase().contains("certificate"), "{text}");
        // Trusted through an extra CA bundle.
        let ca = std::fs::read(services.get("TLS_CA")).unwrap();
        let c = client(
            &url,
            "",
            ClientOptions {
                extra_root_certificates: vec![ca],
                ..fast()
            },
        );
        assert_eq!(
            c.list_tags("team/app").await.unwrap_err().code(),
            "not-found"
        );
        // `insecure: true` skips verification.
        let c = client(&url, "  insecure: true\n", fast());
        assert_eq!(
            c.list_tags("team/app").await.unwrap_err().code(),
            "not-found"
        );
        assert_eq!(c.counts(), counts(1, 0, 1, 0, 0));
    })
    .await;
}

/// A registry may list (and notify about) a tag before its manifest can be
/// read everywhere. A poll that meets a 404 for a tag it lists for the
/// first time retries it briefly instead of skipping it until the next
/// cycle.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_tag_not_yet_readable_is_retried() {
    let fake = fake::start(FakeOptions::default()).await;
    let host = fake.url.trim_start_matches("http://").to_string();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("apps")).unwrap();
    std::fs::write(
        dir.path().join("apps/app.yaml"),
        format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: lagging\n  namespace: argocd\n  annotations:\n    argocd-image-updater.argoproj.io/image-list: app={host}/lagging/app\n    argocd-image-updater.argoproj.io/app.update-strategy: newest-build\nspec:\n  source:\n    repoURL: https://git.example/deploy.git\n    path: apps/lagging\n"
        ),
    )
    .unwrap();
    let config = format!(
        "state: \"file://{}\"\napplications:\n  - dir: apps\nregistries:\n  - name: fake\n    api_url: {}\n    prefix: {host}\n",
        dir.path().join("state").display(),
        fake.url
    );
    let settings = updraft_pipeline::Settings::parse(&config, "updraft.yaml", dir.path()).unwrap();
    let ctx = updraft_pipeline::Context::new(settings).unwrap();
    let rr = tokio::time::timeout(
        Duration::from_secs(60),
        updraft_pipeline::poll::poll(&ctx, &updraft_pipeline::events::PollRequest::default()),
    )
    .await
    .unwrap();
    assert!(rr.errors.is_empty(), "{:?}", rr.errors);
    assert_eq!(rr.stats.metadata_fetched, 1, "{:?}", rr.stats);
    // Two 404s, then the manifest.
    let manifest_reads = fake
        .seen()
        .iter()
        .filter(|s| s.path == "/v2/lagging/app/manifests/v1")
        .count();
    assert_eq!(manifest_reads, 3);
}
