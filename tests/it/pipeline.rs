//! `poll-registry` and `resolve-strategy` (`updraft-pipeline`) against the
//! real Distribution registry started by `infra/local/registry.sh`, with the
//! checkpoint store in local files or on the S3 server: each repository
//! listed once per cycle, metadata fetched once ever, a warm store from a
//! fresh process costing no metadata request, per-application errors that
//! leave the others alone, and the binary's `updraft invoke`.

#[path = "../registry_support.rs"]
#[allow(dead_code, clippy::duplicate_mod)]
mod support;

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};
use updraft_pipeline::events::{
    PollRequest, ResolveRequest, Trigger, WriteBackRequest, decode, encode,
};
use updraft_pipeline::{Context, Settings};
use updraft_registry::{ClientOptions, RetryPolicy};
use updraft_state::{StateStore, keys};

use support::{ImageSpec, PushAuth, Pusher, Services};

const BOUND: Duration = Duration::from_secs(120);

/// A registry with a few repositories, application manifests and
/// settings pointing at both.
struct World {
    services: Services,
    host: String,
    pusher: Pusher,
    dir: tempfile::TempDir,
    api_digest: String,
}

fn fast() -> ClientOptions {
    ClientOptions {
        retry: RetryPolicy {
            max_attempts: 2,
            initial_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(50),
            max_retry_after: Duration::from_secs(1),
        },
        ..ClientOptions::default()
    }
}

fn app(name: &str, annotations: &[(&str, &str)], status_images: &[String]) -> String {
    let annotations: String = annotations
        .iter()
        .map(|(k, v)| format!("    argocd-image-updater.argoproj.io/{k}: \"{v}\"\n"))
        .collect();
    let status = if status_images.is_empty() {
        String::new()
    } else {
        let list: Vec<String> = status_images.iter().map(|i| format!("\"{i}\"")).collect();
        format!("status:\n  summary:\n    images: [{}]\n", list.join(", "))
    };
    format!(
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: {name}\n  namespace: argocd\n  annotations:\n{annotations}spec:\n  source:\n    repoURL: https://git.example/deploy.git\n    path: apps/{name}\n{status}---\n"
    )
}

impl World {
    async fn new() -> World {
        let services = Services::start(&["anon"]).unwrap();
        let url = services.get("ANON_URL");
        let host = url.trim_start_matches("http://").to_string();
        let pusher = Pusher::new(&url, PushAuth::None);
        let at = |day: u32| format!("2026-01-{day:02}T00:00:00Z");
        for (tag, day) in [
            ("v1", 1),
            ("v2", 3),
            ("v3", 2),
            ("1.0.0", 4),
            ("1.0.1", 5),
            ("1.1.0", 6),
            ("nightly", 9),
        ] {
            pusher
                .image(
                    "team/web",
                    Some(tag),
                    &ImageSpec::new(&at(day), "linux/amd64"),
                )
                .await
                .unwrap();
        }
        let api = pusher
            .image(
                "team/api",
                Some("latest"),
                &ImageSpec::new(&at(1), "linux/amd64"),
            )
            .await
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("apps/more")).unwrap();
        let old_digest = format!("sha256:{}", "0".repeat(64));
        let mut manifests = String::new();
        manifests += &app(
            "web",
            &[
                ("image-list", &format!("web={host}/team/web")),
                ("web.update-strategy", "newest-build"),
                ("web.allow-tags", "regexp:^v"),
            ],
            &[format!("{host}/team/web:v1")],
        );
        manifests += &app(
            "web-semver",
            &[("image-list", &format!("{host}/team/web:~1.0"))],
            &[],
        );
        manifests += &app(
            "api",
            &[
                ("image-list", &format!("{host}/team/api:latest")),
                ("update-strategy", "digest"),
            ],
            &[format!("{host}/team/api:latest@{old_digest}")],
        );
        std::fs::write(dir.path().join("apps/apps.yaml"), manifests).unwrap();
        let broken = app(
            "broken",
            &[("image-list", &format!("{host}/team/missing"))],
            &[],
        ) + &app(
            "tampered",
            &[
                ("image-list", &format!("{host}/team/web")),
                ("update-strategy", "release-version"),
            ],
            &[],
        );
        std::fs::write(dir.path().join("apps/more/broken.yaml"), broken).unwrap();
        std::fs::write(dir.path().join("apps/more/notes.txt"), "not a manifest").unwrap();
        World {
            services,
            host,
            pusher,
            dir,
            api_digest: api.digest,
        }
    }

    /// updraft.yaml text for a state URL.
    fn config(&self, state: &str) -> String {
        format!(
            "state: \"{state}\"\napplications:\n  - dir: apps\nregistries:\n  - name: local\n    api_url: http://{host}\n    prefix: {host}\nplugins:\n  - name: release-version\n    source: file:{plugin}\n    sha256: \"{zeros}\"\n",
            host = self.host,
            plugin = updraft_tests::example_plugin("release_version").display(),
            zeros = "0".repeat(64),
        )
    }

    fn settings(&self, state: &str) -> Settings {
        Settings::parse(&self.config(state), "updraft.yaml", self.dir.path()).unwrap()
    }

    /// A context as a fresh process would build it.
    fn context(&self, state: &str, env: &[(String, String)]) -> Context {
        let store = StateStore::open_with_env(state, env.to_vec()).unwrap();
        Context::with_parts(self.settings(state), store, fast()).unwrap()
    }

    fn log(&self, needle: &str) -> usize {
        self.services.access_log_count("anon", needle)
    }
}

