//! Owns the Argo CD API's wire types that the core [`Application`] model
//! does not carry: live status (sync, health, operation state), the sync and
//! resource-action request bodies, resource-tree nodes, the grpc-gateway
//! error body, and [`AppName`] (an Application's name and namespace).
//!
//! Field names are the Go `json` tags argocd-server uses (it encodes with
//! `encoding/json` through grpc-gateway), which is also what the emulator
//! serves and checks.

use std::fmt;

use serde::{Deserialize, Serialize};
use updraft_core::Application;

/// An Application's name and, for apps-in-any-namespace, its namespace.
///
/// `"argocd/app-helm-staging"` (the `argocd app` CLI's form) parses into
/// namespace `argocd` and name `app-helm-staging`; a bare name leaves the
/// namespace to the server (its control-plane namespace).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AppName {
    /// The Application's name.
    pub name: String,
    /// The Application's namespace (`appNamespace` on the wire).
    pub namespace: Option<String>,
}

impl AppName {
    /// A bare name (the server's control-plane namespace).
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            namespace: None,
        }
    }

    /// A name in `namespace`.
    pub fn in_namespace(name: impl Into<String>, namespace: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            namespace: Some(namespace.into()),
        }
    }

    /// Parses `name` or `namespace/name`.
    pub fn parse(text: &str) -> Self {
        match text.split_once('/') {
            Some((namespace, name)) if !namespace.is_empty() => Self::in_namespace(name, namespace),
            Some((_, name)) => Self::new(name),
            None => Self::new(text),
        }
    }
}

impl fmt::Display for AppName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(namespace) => write!(f, "{namespace}/{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

impl From<&str> for AppName {
    fn from(text: &str) -> Self {
        Self::parse(text)
    }
}

impl From<String> for AppName {
    fn from(text: String) -> Self {
        Self::parse(&text)
    }
}

impl From<&String> for AppName {
    fn from(text: &String) -> Self {
        Self::parse(text)
    }
}

impl From<&AppName> for AppName {
    fn from(name: &AppName) -> Self {
        name.clone()
    }
}

impl From<&Application> for AppName {
    fn from(app: &Application) -> Self {
        Self {
            name: app.metadata.name.clone(),
            namespace: app.metadata.namespace.clone(),
        }
    }
}

impl From<&LiveApplication> for AppName {
    fn from(app: &LiveApplication) -> Self {
        Self::from(&app.application)
    }
}

/// An Application as the API returns it: the core model plus the live status
/// the core model does not keep. Derefs to the [`Application`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LiveApplication {
    /// Metadata, spec, and `status.summary` / `status.sourceType`.
    pub application: Application,
    /// `status.sync`, `status.health`, `status.operationState`, ….
    pub status: LiveStatus,
    /// The top-level `operation`: present from the moment a sync is requested
    /// until the controller has finished it.
    pub operation: Option<serde_json::Value>,
    /// `metadata.resourceVersion`.
    pub resource_version: Option<String>,
}

impl LiveApplication {
    /// Reads an Application out of API JSON.
    pub fn from_json(value: &serde_json::Value) -> Result<Self, serde_json::Error> {
        let application = Application::deserialize(value)?;
        let status = match value.get("status") {
            Some(status) if !status.is_null() => LiveStatus::deserialize(status)?,
            _ => LiveStatus::default(),
        };
        let operation = value.get("operation").filter(|v| !v.is_null()).cloned();
        let resource_version = value
            .pointer("/metadata/resourceVersion")
            .and_then(serde_json::Value::as_str)
            .map(str::to_string);
        Ok(Self {
            application,
            status,
            operation,
            resource_version,
        })
    }

    /// `status.sync.status` (`Unknown` when absent).
    pub fn sync_status(&self) -> SyncStatusCode {
        self.status
            .sync
            .as_ref()
            .map_or(SyncStatusCode::Unknown, |s| s.status)
    }

    /// `status.health.status` (`Unknown` when absent).
    pub fn health_status(&self) -> HealthStatusCode {
        self.status
            .health
            .as_ref()
            .map_or(HealthStatusCode::Unknown, |h| h.status)
    }

    /// `status.operationState`, when Argo CD has run an operation.
    pub fn operation_state(&self) -> Option<&OperationState> {
        self.status.operation_state.as_ref()
    }

