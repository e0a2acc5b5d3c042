//! Owns the [`Handler`] trait: what every adapter calls, and the error it
//! maps to its platform's failure shape.

use futures::future::BoxFuture;
use serde_json::Value;

/// Who asked, for logs: the platform's request id and the function; and
/// the credentials the platform handed this invocation, if any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Invocation {
    /// The platform's request id (`x-fc-request-id`, Lambda's request id).
    pub request_id: String,
    /// The function to run (`poll-registry`, …, `pipeline`).
    pub function: String,
    /// Function Compute's STS credentials of the function's role: the
    /// per-request `x-fc-access-key-*` headers, else the
    /// `ALIBABA_CLOUD_*` environment. `None` on Lambda (the AWS SDKs read
    /// their own environment) and when nothing was provided.
    pub credentials: Option<Credentials>,
}

impl Invocation {
    /// An invocation without credentials.
    pub fn new(request_id: impl Into<String>, function: impl Into<String>) -> Invocation {
        Invocation {
            request_id: request_id.into(),
            function: function.into(),
            credentials: None,
        }
    }
}

/// Temporary (STS) credentials of the function's role. `Debug` shows the
/// key id only; the secret and the token are redacted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The access key id (`STS.…`).
    pub access_key_id: String,
    /// The access key secret.
    pub access_key_secret: Secret,
    /// The STS security token; absent for long-term keys.
    pub security_token: Option<Secret>,
}

/// A string that must not reach a log: `Debug` prints `<redacted>` and
/// there is no `Display`. Read it with [`Secret::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps `value`.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Secret {
        Secret(value)
    }
}

/// Why a function failed; the message is one line, safe to show.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandlerError {
    /// The event cannot be used (wrong kind, malformed).
    #[error("{0}")]
    BadEvent(String),
    /// No such function.
    #[error("{0}")]
    UnknownFunction(String),
    /// The function failed.
    #[error("{0}")]
    Failed(String),
}

impl HandlerError {
    /// The variant's name, the `errorType` of a platform error body:
    /// `BadEvent`, `UnknownFunction` or `Failed`.
    pub fn kind(&self) -> &'static str {
        match self {
            HandlerError::BadEvent(_) => "BadEvent",
            HandlerError::UnknownFunction(_) => "UnknownFunction",
            HandlerError::Failed(_) => "Failed",
        }
    }

    /// The one-line message.
    pub fn message(&self) -> &str {
        match self {
            HandlerError::BadEvent(m)
            | HandlerError::UnknownFunction(m)
            | HandlerError::Failed(m) => m,
        }
    }

    /// The error body both platforms use:
    /// `{"errorMessage": …, "errorType": …}`.
    pub fn to_body(&self) -> serde_json::Value {
        serde_json::json!({ "errorMessage": self.message(), "errorType": self.kind() })
    }
}

/// Runs Updraft's functions. Implemented by the `updraft` binary over the
/// pipeline; adapters hold it in an `Arc`.
pub trait Handler: Send + Sync + 'static {
    /// Runs `invocation.function` with `event` (`null`: a timer's empty
    /// event).
    fn handle(
        &self,
        invocation: Invocation,
        event: Value,
    ) -> BoxFuture<'_, Result<Value, HandlerError>>;

    /// Prepares what a first invocation would otherwise pay for (plugin
    /// engine, compiled plugins): Function Compute's `/initialize`.
    fn initialize(&self) -> BoxFuture<'_, Result<(), HandlerError>>;

    /// The platform sent the role's current credentials with a request (any
    /// request: invocations, webhooks, approvals). A handler whose clients
    /// sign with them swaps them in; temporary credentials rotate while an
    /// instance lives. The default ignores them.
    fn use_credentials(&self, credentials: &Credentials) {
        let _ = credentials;
    }
}
