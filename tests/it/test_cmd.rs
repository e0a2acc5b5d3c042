//! `updraft test IMAGE` through the real binary against real registries
//! (Debian's docker-registry from `infra/local/registry.sh`: anonymous,
//! htpasswd Basic, Bearer with a token server), with images pushed by the
//! tests: every strategy, the filters, platforms from an index, credentials,
//! registries.conf, the JSON shape and the one-line errors.

// Also loaded by it/registry.rs, which uses the rest of it.
#[allow(dead_code, clippy::duplicate_mod)]
#[path = "../registry_support.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;
use support::{Format, ImageSpec, Pushed, Pusher, Services};
use updraft_tests::{json_stdout, updraft};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// `dir/name`: a registries.conf serving `url` under the prefixes
/// `test.local` and `127.0.0.1:PORT` (the registry's own host), with `extra`
/// keys (lines starting with two spaces) on both entries.
fn registries_conf(dir: &Path, name: &str, url: &str, extra: &str) -> PathBuf {
    let host = url.trim_start_matches("http://");
    let path = dir.join(name);
    std::fs::write(
        &path,
        format!(
            "registries:\n- name: local\n  api_url: {url}\n  prefix: test.local\n{extra}- name: local by host\n  api_url: {url}\n  prefix: {host}\n{extra}"
        ),
    )
    .unwrap();
    path
}