    /// `status.summary.images`: the images of the live resources.
    pub fn images(&self) -> &[String] {
        self.application
            .status
            .as_ref()
            .and_then(|s| s.summary.as_ref())
            .map_or(&[], |s| s.images.as_slice())
    }
}

impl std::ops::Deref for LiveApplication {
    type Target = Application;

    fn deref(&self) -> &Application {
        &self.application
    }
}

/// The parts of `status` the core model does not carry.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveStatus {
    /// `status.sync`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync: Option<SyncStatus>,
    /// `status.health`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<HealthStatus>,
    /// `status.operationState`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_state: Option<OperationState>,
    /// `status.reconciledAt` (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reconciled_at: Option<String>,
}

/// `status.sync`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SyncStatus {
    /// `Synced`, `OutOfSync` or `Unknown`.
    #[serde(default)]
    pub status: SyncStatusCode,
    /// The revision the comparison was made against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
}

/// `status.sync.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum SyncStatusCode {
    /// Live state matches git.
    Synced,
    /// Live state differs from git.
    OutOfSync,
    /// Not compared yet, or a value this client does not know.
    #[default]
    #[serde(other)]
    Unknown,
}

/// `status.health`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct HealthStatus {
    /// The health code.
    #[serde(default)]
    pub status: HealthStatusCode,
    /// A human-readable explanation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// `status.health.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum HealthStatusCode {
    /// Everything is running.
    Healthy,
    /// Still rolling out.
    Progressing,
    /// Failed.
    Degraded,
    /// Paused, e.g. a canary waiting for promotion.
    Suspended,
    /// A resource does not exist.
    Missing,
    /// Unknown, or a value this client does not know.
    #[default]
    #[serde(other)]
    Unknown,
}

/// `status.operationState`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationState {
    /// `Running`, `Terminating`, `Succeeded`, `Failed` or `Error`.
    #[serde(default)]
    pub phase: OperationPhase,
    /// What happened (typically the error of a failed sync).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// When the operation started (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    /// When it finished (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    /// The requested operation, as the server echoes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<serde_json::Value>,
    /// The sync's result (`revision`, per-resource results).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_result: Option<serde_json::Value>,
}

/// `status.operationState.phase`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum OperationPhase {
    /// In progress.
    Running,
    /// Being terminated.
    Terminating,
    /// Finished successfully.
    Succeeded,
    /// Finished unsuccessfully (e.g. a resource failed to apply).
    Failed,
    /// Could not run (e.g. manifests could not be generated).
    Error,
    /// A value this client does not know.
    #[default]
    #[serde(other)]
    Unknown,
}

impl OperationPhase {
    /// Whether the operation is over.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Error)
    }
}

impl fmt::Display for OperationPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Running => "Running",
            Self::Terminating => "Terminating",
            Self::Succeeded => "Succeeded",
            Self::Failed => "Failed",
            Self::Error => "Error",
            Self::Unknown => "Unknown",
        })
    }
}

/// What to sync, for [`crate::ArgoClient::sync`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SyncOptions {
    /// Sync to this revision instead of the spec's `targetRevision`.
    pub revision: Option<String>,
    /// Delete resources no longer in git.
    pub prune: bool,
    /// Only pretend (`kubectl apply --dry-run`).
    pub dry_run: bool,
    /// Per-sync options such as `ApplyOutOfSyncOnly=true`.
    pub sync_options: Vec<String>,
}

/// The body of `POST /api/v1/applications/{name}/sync`
/// (`applicationApplicationSyncRequest`), as far as Updraft fills it.
///
/// The body is mapped with `body: "*"`, so `appNamespace` must travel in the
/// body: grpc-gateway reads no query parameters for such methods.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncRequest {
    /// The Application's name (the path wins if both are given).
    #[serde(default)]
    pub name: String,
    /// The Application's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_namespace: Option<String>,
    /// Revision to sync to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// Delete resources no longer in git.
    #[serde(default)]
    pub prune: bool,
    /// Only pretend.
    #[serde(default)]
    pub dry_run: bool,
    /// Sync options, **wrapped**: `{"items": [...]}` (a bare list is
    /// rejected by the server).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_options: Option<SyncOptionItems>,
}

