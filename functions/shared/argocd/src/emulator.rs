//! An emulator of the Argo CD API for tests; Argo CD needs Kubernetes, which
//! cannot run here.
//!
//! [`Emulator::start`] serves, on `127.0.0.1` and a random port, exactly the
//! paths and JSON shapes [`crate::ArgoClient`] uses, as
//! `argoproj/argo-cd:assets/swagger.json` defines them:
//!
//! | Method | Path | |
//! |---|---|---|
//! | POST | `/api/v1/session` | login → `{"token"}` |
//! | GET | `/api/v1/applications` | `projects`/`project`, `selector`, `appNamespace`, `name`, `repo` |
//! | GET | `/api/v1/applications/{name}` | `refresh=normal\|hard` blocks, `appNamespace`, `project` |
//! | PUT | `/api/v1/applications/{name}/spec` | body = the full spec |
//! | POST | `/api/v1/applications/{name}/sync` | body `applicationApplicationSyncRequest` |
//! | POST | `/api/v1/applications/{name}/resource/actions` | query + JSON string body |
//! | POST | `/api/v1/applications/{name}/resource/actions/v2` | body `applicationResourceActionRunRequestV2` |
//! | GET | `/api/v1/applications/{name}/resource-tree` | nodes |
//!
//! Like argocd-server it demands `Authorization: Bearer <token>` (401, gRPC
//! code 16, otherwise), enforces per-token RBAC (`applications, <action>,
//! <project>/<app>`; 403, code 7), answers grpc-gateway error bodies
//! `{"error","code","message","details"}`, reads `appNamespace` from the
//! body (not the query) of `body: "*"` methods, and checks request bodies
//! against the swagger definitions the way Go's `encoding/json` would: a
//! wrong JSON type is 400 (code 3); unknown fields are refused too unless
//! [`EmulatorConfig::reject_unknown_fields`] is off (the real server ignores
//! them).
//!
//! Each Application has a git head (revision and images), a spec, and a live
//! state: sync status is `Synced` when the last successful sync applied the
//! current spec at the current git revision; a sync runs for
//! [`EmulatorConfig::sync_duration`] (`Running`, health `Progressing`) and
//! then ends `Succeeded` — or `Failed` with the message set by
//! [`Emulator::set_sync_failure`]. A refresh reconciles (applies a commit
//! pushed with [`Emulator::push_commit`], auto-syncs automated apps that
//! are OutOfSync) and blocks for [`EmulatorConfig::refresh_delay`], or
//! forever after [`Emulator::set_refresh_hangs`]. A spec update changes the
//! sync status at once; an automated Application is auto-synced only at the
//! next refresh (or [`Emulator::reconcile`]). An Argo Rollouts
//! `Rollout` added with [`Emulator::add_rollout`] pauses after each sync
//! (health `Suspended`) until `promote-full` or `resume`.
//!
//! Not modelled: Kubernetes itself (no manifests are rendered; images come
//! from [`Emulator::push_commit`] and the spec's Helm/Kustomize image
//! overrides), watches/streams, projects' source/destination rules, sync
//! windows, hooks, retries, selective sync, `PATCH` of Applications, the
//! other resource actions' real effects, and JWT expiry.

mod schema;
mod selector;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde::Deserialize;
use serde_json::{Value, json};
use updraft_core::Application;
use updraft_core::application::ObjectMeta;
use updraft_core::manifest::ManifestError;

use crate::model::{
    ActionEndpoint, AppName, HealthStatusCode, LiveApplication, OperationPhase, OperationState,
    ResourceActionRunRequestV2, ResourceRef, SyncRequest, SyncStatusCode,
};
use selector::Selector;

/// How an [`Emulator`] behaves.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// The admin bearer token (may do anything). Empty: one is made up.
    pub token: String,
    /// Users that may log in with `POST /api/v1/session` (name, password);
    /// their session tokens are admin tokens.
    pub users: Vec<(String, String)>,
    /// The control-plane namespace: where Applications without a namespace
    /// live, and the default `appNamespace`.
    pub namespace: String,
    /// Projects that exist besides those of the added Applications.
    pub projects: Vec<String>,
    /// How long a sync operation stays `Running`.
    pub sync_duration: Duration,
    /// How long `GET …?refresh=` blocks before answering.
    pub refresh_delay: Duration,
    /// Serve `…/resource/actions/v2` (Argo CD ≥ 3.2). Off: the route does
    /// not exist (404 `Not Found`), as on older servers.
    pub action_api_v2: bool,
    /// Refuse unknown request-body fields with 400. The real server ignores
    /// them (Go `encoding/json`); refusing makes a client typo — which the
    /// real server would silently drop — fail the test. Off: they are
    /// ignored and listed by [`Emulator::ignored_fields`].
    pub reject_unknown_fields: bool,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            token: String::new(),
            users: vec![("admin".to_string(), "admin-password".to_string())],
            namespace: "argocd".to_string(),
            projects: vec!["default".to_string()],
            sync_duration: Duration::from_millis(200),
            refresh_delay: Duration::from_millis(50),
            action_api_v2: true,
            reject_unknown_fields: true,
        }
    }
}

/// An RBAC grant of a token made with [`Emulator::add_token`]: Argo CD's
/// `p, <role>, applications, <action>, <object>, allow`. `*` matches any
/// characters in both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// `get`, `sync`, `update`, `action/argoproj.io/Rollout/promote-full`,
    /// `action/*`, `*`.
    pub action: String,
    /// `<project>/<app>` (or `<project>/<namespace>/<app>` outside the
    /// control-plane namespace), e.g. `default/*`.
    pub object: String,
}

impl Grant {
    /// A grant of `action` on `object`.
    pub fn new(action: impl Into<String>, object: impl Into<String>) -> Self {
        Self {
            action: action.into(),
            object: object.into(),
        }
    }
}

/// One sync request as the emulator received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncRecord {
    /// The revision asked for.
    pub revision: Option<String>,
    /// `prune`.
    pub prune: bool,
    /// `dryRun`.
    pub dry_run: bool,
    /// `syncOptions.items`.
    pub sync_options: Vec<String>,
    /// Started by the emulated controller (automated sync policy).
    pub automated: bool,
    /// Who asked (token subject, or `automated`).
    pub initiated_by: String,
}

