//! The Argo CD client against the in-tree Argo CD API emulator (Argo CD
//! needs Kubernetes, which cannot run here), with the tutorial's three
//! Applications: `app-helm-dev` (automated sync), `app-helm-staging` and
//! `app-helm-production` (manual).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use updraft_argocd::emulator::{Emulator, EmulatorConfig, Grant, RefreshKind};
use updraft_argocd::{
    ActionApi, ActionEndpoint, AppName, ArgoClient, ArgoError, ClientOptions, HealthStatusCode,
    OperationPhase, ResourceRef, Secret, SpecPatch, SyncOptions, SyncStatusCode,
};
use updraft_core::Application;

const TUTORIAL_APPS: &str = include_str!("fixtures/tutorial-apps.yaml");
const UPDATER_LABEL: &str = "argocd-image-updater.argoproj.io/enabled";

fn config() -> EmulatorConfig {
    EmulatorConfig {
        sync_duration: Duration::from_millis(100),
        refresh_delay: Duration::from_millis(20),
        ..EmulatorConfig::default()
    }
}

fn options() -> ClientOptions {
    ClientOptions {
        poll_interval: Duration::from_millis(20),
        request_timeout: Duration::from_secs(10),
        ..ClientOptions::default()
    }
}

/// The tutorial's Applications, labelled by environment; dev and staging
/// carry the Image Updater label.
fn tutorial_apps() -> Vec<Application> {
    let mut apps = Application::parse_all(TUTORIAL_APPS).unwrap();
    assert_eq!(apps.len(), 3);
    for app in &mut apps {
        let env = app.name().trim_start_matches("app-helm-").to_string();
        app.metadata.labels.insert("env".into(), env.clone());
        if env != "production" {
            app.metadata
                .labels
                .insert(UPDATER_LABEL.into(), "true".into());
        }
    }
    apps
}

async fn start_with(config: EmulatorConfig) -> (Emulator, ArgoClient) {
    let emulator = Emulator::start(config).await.unwrap();
    for app in tutorial_apps() {
        emulator.add_application(app).unwrap();
    }
    let client = ArgoClient::new(&emulator.url, Secret::new(&*emulator.token), options()).unwrap();
    (emulator, client)
}

async fn start() -> (Emulator, ArgoClient) {
    start_with(config()).await
}

