//! `write-back` (`updraft-pipeline`) against real git over smart HTTP with
//! Basic auth (`infra/local/git.sh`: lighttpd + git-http-backend) and the
//! `argocd` method against the in-tree Argo CD API emulator: the tutorial's
//! three Applications on one repository (one commit per branch, external
//! commits kept, a second run commits nothing), Helm values edited in place,
//! per-application commits, a wrong password, and `updraft invoke
//! write-back`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::git_support::{GitServer, git};

use serde_json::Value;
use updraft_argocd::emulator::{Emulator, EmulatorConfig};
use updraft_core::WriteBack;
use updraft_pipeline::events::{AppUpdate, ImageChange, SyncRequest, WriteBackRequest, encode};
use updraft_pipeline::{Context, Settings};

const TUTORIAL: &str = include_str!("../../infra/local/demo/tutorial-apps.yaml");
const TUTORIAL_REPO: &str = "git@github.com:ivan-cai/gitops-demo.git";
const CHART: &str = "manifests/helm/echo-server";
const ECHO: &str = "demo-test-registry.cn-hangzhou.cr.aliyuncs.com/cidemo/echo-server";
const WEB: &str = "demo-test-registry.cn-hangzhou.cr.aliyuncs.com/cidemo/echo-web-server";
const BOUND: Duration = Duration::from_secs(120);

fn values(env: &str) -> String {
    format!(
        "# echo-server values for {env}.\n# Tags are moved by Updraft; keep comments.\nreplicaCount: 1\n\nimage:\n  echoServer:\n    repository: {ECHO}\n    tag: v1.0.0 # the echo server\n    pullPolicy: IfNotPresent\n  echoWebServer:\n    repository: {WEB}\n    tag: \"v1.0.0\"\n\nservice:\n  port: 8080\n"
    )
}

/// The tutorial's chart on branches `stable-example` (Dev, Staging) and
/// `test2` (Production).
fn seed(bare: &Path) {
    let work = tempfile::tempdir().unwrap();
    git(work.path(), &["init", "-q", "-b", "stable-example"]);
    let chart = work.path().join(CHART);
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: echo-server\nversion: 0.1.0\n",
    )
    .unwrap();
    for env in ["dev", "staging", "production"] {
        std::fs::write(chart.join(format!("values-{env}.yaml")), values(env)).unwrap();
    }
    git(work.path(), &["add", "-A"]);
    git(
        work.path(),
        &["commit", "-q", "-m", "the echo-server chart"],
    );
    let bare = bare.to_str().unwrap();
    git(
        work.path(),
        &["push", "-q", bare, "HEAD:refs/heads/stable-example"],
    );
    git(work.path(), &["push", "-q", bare, "HEAD:refs/heads/test2"]);
}

fn rev(bare: &Path, branch: &str) -> String {
    git(bare, &["rev-parse", branch]).trim().to_string()
}

/// The tutorial's Applications, verbatim apart from the repository URL.
fn tutorial_updates(repo_url: &str) -> Vec<AppUpdate> {
    let text = TUTORIAL.replace(TUTORIAL_REPO, repo_url);
    let loaded = updraft_pipeline::apps::from_documents(&[("apps.yaml".into(), text)]);
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    loaded
        .apps
        .into_iter()
        .map(|app| AppUpdate {
            changes: vec![
                change(0, "echoserver", ECHO, "v1.0.0", "v1.1.0"),
                change(1, "webserver", WEB, "v1.0.0", "v2.0.0"),
            ],
            config: app.config,
        })
        .collect()
}

fn change(index: usize, alias: &str, image: &str, from: &str, to: &str) -> ImageChange {
    ImageChange {
        index,
        alias: Some(alias.into()),
        image: image.into(),
        from: Some(from.into()),
        to: to.into(),
        digest: None,
        reason: "the latest build".into(),
    }
}

struct Setup {
    server: GitServer,
    dir: tempfile::TempDir,
    url: String,
    bare: PathBuf,
}

impl Setup {
    fn new() -> Setup {
        let server = GitServer::start(&["gitops-demo"]);
        let bare = server.bare("gitops-demo");
        seed(&bare);
        let url = server.url("gitops-demo");
        Setup {
            server,
            dir: tempfile::tempdir().unwrap(),
            url,
            bare,
        }
    }

    /// updraft.yaml with the git password in a file; `extra` is appended
    /// under `git:`.
    fn config(&self, password: &str, extra: &str) -> String {
        std::fs::write(self.dir.path().join("git-password"), password).unwrap();
        format!(
            "state: \"file://{state}\"\ngit:\n  work_dir: {work}\n  credentials:\n    - match: \"{prefix}\"\n      username: {user}\n      password: file:git-password\n{extra}",
            state = self.dir.path().join("state").display(),
            work = self.dir.path().join("work").display(),
            prefix = self.server.get("GIT_REPOS_URL"),
            user = self.server.get("GIT_USER"),
        )
    }