/// One resource action as the emulator ran it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionRecord {
    /// The endpoint that received it.
    pub endpoint: ActionEndpoint,
    /// The resource.
    pub resource: ResourceRef,
    /// The action name.
    pub action: String,
}

/// A refresh request's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshKind {
    /// `refresh=normal`.
    Normal,
    /// `refresh=hard`.
    Hard,
}

/// The emulated Argo Rollouts `Rollout` of an Application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rollout {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Paused at a canary step (after each successful sync).
    pub paused: bool,
    /// `status.promoteFull` was set by `promote-full`.
    pub promoted_full: bool,
    /// Aborted by `abort`.
    pub aborted: bool,
}

impl Rollout {
    /// Its reference for resource actions.
    pub fn to_ref(&self) -> ResourceRef {
        ResourceRef::rollout(&self.namespace, &self.name)
    }
}

/// One request as the emulator saw it (never the `Authorization` header).
#[derive(Debug, Clone, PartialEq)]
pub struct SeenRequest {
    /// HTTP method.
    pub method: String,
    /// Path.
    pub path: String,
    /// Raw query string.
    pub query: Option<String>,
    /// The body, when it was JSON.
    pub body: Option<Value>,
}

/// Misuse of the emulator's test accessors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmulatorError {
    /// No Application of that name.
    #[error("the emulator has no application {0}")]
    UnknownApp(String),
    /// An Application that cannot be added.
    #[error("cannot add the application: {0}")]
    BadApplication(String),
    /// YAML that does not parse.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
}

/// A running emulator; it stops when dropped.
pub struct Emulator {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    /// The admin bearer token.
    pub token: String,
    /// The socket it listens on.
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct Shared {
    config: EmulatorConfig,
    state: Mutex<EmuState>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, EmuState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[derive(Default)]
struct EmuState {
    apps: BTreeMap<(String, String), AppRecord>,
    tokens: HashMap<String, TokenInfo>,
    requests: Vec<SeenRequest>,
    ignored_fields: Vec<String>,
    resource_version: u64,
    serial: u64,
}

#[derive(Clone)]
struct TokenInfo {
    subject: String,
    /// `None`: admin.
    grants: Option<Vec<Grant>>,
}

impl TokenInfo {
    fn may(&self, action: &str, object: &str) -> bool {
        match &self.grants {
            None => true,
            Some(grants) => grants
                .iter()
                .any(|g| wildcard(&g.action, action) && wildcard(&g.object, object)),
        }
    }

    /// Whether the token may do `action` to some Application at all (for
    /// telling 404 from 403 about an Application that does not exist).
    fn may_any(&self, action: &str) -> bool {
        match &self.grants {
            None => true,
            Some(grants) => grants
                .iter()
                .any(|g| wildcard(&g.action, action) && (g.object == "*" || g.object == "*/*")),
        }
    }
}

struct RunningOperation {
    started: Instant,
    started_at: String,
    operation: Value,
    revision: Option<String>,
    dry_run: bool,
}

struct AppRecord {
    metadata: ObjectMeta,
    uid: String,
    created: String,
    spec: Value,
    resource_version: u64,
    generation: u64,
    git_revision: String,
    pending_commit: Option<(String, Option<Vec<String>>)>,
    base_images: Vec<String>,
    synced_spec: Value,
    synced_revision: String,
    live_images: Vec<String>,
    health_override: Option<HealthStatusCode>,
    operation: Option<RunningOperation>,
    operation_state: Option<OperationState>,
    last_auto_sync: Option<(Value, String)>,
    sync_failure: Option<String>,
    refresh_hangs: bool,
    reconciled_at: String,
    refreshes: Vec<RefreshKind>,
    syncs: Vec<SyncRecord>,
    actions: Vec<ActionRecord>,
    rollout: Option<Rollout>,
}

impl AppRecord {
    fn project(&self) -> String {
        self.spec
            .get("project")
            .and_then(Value::as_str)
            .filter(|p| !p.is_empty())
            .unwrap_or("default")
            .to_string()
    }

    fn rbac_object(&self, control_plane: &str) -> String {
        match self.metadata.namespace.as_deref() {
            Some(ns) if ns != control_plane => {
                format!("{}/{ns}/{}", self.project(), self.metadata.name)
            }
            _ => format!("{}/{}", self.project(), self.metadata.name),
        }
    }

    fn is_automated(&self) -> bool {
        match self.spec.pointer("/syncPolicy/automated") {
            Some(Value::Object(automated)) => automated.get("enabled") != Some(&Value::Bool(false)),
            _ => false,
        }
    }

    fn sync_status(&self) -> SyncStatusCode {
        if self.spec == self.synced_spec && self.git_revision == self.synced_revision {
            SyncStatusCode::Synced
        } else {
            SyncStatusCode::OutOfSync
        }
    }

    fn health(&self) -> HealthStatusCode {
        if let Some(health) = self.health_override {
            return health;
        }
        if self.operation.is_some() {
            return HealthStatusCode::Progressing;
        }
        match &self.rollout {
            Some(r) if r.aborted => HealthStatusCode::Degraded,
            Some(r) if r.paused => HealthStatusCode::Suspended,
            _ => HealthStatusCode::Healthy,
        }
    }

    /// The images the current spec and git head would deploy: git's images
    /// with the spec's Helm (`<x>.repository|name` + `<x>.tag`) and
    /// Kustomize (`[old=]new:tag`) overrides.
    fn desired_images(&self) -> Vec<String> {
        let mut images = self.base_images.clone();
        let mut overrides = Vec::new();
        let sources = self.spec.get("source").into_iter().chain(
            self.spec
                .get("sources")
                .and_then(Value::as_array)
                .into_iter()
                .flatten(),
        );
        for source in sources {
            let params: BTreeMap<&str, &str> = source
                .pointer("/helm/parameters")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|p| Some((p.get("name")?.as_str()?, p.get("value")?.as_str()?)))
                .collect();
            for (name, tag) in &params {
                if let Some(prefix) = name.strip_suffix(".tag") {
                    let repo = params
                        .get(format!("{prefix}.repository").as_str())
                        .or_else(|| params.get(format!("{prefix}.name").as_str()));
                    if let Some(repo) = repo {
                        overrides.push(format!("{repo}:{tag}"));
                    }
                }
            }
            for image in source
                .pointer("/kustomize/images")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                let new = image.split_once('=').map_or(image, |(_, new)| new);
                overrides.push(new.to_string());
            }
        }
        for image in overrides {
            let key = crate::spec::kustomize_image_key(&image).to_string();
            match images
                .iter_mut()
                .find(|i| crate::spec::kustomize_image_key(i) == key)
            {
                Some(existing) => *existing = image,
                None => images.push(image),
            }
        }
        images
    }

