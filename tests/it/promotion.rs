//! `sync-trigger` and the approval commands (`updraft-pipeline`) with the
//! tutorial's three Applications: write-back over real git
//! (`infra/local/git.sh`), Argo CD played by the in-tree Argo CD API
//! emulator (Argo CD needs Kubernetes). Dev syncs itself, Staging and
//! Production wait; approving Staging syncs it and promotes its canary;
//! Production's gate holds it until Staging has soaked; rollback holds the
//! application and release lifts the hold; Argo CD failures are clear
//! per-application errors and a re-delivered result changes nothing.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use crate::git_support::{GitServer, git};
use updraft_argocd::emulator::{Emulator, EmulatorConfig};
use updraft_pipeline::events::{AppUpdate, ImageChange, SyncReport, SyncRequest, WriteBackRequest};
use updraft_pipeline::{Context, Settings, approvals, sync};

const TUTORIAL: &str = include_str!("../../infra/local/demo/tutorial-apps.yaml");
const TUTORIAL_REPO: &str = "git@github.com:ivan-cai/gitops-demo.git";
const ECHO: &str = "demo-test-registry.cn-hangzhou.cr.aliyuncs.com/cidemo/echo-server";
const WEB: &str = "demo-test-registry.cn-hangzhou.cr.aliyuncs.com/cidemo/echo-web-server";
const DEV: &str = "argocd/app-helm-dev";
const STAGING: &str = "argocd/app-helm-staging";
const PRODUCTION: &str = "argocd/app-helm-production";
const BOUND: Duration = Duration::from_secs(120);

/// Test time: real time plus a skew the test moves forward.
static SKEW_NANOS: AtomicI64 = AtomicI64::new(0);

fn clock() -> i64 {
    chrono::Utc::now().timestamp_nanos_opt().unwrap() + SKEW_NANOS.load(Ordering::SeqCst)
}

struct World {
    server: GitServer,
    emulator: Emulator,
    dir: tempfile::TempDir,
    url: String,
}

impl World {
    async fn new() -> World {
        let server = GitServer::start(&["gitops-demo"]);
        let bare = server.bare("gitops-demo");
        crate::git_support::seed_tutorial_chart(&bare);
        let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
        emulator.load_yaml(TUTORIAL).unwrap();
        emulator
            .add_rollout("app-helm-staging", "app-staging", "echo-server")
            .unwrap();
        emulator
            .add_rollout("app-helm-production", "app-production", "echo-server")
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("git-password"), server.get("GIT_PASSWORD")).unwrap();
        std::fs::write(dir.path().join("argocd-token"), &emulator.token).unwrap();
        let url = server.url("gitops-demo");
        std::fs::create_dir_all(dir.path().join("apps")).unwrap();
        std::fs::write(
            dir.path().join("apps/tutorial.yaml"),
            TUTORIAL.replace(TUTORIAL_REPO, &url),
        )
        .unwrap();
        World {
            server,
            emulator,
            dir,
            url,
        }
    }

    fn config(&self, token_file: &str) -> String {
        format!(
            r#"state: "file://{state}"
applications:
  - dir: apps
git:
  work_dir: {work}
  credentials:
    - match: "{prefix}"
      username: {user}
      password: file:git-password
argocd:
  server: {argocd}
  token: file:{token_file}
  refresh_timeout: 2s
  sync_timeout: 10s
promotion:
  environments:
    dev:
      applications: [{DEV}]
    staging:
      applications: [{STAGING}]
      canary: {{kind: argo-rollouts, name: echo-server, namespace: app-staging}}
    production:
      applications: [{PRODUCTION}]
      after: staging
      soak: 30m
      canary: {{kind: argo-rollouts, name: echo-server, namespace: app-production}}
"#,
            state = self.dir.path().join("state").display(),
            work = self.dir.path().join("work").display(),
            prefix = self.server.get("GIT_REPOS_URL"),
            user = self.server.get("GIT_USER"),
            argocd = self.emulator.url,
        )
    }

    fn context(&self) -> Context {
        self.context_with("argocd-token")
    }

    fn context_with(&self, token_file: &str) -> Context {
        let settings =
            Settings::parse(&self.config(token_file), "updraft.yaml", self.dir.path()).unwrap();
        Context::new(settings).unwrap().with_clock(clock)
    }

    fn updates(&self, from: &str, to: &str) -> Vec<AppUpdate> {
        let text = TUTORIAL.replace(TUTORIAL_REPO, &self.url);
        let loaded = updraft_pipeline::apps::from_documents(&[("apps.yaml".into(), text)]);
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        loaded
            .apps
            .into_iter()
            .map(|app| AppUpdate {
                changes: vec![
                    change(0, "echoserver", ECHO, from, to),
                    change(1, "webserver", WEB, from, to),
                ],
                config: app.config,
            })
            .collect()
    }

    /// Write-back, then Argo CD sees the new commits (the emulator does
    /// not read git).
    async fn write(&self, ctx: &Context, from: &str, to: &str) -> SyncRequest {
        let request = WriteBackRequest {
            cycle: format!("to-{to}"),
            applications: self.updates(from, to),
            ..Default::default()
        };
        let written = updraft_pipeline::writeback_run::write_back(ctx, request).await;
        assert!(written.errors.is_empty(), "{:?}", written.errors);
        for app in &written.applications {
            if let Some(commit) = &app.commit {
                self.emulator
                    .push_commit(
                        &app.config.name,
                        commit.clone(),
                        Some(vec![format!("{ECHO}:{to}"), format!("{WEB}:{to}")]),
                    )
                    .unwrap();
            }
        }
        written
    }
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

