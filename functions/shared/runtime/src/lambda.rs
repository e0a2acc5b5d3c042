//! Owns running on AWS Lambda: [`run_events`] polls the Runtime API for
//! events (EventBridge schedules, direct invocations) and calls the
//! handler; [`run_http`] serves a Function URL (webhooks, approvals)
//! through `lambda_http`.
//!
//! Both check the environment Lambda sets before starting:
//! `lambda_runtime` panics without it, these return
//! [`LambdaError::NotInLambda`]. Both call [`Handler::initialize`] first
//! (Lambda's init phase) and report a failure to `/runtime/init/error`.
//!
//! Their futures are not `Send` (the compiler cannot prove
//! `lambda_runtime::run`'s future `Send`): `.await` them from `main`, or
//! `spawn_local` them on a `LocalSet`.

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::http::{Method, Uri, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde_json::Value;
use tracing::{Instrument, error, info_span, warn};

use crate::handler::{Handler, HandlerError, Invocation};

/// The variables `lambda_runtime` needs; Lambda sets them all.
pub const REQUIRED_ENV: [&str; 4] = [
    "AWS_LAMBDA_RUNTIME_API",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
];

/// Why the Lambda adapter stopped.
#[derive(Debug, thiserror::Error)]
pub enum LambdaError {
    /// Not running in Lambda: the variables Lambda sets are missing.
    #[error(
        "not running in AWS Lambda: {0} not set (Lambda sets them; run locally with `updraft run` or point AWS_LAMBDA_RUNTIME_API at an emulator)"
    )]
    NotInLambda(String),
    /// A Lambda variable is set but unusable.
    #[error("environment variable {var}={value:?}: {reason}")]
    InvalidEnv {
        /// The variable.
        var: &'static str,
        /// Its value.
        value: String,
        /// Why it cannot be used.
        reason: String,
    },
    /// [`Handler::initialize`] failed (reported to `/runtime/init/error`).
    #[error("initialization failed: {0}")]
    Init(HandlerError),
    /// The runtime loop failed (the Runtime API went away, a malformed
    /// next-event response).
    #[error("Lambda runtime failed: {0}")]
    Runtime(#[source] lambda_runtime::Error),
}

/// Checks that the process runs in Lambda (see [`REQUIRED_ENV`]), so
/// that `lambda_runtime` will not panic.
pub fn check_env() -> Result<(), LambdaError> {
    check_vars(|name| std::env::var(name).ok())
}

fn check_vars(lookup: impl Fn(&str) -> Option<String>) -> Result<(), LambdaError> {
    let get = |name: &str| lookup(name).filter(|v| !v.is_empty());
    let missing: Vec<&str> = REQUIRED_ENV
        .into_iter()
        .filter(|v| get(v).is_none())
        .collect();
    if !missing.is_empty() {
        return Err(LambdaError::NotInLambda(missing.join(", ")));
    }
    let invalid = |var: &'static str, value: String, reason: String| LambdaError::InvalidEnv {
        var,
        value,
        reason,
    };
    if let Some(value) = get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE") {
        value.parse::<i32>().map_err(|e| {
            invalid(
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                value.clone(),
                e.to_string(),
            )
        })?;
    }
    if let Some(value) = get("AWS_LAMBDA_RUNTIME_API") {
        Uri::try_from(value.as_str()).map_err(|e| {
            invalid(
                "AWS_LAMBDA_RUNTIME_API",
                value.clone(),
                format!("not host:port or a URL ({e})"),
            )
        })?;
    }
    Ok(())
}

/// Polls the Runtime API and runs `function` for every event until the
/// Runtime API fails. An EventBridge schedule event
/// (`"source": "aws.events"`, `"detail-type": "Scheduled Event"`) becomes
/// `null`; any other event is passed as is. A failure is reported as
/// `{"errorType": "BadEvent|UnknownFunction|Failed", "errorMessage": …}`.
pub async fn run_events(handler: Arc<dyn Handler>, function: String) -> Result<(), LambdaError> {
    check_env()?;
    initialize(handler.as_ref()).await?;
    let service = service_fn(move |event: LambdaEvent<Value>| {
        let handler = handler.clone();
        let function = function.clone();
        async move { handle_event(handler.as_ref(), function, event).await }
    });
    lambda_runtime::run(service)
        .await
        .map_err(LambdaError::Runtime)
}

/// The event the handler receives for a Lambda event: `null` for an
/// EventBridge schedule's envelope, else the event itself.
pub fn decode_event(event: Value) -> Value {
    let scheduled = event.get("source").and_then(Value::as_str) == Some("aws.events")
        && event.get("detail-type").and_then(Value::as_str) == Some("Scheduled Event");
    if scheduled { Value::Null } else { event }
}

async fn handle_event(
    handler: &dyn Handler,
    function: String,
    event: LambdaEvent<Value>,
) -> Result<Value, Diagnostic> {
    let (payload, context) = event.into_parts();
    let span = info_span!("invoke", request_id = %context.request_id, function = %function);
    let invocation = Invocation::new(context.request_id, function);
    async move {
        handler
            .handle(invocation, decode_event(payload))
            .await
            .map_err(|e| {
                warn!(error_type = e.kind(), error = %e, "invocation failed");
                diagnostic(&e)
            })
    }
    .instrument(span)
    .await
}