/// `applicationSyncOptions`: `{"items": ["CreateNamespace=true"]}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SyncOptionItems {
    /// The options.
    #[serde(default)]
    pub items: Vec<String>,
}

/// A Kubernetes resource of an Application, for resource actions.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct ResourceRef {
    /// API group, e.g. `argoproj.io`.
    #[serde(default)]
    pub group: String,
    /// Kind, e.g. `Rollout`.
    #[serde(default)]
    pub kind: String,
    /// Namespace of the resource.
    #[serde(default)]
    pub namespace: String,
    /// Name of the resource.
    #[serde(default)]
    pub name: String,
    /// API version, e.g. `v1alpha1`.
    #[serde(default)]
    pub version: String,
}

impl ResourceRef {
    /// An Argo Rollouts `Rollout` (`argoproj.io/v1alpha1`).
    pub fn rollout(namespace: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            group: "argoproj.io".to_string(),
            kind: "Rollout".to_string(),
            namespace: namespace.into(),
            name: name.into(),
            version: "v1alpha1".to_string(),
        }
    }
}

impl fmt::Display for ResourceRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let group = if self.group.is_empty() {
            String::new()
        } else {
            format!("{}/", self.group)
        };
        write!(f, "{group}{} {}/{}", self.kind, self.namespace, self.name)
    }
}

/// The body of `POST /api/v1/applications/{name}/resource/actions/v2`
/// (`applicationResourceActionRunRequestV2`, Argo CD ≥ 3.2).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceActionRunRequestV2 {
    /// The Application's name.
    #[serde(default)]
    pub name: String,
    /// The Application's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_namespace: Option<String>,
    /// The resource's namespace.
    #[serde(default)]
    pub namespace: String,
    /// The resource's name.
    #[serde(default)]
    pub resource_name: String,
    /// The resource's API version.
    #[serde(default)]
    pub version: String,
    /// The resource's API group.
    #[serde(default)]
    pub group: String,
    /// The resource's kind.
    #[serde(default)]
    pub kind: String,
    /// The action, e.g. `promote-full`.
    #[serde(default)]
    pub action: String,
    /// Parameters of parameterised actions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resource_action_parameters: Vec<ResourceActionParameter>,
}

/// `applicationResourceActionParameters`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ResourceActionParameter {
    /// Parameter name.
    #[serde(default)]
    pub name: String,
    /// Parameter value.
    #[serde(default)]
    pub value: String,
}

/// Which resource-action endpoint to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ActionApi {
    /// The v2 endpoint, falling back to v1 when the server does not have it
    /// (404/405/501); a server found to lack v2 is not asked again.
    #[default]
    Auto,
    /// Only `POST …/resource/actions/v2` (Argo CD ≥ 3.2).
    V2,
    /// Only the deprecated `POST …/resource/actions` with the action name as
    /// a JSON string body (every version).
    V1,
}

/// Which endpoint ran an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionEndpoint {
    /// `…/resource/actions/v2`.
    V2,
    /// `…/resource/actions`.
    V1,
}

/// One node of `GET /api/v1/applications/{name}/resource-tree`
/// (`v1alpha1ResourceNode`, the fields Updraft reads).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceNode {
    /// API group.
    #[serde(default)]
    pub group: String,
    /// Kind.
    #[serde(default)]
    pub kind: String,
    /// Namespace.
    #[serde(default)]
    pub namespace: String,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// API version.
    #[serde(default)]
    pub version: String,
    /// UID of the live object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// Health of the resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<HealthStatus>,
    /// Images of the resource's containers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<String>,
    /// Extra information (`{"name","value"}` pairs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub info: Vec<InfoItem>,
}

impl ResourceNode {
    /// The reference to run actions on this resource.
    pub fn to_ref(&self) -> ResourceRef {
        ResourceRef {
            group: self.group.clone(),
            kind: self.kind.clone(),
            namespace: self.namespace.clone(),
            name: self.name.clone(),
            version: self.version.clone(),
        }
    }
}

/// `v1alpha1InfoItem`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct InfoItem {
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Value.
    #[serde(default)]
    pub value: String,
}

/// `v1alpha1ApplicationTree` (nodes only).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ApplicationTree {
    /// The resources.
    #[serde(default)]
    pub nodes: Vec<ResourceNode>,
}