    fn source_type(&self) -> &'static str {
        let source = self.spec.get("source").or_else(|| {
            self.spec
                .get("sources")
                .and_then(Value::as_array)
                .and_then(|s| s.first())
        });
        match source {
            Some(s) if s.get("helm").is_some() || s.get("chart").is_some() => "Helm",
            Some(s) if s.get("kustomize").is_some() => "Kustomize",
            Some(s) if s.get("plugin").is_some() => "Plugin",
            _ => "Directory",
        }
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// `*` matches any run of characters.
fn wildcard(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, tail)) => {
            let Some(rest) = text.strip_prefix(head) else {
                return false;
            };
            (0..=rest.len())
                .filter(|i| rest.is_char_boundary(*i))
                .any(|i| wildcard(tail, &rest[i..]))
        }
    }
}

impl EmuState {
    fn next_version(&mut self) -> u64 {
        self.resource_version += 1;
        self.resource_version
    }

    fn next_serial(&mut self) -> u64 {
        self.serial += 1;
        self.serial
    }

    /// Finds an Application: `ns/name`, or a bare name in any namespace.
    fn key_of(&self, name: &str) -> Option<(String, String)> {
        let app = AppName::parse(name);
        match app.namespace {
            Some(ns) => {
                let key = (ns, app.name);
                self.apps.contains_key(&key).then_some(key)
            }
            None => self.apps.keys().find(|(_, n)| *n == app.name).cloned(),
        }
    }

    fn app_mut(&mut self, name: &str) -> Result<&mut AppRecord, EmulatorError> {
        let key = self
            .key_of(name)
            .ok_or_else(|| EmulatorError::UnknownApp(name.to_string()))?;
        self.apps
            .get_mut(&key)
            .ok_or_else(|| EmulatorError::UnknownApp(name.to_string()))
    }

    /// Moves every finished operation to its end state.
    fn advance(&mut self, sync_duration: Duration) {
        let keys: Vec<_> = self
            .apps
            .iter()
            .filter(|(_, a)| {
                a.operation
                    .as_ref()
                    .is_some_and(|op| op.started.elapsed() >= sync_duration)
            })
            .map(|(k, _)| k.clone())
            .collect();
        for key in keys {
            let version = self.next_version();
            let Some(app) = self.apps.get_mut(&key) else {
                continue;
            };
            let Some(op) = app.operation.take() else {
                continue;
            };
            let revision = op
                .revision
                .clone()
                .unwrap_or_else(|| app.git_revision.clone());
            let (phase, message) = match &app.sync_failure {
                Some(failure) => (OperationPhase::Failed, failure.clone()),
                None => {
                    if !op.dry_run {
                        app.synced_spec = app.spec.clone();
                        app.synced_revision = revision.clone();
                        app.live_images = app.desired_images();
                        if let Some(rollout) = &mut app.rollout {
                            rollout.paused = true;
                            rollout.promoted_full = false;
                            rollout.aborted = false;
                        }
                    }
                    (
                        OperationPhase::Succeeded,
                        "successfully synced (all tasks run)".to_string(),
                    )
                }
            };
            app.operation_state = Some(OperationState {
                phase,
                message: Some(message),
                started_at: Some(op.started_at),
                finished_at: Some(now()),
                operation: Some(op.operation),
                sync_result: Some(json!({"revision": revision})),
            });
            app.resource_version = version;
        }
    }