fn diagnostic(error: &HandlerError) -> Diagnostic {
    Diagnostic {
        error_type: error.kind().to_owned(),
        error_message: error.message().to_owned(),
    }
}

/// Serves `extra` (plus `GET /healthz`) to a Lambda Function URL or API
/// Gateway through `lambda_http`. Every request runs in a span carrying
/// the Lambda request id. `handler` is only initialized: events do not
/// arrive over the Function URL, so no `/invoke` route is exposed.
pub async fn run_http(
    handler: Arc<dyn Handler>,
    function: String,
    extra: Router,
) -> Result<(), LambdaError> {
    check_env()?;
    initialize(handler.as_ref()).await?;
    lambda_http::run(http_router(function, extra))
        .await
        .map_err(LambdaError::Runtime)
}

/// The router [`run_http`] serves: `GET /healthz`, then `extra`.
pub fn http_router(function: String, extra: Router) -> Router {
    let function: Arc<str> = function.into();
    Router::new()
        .route(
            "/healthz",
            get(|| async { axum::Json(serde_json::json!({ "status": "ok" })) }),
        )
        .fallback_service(extra)
        .layer(middleware::from_fn(move |request: Request, next: Next| {
            let function = function.clone();
            async move { http_span(function, request, next).await }
        }))
}

async fn http_span(function: Arc<str>, request: Request, next: Next) -> Response {
    let request_id = request
        .extensions()
        .get::<lambda_http::Context>()
        .map(|c| c.request_id.clone())
        .unwrap_or_default();
    let span = info_span!("http", request_id = %request_id, function = %function);
    next.run(request).instrument(span).await
}

async fn initialize(handler: &dyn Handler) -> Result<(), LambdaError> {
    match handler.initialize().await {
        Ok(()) => Ok(()),
        Err(e) => {
            error!(error_type = e.kind(), error = %e, "initialization failed");
            report_init_error(&e).await;
            Err(LambdaError::Init(e))
        }
    }
}

/// Posts `error` to `/2018-06-01/runtime/init/error`; a failure to report
/// is logged, the caller returns the original error anyway.
async fn report_init_error(error: &HandlerError) {
    let body = serde_json::to_string(&diagnostic(error)).unwrap_or_default();
    let request = lambda_runtime_api_client::build_request()
        .method(Method::POST)
        .uri("/2018-06-01/runtime/init/error")
        .header("lambda-runtime-function-error-type", "Runtime.InitError")
        .header(header::CONTENT_TYPE, "application/json")
        .body(lambda_runtime_api_client::body::Body::from(body));
    let request = match request {
        Ok(request) => request,
        Err(e) => {
            warn!(error = %e, "cannot build the init error report");
            return;
        }
    };
    let client = lambda_runtime_api_client::PooledClient::builder().build();
    match client.call(request).await {
        Ok(response) if response.status().is_success() => {}
        Ok(response) => {
            warn!(status = %response.status(), "the Runtime API refused the init error report")
        }
        Err(e) => warn!(error = %e, "cannot report the init error to the Runtime API"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::HashMap;

    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| vars.get(name).cloned()
    }

    const GOOD: [(&str, &str); 4] = [
        ("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"),
        ("AWS_LAMBDA_FUNCTION_NAME", "poll-registry"),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
    ];

    #[test]
    fn names_every_missing_variable() {
        let e = check_vars(lookup(&[("AWS_LAMBDA_FUNCTION_VERSION", "1")]));
        let message = e.map_err(|e| e.to_string()).err().unwrap_or_default();
        assert!(
            message.starts_with("not running in AWS Lambda"),
            "{message}"
        );
        assert!(
            message.contains(
                "AWS_LAMBDA_RUNTIME_API, AWS_LAMBDA_FUNCTION_NAME, AWS_LAMBDA_FUNCTION_MEMORY_SIZE"
            ),
            "{message}"
        );
        assert!(check_vars(lookup(&GOOD)).is_ok());
    }

    #[test]
    fn rejects_unusable_values() {
        let mut vars = GOOD.to_vec();
        vars[2] = ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "lots");
        assert!(matches!(
            check_vars(lookup(&vars)),
            Err(LambdaError::InvalidEnv {
                var: "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                ..
            })
        ));
        let mut vars = GOOD.to_vec();
        vars[0] = ("AWS_LAMBDA_RUNTIME_API", "not a uri");
        assert!(matches!(
            check_vars(lookup(&vars)),
            Err(LambdaError::InvalidEnv {
                var: "AWS_LAMBDA_RUNTIME_API",
                ..
            })
        ));
    }

    #[test]
    fn schedule_envelope_becomes_null() {
        let schedule = json!({"version": "0", "source": "aws.events", "detail-type": "Scheduled Event", "detail": {}});
        assert_eq!(decode_event(schedule), Value::Null);
        let job = json!({"job": "poll"});
        assert_eq!(decode_event(job.clone()), job);
        let other = json!({"source": "aws.events", "detail-type": "Object Created"});
        assert_eq!(decode_event(other.clone()), other);
    }
}
