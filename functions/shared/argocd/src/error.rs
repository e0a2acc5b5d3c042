//! Owns [`ArgoError`], the client's errors. Every message names the server
//! and the Application and says what to check; none ever contains the token
//! or a password (the client never formats them, and server messages are
//! only quoted from error bodies, which carry no credentials).

use std::time::Duration;

use crate::model::OperationPhase;
use crate::spec::SpecPatchError;

/// An error of [`crate::ArgoClient`].
#[derive(Debug, thiserror::Error)]
pub enum ArgoError {
    /// HTTP 401: the token is missing, expired or wrong.
    #[error("token rejected by {server}; check the Argo CD token ({message})")]
    Unauthorized {
        /// The Argo CD server.
        server: String,
        /// The server's message.
        message: String,
    },
    /// `POST /api/v1/session` refused the user name or password.
    #[error("login to {server} as {username} failed; check the user name and password ({message})")]
    Login {
        /// The Argo CD server.
        server: String,
        /// The user name.
        username: String,
        /// The server's message.
        message: String,
    },
    /// HTTP 403: the token is valid but RBAC does not allow the action.
    #[error(
        "permission denied by {server}: the token may not `{action}` application {app}; \
         allow it in argocd-rbac-cm, e.g. `p, <role>, applications, {action}, <project>/{name}, allow` ({message})"
    )]
    PermissionDenied {
        /// The Argo CD server.
        server: String,
        /// The RBAC action (`get`, `sync`, `update`,
        /// `action/argoproj.io/Rollout/promote-full`).
        action: String,
        /// The Application (`[namespace/]name`).
        app: String,
        /// The Application's name alone.
        name: String,
        /// The server's message.
        message: String,
    },
    /// HTTP 404: no such Application.
    #[error("application {app} not found on {server}; check its name and namespace ({message})")]
    NotFound {
        /// The Argo CD server.
        server: String,
        /// The Application (`[namespace/]name`).
        app: String,
        /// The server's message.
        message: String,
    },
    /// The request (or the wait) took longer than allowed.
    #[error("{what} on {server} timed out after {after:?}")]
    Timeout {
        /// The Argo CD server.
        server: String,
        /// What was being done.
        what: String,
        /// The bound that was exceeded.
        after: Duration,
    },
    /// A sync finished with `Failed` or `Error`.
    #[error("sync of application {app} on {server} ended {phase}: {message}")]
    SyncFailed {
        /// The Argo CD server.
        server: String,
        /// The Application.
        app: String,
        /// `Failed` or `Error`.
        phase: OperationPhase,
        /// The operation's message.
        message: String,
    },
    /// A sync was requested while another operation runs.
    #[error(
        "application {app} on {server} already has an operation in progress; \
         wait for it to finish or terminate it ({message})"
    )]
    OperationInProgress {
        /// The Argo CD server.
        server: String,
        /// The Application.
        app: String,
        /// The server's message.
        message: String,
    },
    /// Waiting for an operation on an Application that never ran one.
    #[error("application {app} on {server} has no operation to wait for; sync it first")]
    NoOperation {
        /// The Argo CD server.
        server: String,
        /// The Application.
        app: String,
    },
    /// Any other error answer (400, 5xx, …).
    #[error("{server} refused {what}: HTTP {status}: {message}")]
    Api {
        /// The Argo CD server.
        server: String,
        /// What was being done.
        what: String,
        /// The HTTP status.
        status: u16,
        /// The server's message.
        message: String,
    },
    /// The server could not be reached or the connection broke.
    #[error("cannot reach {server} for {what}: {problem}")]
    Transport {
        /// The Argo CD server.
        server: String,
        /// What was being done.
        what: String,
        /// What went wrong.
        problem: String,
    },
    /// The answer was not the JSON expected.
    #[error("{server} answered {what} with unexpected JSON: {problem}")]
    Decode {
        /// The Argo CD server.
        server: String,
        /// What was being done.
        what: String,
        /// What was wrong.
        problem: String,
    },
    /// The spec patch does not fit the Application.
    #[error("cannot update the spec of application {app}: {source}")]
    Spec {
        /// The Application.
        app: String,
        /// Why.
        #[source]
        source: SpecPatchError,
    },
    /// The client could not be set up.
    #[error("invalid Argo CD client configuration: {problem}")]
    Config {
        /// What is wrong.
        problem: String,
    },
}

impl ArgoError {
    /// A stable short code for event `errors` and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthorized { .. } => "unauthorized",
            Self::Login { .. } => "login-failed",
            Self::PermissionDenied { .. } => "permission-denied",
            Self::NotFound { .. } => "not-found",
            Self::Timeout { .. } => "timeout",
            Self::SyncFailed { .. } => "sync-failed",
            Self::OperationInProgress { .. } => "operation-in-progress",
            Self::NoOperation { .. } => "no-operation",
            Self::Api { .. } => "api-error",
            Self::Transport { .. } => "transport",
            Self::Decode { .. } => "decode",
            Self::Spec { .. } => "spec",
            Self::Config { .. } => "config",
        }
    }
}