    fn start_operation(
        &mut self,
        key: &(String, String),
        record: SyncRecord,
        initiated: Value,
    ) -> Result<(), ApiError> {
        let version = self.next_version();
        let app = self
            .apps
            .get_mut(key)
            .ok_or_else(|| ApiError::not_found(&key.1))?;
        if app.operation.is_some() {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                9,
                "another operation is already in progress",
            ));
        }
        let mut sync = json!({"prune": record.prune, "dryRun": record.dry_run});
        if let Some(revision) = &record.revision {
            sync["revision"] = json!(revision);
        }
        if !record.sync_options.is_empty() {
            sync["syncOptions"] = json!(record.sync_options);
        }
        let operation = json!({"sync": sync, "initiatedBy": initiated});
        let started_at = now();
        app.operation_state = Some(OperationState {
            phase: OperationPhase::Running,
            message: Some("waiting for sync to complete".to_string()),
            started_at: Some(started_at.clone()),
            finished_at: None,
            operation: Some(operation.clone()),
            sync_result: None,
        });
        app.operation = Some(RunningOperation {
            started: Instant::now(),
            started_at,
            operation,
            revision: record.revision.clone(),
            dry_run: record.dry_run,
        });
        app.syncs.push(record);
        app.resource_version = version;
        Ok(())
    }

    /// What the controller does on a refresh: read git, compare, auto-sync.
    fn reconcile(&mut self, key: &(String, String)) {
        let auto = {
            let Some(app) = self.apps.get_mut(key) else {
                return;
            };
            if let Some((revision, images)) = app.pending_commit.take() {
                app.git_revision = revision;
                if let Some(images) = images {
                    app.base_images = images;
                }
            }
            app.reconciled_at = now();
            let target = (app.spec.clone(), app.git_revision.clone());
            let auto = app.is_automated()
                && app.operation.is_none()
                && app.sync_status() == SyncStatusCode::OutOfSync
                && app.last_auto_sync.as_ref() != Some(&target);
            if auto {
                app.last_auto_sync = Some(target);
            }
            auto
        };
        if auto {
            let record = SyncRecord {
                revision: None,
                prune: false,
                dry_run: false,
                sync_options: Vec::new(),
                automated: true,
                initiated_by: "automated".to_string(),
            };
            let _ = self.start_operation(key, record, json!({"automated": true}));
        }
    }

    fn app_json(&self, app: &AppRecord) -> Value {
        let mut metadata = json!({
            "name": app.metadata.name,
            "namespace": app.metadata.namespace,
            "uid": app.uid,
            "resourceVersion": app.resource_version.to_string(),
            "generation": app.generation,
            "creationTimestamp": app.created,
        });
        if !app.metadata.labels.is_empty() {
            metadata["labels"] = json!(app.metadata.labels);
        }
        if !app.metadata.annotations.is_empty() {
            metadata["annotations"] = json!(app.metadata.annotations);
        }
        let sync_status = app.sync_status();
        let health = app.health();
        let mut summary = json!({});
        if !app.live_images.is_empty() {
            summary["images"] = json!(app.live_images);
        }
        let mut resources = Vec::new();
        if let Some(rollout) = &app.rollout {
            resources.push(json!({
                "group": "argoproj.io", "version": "v1alpha1", "kind": "Rollout",
                "namespace": rollout.namespace, "name": rollout.name,
                "status": sync_status, "health": {"status": health},
            }));
        }
        let mut status = json!({
            "sync": {
                "status": sync_status,
                "revision": app.git_revision,
                "comparedTo": {
                    "source": app.spec.get("source"),
                    "destination": app.spec.get("destination"),
                },
            },
            "health": {"status": health},
            "summary": summary,
            "sourceType": app.source_type(),
            "reconciledAt": app.reconciled_at,
            "resources": resources,
        });
        if let Some(state) = &app.operation_state {
            status["operationState"] = json!(state);
        }
        let mut value = json!({"metadata": metadata, "spec": app.spec, "status": status});
        if let Some(op) = &app.operation {
            value["operation"] = op.operation.clone();
        }
        value
    }

    fn tree_json(&self, app: &AppRecord) -> Value {
        let health = app.health();
        let mut nodes = Vec::new();
        let namespace = app
            .spec
            .pointer("/destination/namespace")
            .and_then(Value::as_str)
            .unwrap_or("default")
            .to_string();
        match &app.rollout {
            Some(rollout) => {
                let status = if rollout.promoted_full {
                    "PromotedFull"
                } else if rollout.aborted {
                    "Aborted"
                } else if rollout.paused {
                    "Paused"
                } else {
                    "Healthy"
                };
                nodes.push(json!({
                    "group": "argoproj.io", "version": "v1alpha1", "kind": "Rollout",
                    "namespace": rollout.namespace, "name": rollout.name,
                    "uid": format!("{}-rollout", app.uid),
                    "health": {"status": health},
                    "images": app.live_images,
                    "info": [{"name": "Status", "value": status},
                             {"name": "Promoted Full", "value": rollout.promoted_full.to_string()}],
                }));
            }
            None => nodes.push(json!({
                "group": "apps", "version": "v1", "kind": "Deployment",
                "namespace": namespace, "name": app.metadata.name,
                "uid": format!("{}-deployment", app.uid),
                "health": {"status": health},
                "images": app.live_images,
            })),
        }
        json!({"nodes": nodes})
    }
}

/// A grpc-gateway error answer.
#[derive(Debug)]
struct ApiError {
    status: StatusCode,
    code: i32,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, code: i32, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, 3, message)
    }

    fn not_found(name: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            5,
            format!("applications.argoproj.io \"{name}\" not found"),
        )
    }

    fn denied(token: &TokenInfo, action: &str, object: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            7,
            format!(
                "permission denied: applications, {action}, {object}, sub: {}",
                token.subject
            ),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": self.message, "code": self.code, "message": self.message, "details": []});
        (self.status, axum::Json(body)).into_response()
    }
}

/// An unmatched route, as grpc-gateway answers it.
fn route_not_found() -> Response {
    (StatusCode::NOT_FOUND, "Not Found\n").into_response()
}

type Reply = Result<Response, ApiError>;

fn json_reply(value: Value) -> Reply {
    Ok((StatusCode::OK, axum::Json(value)).into_response())
}

fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

fn query_one(pairs: &[(String, String)], key: &str) -> Option<String> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
        .filter(|v| !v.is_empty())
}