async fn bounded<F: std::future::Future>(f: F) -> F::Output {
    tokio::time::timeout(BOUND, f).await.expect("time bound")
}

fn change<'a>(
    wb: &'a WriteBackRequest,
    app: &str,
) -> Option<&'a updraft_pipeline::events::ImageChange> {
    wb.applications
        .iter()
        .find(|a| a.config.name == app)
        .and_then(|a| a.changes.first())
}

fn error_apps(errors: &[updraft_pipeline::events::AppError]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = errors
        .iter()
        .map(|e| (e.application.clone(), e.stage.clone()))
        .collect();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cold_warm_and_new_tag_cycles() {
    bounded(async {
        let world = World::new().await;
        let state = format!("file://{}/state", world.dir.path().display());

        // Cycle 1: empty store.
        let ctx = world.context(&state, &[]);
        let rr = updraft_pipeline::poll::poll(&ctx, &PollRequest::default()).await;
        assert_eq!(
            error_apps(&rr.errors),
            [
                ("argocd/broken".to_string(), "registry".to_string()),
                ("argocd/tampered".to_string(), "plugin".to_string())
            ],
            "{:#?}",
            rr.errors
        );
        let tampered = rr
            .errors
            .iter()
            .find(|e| e.application == "argocd/tampered")
            .unwrap();
        assert!(tampered.message.contains("sha256"), "{}", tampered.message);
        let broken = rr
            .errors
            .iter()
            .find(|e| e.application == "argocd/broken")
            .unwrap();
        assert!(
            broken.message.contains("team/missing"),
            "{}",
            broken.message
        );
        assert_eq!(rr.stats.repositories, 3);
        // Four applications watch team/web: listed once.
        assert_eq!(world.log("GET /v2/team/web/tags/list"), 1);
        // Metadata only for the tags newest-build's filter keeps (v1..v3),
        // and the digest strategy's one tag.
        assert_eq!(rr.stats.metadata_fetched, 4);
        assert_eq!(world.log("GET /v2/team/web/manifests/"), 3);
        assert_eq!(world.log("GET /v2/team/web/blobs/"), 3);
        let apps: Vec<&str> = rr
            .applications
            .iter()
            .map(|a| a.config.name.as_str())
            .collect();
        assert_eq!(apps, ["web", "web-semver", "api"]);

        let wb = updraft_pipeline::resolve::resolve(&ctx, rr).await;
        assert!(
            wb.errors
                .iter()
                .all(|e| e.stage != "plugin" || e.application == "argocd/tampered")
        );
        let web = change(&wb, "web").expect("web changes");
        assert_eq!((web.from.as_deref(), web.to.as_str()), (Some("v1"), "v2"));
        assert!(web.reason.contains("most recently built"), "{}", web.reason);
        let semver = change(&wb, "web-semver").expect("web-semver changes");
        assert_eq!(
            (semver.from.as_deref(), semver.to.as_str()),
            (None, "1.0.1")
        );
        let api = change(&wb, "api").expect("api changes");
        assert_eq!(api.to, "latest");
        assert_eq!(api.digest.as_deref(), Some(world.api_digest.as_str()));
        // Every decision is explained, the rejected tags too.
        let web_decision = wb
            .decisions
            .iter()
            .find(|d| d.application == "argocd/web")
            .unwrap();
        let nightly = web_decision
            .resolution
            .rejected
            .iter()
            .find(|r| r.tag == "nightly")
            .unwrap();
        assert_eq!(nightly.by, "filter-regexp");
        // ... and recorded in the store.
        let recorded = ctx
            .store
            .get_decision("argocd", "web")
            .await
            .unwrap()
            .value
            .unwrap();
        assert_eq!(recorded.images[0].selected.as_ref().unwrap().name, "v2");
        assert!(recorded.images[0].update);
        drop(ctx);

        // Cycle 2: a fresh process, warm store, nothing new.
        let manifests_before = world.log("/v2/team/web/manifests/");
        let ctx = world.context(&state, &[]);
        let rr = updraft_pipeline::poll::poll(&ctx, &PollRequest::default()).await;
        assert_eq!(rr.stats.metadata_fetched, 0);
        assert_eq!(rr.stats.metadata_cached, 4);
        assert_eq!(world.log("GET /v2/team/web/tags/list"), 2);
        assert_eq!(world.log("/v2/team/web/manifests/"), manifests_before);
        // The digest strategy re-reads its tag's digest: one HEAD.
        assert_eq!(world.log("HEAD /v2/team/api/manifests/latest"), 2);
        let wb = updraft_pipeline::resolve::resolve(&ctx, rr).await;
        assert_eq!(change(&wb, "web").unwrap().to, "v2");

        // Cycle 3: a new tag, built last.
        world
            .pusher
            .image(
                "team/web",
                Some("v4"),
                &ImageSpec::new("2026-02-01T00:00:00Z", "linux/amd64"),
            )
            .await
            .unwrap();
        let ctx = world.context(&state, &[]);
        let before = world.log("/v2/team/web/");
        let rr = updraft_pipeline::poll::poll(&ctx, &PollRequest::default()).await;
        assert_eq!(rr.stats.new_tags, 1);
        assert_eq!(rr.stats.metadata_fetched, 1);
        // One tag list, one manifest, one config blob.
        assert_eq!(world.log("/v2/team/web/") - before, 3);
        let wb = updraft_pipeline::resolve::resolve(&ctx, rr).await;
        assert_eq!(change(&wb, "web").unwrap().to, "v4");

        // A corrupted cache document is reported and rebuilt.
        let key = keys::repository_cache(&world.host, "team/web").unwrap();
        ctx.store
            .write_raw(&key, "{\"schemaVersion\": 1, \"tags\": [tru".into())
            .await
            .unwrap();
        let ctx = world.context(&state, &[]);
        let rr = updraft_pipeline::poll::poll(&ctx, &PollRequest::default()).await;
        assert_eq!(rr.stats.metadata_fetched, 4, "v1..v4 fetched again");
        let wb = updraft_pipeline::resolve::resolve(&ctx, rr).await;
        assert_eq!(change(&wb, "web").unwrap().to, "v4");
        let stored = ctx.store.read_raw(&key).await.unwrap().unwrap().0;
        assert!(serde_json::from_slice::<Value>(&stored).is_ok());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_polls_one_repository_on_s3() {
    bounded(async {
        let world = World::new().await;
        let target = crate::state::s3("pipeline-webhook");
        let ctx = world.context(&target.url, &target.env);
        let request = PollRequest {
            trigger: Trigger::Webhook {
                registry: Some(world.host.clone()),
                repository: "team/api".into(),
                tag: Some("latest".into()),
            },
            applications: vec![],
        };
        let rr = updraft_pipeline::poll::poll(&ctx, &request).await;
        assert_eq!(rr.stats.repositories, 1);
        assert!(rr.errors.is_empty(), "{:#?}", rr.errors);
        assert_eq!(world.log("GET /v2/team/web/tags/list"), 0);
        let names: Vec<&str> = rr
            .applications
            .iter()
            .map(|a| a.config.name.as_str())
            .collect();
        assert_eq!(names, ["api"]);
        // Through the event encoding, as two functions would pass it.
        let event = json!({"responsePayload": encode(&rr)});
        let rr: ResolveRequest = decode(event).unwrap();
        let wb = updraft_pipeline::resolve::resolve(&ctx, rr).await;
        assert_eq!(
            change(&wb, "api").unwrap().digest.as_deref(),
            Some(world.api_digest.as_str())
        );
        // A fresh process on the same bucket finds the cache.
        let ctx = world.context(&target.url, &target.env);
        let rr = updraft_pipeline::poll::poll(&ctx, &request).await;
        assert_eq!(rr.stats.metadata_fetched, 0);
        assert!(rr.stats.store_reads >= 1);
    })
    .await;
}

fn invoke(
    world: &World,
    config: &Path,
    args: &[&str],
    stdin: Option<&str>,
) -> std::process::Output {
    let mut all = vec!["invoke"];
    all.extend_from_slice(args);
    let config = config.display().to_string();
    all.extend_from_slice(&["--config", &config]);
    let _ = world;
    updraft_tests::updraft(&all, stdin).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoke_chains_poll_and_resolve_through_the_binary() {
    let world = bounded(World::new()).await;
    let state = format!("file://{}/state", world.dir.path().display());
    let config = world.dir.path().join("updraft.yaml");
    std::fs::write(&config, world.config(&state)).unwrap();

    let out = invoke(&world, &config, &["poll-registry"], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rr = updraft_tests::json_stdout(&out).unwrap();
    assert_eq!(rr["apiVersion"], "updraft.dev/v1alpha1");
    assert_eq!(rr["kind"], "ResolveRequest");
    assert_eq!(rr["applications"].as_array().unwrap().len(), 3);

    // Chained through a Lambda/FC async-destination envelope.
    let envelope = json!({
        "version": "1.0",
        "requestContext": {"condition": "Success"},
        "responsePayload": rr,
    })
    .to_string();
    let out = invoke(
        &world,
        &config,
        &["resolve-strategy", "--event", "-"],
        Some(&envelope),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let wb = updraft_tests::json_stdout(&out).unwrap();
    assert_eq!(wb["kind"], "WriteBackRequest");
    let changed: Vec<&str> = wb["applications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["config"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(changed, ["web", "web-semver", "api"]);

    // The wrong event for a function is refused with directions.
    let out = invoke(
        &world,
        &config,
        &["resolve-strategy", "--event", "-"],
        Some(&rr.to_string().replace("ResolveRequest", "PollRequest")),
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("resolve-strategy takes kind \"ResolveRequest\""),
        "{stderr}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    let out = invoke(&world, &config, &["no-such-function"], None);
    assert!(String::from_utf8_lossy(&out.stderr).contains(
        "functions: poll-registry, resolve-strategy, write-back, sync-trigger, pipeline"
    ));
}