/// `updraft test ARGS…` with `--registries-conf CONF` (when given) and
/// extra environment variables.
fn test_cmd(conf: Option<&Path>, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut all = vec!["test".to_string()];
    all.extend(args.iter().map(|a| a.to_string()));
    if let Some(conf) = conf {
        all.extend(["--registries-conf".to_string(), conf.display().to_string()]);
    }
    if env.is_empty() {
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        return updraft(&all, None).unwrap();
    }
    let cache = std::env::temp_dir().join(format!("updraft-it-cache-{}", std::process::id()));
    std::process::Command::new(updraft_tests::updraft_bin().unwrap())
        .args(&all)
        .envs(env.iter().copied())
        .env("UPDRAFT_CACHE_DIR", cache)
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The readable output of a successful run.
fn ok_text(out: &Output) -> String {
    assert!(out.status.success(), "failed: {}", stderr(out));
    stdout(out)
}

/// The JSON output of a successful run.
fn ok_json(out: &Output) -> Value {
    assert!(out.status.success(), "failed: {}", stderr(out));
    json_stdout(out).unwrap()
}

/// `updraft test ARGS… --output json` (no extra environment), which must
/// succeed.
fn json_run(conf: Option<&Path>, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend(["--output", "json"]);
    ok_json(&test_cmd(conf, &all, &[]))
}

/// A single-platform OCI image built at `created`.
fn built(created: &str, platform: &str) -> ImageSpec {
    ImageSpec::new(created, platform)
}

/// Pushes `spec` as `repo:tag`.
async fn push(pusher: &Pusher, repo: &str, tag: &str, spec: ImageSpec) -> Pushed {
    pusher.image(repo, Some(tag), &spec).await.unwrap()
}

/// Pushes one linux/amd64 image under each of `tags`.
fn push_same_image(pusher: &Pusher, repo: &str, tags: &[&str]) {
    runtime().block_on(async {
        for tag in tags {
            push(
                pusher,
                repo,
                tag,
                built("2024-01-01T00:00:00Z", "linux/amd64"),
            )
            .await;
        }
    });
}

/// The one error line of a failed run (nothing on stdout).
fn error_line(out: &Output) -> String {
    assert!(!out.status.success(), "succeeded: {}", stdout(out));
    assert!(out.stdout.is_empty(), "printed a decision: {}", stdout(out));
    let text = stderr(out);
    let line = text
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_else(|| panic!("no error line: {text}"))
        .to_string();
    assert_eq!(
        text.lines().filter(|l| l.starts_with("error: ")).count(),
        1,
        "{text}"
    );
    line
}

/// Who rejected `tag`, and why.
fn rejection(v: &Value, tag: &str) -> (String, String) {
    v["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["tag"] == tag)
        .map(|r| {
            (
                r["by"].as_str().unwrap().to_string(),
                r["reason"].as_str().unwrap().to_string(),
            )
        })
        .unwrap_or_else(|| panic!("{tag} not rejected: {v:#}"))
}

/// Tag (or digest) reads the registry logged for `repo`.
fn manifest_reads(services: &Services, flavour: &str, repo: &str, reference: &str) -> usize {
    let path = format!("/v2/{repo}/manifests/{reference}");
    services.access_log_count(flavour, &format!("\"GET {path} "))
        + services.access_log_count(flavour, &format!("\"HEAD {path} "))
}

/// What the anonymous registry holds for the strategy tests.
struct Anon {
    latest: Pushed,
    nightly: Pushed,
}

async fn push_anon(pusher: &Pusher) -> Anon {
    let repo = "team/app";
    let amd64 = |created: &str| built(created, "linux/amd64");
    push(pusher, repo, "1.0.0", amd64("2024-01-01T00:00:00Z")).await;
    push(
        pusher,
        repo,
        "1.1.0",
        amd64("2024-03-01T00:00:00Z").docker(),
    )
    .await;
    push(pusher, repo, "1.2.0", amd64("2024-02-01T00:00:00Z")).await;
    push(pusher, repo, "2.0.0", amd64("2024-01-15T00:00:00Z")).await;
    push(pusher, repo, "1.3.0-rc1", amd64("2024-04-01T00:00:00Z")).await;
    let latest = push(pusher, repo, "latest", amd64("2024-05-01T00:00:00Z")).await;
    let children = [
        amd64("2024-04-15T00:00:00Z"),
        built("2024-07-01T00:00:00Z", "linux/arm64"),
    ];
    let (nightly, _) = pusher
        .index(repo, "nightly", &children, Format::Oci, true)
        .await
        .unwrap();
    let arm = built("2024-06-15T00:00:00Z", "linux/arm64").docker();
    push(pusher, repo, "arm-only", arm).await;
    push(
        pusher,
        "team/rel",
        "release-1.9.0",
        amd64("2024-01-01T00:00:00Z"),
    )
    .await;
    push(
        pusher,
        "team/rel",
        "release-1.10.0",
        amd64("2023-01-01T00:00:00Z"),
    )
    .await;
    Anon { latest, nightly }
}

#[test]
fn strategies_filters_and_platforms_against_a_live_registry() {
    let services = Services::start(&["anon"]).unwrap();
    let url = services.get("ANON_URL");
    let host = url.trim_start_matches("http://").to_string();
    let pushed = runtime().block_on(push_anon(&services.pusher("anon")));
    let conf = registries_conf(services.dir(), "registries.conf", &url, "");
    let conf = Some(conf.as_path());

    // semver: the IMAGE tag is the constraint; no manifest is read.
    let out = ok_text(&test_cmd(conf, &["test.local/team/app:1.x"], &[]));
    assert!(out.contains("Found 8 tags in registry\n"), "{out}");
    assert!(
        out.contains("latest image according to constraint is test.local/team/app:1.2.0\n"),
        "{out}"
    );
    assert!(out.contains("reason: "), "{out}");
    assert!(
        out.contains(
            "tags: 8 listed, 8 considered by strategy-semver, 7 rejected (7 by strategy-semver)"
        ),
        "{out}"
    );
    assert_eq!(
        services.access_log_count("anon", "\"GET /v2/team/app/manifests/"),
        0
    );

    // The registry's own host as the prefix, and a constraint the strict
    // reference grammar refuses (`~1.1`).
    let image = format!("{host}/team/app:~1.1");
    let out = ok_text(&test_cmd(conf, &[&image], &[]));
    assert!(
        out.contains(&format!(
            "latest image according to constraint is {host}/team/app:1.1.0\n"
        )),
        "{out}"
    );

    // --semver-constraint wins over the IMAGE tag, with a warning.
    let out = test_cmd(
        conf,
        &["test.local/team/app:1.x", "--semver-constraint", "^2"],
        &[],
    );
    assert!(
        ok_text(&out).contains("is test.local/team/app:2.0.0\n"),
        "{}",
        stdout(&out)
    );
    assert!(
        stderr(&out).contains("--semver-constraint '^2' replaces the constraint '1.x'"),
        "{}",
        stderr(&out)
    );

    let newest_build = |platform: &str| {
        let args = ["test.local/team/app", "--update-strategy", "newest-build"];
        json_run(conf, &[&args[..], &["--platforms", platform]].concat())
    };

    // newest-build for linux/amd64: build times from the config blobs; the
    // index counts with its amd64 child (2024-04-15), so `latest`
    // (2024-05-01) wins; the arm64-only image is rejected.
    let v = newest_build("linux/amd64");
    assert_eq!(v["selected"], "latest");
    assert_eq!(v["digest"], pushed.latest.digest.as_str());
    assert_eq!(v["image"], "test.local/team/app:latest");
    assert_eq!(v["strategy"]["plugin"], "strategy-newest-build");
    assert_eq!(v["eligible"], 7);
    let (by, reason) = rejection(&v, "arm-only");
    assert_eq!(by, "platforms");
    assert!(
        reason.contains("linux/amd64") && reason.contains("linux/arm64"),
        "{reason}"
    );
    assert_eq!(rejection(&v, "nightly").0, "strategy-newest-build");

    // linux/arm64: the index's arm64 child (2024-07-01) beats the arm64
    // image (2024-06-15); every amd64-only tag is rejected for its platform.
    let v = newest_build("linux/arm64");
    assert_eq!(v["selected"], "nightly");
    assert_eq!(v["digest"], pushed.nightly.digest.as_str());
    assert_eq!(v["eligible"], 2);
    assert_eq!(rejection(&v, "1.1.0").0, "platforms");
    assert_eq!(rejection(&v, "arm-only").0, "strategy-newest-build");

    // Filters run first: metadata is fetched only for the tags they keep.
    let before_latest = manifest_reads(&services, "anon", "team/app", "latest");
    let before_110 = manifest_reads(&services, "anon", "team/app", "1.1.0");
    let v = json_run(
        conf,
        &[
            "test.local/team/app",
            "--update-strategy",
            "newest-build",
            "--platforms",
            "linux/amd64",
            "--allow-tags",
            r"regexp:^\d+\.\d+\.\d+$",
            "--ignore-tags",
            "2.*",
            "--ignore-tags",
            "1.0.*,1.2.0",
        ],
    );
    assert_eq!(v["selected"], "1.1.0");
    assert_eq!(v["eligible"], 1);
    let filters: Vec<&str> = v["filters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["plugin"].as_str().unwrap())
        .collect();
    assert_eq!(filters, ["filter-regexp", "filter-glob"]);
    assert_eq!(rejection(&v, "latest").0, "filter-regexp");
    assert_eq!(rejection(&v, "1.3.0-rc1").0, "filter-regexp");
    assert_eq!(rejection(&v, "2.0.0").0, "filter-glob");
    assert_eq!(rejection(&v, "1.0.0").0, "filter-glob");
    assert_eq!(rejection(&v, "1.2.0").0, "filter-glob");
    assert_eq!(
        manifest_reads(&services, "anon", "team/app", "latest"),
        before_latest
    );
    assert_eq!(
        manifest_reads(&services, "anon", "team/app", "1.1.0"),
        before_110 + 1
    );

    // alphabetical: lexically last of what the (repeated) ignore-tags keep.
    let out = ok_text(&test_cmd(
        conf,
        &[
            "test.local/team/app",
            "--update-strategy",
            "alphabetical",
            "--ignore-tags",
            "nightly",
            "--ignore-tags",
            "latest",
        ],
        &[],
    ));
    assert!(
        out.contains("latest image according to constraint is test.local/team/app:arm-only\n"),
        "{out}"
    );
    assert!(out.contains("2 by filter-glob"), "{out}");

    // digest: the IMAGE tag is the tag to follow; the reference carries its
    // digest, and only that tag's manifest is read.
    let before_100 = manifest_reads(&services, "anon", "team/app", "1.0.0");
    let out = ok_text(&test_cmd(
        conf,
        &["test.local/team/app:latest", "--update-strategy", "digest"],
        &[],
    ));
    assert!(
        out.contains(&format!(
            "latest image according to constraint is test.local/team/app:latest@{}\n",
            pushed.latest.digest
        )),
        "{out}"
    );
    assert!(out.contains(&pushed.latest.digest), "{out}");
    assert_eq!(
        manifest_reads(&services, "anon", "team/app", "1.0.0"),
        before_100
    );
    // An index: the digest is the index's, whichever platform is asked for.
    let v = json_run(
        conf,
        &[
            "test.local/team/app:nightly",
            "--update-strategy",
            "digest",
            "--platforms",
            "linux/arm64",
        ],
    );
    assert_eq!(v["selected"], "nightly");
    assert_eq!(v["digest"], pushed.nightly.digest.as_str());
    assert_eq!(
        v["image"],
        format!("test.local/team/app:nightly@{}", pushed.nightly.digest)
    );
    assert_eq!(v["eligible"], 1);
    assert!(
        rejection(&v, "latest")
            .1
            .contains("follows only tag 'nightly'")
    );
    // digest without a tag to follow: refused before any request.
    let line = error_line(&test_cmd(
        conf,
        &["test.local/team/app", "--update-strategy", "digest"],
        &[],
    ));
    assert!(
        line.contains("needs a constraint") && line.contains("test.local/team/app:latest"),
        "{line}"
    );

    // A strategy plugin and its parameters.
    let wasm = updraft_tests::example_plugin("release_version");
    let out = ok_text(&test_cmd(
        conf,
        &[
            "test.local/team/rel",
            "--plugin",
            wasm.to_str().unwrap(),
            "--param",
            r"pattern=^release-(?P<version>.+)$",
        ],
        &[],
    ));
    assert!(
        out.contains("is test.local/team/rel:release-1.10.0\n"),
        "{out}"
    );
    assert!(out.contains("considered by release_version.wasm"), "{out}");

    // Nothing qualifies: said plainly, and not an error.
    let out = ok_text(&test_cmd(conf, &["test.local/team/app:~9"], &[]));
    assert!(out.contains("no newer version of image found\n"), "{out}");

    // An unknown repository: one line naming it and the registry.
    let line = error_line(&test_cmd(conf, &["test.local/team/nope:1.x"], &[]));
    assert!(
        line.contains(&url) && line.contains("team/nope") && line.contains("HTTP 404"),
        "{line}"
    );
    assert!(line.contains("the repository is IMAGE's name"), "{line}");

    // Without registries.conf an unknown host is reached over https://,
    // which this plain-HTTP registry cannot answer: the error says so.
    let line = error_line(&test_cmd(None, &[&format!("{host}/team/app:1.x")], &[]));
    assert!(
        line.contains(&format!("https://{host}")) && line.contains("--registries-conf"),
        "{line}"
    );
}

#[test]
fn json_output_is_the_resolve_decision_plus_image() {
    let services = Services::start(&["anon"]).unwrap();
    let url = services.get("ANON_URL");
    let pusher = services.pusher("anon");
    push_same_image(&pusher, "team/app", &["1.0.0", "1.0.1", "1.1.0", "latest"]);
    let conf = registries_conf(services.dir(), "registries.conf", &url, "");
    let v = json_run(
        Some(&conf),
        &[
            "test.local/team/app:~1.0",
            "--current",
            "1.0.0",
            "--ignore-tags",
            "latest",
        ],
    );
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "changed", "current", "eligible", "filters", "image", "reason", "rejected", "selected",
            "strategy"
        ]
    );
    assert_eq!(v["selected"], "1.0.1");
    assert_eq!(v["image"], "test.local/team/app:1.0.1");
    assert_eq!(v["current"], "1.0.0");
    assert_eq!(v["changed"], true);
    assert_eq!(v["eligible"], 3);
    assert_eq!(v["strategy"]["plugin"], "strategy-semver");
    assert_eq!(v["strategy"]["sha256"].as_str().unwrap().len(), 64);
    assert!(v["strategy"]["fuel"].as_u64().unwrap() > 0);
    assert_eq!(v["filters"][0]["plugin"], "filter-glob");
    assert_eq!(rejection(&v, "latest").0, "filter-glob");
    let (by, reason) = rejection(&v, "1.1.0");
    assert_eq!(by, "strategy-semver");
    assert!(reason.contains("~1.0"), "{reason}");
    assert_eq!(v["rejected"].as_array().unwrap().len(), 3);
}

#[test]
fn basic_auth_with_credentials_flag_and_registries_conf() {
    let services = Services::start(&["basic"]).unwrap();
    let url = services.get("BASIC_URL");
    let host = url.trim_start_matches("http://").to_string();
    let (user, password) = (
        services.get("REGISTRY_USER"),
        services.get("REGISTRY_PASSWORD"),
    );
    let pusher = services.pusher("basic");
    push_same_image(&pusher, "team/app", &["1.0.0", "1.4.0", "2.0.0"]);
    let conf = registries_conf(services.dir(), "registries.conf", &url, "");
    let image = format!("{host}/team/app:1.x");

    // No credentials: refused, and the error says which flag to use.
    let line = error_line(&test_cmd(Some(&conf), &[&image], &[]));
    assert!(
        line.contains(&url) && line.contains("team/app") && line.contains("HTTP 401"),
        "{line}"
    );
    assert!(line.contains("pass --credentials"), "{line}");

    // --credentials env:VAR.
    let good = format!("{user}:{password}");
    let out = ok_text(&test_cmd(
        Some(&conf),
        &[&image, "--credentials", "env:UPDRAFT_IT_REGISTRY_CREDS"],
        &[("UPDRAFT_IT_REGISTRY_CREDS", &good)],
    ));
    assert!(
        out.contains(&format!(
            "latest image according to constraint is {host}/team/app:1.4.0\n"
        )),
        "{out}"
    );

    // A wrong password: one line naming the registry; the password is
    // printed nowhere.
    let secret = "NotThePassw0rd-4417";
    let out = test_cmd(
        Some(&conf),
        &[&image, "--credentials", "env:UPDRAFT_IT_REGISTRY_CREDS"],
        &[("UPDRAFT_IT_REGISTRY_CREDS", &format!("{user}:{secret}"))],
    );
    let line = error_line(&out);
    assert!(
        line.contains(&url) && line.contains("team/app") && line.contains("HTTP 401"),
        "{line}"
    );
    assert!(line.contains("check --credentials"), "{line}");
    assert!(!stderr(&out).contains(secret) && !stdout(&out).contains(secret));

    // An unset variable: named, with the flag to fix.
    let line = error_line(&test_cmd(
        Some(&conf),
        &[&image, "--credentials", "env:UPDRAFT_IT_NO_SUCH_VARIABLE"],
        &[],
    ));
    assert!(
        line.contains("UPDRAFT_IT_NO_SUCH_VARIABLE is not set") && line.contains("--credentials"),
        "{line}"
    );

    // Registry-level credentials from registries.conf, no flag needed.
    let creds = services.dir().join("creds");
    std::fs::write(&creds, format!("{good}\n")).unwrap();
    let with_creds = registries_conf(
        services.dir(),
        "with-creds.conf",
        &url,
        &format!("  credentials: file:{}\n", creds.display()),
    );
    let out = ok_text(&test_cmd(
        Some(&with_creds),
        &["test.local/team/app", "--update-strategy", "alphabetical"],
        &[],
    ));
    assert!(out.contains("is test.local/team/app:2.0.0\n"), "{out}");
}

#[test]
fn bearer_tokens_from_the_token_server() {
    let services = Services::start(&["bearer"]).unwrap();
    let url = services.get("BEARER_URL");
    let (user, password) = (
        services.get("REGISTRY_USER"),
        services.get("REGISTRY_PASSWORD"),
    );
    let pusher = services.pusher("bearer");
    let (multi, latest) = runtime().block_on(async {
        let amd64 = built("2024-01-01T00:00:00Z", "linux/amd64");
        push(&pusher, "team/app", "1.0.0", amd64.clone()).await;
        let children = [
            built("2024-02-01T00:00:00Z", "linux/amd64"),
            built("2024-03-01T00:00:00Z", "linux/arm64"),
        ];
        let (multi, _) = pusher
            .index("team/app", "2.1.0", &children, Format::Docker, false)
            .await
            .unwrap();
        let latest = push(&pusher, "public/app", "latest", amd64.docker()).await;
        (multi, latest)
    });
    let conf = registries_conf(services.dir(), "registries.conf", &url, "");
    let issued = services.tokens_issued();

    // Credentials: a token for the repository, then tags and metadata.
    let good = format!("{user}:{password}");
    let v = ok_json(&test_cmd(
        Some(&conf),
        &[
            "test.local/team/app",
            "--update-strategy",
            "newest-build",
            "--credentials",
            "env:UPDRAFT_IT_REGISTRY_CREDS",
            "--platforms",
            "linux/arm64",
            "--output",
            "json",
        ],
        &[("UPDRAFT_IT_REGISTRY_CREDS", &good)],
    ));
    assert_eq!(v["selected"], "2.1.0");
    assert_eq!(v["digest"], multi.digest.as_str());
    assert_eq!(rejection(&v, "1.0.0").0, "platforms");
    assert_eq!(services.tokens_issued() - issued, 1);

    // Anonymous: the token server grants pull on public/ only.
    let out = ok_text(&test_cmd(
        Some(&conf),
        &[
            "test.local/public/app:latest",
            "--update-strategy",
            "digest",
        ],
        &[],
    ));
    assert!(
        out.contains(&format!(
            "is test.local/public/app:latest@{}\n",
            latest.digest
        )),
        "{out}"
    );
    let line = error_line(&test_cmd(Some(&conf), &["test.local/team/app"], &[]));
    assert!(
        line.contains("team/app") && line.contains("--credentials"),
        "{line}"
    );

    // Wrong password: the token server refuses it; not printed.
    let secret = "Wr0ngSecret-5521";
    let out = test_cmd(
        Some(&conf),
        &[
            "test.local/team/app",
            "--credentials",
            "env:UPDRAFT_IT_REGISTRY_CREDS",
        ],
        &[("UPDRAFT_IT_REGISTRY_CREDS", &format!("{user}:{secret}"))],
    );
    let line = error_line(&out);
    assert!(
        line.contains("team/app")
            && line.contains(&format!("refused user '{user}'"))
            && line.contains("check --credentials"),
        "{line}"
    );
    assert!(!stderr(&out).contains(secret) && !stdout(&out).contains(secret));
}