impl Emulator {
    /// Starts an emulator on `127.0.0.1` and a random port.
    pub async fn start(mut config: EmulatorConfig) -> std::io::Result<Self> {
        if config.token.is_empty() {
            config.token = made_up_token("admin");
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let url = format!("http://{addr}");
        let token = config.token.clone();
        let mut state = EmuState::default();
        state.tokens.insert(
            token.clone(),
            TokenInfo {
                subject: "admin".to_string(),
                grants: None,
            },
        );
        let shared = Arc::new(Shared {
            config,
            state: Mutex::new(state),
        });
        let router = Router::new()
            .route("/api/v1/session", post(session))
            .route("/api/v1/applications", get(list_apps))
            .route("/api/v1/applications/{name}", get(get_app))
            .route("/api/v1/applications/{name}/spec", put(update_spec))
            .route("/api/v1/applications/{name}/sync", post(sync_app))
            .route(
                "/api/v1/applications/{name}/resource/actions",
                post(action_v1),
            )
            .route(
                "/api/v1/applications/{name}/resource/actions/v2",
                post(action_v2),
            )
            .route(
                "/api/v1/applications/{name}/resource-tree",
                get(resource_tree),
            )
            .fallback(|| async { route_not_found() })
            .with_state(shared.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Ok(Self {
            url,
            token,
            addr,
            shared,
            task,
        })
    }

    /// Adds (or replaces) an Application. Without a namespace it goes to the
    /// control-plane namespace. Its live state starts Synced and Healthy,
    /// with `status.summary.images` (if any) as the images in git and live.
    pub fn add_application(&self, app: Application) -> Result<(), EmulatorError> {
        let spec = serde_json::to_value(&app.spec)
            .map_err(|e| EmulatorError::BadApplication(e.to_string()))?;
        let images = app
            .status
            .as_ref()
            .and_then(|s| s.summary.as_ref())
            .map(|s| s.images.clone())
            .unwrap_or_default();
        self.insert(app.metadata, spec, images)
    }

    /// Adds an Application from its JSON (`metadata`, `spec`, optionally
    /// `status.summary.images`), keeping every spec field verbatim.
    pub fn add_application_json(&self, value: &Value) -> Result<(), EmulatorError> {
        let metadata: ObjectMeta = value
            .get("metadata")
            .cloned()
            .map(serde_json::from_value)
            .transpose()
            .map_err(|e| EmulatorError::BadApplication(e.to_string()))?
            .ok_or_else(|| EmulatorError::BadApplication("no metadata".to_string()))?;
        let spec = value.get("spec").cloned().unwrap_or_else(|| json!({}));
        schema::validate("v1alpha1ApplicationSpec", &spec, false)
            .map_err(EmulatorError::BadApplication)?;
        let images = value
            .pointer("/status/summary/images")
            .and_then(Value::as_array)
            .map(|i| {
                i.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        self.insert(metadata, spec, images)
    }

    /// Adds every `Application` of a YAML stream (read with
    /// [`Application::parse_all`]); returns their names.
    pub fn load_yaml(&self, yaml: &str) -> Result<Vec<String>, EmulatorError> {
        let apps = Application::parse_all(yaml)?;
        let names = apps.iter().map(|a| a.name().to_string()).collect();
        for app in apps {
            self.add_application(app)?;
        }
        Ok(names)
    }

    fn insert(
        &self,
        mut metadata: ObjectMeta,
        spec: Value,
        images: Vec<String>,
    ) -> Result<(), EmulatorError> {
        if metadata.name.is_empty() {
            return Err(EmulatorError::BadApplication(
                "no metadata.name".to_string(),
            ));
        }
        let namespace = metadata
            .namespace
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| self.shared.config.namespace.clone());
        metadata.namespace = Some(namespace.clone());
        let mut state = self.shared.lock();
        let serial = state.next_serial();
        let version = state.next_version();
        let revision = fake_revision(serial);
        let key = (namespace, metadata.name.clone());
        let record = AppRecord {
            uid: format!("00000000-0000-4000-8000-{serial:012x}"),
            created: now(),
            synced_spec: spec.clone(),
            spec,
            resource_version: version,
            generation: 1,
            git_revision: revision.clone(),
            pending_commit: None,
            base_images: images.clone(),
            synced_revision: revision,
            live_images: images,
            health_override: None,
            operation: None,
            operation_state: None,
            last_auto_sync: None,
            sync_failure: None,
            refresh_hangs: false,
            reconciled_at: now(),
            refreshes: Vec::new(),
            syncs: Vec::new(),
            actions: Vec::new(),
            rollout: None,
            metadata,
        };
        state.apps.insert(key, record);
        Ok(())
    }

    fn with_app<T>(&self, name: &str, f: impl FnOnce(&AppRecord) -> T) -> Option<T> {
        let mut state = self.shared.lock();
        state.advance(self.shared.config.sync_duration);
        let key = state.key_of(name)?;
        state.apps.get(&key).map(f)
    }

    fn update_app(&self, name: &str, f: impl FnOnce(&mut AppRecord)) -> Result<(), EmulatorError> {
        let mut state = self.shared.lock();
        state.advance(self.shared.config.sync_duration);
        let version = state.next_version();
        let app = state.app_mut(name)?;
        f(app);
        app.resource_version = version;
        Ok(())
    }

    /// The Application as `GET` would return it (`name` or `ns/name`).
    pub fn application_json(&self, name: &str) -> Option<Value> {
        let mut state = self.shared.lock();
        state.advance(self.shared.config.sync_duration);
        let key = state.key_of(name)?;
        state.apps.get(&key).map(|app| state.app_json(app))
    }

    /// The Application in the core model.
    pub fn application(&self, name: &str) -> Option<Application> {
        let value = self.application_json(name)?;
        Application::deserialize(&value).ok()
    }

    /// The Application with its live status.
    pub fn live(&self, name: &str) -> Option<LiveApplication> {
        let value = self.application_json(name)?;
        LiveApplication::from_json(&value).ok()
    }

    /// The spec, verbatim.
    pub fn spec(&self, name: &str) -> Option<Value> {
        self.with_app(name, |a| a.spec.clone())
    }

    /// How many syncs were started (by clients and by automated sync).
    pub fn sync_count(&self, name: &str) -> usize {
        self.with_app(name, |a| a.syncs.len()).unwrap_or(0)
    }

    /// The syncs started, oldest first.
    pub fn syncs(&self, name: &str) -> Vec<SyncRecord> {
        self.with_app(name, |a| a.syncs.clone()).unwrap_or_default()
    }

    /// The resource actions run, oldest first.
    pub fn actions(&self, name: &str) -> Vec<ActionRecord> {
        self.with_app(name, |a| a.actions.clone())
            .unwrap_or_default()
    }

    /// The refreshes requested, oldest first.
    pub fn refreshes(&self, name: &str) -> Vec<RefreshKind> {
        self.with_app(name, |a| a.refreshes.clone())
            .unwrap_or_default()
    }

    /// Makes every later sync of the Application end `Failed` with
    /// `message` (as a failed `kubectl apply` would).
    pub fn set_sync_failure(
        &self,
        name: &str,
        message: impl Into<String>,
    ) -> Result<(), EmulatorError> {
        let message = message.into();
        self.update_app(name, |a| a.sync_failure = Some(message))
    }

    /// Lets later syncs succeed again.
    pub fn clear_sync_failure(&self, name: &str) -> Result<(), EmulatorError> {
        self.update_app(name, |a| a.sync_failure = None)
    }

    /// Makes `GET …?refresh=` of the Application never answer (a stuck
    /// controller), or answer again.
    pub fn set_refresh_hangs(&self, name: &str, hangs: bool) -> Result<(), EmulatorError> {
        self.update_app(name, |a| a.refresh_hangs = hangs)
    }

    /// A new commit in the Application's git source: visible after the next
    /// refresh (or [`Emulator::reconcile`]), which makes the Application
    /// OutOfSync. `images` (if given) are the images it deploys before the
    /// spec's overrides.
    pub fn push_commit(
        &self,
        name: &str,
        revision: impl Into<String>,
        images: Option<Vec<String>>,
    ) -> Result<(), EmulatorError> {
        let revision = revision.into();
        self.update_app(name, |a| a.pending_commit = Some((revision, images)))
    }

    /// Runs the controller's reconciliation now (as a refresh would).
    pub fn reconcile(&self, name: &str) -> Result<(), EmulatorError> {
        let mut state = self.shared.lock();
        state.advance(self.shared.config.sync_duration);
        let key = state
            .key_of(name)
            .ok_or_else(|| EmulatorError::UnknownApp(name.to_string()))?;
        state.reconcile(&key);
        Ok(())
    }

    /// Gives the Application an Argo Rollouts `Rollout` (not paused until
    /// the next sync).
    pub fn add_rollout(
        &self,
        app: &str,
        namespace: impl Into<String>,
        name: impl Into<String>,
    ) -> Result<(), EmulatorError> {
        let rollout = Rollout {
            namespace: namespace.into(),
            name: name.into(),
            paused: false,
            promoted_full: false,
            aborted: false,
        };
        self.update_app(app, |a| a.rollout = Some(rollout))
    }

    /// The Application's Rollout.
    pub fn rollout(&self, app: &str) -> Option<Rollout> {
        self.with_app(app, |a| a.rollout.clone()).flatten()
    }

    /// Forces the health status (`None`: computed again).
    pub fn set_health(
        &self,
        name: &str,
        health: Option<HealthStatusCode>,
    ) -> Result<(), EmulatorError> {
        self.update_app(name, |a| a.health_override = health)
    }

    /// A new token for `subject` that may do only what `grants` allow.
    pub fn add_token(&self, subject: &str, grants: Vec<Grant>) -> String {
        let token = made_up_token(subject);
        self.shared.lock().tokens.insert(
            token.clone(),
            TokenInfo {
                subject: subject.to_string(),
                grants: Some(grants),
            },
        );
        token
    }

    /// Every request seen so far.
    pub fn requests(&self) -> Vec<SeenRequest> {
        self.shared.lock().requests.clone()
    }

    /// Request-body fields the real server would have silently ignored
    /// (only collected when `reject_unknown_fields` is off).
    pub fn ignored_fields(&self) -> Vec<String> {
        self.shared.lock().ignored_fields.clone()
    }
}

fn made_up_token(subject: &str) -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write(subject.as_bytes());
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    format!("emulator.{subject}.{:016x}", hasher.finish())
}

fn fake_revision(serial: u64) -> String {
    format!("{serial:040x}")
}

// ---------------------------------------------------------------- handlers

fn record(shared: &Shared, method: &Method, path: &str, query: Option<&str>, body: &[u8]) {
    let body = serde_json::from_slice(body).ok();
    shared.lock().requests.push(SeenRequest {
        method: method.to_string(),
        path: path.to_string(),
        query: query.map(str::to_string),
        body,
    });
}

fn authenticate(shared: &Shared, headers: &HeaderMap) -> Result<TokenInfo, ApiError> {
    let Some(value) = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            16,
            "no session information",
        ));
    };
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .unwrap_or("")
        .trim();
    shared.lock().tokens.get(token).cloned().ok_or_else(|| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            16,
            "invalid session: token signature is invalid",
        )
    })
}