    fn context(&self, password: &str, extra: &str) -> Context {
        let settings = Settings::parse(
            &self.config(password, extra),
            "updraft.yaml",
            self.dir.path(),
        )
        .unwrap();
        Context::new(settings).unwrap()
    }
}

async fn write_back(ctx: &Context, applications: Vec<AppUpdate>) -> SyncRequest {
    let request = WriteBackRequest {
        cycle: "test".into(),
        applications,
        ..Default::default()
    };
    tokio::time::timeout(
        BOUND,
        updraft_pipeline::writeback_run::write_back(ctx, request),
    )
    .await
    .expect("time bound")
}

fn by_name<'a>(sync: &'a SyncRequest, name: &str) -> &'a updraft_pipeline::events::AppWritten {
    sync.applications
        .iter()
        .find(|a| a.config.name == name)
        .unwrap_or_else(|| panic!("{name} missing from {sync:?}"))
}

const DEV_SOURCE: &str = "helm:\n  parameters:\n  - name: image.echoServer.repository\n    value: demo-test-registry.cn-hangzhou.cr.aliyuncs.com/cidemo/echo-server\n    forcestring: true\n  - name: image.echoServer.tag\n    value: v1.1.0\n    forcestring: true\n  - name: image.echoWebServer.repository\n    value: demo-test-registry.cn-hangzhou.cr.aliyuncs.com/cidemo/echo-web-server\n    forcestring: true\n  - name: image.echoWebServer.tag\n    value: v2.0.0\n    forcestring: true\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tutorial_applications_one_commit_per_branch_over_http() {
    let setup = Setup::new();
    let ctx = setup.context(setup.server.get("GIT_PASSWORD"), "");
    // Someone else commits to the branch first: it must survive.
    let work = tempfile::tempdir().unwrap();
    git(
        work.path(),
        &[
            "clone",
            "-q",
            "-b",
            "stable-example",
            setup.bare.to_str().unwrap(),
            ".",
        ],
    );
    std::fs::write(work.path().join("README.md"), "ops notes\n").unwrap();
    git(work.path(), &["add", "README.md"]);
    git(work.path(), &["commit", "-q", "-m", "external change"]);
    git(work.path(), &["push", "-q", "origin", "stable-example"]);
    let external = rev(&setup.bare, "stable-example");

    let sync = write_back(&ctx, tutorial_updates(&setup.url)).await;
    assert!(sync.errors.is_empty(), "{:?}", sync.errors);
    assert_eq!((sync.stats.commits, sync.stats.pushes), (2, 2));
    assert_eq!(sync.stats.applications_written, 3);
    let stable = rev(&setup.bare, "stable-example");
    let test2 = rev(&setup.bare, "test2");
    for (name, branch, commit) in [
        ("app-helm-dev", "stable-example", &stable),
        ("app-helm-staging", "stable-example", &stable),
        ("app-helm-production", "test2", &test2),
    ] {
        let app = by_name(&sync, name);
        assert!(app.written, "{app:?}");
        assert_eq!(app.branch.as_deref(), Some(branch));
        assert_eq!(app.commit.as_ref(), Some(commit));
        assert_eq!(app.repository.as_deref(), Some(setup.url.as_str()));
        assert_eq!(app.files, [format!("{CHART}/.argocd-source-{name}.yaml")]);
        assert_eq!(app.changes.len(), 2);
    }
    // The external commit is the parent of ours: nothing lost, no force.
    assert_eq!(rev(&setup.bare, "stable-example~1"), external);
    let show = |rev: &str, path: &str| git(&setup.bare, &["show", &format!("{rev}:{path}")]);
    assert_eq!(
        show(
            "stable-example",
            &format!("{CHART}/.argocd-source-app-helm-dev.yaml")
        ),
        DEV_SOURCE
    );
    assert_eq!(show("stable-example", "README.md"), "ops notes\n");
    let message = git(
        &setup.bare,
        &["log", "-1", "--format=%B%an <%ae>", "stable-example"],
    );
    assert!(
        message.starts_with("build: automatic update of 2 applications\n\n"),
        "{message}"
    );
    assert!(message.contains("updates image cidemo/echo-web-server tag 'v1.0.0' to 'v2.0.0'"));
    assert!(message.ends_with("argocd-image-updater <noreply@argoproj.io>\n"));
    let message = git(&setup.bare, &["log", "-1", "--format=%B", "test2"]);
    assert_eq!(
        message,
        "build: automatic update of app-helm-production\n\nupdates image cidemo/echo-server tag 'v1.0.0' to 'v1.1.0'\nupdates image cidemo/echo-web-server tag 'v1.0.0' to 'v2.0.0'\n\n"
    );

    // The same request again, through the binary as the cloud would run it:
    // nothing to commit.
    let config = setup.dir.path().join("updraft.yaml");
    std::fs::write(&config, setup.config(setup.server.get("GIT_PASSWORD"), "")).unwrap();
    let event = encode(&WriteBackRequest {
        cycle: "again".into(),
        applications: tutorial_updates(&setup.url),
        ..Default::default()
    })
    .to_string();
    let out = updraft_tests::updraft(
        &[
            "invoke",
            "write-back",
            "--event",
            "-",
            "--config",
            config.to_str().unwrap(),
        ],
        Some(&event),
    )
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let again: Value = updraft_tests::json_stdout(&out).unwrap();
    assert_eq!(again["kind"], "SyncRequest");
    assert_eq!(again["stats"]["commits"], 0);
    for app in again["applications"].as_array().unwrap() {
        assert_eq!(app["written"], false, "{app}");
        assert!(app["reason"].as_str().unwrap().contains("already has"));
    }
    assert_eq!(rev(&setup.bare, "stable-example"), stable);
    assert_eq!(rev(&setup.bare, "test2"), test2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helm_values_are_edited_in_place_one_line_per_value() {
    let setup = Setup::new();
    let ctx = setup.context(
        setup.server.get("GIT_PASSWORD"),
        "  commit: per-application\n",
    );
    let mut updates = tutorial_updates(&setup.url);
    for app in &mut updates {
        let env = app.config.name.trim_start_matches("app-helm-").to_string();
        if let WriteBack::Git(git) = &mut app.config.write_back {
            git.target = updraft_core::WriteBackTarget::HelmValues {
                path: Some(format!("values-{env}.yaml")),
            };
        }
    }
    let before = rev(&setup.bare, "stable-example");
    let sync = write_back(&ctx, updates).await;
    assert!(sync.errors.is_empty(), "{:?}", sync.errors);
    // Per-application commits: Dev and Staging one each on stable-example.
    assert_eq!(sync.stats.commits, 3);
    assert_eq!(
        git(
            &setup.bare,
            &["rev-list", "--count", &format!("{before}..stable-example")]
        )
        .trim(),
        "2"
    );
    let numstat = git(
        &setup.bare,
        &["diff", "--numstat", &before, "stable-example"],
    );
    let mut lines: Vec<&str> = numstat.lines().collect();
    lines.sort();
    assert_eq!(
        lines,
        [
            format!("2\t2\t{CHART}/values-dev.yaml"),
            format!("2\t2\t{CHART}/values-staging.yaml"),
        ]
    );
    let dev = git(
        &setup.bare,
        &["show", &format!("stable-example:{CHART}/values-dev.yaml")],
    );
    assert_eq!(
        dev,
        values("dev")
            .replace(
                "tag: v1.0.0 # the echo server",
                "tag: v1.1.0 # the echo server"
            )
            .replace("tag: \"v1.0.0\"", "tag: \"v2.0.0\"")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_is_a_clear_error_and_changes_nothing() {
    let setup = Setup::new();
    let wrong = "not-the-password-7f3a";
    let ctx = setup.context(wrong, "");
    let before = (
        rev(&setup.bare, "stable-example"),
        rev(&setup.bare, "test2"),
    );
    let sync = write_back(&ctx, tutorial_updates(&setup.url)).await;
    assert_eq!(sync.stats.commits, 0);
    assert_eq!(sync.errors.len(), 3, "{:?}", sync.errors);
    for error in &sync.errors {
        assert_eq!(error.stage, "write-back");
        assert!(
            error.message.contains("authentication failed"),
            "{}",
            error.message
        );
    }
    assert!(sync.applications.iter().all(|a| !a.written));
    let json = encode(&sync).to_string();
    assert!(!json.contains(wrong), "the password leaked: {json}");
    assert_eq!(
        (
            rev(&setup.bare, "stable-example"),
            rev(&setup.bare, "test2")
        ),
        before
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn argocd_method_updates_the_application_spec_through_the_emulator() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    emulator.load_yaml(TUTORIAL).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("token"), &emulator.token).unwrap();
    let config = |token: &str| {
        format!(
            "state: \"file://{}\"\nargocd:\n  server: {}\n  token: file:{token}\n",
            dir.path().join("state").display(),
            emulator.url
        )
    };
    let settings = Settings::parse(&config("token"), "updraft.yaml", dir.path()).unwrap();
    let ctx = Context::new(settings).unwrap();
    let mut updates = tutorial_updates("https://git.example/gitops-demo.git");
    for app in &mut updates {
        app.config.write_back = WriteBack::Argocd;
    }
    let sync = write_back(&ctx, updates.clone()).await;
    assert!(sync.errors.is_empty(), "{:?}", sync.errors);
    assert_eq!(sync.stats.applications_written, 3);
    assert_eq!(sync.stats.commits, 0);
    let spec = emulator.spec("app-helm-staging").unwrap();
    let parameters = &spec["source"]["helm"]["parameters"];
    let tag = parameters
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "image.echoWebServer.tag")
        .unwrap();
    assert_eq!(tag["value"], "v2.0.0");
    assert_eq!(tag["forceString"], true);
    // Other fields of the spec are kept.
    assert_eq!(
        spec["source"]["helm"]["valueFiles"][0],
        "values-staging.yaml"
    );
    // Again: already there, nothing written.
    let again = write_back(&ctx, updates.clone()).await;
    assert!(again.applications.iter().all(|a| !a.written));
    assert!(again.errors.is_empty());

    // A bad token: a clear per-application error.
    std::fs::write(dir.path().join("bad"), "not-a-token").unwrap();
    let settings = Settings::parse(&config("bad"), "updraft.yaml", dir.path()).unwrap();
    let ctx = Context::new(settings).unwrap();
    let failed = write_back(&ctx, updates).await;
    assert_eq!(failed.errors.len(), 3);
    assert!(
        failed.errors[0].message.contains("401") || failed.errors[0].message.contains("token"),
        "{}",
        failed.errors[0].message
    );
    assert!(!encode(&failed).to_string().contains("not-a-token"));
}

/// A repository URL with the password in it (`https://user:secret@…`, as an
/// Application's `repoURL` may have) pushes, and the password appears in no
/// result, preview or error: they show the URL redacted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_in_the_repository_url_stay_in_the_git_layer() {
    let setup = Setup::new();
    let password = setup.server.get("GIT_PASSWORD");
    let user = setup.server.get("GIT_USER");
    let with = |secret: &str| {
        setup
            .url
            .replacen("http://", &format!("http://{user}:{secret}@"), 1)
    };
    let context = |dry_run: bool| {
        let text = format!(
            "state: \"file://{}\"\ngit:\n  work_dir: {}\n",
            setup.dir.path().join("state").display(),
            setup.dir.path().join("work").display()
        );
        let mut settings = Settings::parse(&text, "updraft.yaml", setup.dir.path()).unwrap();
        settings.git.dry_run = dry_run;
        Context::new(settings).unwrap()
    };

    // A dry run: the preview names the repository without the password.
    let preview = write_back(&context(true), tutorial_updates(&with(password))).await;
    assert!(preview.errors.is_empty(), "{:?}", preview.errors);
    assert!(!preview.previews.is_empty());
    assert!(preview.previews[0].repository.contains("***@127.0.0.1"));
    let previews = serde_json::to_string(&preview.previews).unwrap();
    assert!(!previews.contains(password), "{previews}");

    // The real thing: pushed with the URL's credentials, shown without.
    let before = rev(&setup.bare, "stable-example");
    let sync = write_back(&context(false), tutorial_updates(&with(password))).await;
    assert!(sync.errors.is_empty(), "{:?}", sync.errors);
    assert_eq!(sync.stats.commits, 2);
    assert_ne!(rev(&setup.bare, "stable-example"), before);
    let dev = by_name(&sync, "app-helm-dev");
    assert!(
        dev.repository
            .as_deref()
            .is_some_and(|r| r.starts_with("http://***@127.0.0.1")),
        "{:?}",
        dev.repository
    );
    // Events between stages carry the Application's own repoURL (the next
    // stage pushes with it); everything Updraft adds is redacted.
    let added: Vec<String> = sync
        .applications
        .iter()
        .map(|a| format!("{:?} {} {:?}", a.repository, a.reason, a.branch))
        .collect();
    assert!(!added.iter().any(|a| a.contains(password)), "{added:?}");

    // A wrong password in the URL: a clear error that does not repeat it.
    let failed = write_back(
        &context(false),
        tutorial_updates(&with("wrong-url-password-4711")),
    )
    .await;
    assert!(!failed.errors.is_empty());
    let shown: Vec<String> = failed
        .errors
        .iter()
        .map(|e| e.message.clone())
        .chain(
            failed
                .applications
                .iter()
                .map(|a| format!("{:?} {}", a.repository, a.reason)),
        )
        .collect();
    assert!(
        !shown.iter().any(|s| s.contains("wrong-url-password-4711")),
        "{shown:?}"
    );
}