fn outcome<'a>(report: &'a SyncReport, app: &str) -> &'a updraft_pipeline::events::AppSynced {
    report
        .applications
        .iter()
        .find(|a| a.application == app)
        .unwrap_or_else(|| panic!("{app} missing from {report:?}"))
}

async fn bounded<F: std::future::Future>(f: F) -> F::Output {
    tokio::time::timeout(BOUND, f).await.expect("time bound")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dev_syncs_staging_and_production_wait_for_approval_gates_and_holds() {
    bounded(async {
        let world = World::new().await;
        let ctx = world.context();
        let written = world.write(&ctx, "v1.0.0", "v1.1.0").await;
        let report = sync::sync_trigger(&ctx, written.clone()).await;
        assert!(report.errors.is_empty(), "{:?}", report.errors);

        // Dev: synced at once, by Argo CD's automated policy or ours.
        let dev = outcome(&report, DEV);
        assert_eq!(dev.outcome, "synced", "{dev:?}");
        assert_eq!(dev.environment.as_deref(), Some("dev"));
        assert_eq!(world.emulator.sync_count("app-helm-dev"), 1);
        let live = world.emulator.live("app-helm-dev").unwrap();
        assert_eq!(format!("{:?}", live.sync_status()), "Synced");

        // Staging: waits for approval; Production: for approval and gate.
        let staging = outcome(&report, STAGING);
        assert_eq!(staging.outcome, "pending", "{staging:?}");
        assert!(
            staging
                .message
                .contains("updraft approve argocd/app-helm-staging")
        );
        let production = outcome(&report, PRODUCTION);
        assert_eq!(production.outcome, "gated", "{production:?}");
        assert!(
            production.message.contains("staging"),
            "{}",
            production.message
        );
        assert_eq!(world.emulator.sync_count("app-helm-staging"), 0);
        assert_eq!(world.emulator.sync_count("app-helm-production"), 0);

        // A re-delivered result records nothing new and syncs nothing.
        let again = sync::sync_trigger(&ctx, written.clone()).await;
        assert_eq!(outcome(&again, DEV).outcome, "recorded");
        assert_eq!(world.emulator.sync_count("app-helm-dev"), 1);
        let pending = approvals::pending(&ctx).await.unwrap();
        let apps: Vec<&str> = pending.iter().map(|p| p.application.as_str()).collect();
        assert_eq!(apps, [PRODUCTION, STAGING]);
        let staging_view = &pending[1];
        assert_eq!(staging_view.environment.as_deref(), Some("staging"));
        assert_eq!(staging_view.branch, "stable-example");
        assert!(staging_view.changes[0].ends_with("v1.0.0 → v1.1.0"));
        assert!(staging_view.waiting_for[0].starts_with("approval"));

        // Approve Staging: synced to the commit, canary promoted.
        let approved = approvals::approve(&ctx, STAGING, None, "alice")
            .await
            .unwrap();
        assert_eq!(approved.outcome, "synced", "{approved:?}");
        assert_eq!(approved.health.as_deref(), Some("Healthy"));
        let syncs = world.emulator.syncs("app-helm-staging");
        assert_eq!(syncs.len(), 1);
        assert_eq!(syncs[0].revision, approved.commit);
        let rollout = world.emulator.rollout("app-helm-staging").unwrap();
        assert!(rollout.promoted_full && !rollout.paused, "{rollout:?}");

        // Production approved, but Staging has not soaked for 30 minutes.
        let held = approvals::approve(&ctx, PRODUCTION, None, "bob")
            .await
            .unwrap();
        assert_eq!(held.outcome, "gated", "{held:?}");
        assert!(held.message.contains("30m"), "{}", held.message);
        assert_eq!(world.emulator.sync_count("app-helm-production"), 0);
        let pending = approvals::pending(&ctx).await.unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].approved_by.as_deref(), Some("bob"));

        // 31 minutes later a timer's sync-trigger finds the gate open.
        SKEW_NANOS.store(31 * 60 * 1_000_000_000, Ordering::SeqCst);
        let sweep = sync::sync_trigger(&ctx, SyncRequest::default()).await;
        assert!(sweep.errors.is_empty(), "{:?}", sweep.errors);
        assert_eq!(outcome(&sweep, PRODUCTION).outcome, "synced");
        assert_eq!(world.emulator.sync_count("app-helm-production"), 1);
        assert!(
            world
                .emulator
                .rollout("app-helm-production")
                .unwrap()
                .promoted_full
        );
        assert!(approvals::pending(&ctx).await.unwrap().is_empty());

        // Rollback of Production's echo server: the old tag is written and
        // synced at once (gates do not apply), and Production is held.
        let rolled = approvals::rollback(&ctx, PRODUCTION, Some("echoserver"), "v1.0.0", "carol")
            .await
            .unwrap();
        let written = &rolled.written.applications[0];
        assert!(written.written, "{written:?}");
        assert_eq!(written.branch.as_deref(), Some("test2"));
        let source = git(
            &world.server.bare("gitops-demo"),
            &[
                "show",
                "test2:manifests/helm/echo-server/.argocd-source-app-helm-production.yaml",
            ],
        );
        assert!(source.contains("value: v1.0.0"), "{source}");
        assert!(
            source.contains("value: v1.1.0"),
            "the web server stays: {source}"
        );
        let synced = rolled.synced.unwrap();
        assert_eq!(synced.outcome, "synced", "{synced:?}");
        assert_eq!(world.emulator.sync_count("app-helm-production"), 2);
        assert_eq!(rolled.hold.pinned[0].tag, "v1.0.0");
        // Polling proposes v1.1.0 again: held back while the hold stands.
        let mut proposed = vec![change(0, "echoserver", ECHO, "v1.0.0", "v1.1.0")];
        let why = sync::screen_changes(&ctx, PRODUCTION, &mut proposed)
            .await
            .unwrap();
        assert!(proposed.is_empty());
        assert!(why.unwrap().contains("is held"));
        let released = approvals::release(&ctx, PRODUCTION, "carol").await.unwrap();
        assert!(released.contains("released"), "{released}");
        let mut proposed = vec![change(0, "echoserver", ECHO, "v1.0.0", "v1.1.0")];
        let why = sync::screen_changes(&ctx, PRODUCTION, &mut proposed)
            .await
            .unwrap();
        assert_eq!((proposed.len(), why), (1, None));
        assert!(approvals::release(&ctx, PRODUCTION, "carol").await.is_err());

        // A manual revert: Dev got v1.2.0 from Updraft, then runs v1.1.0
        // again (someone reverted in git and synced). Updraft holds it
        // instead of upgrading it silently.
        let written = world.write(&ctx, "v1.1.0", "v1.2.0").await;
        let dev_only = SyncRequest {
            applications: written
                .applications
                .into_iter()
                .filter(|a| a.config.name == "app-helm-dev")
                .collect(),
            ..written
        };
        let report = sync::sync_trigger(&ctx, dev_only).await;
        assert_eq!(outcome(&report, DEV).outcome, "synced");
        let mut proposed = vec![change(0, "echoserver", ECHO, "v1.1.0", "v1.2.0")];
        let why = sync::screen_changes(&ctx, DEV, &mut proposed)
            .await
            .unwrap();
        assert!(proposed.is_empty());
        assert!(why.unwrap().contains("manual revert"), "held");
        assert!(sync::load_hold(&ctx, DEV).await.unwrap().is_some());

        let log = sync::audit_log(&ctx).await.unwrap();
        let actions: Vec<String> = log
            .iter()
            .map(|e| format!("{:?} {} {}", e.action, e.actor, e.application))
            .collect();
        assert!(
            actions.contains(&format!("Approve alice {STAGING}")),
            "{actions:?}"
        );
        assert!(
            actions.contains(&format!("Sync alice {STAGING}")),
            "{actions:?}"
        );
        assert!(
            actions.contains(&format!("Approve bob {PRODUCTION}")),
            "{actions:?}"
        );
        assert!(
            actions.contains(&format!("Sync updraft {DEV}")),
            "{actions:?}"
        );
        assert!(
            actions.contains(&format!("Rollback carol {PRODUCTION}")),
            "{actions:?}"
        );
        assert!(
            actions.contains(&format!("Release carol {PRODUCTION}")),
            "{actions:?}"
        );
        assert!(
            actions.contains(&format!("Hold updraft {DEV}")),
            "{actions:?}"
        );
        SKEW_NANOS.store(0, Ordering::SeqCst);
    })
    .await;
}