/// Parses a JSON body as grpc-gateway does: empty is the zero message.
fn parse_body(bytes: &[u8]) -> Result<Value, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    let mut stream = serde_json::Deserializer::from_slice(bytes).into_iter::<Value>();
    match stream.next() {
        Some(Ok(value)) => Ok(value),
        Some(Err(e)) => Err(ApiError::invalid(format!(
            "invalid character in JSON body: {e}"
        ))),
        None => Ok(json!({})),
    }
}

fn check_body(shared: &Shared, definition: &str, body: &Value) -> Result<(), ApiError> {
    let strict = shared.config.reject_unknown_fields;
    let ignored = schema::validate(definition, body, strict).map_err(ApiError::invalid)?;
    if !ignored.is_empty() {
        shared.lock().ignored_fields.extend(ignored);
    }
    Ok(())
}

/// Finds the Application for a request, with RBAC as argocd-server applies
/// it: a token that may not see an Application that does not exist gets 403,
/// not 404.
fn find(
    state: &EmuState,
    shared: &Shared,
    token: &TokenInfo,
    name: &str,
    namespace: Option<&str>,
    action: &str,
) -> Result<(String, String), ApiError> {
    let namespace = namespace.unwrap_or(&shared.config.namespace).to_string();
    let key = (namespace, name.to_string());
    match state.apps.get(&key) {
        Some(app) => {
            let object = app.rbac_object(&shared.config.namespace);
            if token.may(action, &object) {
                Ok(key)
            } else {
                Err(ApiError::denied(token, action, &object))
            }
        }
        None if token.may_any(action) => Err(ApiError::not_found(name)),
        None => Err(ApiError::denied(token, action, &format!("*/{name}"))),
    }
}

async fn session(State(shared): State<Arc<Shared>>, body: Bytes) -> Reply {
    record(&shared, &Method::POST, "/api/v1/session", None, b"{}");
    let value = parse_body(&body)?;
    check_body(&shared, "sessionSessionCreateRequest", &value)?;
    let username = value.get("username").and_then(Value::as_str).unwrap_or("");
    let password = value.get("password").and_then(Value::as_str).unwrap_or("");
    let known = shared
        .config
        .users
        .iter()
        .any(|(u, p)| u == username && p == password && !username.is_empty());
    if !known {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            16,
            "Invalid username or password",
        ));
    }
    let token = made_up_token(username);
    shared.lock().tokens.insert(
        token.clone(),
        TokenInfo {
            subject: username.to_string(),
            grants: None,
        },
    );
    json_reply(json!({"token": token}))
}