/// The grpc-gateway error body (`runtimeError`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The message (same as `message`).
    #[serde(default)]
    pub error: String,
    /// The gRPC status code (5 NotFound, 7 PermissionDenied, 16
    /// Unauthenticated, …).
    #[serde(default)]
    pub code: i32,
    /// The message.
    #[serde(default)]
    pub message: String,
    /// Always empty here.
    #[serde(default)]
    pub details: Vec<serde_json::Value>,
}

/// `POST /api/v1/session` request (`sessionSessionCreateRequest`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionCreateRequest {
    /// User name.
    pub username: String,
    /// Password (never printed: `Debug` hides it).
    pub password: String,
}

impl fmt::Debug for SessionCreateRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionCreateRequest")
            .field("username", &self.username)
            .field("password", &"***")
            .finish()
    }
}

/// `POST /api/v1/session` response (`sessionSessionResponse`).
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SessionResponse {
    /// The session token (never printed: `Debug` hides it).
    #[serde(default)]
    pub token: String,
}

impl fmt::Debug for SessionResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionResponse { token: *** }")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn app_names() {
        assert_eq!(
            AppName::parse("argocd/app-helm-staging"),
            AppName::in_namespace("app-helm-staging", "argocd")
        );
        assert_eq!(AppName::parse("app"), AppName::new("app"));
        assert_eq!(AppName::parse("/app"), AppName::new("app"));
        assert_eq!(AppName::in_namespace("a", "ns").to_string(), "ns/a");
        assert_eq!(AppName::new("a").to_string(), "a");
    }

    #[test]
    fn sync_request_wire_form() {
        let body = SyncRequest {
            name: "guestbook".into(),
            app_namespace: Some("argocd".into()),
            revision: Some("main".into()),
            prune: true,
            dry_run: false,
            sync_options: Some(SyncOptionItems {
                items: vec!["CreateNamespace=true".into()],
            }),
        };
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            json!({"name":"guestbook","appNamespace":"argocd","revision":"main","prune":true,
                   "dryRun":false,"syncOptions":{"items":["CreateNamespace=true"]}})
        );
    }

    #[test]
    fn live_application_from_api_json() {
        let value = json!({
            "metadata": {"name": "a", "namespace": "argocd", "resourceVersion": "7"},
            "spec": {"source": {"repoURL": "https://g/r.git", "path": "p"}},
            "operation": {"sync": {"revision": "abc"}},
            "status": {
                "sync": {"status": "OutOfSync", "revision": "abc"},
                "health": {"status": "Progressing"},
                "operationState": {"phase": "Running", "message": "working"},
                "summary": {"images": ["nginx:1.25"]},
                "sourceType": "Helm"
            }
        });
        let app = LiveApplication::from_json(&value).unwrap();
        assert_eq!(app.name(), "a");
        assert_eq!(app.sync_status(), SyncStatusCode::OutOfSync);
        assert_eq!(app.health_status(), HealthStatusCode::Progressing);
        assert_eq!(
            app.operation_state().unwrap().phase,
            OperationPhase::Running
        );
        assert!(app.operation.is_some());
        assert_eq!(app.images(), ["nginx:1.25"]);
        assert_eq!(app.resource_version.as_deref(), Some("7"));
        assert_eq!(AppName::from(&app), AppName::in_namespace("a", "argocd"));
    }

    #[test]
    fn unknown_codes_do_not_fail() {
        let status: LiveStatus = serde_json::from_value(json!({
            "sync": {"status": "Weird"},
            "health": {"status": "Brand-new"},
            "operationState": {"phase": "Pondering"}
        }))
        .unwrap();
        assert_eq!(status.sync.unwrap().status, SyncStatusCode::Unknown);
        assert_eq!(status.health.unwrap().status, HealthStatusCode::Unknown);
        assert!(!status.operation_state.unwrap().phase.is_terminal());
    }

    #[test]
    fn secrets_stay_hidden() {
        let login = SessionCreateRequest {
            username: "admin".into(),
            password: "hunter2".into(),
        };
        assert!(!format!("{login:?}").contains("hunter2"));
        let response = SessionResponse {
            token: "eyJ.secret".into(),
        };
        assert!(!format!("{response:?}").contains("secret"));
    }
}