/// With `write-back-method: argocd` a rollback sets the Application's
/// parameters (no commit) and syncs them at once, like a git rollback.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollback_with_the_argocd_method_syncs_the_spec() {
    bounded(async {
        let world = World::new().await;
        let apps = world.dir.path().join("apps/tutorial.yaml");
        let text = std::fs::read_to_string(&apps).unwrap();
        assert!(text.contains("write-back-method: git"));
        std::fs::write(
            &apps,
            text.replace("write-back-method: git", "write-back-method: argocd"),
        )
        .unwrap();
        let ctx = world.context();
        let rolled = approvals::rollback(&ctx, PRODUCTION, Some("echoserver"), "v0.9.0", "carol")
            .await
            .unwrap();
        let written = &rolled.written.applications[0];
        assert!(written.written, "{written:?}");
        assert_eq!(written.method, "argocd");
        assert_eq!(written.commit, None);
        let spec = world.emulator.spec("app-helm-production").unwrap();
        let tag = spec["source"]["helm"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "image.echoServer.tag")
            .cloned()
            .unwrap();
        assert_eq!(tag["value"], "v0.9.0");
        let synced = rolled.synced.expect("the rollback was synced");
        assert_eq!(synced.outcome, "synced", "{synced:?}");
        assert!(
            synced.message.contains("argocd-spec:"),
            "{}",
            synced.message
        );
        assert_eq!(world.emulator.sync_count("app-helm-production"), 1);
        // A manual Application: synced without a pinned revision (there is
        // no commit to pin).
        assert_eq!(
            world.emulator.syncs("app-helm-production")[0].revision,
            None
        );
        assert_eq!(rolled.hold.pinned[0].tag, "v0.9.0");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn argocd_failures_are_clear_per_application_errors() {
    bounded(async {
        let world = World::new().await;
        let ctx = world.context();
        world
            .emulator
            .set_sync_failure("app-helm-dev", "one or more objects failed to apply")
            .unwrap();
        let written = world.write(&ctx, "v1.0.0", "v1.1.0").await;
        let report = sync::sync_trigger(&ctx, written).await;
        let dev = outcome(&report, DEV);
        assert_eq!(dev.outcome, "failed");
        assert!(dev.message.contains("failed to apply"), "{}", dev.message);
        assert_eq!(report.errors.len(), 1);
        assert_eq!(report.errors[0].stage, "sync-trigger");
        // The others are unaffected.
        assert_eq!(outcome(&report, STAGING).outcome, "pending");

        // A refresh that never returns: bounded by refresh_timeout.
        world
            .emulator
            .set_refresh_hangs("app-helm-staging", true)
            .unwrap();
        let started = std::time::Instant::now();
        let err = approvals::approve(&ctx, STAGING, None, "alice")
            .await
            .unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(15));
        // Argo CD failed, not the request: the HTTP surface answers 502.
        assert!(
            matches!(err, approvals::ApprovalError::Failed(_)),
            "{err:?}"
        );
        assert!(err.to_string().to_lowercase().contains("refresh"), "{err}");
        // The approval survived the failed sync: pending shows it, and a
        // second approve once Argo CD answers again syncs it.
        let pending = approvals::pending(&ctx).await.unwrap();
        let staging = pending.iter().find(|p| p.application == STAGING).unwrap();
        assert_eq!(staging.approved_by.as_deref(), Some("alice"));
        world
            .emulator
            .set_refresh_hangs("app-helm-staging", false)
            .unwrap();
        let retried = approvals::approve(&ctx, STAGING, None, "alice")
            .await
            .unwrap();
        assert_eq!(retried.outcome, "synced", "{retried:?}");

        // A token Argo CD refuses.
        std::fs::write(world.dir.path().join("bad-token"), "not-a-valid-token").unwrap();
        let bad = world.context_with("bad-token");
        let err = sync::sync_application(&bad, DEV, None, None)
            .await
            .unwrap_err();
        assert!(!err.contains("not-a-valid-token"), "{err}");
        assert!(
            err.contains("401") || err.to_lowercase().contains("token"),
            "{err}"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approvals_over_http_need_the_token() {
    bounded(async {
        let world = World::new().await;
        std::fs::write(world.dir.path().join("approvals-token"), "s3cret-approvals").unwrap();
        // A webhook receiver for the notifications.
        let received: std::sync::Arc<std::sync::Mutex<Vec<serde_json::Value>>> = Default::default();
        let sink = received.clone();
        let hook = axum::Router::new().route(
            "/hooks/{token}",
            axum::routing::post(move |axum::Json(body): axum::Json<serde_json::Value>| {
                let sink = sink.clone();
                async move {
                    sink.lock().unwrap().push(body);
                    "ok"
                }
            }),
        );
        let hook_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let hook_url = format!(
            "http://{}/hooks/T0KEN",
            hook_listener.local_addr().unwrap()
        );
        tokio::spawn(async move {
            axum::serve(hook_listener, hook).await.unwrap();
        });
        std::fs::write(world.dir.path().join("hook-url"), &hook_url).unwrap();
        let config = world.config("argocd-token")
            + "approvals:\n  token: file:approvals-token\nnotify:\n  - {kind: webhook, url: file:hook-url}\n";
        let settings = Settings::parse(&config, "updraft.yaml", world.dir.path()).unwrap();
        let ctx = std::sync::Arc::new(Context::new(settings).unwrap());
        let written = world.write(&ctx, "v1.0.0", "v1.1.0").await;
        let report = sync::sync_trigger(&ctx, written).await;
        assert!(report.errors.is_empty(), "{:?}", report.errors);

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = updraft_pipeline::approvals_http::router(ctx.clone());
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        let http = reqwest::Client::new();

        let anonymous = http.get(format!("{base}/approvals")).send().await.unwrap();
        assert_eq!(anonymous.status(), 401);
        let wrong = http
            .get(format!("{base}/approvals"))
            .bearer_auth("guess")
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), 401);
        let body = wrong.text().await.unwrap();
        assert!(!body.contains("s3cret"), "{body}");

        let list: serde_json::Value = http
            .get(format!("{base}/approvals"))
            .bearer_auth("s3cret-approvals")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let apps: Vec<&str> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["application"].as_str().unwrap())
            .collect();
        assert_eq!(apps, [PRODUCTION, STAGING]);

        let approved = http
            .post(format!("{base}/approvals/argocd/app-helm-staging/approve"))
            .bearer_auth("s3cret-approvals")
            .json(&serde_json::json!({"by": "dana"}))
            .send()
            .await
            .unwrap();
        assert_eq!(approved.status(), 200);
        let approved: serde_json::Value = approved.json().await.unwrap();
        assert_eq!(approved["outcome"], "synced", "{approved}");
        assert!(
            world
                .emulator
                .rollout("app-helm-staging")
                .unwrap()
                .promoted_full
        );

        let rejected = http
            .post(format!(
                "{base}/approvals/argocd/app-helm-production/reject"
            ))
            .bearer_auth("s3cret-approvals")
            .json(&serde_json::json!({"by": "dana", "reason": "freeze week"}))
            .send()
            .await
            .unwrap();
        assert_eq!(rejected.status(), 200);
        // Nothing waits any more; approving again is a conflict.
        let again = http
            .post(format!(
                "{base}/approvals/argocd/app-helm-production/approve"
            ))
            .bearer_auth("s3cret-approvals")
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 409);
        let again: serde_json::Value = again.json().await.unwrap();
        assert!(again["error"].as_str().unwrap().contains("updraft pending"));
        assert_eq!(world.emulator.sync_count("app-helm-production"), 0);

        let audit: serde_json::Value = http
            .get(format!("{base}/audit"))
            .bearer_auth("s3cret-approvals")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let entries: Vec<String> = audit
            .as_array()
            .unwrap()
            .iter()
            .map(|e| format!("{} {} {}", e["action"], e["actor"], e["application"]))
            .collect();
        assert!(
            entries.contains(&format!("\"approve\" \"dana\" \"{STAGING}\"")),
            "{entries:?}"
        );
        assert!(
            entries.contains(&format!("\"reject\" \"dana\" \"{PRODUCTION}\"")),
            "{entries:?}"
        );

        // Every transition was announced to the webhook.
        let notices: Vec<String> = received
            .lock()
            .unwrap()
            .iter()
            .map(|n| format!("{} {}", n["event"].as_str().unwrap(), n["application"].as_str().unwrap()))
            .collect();
        for expected in [
            format!("synced {DEV}"),
            format!("pending {STAGING}"),
            format!("gated {PRODUCTION}"),
            format!("synced {STAGING}"),
            format!("rejected {PRODUCTION}"),
        ] {
            assert!(notices.contains(&expected), "{expected} not in {notices:?}");
        }
        let first = received.lock().unwrap()[0].clone();
        assert_eq!(first["kind"], "Notice");
        assert!(first["commit"].as_str().unwrap().len() >= 40);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applications_are_read_from_the_argo_cd_api() {
    bounded(async {
        let world = World::new().await;
        let config = world.config("argocd-token").replace(
            "applications:\n  - dir: apps\n",
            "applications:\n  - argocd: {project: default}\n",
        );
        let settings = Settings::parse(&config, "updraft.yaml", world.dir.path()).unwrap();
        let loaded = updraft_pipeline::apps::load(&settings).await;
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        let mut names: Vec<String> = loaded.apps.iter().map(|a| a.id()).collect();
        names.sort();
        assert_eq!(names, [DEV, PRODUCTION, STAGING]);
        let dev = loaded.apps.iter().find(|a| a.id() == DEV).unwrap();
        assert!(dev.config.automated_sync);
        assert_eq!(dev.config.images.len(), 2);
        assert_eq!(dev.config.images[0].alias.as_deref(), Some("echoserver"));

        // Without argocd: the source is refused with directions.
        let without = config
            .split("argocd:\n  server")
            .next()
            .unwrap()
            .to_string();
        let err = Settings::parse(&without, "updraft.yaml", world.dir.path()).unwrap_err();
        assert!(err.to_string().contains("add argocd:"), "{err}");
    })
    .await;
}