async fn list_apps(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Reply {
    record(
        &shared,
        &Method::GET,
        "/api/v1/applications",
        query.as_deref(),
        b"",
    );
    let token = authenticate(&shared, &headers)?;
    let pairs = query_pairs(query.as_deref());
    let selector = Selector::parse(&query_one(&pairs, "selector").unwrap_or_default())
        .map_err(ApiError::invalid)?;
    let projects: Vec<&String> = pairs
        .iter()
        .filter(|(k, v)| (k == "projects" || k == "project") && !v.is_empty())
        .map(|(_, v)| v)
        .collect();
    let namespace = query_one(&pairs, "appNamespace");
    let name = query_one(&pairs, "name");
    let repo = query_one(&pairs, "repo");
    let mut state = shared.lock();
    state.advance(shared.config.sync_duration);
    let items: Vec<Value> = state
        .apps
        .values()
        .filter(|a| token.may("get", &a.rbac_object(&shared.config.namespace)))
        .filter(|a| selector.matches(&a.metadata.labels))
        .filter(|a| projects.is_empty() || projects.contains(&&a.project()))
        .filter(|a| namespace.is_none() || a.metadata.namespace == namespace)
        .filter(|a| name.as_ref().is_none_or(|n| *n == a.metadata.name))
        .filter(|a| {
            repo.as_ref().is_none_or(|r| {
                a.spec.pointer("/source/repoURL").and_then(Value::as_str) == Some(r)
            })
        })
        .map(|a| state.app_json(a))
        .collect();
    // A Go nil slice marshals as null.
    let items = if items.is_empty() {
        Value::Null
    } else {
        Value::Array(items)
    };
    json_reply(json!({
        "metadata": {"resourceVersion": state.resource_version.to_string()},
        "items": items,
    }))
}

async fn get_app(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Reply {
    let path = format!("/api/v1/applications/{name}");
    record(&shared, &Method::GET, &path, query.as_deref(), b"");
    let token = authenticate(&shared, &headers)?;
    let pairs = query_pairs(query.as_deref());
    let refresh = match query_one(&pairs, "refresh").as_deref() {
        None => None,
        Some("normal") => Some(RefreshKind::Normal),
        Some("hard") => Some(RefreshKind::Hard),
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "unknown refresh type {other:?}: use normal or hard"
            )));
        }
    };
    let namespace = query_one(&pairs, "appNamespace");
    let project = query_one(&pairs, "project");
    let (key, hangs) = {
        let mut state = shared.lock();
        state.advance(shared.config.sync_duration);
        let key = find(&state, &shared, &token, &name, namespace.as_deref(), "get")?;
        let Some(app) = state.apps.get_mut(&key) else {
            return Err(ApiError::not_found(&name));
        };
        if project.as_ref().is_some_and(|p| *p != app.project()) {
            return Err(ApiError::not_found(&name));
        }
        let hangs = app.refresh_hangs;
        if let Some(kind) = refresh {
            app.refreshes.push(kind);
            if !hangs {
                state.reconcile(&key);
            }
        }
        (key, hangs)
    };
    if refresh.is_some() {
        if hangs {
            // A controller that never reconciles: the request never ends.
            std::future::pending::<()>().await;
        }
        tokio::time::sleep(shared.config.refresh_delay).await;
    }
    let mut state = shared.lock();
    state.advance(shared.config.sync_duration);
    let app = state
        .apps
        .get(&key)
        .ok_or_else(|| ApiError::not_found(&name))?;
    json_reply(state.app_json(app))
}

async fn update_spec(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let path = format!("/api/v1/applications/{name}/spec");
    record(&shared, &Method::PUT, &path, query.as_deref(), &body);
    let token = authenticate(&shared, &headers)?;
    let spec = parse_body(&body)?;
    check_body(&shared, "v1alpha1ApplicationSpec", &spec)?;
    let pairs = query_pairs(query.as_deref());
    let namespace = query_one(&pairs, "appNamespace");
    let mut state = shared.lock();
    state.advance(shared.config.sync_duration);
    let key = find(
        &state,
        &shared,
        &token,
        &name,
        namespace.as_deref(),
        "update",
    )?;
    validate_spec(&state, &shared, &name, &spec)?;
    let new_project = spec
        .get("project")
        .and_then(Value::as_str)
        .filter(|p| !p.is_empty())
        .unwrap_or("default")
        .to_string();
    let version = state.next_version();
    let Some(app) = state.apps.get_mut(&key) else {
        return Err(ApiError::not_found(&name));
    };
    if new_project != app.project() {
        let object = format!("{new_project}/{name}");
        if !token.may("update", &object) {
            return Err(ApiError::denied(&token, "update", &object));
        }
    }
    if app.spec != spec {
        app.spec = spec.clone();
        app.generation += 1;
    }
    app.resource_version = version;
    json_reply(spec)
}

/// The checks argocd-server's `validate=true` makes that the emulator can.
fn validate_spec(
    state: &EmuState,
    shared: &Shared,
    name: &str,
    spec: &Value,
) -> Result<(), ApiError> {
    let invalid = |why: &str| {
        ApiError::invalid(format!(
            "application spec for {name} is invalid: InvalidSpecError: {why}"
        ))
    };
    let has_source = spec.get("source").is_some_and(Value::is_object)
        || spec
            .get("sources")
            .and_then(Value::as_array)
            .is_some_and(|s| !s.is_empty())
        || spec.get("sourceHydrator").is_some_and(Value::is_object);
    if !has_source {
        return Err(invalid("spec.source or spec.sources must be specified"));
    }
    let destination = spec.get("destination");
    let dest_set = |field: &str| {
        destination
            .and_then(|d| d.get(field))
            .and_then(Value::as_str)
            .is_some_and(|v| !v.is_empty())
    };
    if !dest_set("server") && !dest_set("name") {
        return Err(invalid("Destination server missing from app spec"));
    }
    let project = spec
        .get("project")
        .and_then(Value::as_str)
        .filter(|p| !p.is_empty())
        .unwrap_or("default");
    let known = shared.config.projects.iter().any(|p| p == project)
        || state.apps.values().any(|a| a.project() == project);
    if !known {
        return Err(invalid(&format!(
            "application references project {project} which does not exist"
        )));
    }
    Ok(())
}