/// A raw request, for what the client would never send.
async fn raw(
    emulator: &Emulator,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> (u16, Value) {
    let mut request = reqwest::Client::new().request(method, format!("{}{path}", emulator.url));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request
            .header("Content-Type", "application/json")
            .body(body.to_string());
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn assert_no_secret(error: &ArgoError, secrets: &[&str]) {
    let shown = format!("{error} {error:?}");
    for secret in secrets {
        assert!(!shown.contains(secret), "secret leaked: {shown}");
    }
}

#[tokio::test]
async fn tutorial_fixture_loads_through_the_core_parser() {
    let emulator = Emulator::start(config()).await.unwrap();
    let names = emulator.load_yaml(TUTORIAL_APPS).unwrap();
    assert_eq!(
        names,
        ["app-helm-dev", "app-helm-staging", "app-helm-production"]
    );
    let dev = emulator.application("app-helm-dev").unwrap();
    assert!(dev.is_automated());
    assert_eq!(dev.namespace(), Some("argocd"));
    assert!(
        !emulator
            .application("app-helm-staging")
            .unwrap()
            .is_automated()
    );
}

#[tokio::test]
async fn list_and_get_with_selector() {
    let (_emulator, client) = start().await;

    let all = client.list_applications(None, None, None).await.unwrap();
    let names: Vec<&str> = all.iter().map(|a| a.name()).collect();
    assert_eq!(
        names,
        ["app-helm-dev", "app-helm-production", "app-helm-staging"]
    );

    let selector = format!("{UPDATER_LABEL}=true");
    let watched = client
        .list_applications(Some("default"), Some(&selector), Some("argocd"))
        .await
        .unwrap();
    let names: Vec<&str> = watched.iter().map(|a| a.name()).collect();
    assert_eq!(names, ["app-helm-dev", "app-helm-staging"]);

    let manual = client
        .list_applications(None, Some("env in (staging,production)"), None)
        .await
        .unwrap();
    assert_eq!(manual.len(), 2);
    assert!(manual.iter().all(|a| !a.is_automated()));

    // Nothing matches: the server sends `"items": null`.
    let none = client
        .list_applications(Some("no-such-project"), None, None)
        .await
        .unwrap();
    assert!(none.is_empty());

    let bad = client
        .list_applications(None, Some("env in staging"), None)
        .await
        .unwrap_err();
    assert_eq!(bad.code(), "api-error", "{bad}");

    let dev = client.get_application("app-helm-dev").await.unwrap();
    assert_eq!(dev.name(), "app-helm-dev");
    assert!(dev.is_automated());
    assert_eq!(dev.sync_status(), SyncStatusCode::Synced);
    assert_eq!(dev.health_status(), HealthStatusCode::Healthy);
    let source = dev.spec.source.as_ref().unwrap();
    assert_eq!(
        source.helm.as_ref().unwrap().value_files,
        ["values-dev.yaml"]
    );
    assert_eq!(
        dev.spec.destination.as_ref().unwrap().server.as_deref(),
        Some("https://kubernetes.default.svc")
    );
    let qualified = client
        .get_application("argocd/app-helm-production")
        .await
        .unwrap();
    assert_eq!(
        AppName::from(&qualified),
        AppName::in_namespace("app-helm-production", "argocd")
    );
}

#[tokio::test]
async fn refresh_normal_and_hard() {
    let (emulator, client) = start().await;
    emulator
        .push_commit("app-helm-staging", "c0ffee", None)
        .unwrap();
    // Before a refresh Argo CD has not seen the commit.
    let before = client.get_application("app-helm-staging").await.unwrap();
    assert_eq!(before.sync_status(), SyncStatusCode::Synced);

    let refreshed = client
        .refresh("app-helm-staging", false, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(refreshed.sync_status(), SyncStatusCode::OutOfSync);
    assert_eq!(
        refreshed.status.sync.as_ref().unwrap().revision.as_deref(),
        Some("c0ffee")
    );
    assert!(refreshed.status.reconciled_at.is_some());
    client
        .refresh("app-helm-staging", true, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(
        emulator.refreshes("app-helm-staging"),
        [RefreshKind::Normal, RefreshKind::Hard]
    );
    let queries: Vec<String> = emulator
        .requests()
        .into_iter()
        .filter(|r| r.path == "/api/v1/applications/app-helm-staging")
        .filter_map(|r| r.query)
        .collect();
    assert_eq!(queries, ["refresh=normal", "refresh=hard"]);
    // A manual Application is not synced by a refresh.
    assert_eq!(emulator.sync_count("app-helm-staging"), 0);

    // The automated one is: Argo CD syncs it as soon as it sees the commit.
    emulator.push_commit("app-helm-dev", "beef", None).unwrap();
    let dev = client
        .refresh("app-helm-dev", false, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(dev.name(), "app-helm-dev");
    let syncs = emulator.syncs("app-helm-dev");
    assert_eq!(syncs.len(), 1);
    assert!(syncs[0].automated);
    let state = client
        .wait_for_operation("app-helm-dev", Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(state.phase, OperationPhase::Succeeded);
    let dev = client.get_application("app-helm-dev").await.unwrap();
    assert_eq!(dev.sync_status(), SyncStatusCode::Synced);
}

#[tokio::test]
async fn refresh_that_never_returns_times_out_within_the_bound() {
    let (emulator, client) = start().await;
    emulator
        .set_refresh_hangs("app-helm-production", true)
        .unwrap();
    let bound = Duration::from_millis(300);
    let started = Instant::now();
    let error = client
        .refresh("app-helm-production", true, bound)
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert!(
        matches!(error, ArgoError::Timeout { after, .. } if after == bound),
        "{error:?}"
    );
    assert!(
        took >= bound && took < bound + Duration::from_secs(3),
        "{took:?}"
    );
    let text = error.to_string();
    assert!(
        text.contains("hard refresh of application app-helm-production")
            && text.contains(&emulator.url)
            && text.contains("timed out after 300ms"),
        "{text}"
    );
    assert_no_secret(&error, &[&emulator.token]);
    // Plain reads still answer.
    client.get_application("app-helm-production").await.unwrap();
}

#[tokio::test]
async fn sync_and_wait_succeeds() {
    let (emulator, client) = start().await;
    emulator
        .push_commit("app-helm-staging", "abc123", None)
        .unwrap();
    emulator.reconcile("app-helm-staging").unwrap();
    let options = SyncOptions {
        revision: Some("abc123".into()),
        prune: true,
        dry_run: false,
        sync_options: vec![
            "CreateNamespace=true".into(),
            "ApplyOutOfSyncOnly=true".into(),
        ],
    };
    let app = client
        .sync("argocd/app-helm-staging", &options)
        .await
        .unwrap();
    assert!(app.operation.is_some());
    assert_eq!(
        app.operation_state().unwrap().phase,
        OperationPhase::Running
    );
    assert_eq!(app.health_status(), HealthStatusCode::Progressing);

    let state = client
        .wait_for_operation("argocd/app-helm-staging", Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(state.phase, OperationPhase::Succeeded);
    assert_eq!(
        state.sync_result.as_ref().unwrap()["revision"],
        json!("abc123")
    );
    let app = client.get_application("app-helm-staging").await.unwrap();
    assert_eq!(app.sync_status(), SyncStatusCode::Synced);
    assert_eq!(app.health_status(), HealthStatusCode::Healthy);

    let syncs = emulator.syncs("app-helm-staging");
    assert_eq!(syncs.len(), 1);
    assert_eq!(syncs[0].revision.as_deref(), Some("abc123"));
    assert!(syncs[0].prune && !syncs[0].dry_run && !syncs[0].automated);
    assert_eq!(
        syncs[0].sync_options,
        ["CreateNamespace=true", "ApplyOutOfSyncOnly=true"]
    );
    // The exact wire form: wrapped syncOptions, appNamespace in the body.
    let body = emulator
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/sync"))
        .and_then(|r| r.body)
        .unwrap();
    assert_eq!(
        body,
        json!({"name": "app-helm-staging", "appNamespace": "argocd", "revision": "abc123",
               "prune": true, "dryRun": false,
               "syncOptions": {"items": ["CreateNamespace=true", "ApplyOutOfSyncOnly=true"]}})
    );
}

#[tokio::test]
async fn a_second_sync_while_one_runs_is_refused() {
    // A sync that runs long enough for the second request to meet it.
    let (_emulator, client) = start_with(EmulatorConfig {
        sync_duration: Duration::from_secs(30),
        ..config()
    })
    .await;
    client
        .sync("app-helm-production", &SyncOptions::default())
        .await
        .unwrap();
    let error = client
        .sync("app-helm-production", &SyncOptions::default())
        .await
        .unwrap_err();
    assert!(
        matches!(error, ArgoError::OperationInProgress { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("app-helm-production"), "{error}");
}

#[tokio::test]
async fn failing_sync_reports_the_operation_message() {
    let (emulator, client) = start().await;
    let message =
        "one or more objects failed to apply, reason: Deployment.apps \"echo-server\" is invalid";
    emulator
        .set_sync_failure("app-helm-production", message)
        .unwrap();
    client
        .sync("app-helm-production", &SyncOptions::default())
        .await
        .unwrap();
    let error = client
        .wait_for_operation("app-helm-production", Duration::from_secs(5))
        .await
        .unwrap_err();
    match &error {
        ArgoError::SyncFailed {
            phase,
            message: m,
            app,
            ..
        } => {
            assert_eq!(*phase, OperationPhase::Failed);
            assert_eq!(m, message);
            assert_eq!(app, "app-helm-production");
        }
        other => panic!("{other:?}"),
    }
    let text = error.to_string();
    assert!(
        text.contains("ended Failed") && text.contains("is invalid"),
        "{text}"
    );
    assert_no_secret(&error, &[&emulator.token]);
}

#[tokio::test]
async fn waiting_is_bounded_and_needs_an_operation() {
    let (_emulator, client) = start_with(EmulatorConfig {
        sync_duration: Duration::from_secs(30),
        ..config()
    })
    .await;
    let error = client
        .wait_for_operation("app-helm-staging", Duration::from_secs(1))
        .await
        .unwrap_err();
    assert_eq!(error.code(), "no-operation", "{error}");
    client
        .sync("app-helm-staging", &SyncOptions::default())
        .await
        .unwrap();
    let started = Instant::now();
    let error = client
        .wait_for_operation("app-helm-staging", Duration::from_millis(200))
        .await
        .unwrap_err();
    assert!(matches!(error, ArgoError::Timeout { .. }), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn a_rejected_token_is_a_clear_error_without_the_token() {
    let (emulator, _client) = start().await;
    let wrong = "wrong-secret-token-1234";
    let client = ArgoClient::new(&emulator.url, Secret::new(wrong), options()).unwrap();
    let error = client.get_application("app-helm-dev").await.unwrap_err();
    assert!(matches!(error, ArgoError::Unauthorized { .. }), "{error:?}");
    let text = error.to_string();
    assert!(
        text.starts_with(&format!(
            "token rejected by {}; check the Argo CD token",
            emulator.url
        )),
        "{text}"
    );
    assert_no_secret(&error, &[wrong, &emulator.token]);
    let error = client
        .list_applications(None, None, None)
        .await
        .unwrap_err();
    assert_eq!(error.code(), "unauthorized");

    // No token at all: what argocd-server answers.
    let (status, body) = raw(
        &emulator,
        reqwest::Method::GET,
        "/api/v1/applications",
        None,
        None,
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(body["code"], 16);
    assert_eq!(body["message"], "no session information");
    // The emulator never records the Authorization header.
    assert!(!format!("{:?}", emulator.requests()).contains(wrong));
}

#[tokio::test]
async fn rbac_denials_name_the_action() {
    let (emulator, _admin) = start().await;
    let token = emulator.add_token(
        "ci-bot",
        vec![
            Grant::new("get", "default/*"),
            Grant::new("sync", "default/app-helm-dev"),
        ],
    );
    let client = ArgoClient::new(&emulator.url, Secret::new(&*token), options()).unwrap();
    client.get_application("app-helm-staging").await.unwrap();
    client
        .sync("app-helm-dev", &SyncOptions::default())
        .await
        .unwrap();

    let error = client
        .sync("app-helm-staging", &SyncOptions::default())
        .await
        .unwrap_err();
    match &error {
        ArgoError::PermissionDenied { action, app, .. } => {
            assert_eq!(action, "sync");
            assert_eq!(app, "app-helm-staging");
        }
        other => panic!("{other:?}"),
    }
    let text = error.to_string();
    assert!(
        text.contains("may not `sync` application app-helm-staging")
            && text.contains("applications, sync, default/app-helm-staging")
            && text.contains("argocd-rbac-cm"),
        "{text}"
    );
    assert_no_secret(&error, &[&token, &emulator.token]);

    let error = client
        .update_application_spec(
            "app-helm-staging",
            &SpecPatch::new().helm_parameter("a", "b"),
        )
        .await
        .unwrap_err();
    assert!(error.to_string().contains("may not `update`"), "{error}");
    emulator
        .add_rollout("app-helm-dev", "app-helm-dev", "echo-server")
        .unwrap();
    let error = client
        .run_resource_action(
            "app-helm-dev",
            &ResourceRef::rollout("app-helm-dev", "echo-server"),
            "promote-full",
        )
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("may not `action/argoproj.io/Rollout/promote-full`"),
        "{error}"
    );

    // A token limited to one Application sees only that one in lists.
    let narrow = emulator.add_token("viewer", vec![Grant::new("get", "default/app-helm-dev")]);
    let narrow = ArgoClient::new(&emulator.url, Secret::new(narrow), options()).unwrap();
    let apps = narrow.list_applications(None, None, None).await.unwrap();
    assert_eq!(apps.len(), 1);
    // ...and is refused (not told "not found") about others.
    let error = narrow.get_application("ghost").await.unwrap_err();
    assert_eq!(error.code(), "permission-denied", "{error}");
}

#[tokio::test]
async fn a_missing_application_is_named() {
    let (emulator, client) = start().await;
    let error = client.get_application("app-helm-qa").await.unwrap_err();
    assert!(matches!(error, ArgoError::NotFound { .. }), "{error:?}");
    let text = error.to_string();
    assert!(
        text.contains("application app-helm-qa not found on")
            && text.contains("applications.argoproj.io \"app-helm-qa\" not found"),
        "{text}"
    );
    assert_no_secret(&error, &[&emulator.token]);
    let error = client
        .sync("other-ns/app-helm-dev", &SyncOptions::default())
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("other-ns/app-helm-dev"),
        "{error}"
    );
    // With Auto, v2's 404 falls back to v1, whose 404 is reported; the
    // server is not marked as lacking v2.
    let error = client
        .run_resource_action("ghost", &ResourceRef::rollout("ns", "r"), "resume")
        .await
        .unwrap_err();
    assert_eq!(error.code(), "not-found", "{error}");
    emulator
        .add_rollout("app-helm-production", "app-production", "echo-server")
        .unwrap();
    let used = client
        .run_resource_action(
            "app-helm-production",
            &ResourceRef::rollout("app-production", "echo-server"),
            "resume",
        )
        .await
        .unwrap();
    assert_eq!(used, ActionEndpoint::V2);
}

#[tokio::test]
async fn login_with_user_name_and_password() {
    let (emulator, _client) = start().await;
    let client = ArgoClient::login(
        &emulator.url,
        "admin",
        &Secret::new("admin-password"),
        options(),
    )
    .await
    .unwrap();
    assert_eq!(
        client
            .list_applications(None, None, None)
            .await
            .unwrap()
            .len(),
        3
    );
    assert!(!format!("{client:?}").contains("emulator."));

    let error = ArgoClient::login(&emulator.url, "admin", &Secret::new("guess-42"), options())
        .await
        .unwrap_err();
    assert!(matches!(error, ArgoError::Login { .. }), "{error:?}");
    assert!(
        error.to_string().contains("Invalid username or password"),
        "{error}"
    );
    assert_no_secret(&error, &["guess-42"]);
    // The emulator recorded the login without the password.
    assert!(!format!("{:?}", emulator.requests()).contains("admin-password"));
}

#[tokio::test]
async fn canary_promotion_through_the_v2_action_endpoint() {
    let (emulator, client) = start().await;
    emulator
        .add_rollout("app-helm-staging", "app-staging", "echo-server")
        .unwrap();
    client
        .sync("app-helm-staging", &SyncOptions::default())
        .await
        .unwrap();
    client
        .wait_for_operation("app-helm-staging", Duration::from_secs(5))
        .await
        .unwrap();
    let app = client.get_application("app-helm-staging").await.unwrap();
    assert_eq!(app.health_status(), HealthStatusCode::Suspended);

    let tree = client.resource_tree("app-helm-staging").await.unwrap();
    let rollout = tree.iter().find(|n| n.kind == "Rollout").unwrap();
    assert_eq!(
        rollout.health.as_ref().unwrap().status,
        HealthStatusCode::Suspended
    );
    let reference = rollout.to_ref();
    assert_eq!(
        reference,
        ResourceRef::rollout("app-staging", "echo-server")
    );

    let used = client
        .run_resource_action("app-helm-staging", &reference, "promote-full")
        .await
        .unwrap();
    assert_eq!(used, ActionEndpoint::V2);
    let state = emulator.rollout("app-helm-staging").unwrap();
    assert!(state.promoted_full && !state.paused);
    let app = client.get_application("app-helm-staging").await.unwrap();
    assert_eq!(app.health_status(), HealthStatusCode::Healthy);
    let tree = client.resource_tree("app-helm-staging").await.unwrap();
    let info = &tree.iter().find(|n| n.kind == "Rollout").unwrap().info;
    assert!(
        info.iter()
            .any(|i| i.name == "Promoted Full" && i.value == "true"),
        "{info:?}"
    );

    let actions = emulator.actions("app-helm-staging");
    assert_eq!(actions.len(), 1);
    assert_eq!(actions[0].endpoint, ActionEndpoint::V2);
    assert_eq!(actions[0].action, "promote-full");
    let body = emulator
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/resource/actions/v2"))
        .and_then(|r| r.body)
        .unwrap();
    assert_eq!(
        body,
        json!({"name": "app-helm-staging", "namespace": "app-staging", "resourceName": "echo-server",
               "version": "v1alpha1", "group": "argoproj.io", "kind": "Rollout",
               "action": "promote-full"})
    );

    // A resource that is not part of the Application.
    let error = client
        .run_resource_action(
            "app-helm-staging",
            &ResourceRef::rollout("app-staging", "other"),
            "resume",
        )
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("not found as part of application"),
        "{error}"
    );
}

#[tokio::test]
async fn actions_fall_back_to_v1_on_servers_before_3_2() {
    let (emulator, client) = start_with(EmulatorConfig {
        action_api_v2: false,
        ..config()
    })
    .await;
    emulator
        .add_rollout("app-helm-production", "app-production", "echo-server")
        .unwrap();
    client
        .sync("app-helm-production", &SyncOptions::default())
        .await
        .unwrap();
    client
        .wait_for_operation("app-helm-production", Duration::from_secs(5))
        .await
        .unwrap();
    let rollout = ResourceRef::rollout("app-production", "echo-server");
    let used = client
        .run_resource_action("app-helm-production", &rollout, "resume")
        .await
        .unwrap();
    assert_eq!(used, ActionEndpoint::V1);
    assert!(!emulator.rollout("app-helm-production").unwrap().paused);
    // The server is remembered as v1-only: no second v2 attempt.
    let used = client
        .run_resource_action("app-helm-production", &rollout, "promote-full")
        .await
        .unwrap();
    assert_eq!(used, ActionEndpoint::V1);
    let requests = emulator.requests();
    let v2 = requests
        .iter()
        .filter(|r| r.path.ends_with("/actions/v2"))
        .count();
    assert_eq!(v2, 1);
    let v1: Vec<_> = requests
        .iter()
        .filter(|r| r.path.ends_with("/resource/actions"))
        .collect();
    assert_eq!(v1.len(), 2);
    // v1's wire form: the action as a JSON string, the resource in the query.
    assert_eq!(v1[0].body, Some(json!("resume")));
    assert_eq!(
        v1[0].query.as_deref(),
        Some(
            "namespace=app-production&resourceName=echo-server&version=v1alpha1&group=argoproj.io&kind=Rollout"
        )
    );
    let actions = emulator.actions("app-helm-production");
    assert_eq!(actions.len(), 2);
    assert!(actions.iter().all(|a| a.endpoint == ActionEndpoint::V1));
    assert!(
        emulator
            .rollout("app-helm-production")
            .unwrap()
            .promoted_full
    );

    // Forced v2 against such a server fails clearly; forced v1 works.
    let v2_only = ArgoClient::new(
        &emulator.url,
        Secret::new(&*emulator.token),
        ClientOptions {
            action_api: ActionApi::V2,
            ..options()
        },
    )
    .unwrap();
    let error = v2_only
        .run_resource_action("app-helm-production", &rollout, "resume")
        .await
        .unwrap_err();
    assert_eq!(error.code(), "not-found", "{error}");
    let v1_only = ArgoClient::new(
        &emulator.url,
        Secret::new(&*emulator.token),
        ClientOptions {
            action_api: ActionApi::V1,
            ..options()
        },
    )
    .unwrap();
    assert_eq!(
        v1_only
            .run_resource_action("app-helm-production", &rollout, "pause")
            .await
            .unwrap(),
        ActionEndpoint::V1
    );
}

#[tokio::test]
async fn update_application_spec_sets_helm_parameters_and_the_app_goes_out_of_sync() {
    let (emulator, client) = start().await;
    let registry = "demo-test-registry.cn-hangzhou.cr.aliyuncs.com/cidemo";
    let patch = SpecPatch::new()
        .helm_parameter(
            "image.echoServer.repository",
            format!("{registry}/echo-server"),
        )
        .helm_parameter("image.echoServer.tag", "v1.0.1")
        .helm_parameter(
            "image.echoWebServer.repository",
            format!("{registry}/echo-web-server"),
        )
        .helm_parameter("image.echoWebServer.tag", "v2.3.0");
    let changed = client
        .update_application_spec("app-helm-staging", &patch)
        .await
        .unwrap();
    assert!(changed);

    let spec = emulator.spec("app-helm-staging").unwrap();
    let helm = &spec["source"]["helm"];
    assert_eq!(helm["valueFiles"], json!(["values-staging.yaml"]));
    assert_eq!(
        helm["parameters"][1],
        json!({"name": "image.echoServer.tag", "value": "v1.0.1", "forceString": true})
    );
    assert_eq!(helm["parameters"].as_array().unwrap().len(), 4);
    // The rest of the spec went back unchanged.
    assert_eq!(
        spec["syncPolicy"],
        json!({"syncOptions": ["CreateNamespace=true"]})
    );
    assert_eq!(spec["destination"]["namespace"], "app-staging");

    let app = client.get_application("app-helm-staging").await.unwrap();
    assert_eq!(app.sync_status(), SyncStatusCode::OutOfSync);
    let parameters = &app
        .spec
        .source
        .as_ref()
        .unwrap()
        .helm
        .as_ref()
        .unwrap()
        .parameters;
    assert_eq!(parameters.len(), 4);

    // Nothing to change: nothing is written.
    assert!(
        !client
            .update_application_spec("app-helm-staging", &patch)
            .await
            .unwrap()
    );
    let puts = emulator
        .requests()
        .iter()
        .filter(|r| r.method == "PUT")
        .count();
    assert_eq!(puts, 1);

    // Syncing deploys the new images.
    client
        .sync("app-helm-staging", &SyncOptions::default())
        .await
        .unwrap();
    client
        .wait_for_operation("app-helm-staging", Duration::from_secs(5))
        .await
        .unwrap();
    let app = client.get_application("app-helm-staging").await.unwrap();
    assert_eq!(app.sync_status(), SyncStatusCode::Synced);
    assert_eq!(
        app.images(),
        [
            format!("{registry}/echo-server:v1.0.1"),
            format!("{registry}/echo-web-server:v2.3.0")
        ]
    );
}

#[tokio::test]
async fn spec_updates_keep_fields_updraft_does_not_model() {
    let (emulator, client) = start().await;
    emulator
        .add_application_json(&json!({
            "metadata": {"name": "guestbook", "labels": {"team": "a"}},
            "spec": {
                "project": "default",
                "destination": {"server": "https://kubernetes.default.svc", "namespace": "gb"},
                "ignoreDifferences": [{"group": "apps", "kind": "Deployment", "jsonPointers": ["/spec/replicas"]}],
                "source": {"repoURL": "https://git.example.com/gb.git", "path": "overlays/prod",
                    "kustomize": {"namePrefix": "prod-", "images": ["nginx=nginx:1.24", "redis:7.0"],
                                  "patches": [{"target": {"kind": "Deployment"}, "patch": "- op: add"}]}}
            },
            "status": {"summary": {"images": ["nginx:1.24", "redis:7.0"]}}
        }))
        .unwrap();
    let changed = client
        .update_application_spec(
            "guestbook",
            &SpecPatch::new()
                .kustomize_image("nginx=nginx:1.25")
                .kustomize_image("redis:7.2"),
        )
        .await
        .unwrap();
    assert!(changed);
    let spec = emulator.spec("guestbook").unwrap();
    assert_eq!(
        spec["source"]["kustomize"],
        json!({"namePrefix": "prod-", "images": ["nginx=nginx:1.25", "redis:7.2"],
               "patches": [{"target": {"kind": "Deployment"}, "patch": "- op: add"}]})
    );
    assert_eq!(
        spec["ignoreDifferences"][0]["jsonPointers"],
        json!(["/spec/replicas"])
    );
    let app = client.get_application("guestbook").await.unwrap();
    assert_eq!(app.sync_status(), SyncStatusCode::OutOfSync);

    // A multi-source Application needs a source index.
    emulator
        .add_application_json(&json!({
            "metadata": {"name": "multi"},
            "spec": {"destination": {"name": "in-cluster"},
                     "sources": [{"repoURL": "https://charts.example.com", "chart": "web"}]}
        }))
        .unwrap();
    let error = client
        .update_application_spec("multi", &SpecPatch::new().helm_parameter("image.tag", "1"))
        .await
        .unwrap_err();
    assert_eq!(error.code(), "spec", "{error}");
    assert!(error.to_string().contains("multi-source"), "{error}");
}

#[tokio::test]
async fn the_emulator_rejects_what_the_server_rejects() {
    let (emulator, _client) = start().await;
    let token = Some(emulator.token.as_str());
    let sync = "/api/v1/applications/app-helm-staging/sync";

    // The trap: syncOptions as a bare list instead of {"items": [...]}.
    let (status, body) = raw(
        &emulator,
        reqwest::Method::POST,
        sync,
        token,
        Some(r#"{"name":"app-helm-staging","syncOptions":["CreateNamespace=true"]}"#),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], 3);
    assert_eq!(
        body["message"],
        "json: cannot unmarshal array into Go struct field ApplicationSyncRequest.syncOptions of type application.SyncOptions"
    );
    // Wrong scalar types.
    let (status, body) = raw(
        &emulator,
        reqwest::Method::POST,
        sync,
        token,
        Some(r#"{"prune":"true"}"#),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("of type bool"),
        "{body}"
    );
    // Not JSON.
    let (status, _) = raw(&emulator, reqwest::Method::POST, sync, token, Some("{nope")).await;
    assert_eq!(status, 400);
    // The swagger's `syncStrategyApply` wrapper is not the Go wire form.
    let (status, _) = raw(
        &emulator,
        reqwest::Method::POST,
        sync,
        token,
        Some(r#"{"strategy":{"hook":{"syncStrategyApply":{"force":true}}}}"#),
    )
    .await;
    assert_eq!(status, 400);
    // v1 action: the body must be a JSON string, not an object.
    let (status, body) = raw(
        &emulator,
        reqwest::Method::POST,
        "/api/v1/applications/app-helm-staging/resource/actions?namespace=app-staging&resourceName=echo-server&version=v1alpha1&group=argoproj.io&kind=Rollout",
        token,
        Some(r#"{"action":"resume"}"#),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["message"],
        "json: cannot unmarshal object into Go value of type string"
    );
    // A spec whose helm parameter value is a number.
    let (status, body) = raw(
        &emulator,
        reqwest::Method::PUT,
        "/api/v1/applications/app-helm-staging/spec",
        token,
        Some(r#"{"source":{"repoURL":"r","helm":{"parameters":[{"name":"image.tag","value":1}]}},"destination":{"name":"in-cluster"}}"#),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("parameters.value of type string"),
        "{body}"
    );
    // A spec the server's validation refuses.
    let (status, body) = raw(
        &emulator,
        reqwest::Method::PUT,
        "/api/v1/applications/app-helm-staging/spec",
        token,
        Some(r#"{"project":"default","source":{"repoURL":"r"}}"#),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("Destination server missing"),
        "{body}"
    );
    // An unknown route.
    let (status, body) = raw(
        &emulator,
        reqwest::Method::GET,
        "/api/v1/nothing",
        token,
        None,
    )
    .await;
    assert_eq!((status, body), (404, json!("Not Found\n")));
    // None of these started a sync; the valid wire form does.
    assert_eq!(emulator.sync_count("app-helm-staging"), 0);
    let (status, body) = raw(
        &emulator,
        reqwest::Method::POST,
        sync,
        token,
        Some(r#"{"name":"app-helm-staging","syncOptions":{"items":["CreateNamespace=true"]},"strategy":{"hook":{"force":false}}}"#),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["operation"]["sync"]["syncOptions"],
        json!(["CreateNamespace=true"])
    );
    assert_eq!(emulator.sync_count("app-helm-staging"), 1);
}

#[tokio::test]
async fn unknown_fields_are_refused_by_default_or_listed_as_ignored() {
    let body = r#"{"name":"app-helm-dev","sync_options":{"items":[]}}"#;
    let sync = "/api/v1/applications/app-helm-dev/sync";
    let (strict, _) = start().await;
    let (status, reply) = raw(
        &strict,
        reqwest::Method::POST,
        sync,
        Some(&strict.token),
        Some(body),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        reply["message"]
            .as_str()
            .unwrap()
            .contains("unknown field \"sync_options\""),
        "{reply}"
    );

    // As the real server: ignored, and reported for the test to see.
    let (lenient, _) = start_with(EmulatorConfig {
        reject_unknown_fields: false,
        ..config()
    })
    .await;
    let (status, _) = raw(
        &lenient,
        reqwest::Method::POST,
        sync,
        Some(&lenient.token),
        Some(body),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        lenient.ignored_fields(),
        ["ApplicationSyncRequest.sync_options"]
    );
}

#[tokio::test]
async fn apps_in_other_namespaces() {
    let (emulator, client) = start().await;
    let mut app = tutorial_apps().remove(1);
    app.metadata.name = "team-app".into();
    app.metadata.namespace = Some("team-a".into());
    emulator.add_application(app).unwrap();
    let listed = client
        .list_applications(None, None, Some("team-a"))
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    let app = &listed[0];
    client.sync(app, &SyncOptions::default()).await.unwrap();
    client
        .wait_for_operation(app, Duration::from_secs(5))
        .await
        .unwrap();
    let changed = client
        .update_application_spec(
            "team-a/team-app",
            &SpecPatch::new().helm_parameter("image.tag", "2"),
        )
        .await
        .unwrap();
    assert!(changed);
    // Without the namespace it is looked up in the control-plane namespace.
    let error = client.get_application("team-app").await.unwrap_err();
    assert_eq!(error.code(), "not-found");
    // Sync is mapped with `body: "*"`: an appNamespace in the query is not
    // read, so it must travel in the body (as the client sends it).
    let (status, body) = raw(
        &emulator,
        reqwest::Method::POST,
        "/api/v1/applications/team-app/sync?appNamespace=team-a",
        Some(&emulator.token),
        Some(r#"{"name":"team-app"}"#),
    )
    .await;
    assert_eq!(status, 404, "{body}");
    let sync_body = emulator
        .requests()
        .into_iter()
        .find(|r| r.path == "/api/v1/applications/team-app/sync")
        .and_then(|r| r.body)
        .unwrap();
    assert_eq!(sync_body["appNamespace"], "team-a");
}