async fn sync_app(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let path = format!("/api/v1/applications/{name}/sync");
    record(&shared, &Method::POST, &path, query.as_deref(), &body);
    let token = authenticate(&shared, &headers)?;
    let value = parse_body(&body)?;
    check_body(&shared, "applicationApplicationSyncRequest", &value)?;
    // Types were checked above; `body: "*"`: the query is not read.
    let request: SyncRequest =
        serde_json::from_value(value).map_err(|e| ApiError::invalid(e.to_string()))?;
    let mut state = shared.lock();
    state.advance(shared.config.sync_duration);
    let key = find(
        &state,
        &shared,
        &token,
        &name,
        request.app_namespace.as_deref(),
        "sync",
    )?;
    let record = SyncRecord {
        revision: request.revision.filter(|r| !r.is_empty()),
        prune: request.prune,
        dry_run: request.dry_run,
        sync_options: request.sync_options.map(|o| o.items).unwrap_or_default(),
        automated: false,
        initiated_by: token.subject.clone(),
    };
    state.start_operation(&key, record, json!({"username": token.subject}))?;
    let app = state
        .apps
        .get(&key)
        .ok_or_else(|| ApiError::not_found(&name))?;
    json_reply(state.app_json(app))
}

struct ActionQuery {
    namespace: String,
    resource_name: String,
    version: String,
    group: String,
    kind: String,
    app_namespace: Option<String>,
}

async fn action_v1(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let path = format!("/api/v1/applications/{name}/resource/actions");
    record(&shared, &Method::POST, &path, query.as_deref(), &body);
    let token = authenticate(&shared, &headers)?;
    let value = parse_body(&body)?;
    // `body: "action"`: the body is a JSON string.
    let action = match &value {
        Value::String(action) => action.clone(),
        Value::Object(map) if map.is_empty() && body.iter().all(u8::is_ascii_whitespace) => {
            String::new()
        }
        other => {
            return Err(ApiError::invalid(format!(
                "json: cannot unmarshal {} into Go value of type string",
                json_kind(other)
            )));
        }
    };
    let pairs = query_pairs(query.as_deref());
    let q = ActionQuery {
        namespace: query_one(&pairs, "namespace").unwrap_or_default(),
        resource_name: query_one(&pairs, "resourceName").unwrap_or_default(),
        version: query_one(&pairs, "version").unwrap_or_default(),
        group: query_one(&pairs, "group").unwrap_or_default(),
        kind: query_one(&pairs, "kind").unwrap_or_default(),
        app_namespace: query_one(&pairs, "appNamespace"),
    };
    let resource = ResourceRef {
        group: q.group,
        kind: q.kind,
        namespace: q.namespace,
        name: q.resource_name,
        version: q.version,
    };
    run_action(
        &shared,
        &token,
        &name,
        q.app_namespace.as_deref(),
        resource,
        &action,
        ActionEndpoint::V1,
    )
}

async fn action_v2(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let path = format!("/api/v1/applications/{name}/resource/actions/v2");
    record(&shared, &Method::POST, &path, query.as_deref(), &body);
    if !shared.config.action_api_v2 {
        return Ok(route_not_found());
    }
    let token = authenticate(&shared, &headers)?;
    let value = parse_body(&body)?;
    check_body(&shared, "applicationResourceActionRunRequestV2", &value)?;
    let mut request: ResourceActionRunRequestV2 =
        serde_json::from_value(value).map_err(|e| ApiError::invalid(e.to_string()))?;
    request.name = name.clone();
    let resource = ResourceRef {
        group: request.group,
        kind: request.kind,
        namespace: request.namespace,
        name: request.resource_name,
        version: request.version,
    };
    run_action(
        &shared,
        &token,
        &name,
        request.app_namespace.as_deref(),
        resource,
        &request.action,
        ActionEndpoint::V2,
    )
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn run_action(
    shared: &Shared,
    token: &TokenInfo,
    name: &str,
    namespace: Option<&str>,
    resource: ResourceRef,
    action: &str,
    endpoint: ActionEndpoint,
) -> Reply {
    let rbac = format!("action/{}/{}/{action}", resource.group, resource.kind);
    let mut state = shared.lock();
    state.advance(shared.config.sync_duration);
    let key = find(&state, shared, token, name, namespace, &rbac)?;
    let version = state.next_version();
    let Some(app) = state.apps.get_mut(&key) else {
        return Err(ApiError::not_found(name));
    };
    let Some(rollout) = app.rollout.as_mut().filter(|r| {
        resource.group == "argoproj.io"
            && resource.kind == "Rollout"
            && r.namespace == resource.namespace
            && r.name == resource.name
    }) else {
        return Err(ApiError::invalid(format!(
            "{} {} {} not found as part of application {name}",
            resource.kind, resource.group, resource.name
        )));
    };
    match action {
        "promote-full" => {
            rollout.promoted_full = true;
            rollout.paused = false;
        }
        "resume" => rollout.paused = false,
        "pause" => rollout.paused = true,
        "abort" => rollout.aborted = true,
        "retry" => rollout.aborted = false,
        "restart" | "skip-current-step" => {}
        other => {
            return Err(ApiError::invalid(format!(
                "action {other:?} is not available on Rollout {}",
                resource.name
            )));
        }
    }
    app.actions.push(ActionRecord {
        endpoint,
        resource,
        action: action.to_string(),
    });
    app.resource_version = version;
    json_reply(json!({}))
}

async fn resource_tree(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Reply {
    let path = format!("/api/v1/applications/{name}/resource-tree");
    record(&shared, &Method::GET, &path, query.as_deref(), b"");
    let token = authenticate(&shared, &headers)?;
    let pairs = query_pairs(query.as_deref());
    let namespace = query_one(&pairs, "appNamespace");
    let mut state = shared.lock();
    state.advance(shared.config.sync_duration);
    let key = find(&state, &shared, &token, &name, namespace.as_deref(), "get")?;
    let app = state
        .apps
        .get(&key)
        .ok_or_else(|| ApiError::not_found(&name))?;
    json_reply(state.tree_json(app))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(wildcard("*", "default/app"));
        assert!(wildcard("default/*", "default/app"));
        assert!(!wildcard("default/*", "prod/app"));
        assert!(wildcard("action/*", "action/argoproj.io/Rollout/resume"));
        assert!(wildcard("*/app-helm-*", "default/app-helm-dev"));
        assert!(!wildcard("sync", "get"));
    }
}
