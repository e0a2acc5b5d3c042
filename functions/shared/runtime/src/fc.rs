//! Owns the Function Compute 3.0 custom runtime: one HTTP server on
//! `0.0.0.0:<port>` that FC calls for events (`POST /invoke`), the
//! instance lifecycle hooks (`POST /initialize`, `GET /pre-stop`) and the
//! health check (`GET /healthz`). Every other request is an HTTP-trigger
//! pass-through and goes to the caller's router (webhooks under
//! `/webhook/...`, approvals).
//!
//! An event failure is HTTP 404 with `x-fc-status: 404` and the body
//! `{"errorMessage": …, "errorType": …}`; FC reports it as
//! `UnhandledInvocationError` and retries asynchronous invocations.
//!
//! `GET /pre-stop` answers once the requests in flight (invocations,
//! webhooks, approvals) have finished, or after `UPDRAFT_PRE_STOP_WAIT`
//! with 503 if some are still running: FC stops the instance after the
//! hook, so work is finished rather than cut off where time allows.

use std::future::Future;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tracing::{Instrument, info, info_span, warn};

use crate::handler::{Credentials, Handler, HandlerError, Invocation, Secret};

/// FC's default custom-runtime port (CAPort).
pub const DEFAULT_PORT: u16 = 9000;

/// The largest event `POST /invoke` reads: FC's limit for a synchronous
/// invocation body (32 MB).
pub const MAX_EVENT_BYTES: usize = 32 * 1024 * 1024;

/// How long `/pre-stop` waits for running requests by default: just under
/// the 10 s hook timeout of the templates in `infra/aliyun/`.
pub const DEFAULT_PRE_STOP_WAIT: Duration = Duration::from_secs(9);

/// The header FC reads to tell success (`200`) from failure (`404`).
pub const FC_STATUS: &str = "x-fc-status";

/// The request id header FC sends with every request.
pub const FC_REQUEST_ID: &str = "x-fc-request-id";

/// Where the server listens and which function it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FcConfig {
    /// The function this FC function runs (`UPDRAFT_FUNCTION`, default
    /// `pipeline`).
    pub function: String,
    /// `0.0.0.0:<port>`: FC cannot reach a server bound to `127.0.0.1`.
    pub listen: SocketAddr,
    /// The role's credentials from `ALIBABA_CLOUD_*`, used when a request
    /// carries no `x-fc-access-key-*` headers (local runs).
    pub credentials: Option<Credentials>,
    /// How long `/pre-stop` waits for the requests in flight
    /// (`UPDRAFT_PRE_STOP_WAIT`, seconds; default 9). Keep it below the
    /// preStop hook's timeout.
    pub pre_stop_wait: Duration,
}

/// An environment variable that is set but unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("environment variable {var}={value:?}: {reason}")]
pub struct EnvError {
    /// The variable.
    pub var: &'static str,
    /// Its value.
    pub value: String,
    /// Why it cannot be used.
    pub reason: String,
}

impl FcConfig {
    /// Reads the process environment: the port from
    /// `FC_CUSTOM_LISTEN_PORT`, else `FC_SERVER_PORT`, else 9000; the
    /// function from `UPDRAFT_FUNCTION` (default `pipeline`); credentials
    /// from `ALIBABA_CLOUD_ACCESS_KEY_ID`, `ALIBABA_CLOUD_ACCESS_KEY_SECRET`
    /// and `ALIBABA_CLOUD_SECURITY_TOKEN`. Empty variables count as unset.
    pub fn from_env() -> Result<FcConfig, EnvError> {
        FcConfig::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`FcConfig::from_env`] over any lookup (tests, a `.env` map).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<FcConfig, EnvError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let mut port = DEFAULT_PORT;
        for var in ["FC_CUSTOM_LISTEN_PORT", "FC_SERVER_PORT"] {
            if let Some(value) = get(var) {
                port = value.trim().parse().map_err(|e| EnvError {
                    var,
                    value: value.clone(),
                    reason: format!("not a port number ({e})"),
                })?;
                break;
            }
        }
        let function = get("UPDRAFT_FUNCTION").unwrap_or_else(|| "pipeline".to_owned());
        let pre_stop_wait = match get("UPDRAFT_PRE_STOP_WAIT") {
            None => DEFAULT_PRE_STOP_WAIT,
            Some(value) => value
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|s| s.is_finite() && (0.0..=3600.0).contains(s))
                .map(Duration::from_secs_f64)
                .ok_or_else(|| EnvError {
                    var: "UPDRAFT_PRE_STOP_WAIT",
                    value: value.clone(),
                    reason: "not a number of seconds between 0 and 3600 (e.g. 9)".into(),
                })?,
        };
        let credentials = match (
            get("ALIBABA_CLOUD_ACCESS_KEY_ID"),
            get("ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
        ) {
            (Some(id), Some(secret)) => Some(Credentials {
                access_key_id: id,
                access_key_secret: Secret::new(secret),
                security_token: get("ALIBABA_CLOUD_SECURITY_TOKEN").map(Secret::new),
            }),
            _ => None,
        };
        Ok(FcConfig {
            function,
            listen: SocketAddr::from((Ipv4Addr::UNSPECIFIED, port)),
            credentials,
            pre_stop_wait,
        })
    }
}

struct FcState {
    handler: Arc<dyn Handler>,
    function: String,
    credentials: Option<Credentials>,
    pre_stop_wait: Duration,
    in_flight: InFlight,
}

/// The requests being answered, and a wake-up when one finishes.
#[derive(Default)]
struct InFlight {
    count: AtomicUsize,
    finished: Notify,
}

/// Counts one request as in flight until dropped (also when the client
/// goes away and the request's future is dropped).
struct Running<'a>(&'a InFlight);

impl<'a> Running<'a> {
    fn start(in_flight: &'a InFlight) -> Running<'a> {
        in_flight.count.fetch_add(1, Ordering::SeqCst);
        Running(in_flight)
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.count.fetch_sub(1, Ordering::SeqCst);
        self.0.finished.notify_waiters();
    }
}

impl InFlight {
    /// Waits until nothing runs, at most `limit`; how many still run.
    async fn drained(&self, limit: Duration) -> usize {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let finished = self.finished.notified();
            let running = self.count.load(Ordering::SeqCst);
            if running == 0 {
                return 0;
            }
            if tokio::time::timeout_at(deadline, finished).await.is_err() {
                return self.count.load(Ordering::SeqCst);
            }
        }
    }
}

/// The custom runtime's routes, with `extra` answering every request they
/// do not match (HTTP triggers: webhooks, approvals). Every request runs in
/// a span carrying `x-fc-request-id`.
pub fn router(handler: Arc<dyn Handler>, config: &FcConfig, extra: Router) -> Router {
    let state = Arc::new(FcState {
        handler,
        function: config.function.clone(),
        credentials: config.credentials.clone(),
        pre_stop_wait: config.pre_stop_wait,
        in_flight: InFlight::default(),
    });
    Router::new()
        .route("/invoke", post(invoke))
        .route("/initialize", post(initialize))
        .route("/pre-stop", get(pre_stop))
        .route("/healthz", get(healthz))
        .with_state(state.clone())
        .fallback_service(extra)
        .layer(middleware::from_fn_with_state(state, track_request))
        .layer(middleware::from_fn(request_span))
}

/// Around every request: hands the handler the `x-fc-access-key-*`
/// credentials of a request that carries them, before it is answered (the
/// HTTP trigger's webhooks and approvals reach the state store too, not
/// only `/invoke`), and counts the request as in flight for `/pre-stop`.
async fn track_request(
    State(state): State<Arc<FcState>>,
    request: Request,
    next: Next,
) -> Response {
    if let Some(credentials) = header_credentials(request.headers()) {
        state.handler.use_credentials(&credentials);
    }
    // Everything but the hooks and the health check is work /pre-stop
    // waits for.
    let _running = match request.uri().path() {
        "/pre-stop" | "/healthz" | "/initialize" => None,
        _ => Some(Running::start(&state.in_flight)),
    };
    next.run(request).await
}

/// Binds `config.listen` and serves [`router`] until `shutdown` completes.
pub async fn serve(
    handler: Arc<dyn Handler>,
    config: &FcConfig,
    extra: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let listener = TcpListener::bind(config.listen).await.map_err(|e| {
        io::Error::new(e.kind(), format!("cannot listen on {}: {e}", config.listen))
    })?;
    serve_listener(listener, handler, config, extra, shutdown).await
}

/// [`serve`] on a listener the caller bound (tests bind `127.0.0.1:0`).
pub async fn serve_listener(
    listener: TcpListener,
    handler: Arc<dyn Handler>,
    config: &FcConfig,
    extra: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let addr = listener.local_addr()?;
    info!(%addr, function = %config.function, "Function Compute custom runtime listening");
    axum::serve(listener, router(handler, config, extra))
        .with_graceful_shutdown(shutdown)
        .await
}

/// The event `POST /invoke` hands the handler for `body`: empty → `null`;
/// a timer trigger's `{"triggerTime", "triggerName", "payload"}` → its
/// `payload` string parsed as JSON (`null` when empty or absent);
/// anything else (InvokeFunction, an async-destination envelope, OSS) as
/// sent.
pub fn decode_event(body: &[u8]) -> Result<Value, HandlerError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    let event: Value = serde_json::from_slice(body)
        .map_err(|e| HandlerError::BadEvent(format!("the event is not JSON: {e}")))?;
    let Value::Object(map) = &event else {
        return Ok(event);
    };
    if !(map.contains_key("triggerTime") && map.contains_key("triggerName")) {
        return Ok(event);
    }
    match map.get("payload") {
        None | Some(Value::Null) => Ok(Value::Null),
        Some(Value::String(payload)) if payload.trim().is_empty() => Ok(Value::Null),
        Some(Value::String(payload)) => serde_json::from_str(payload).map_err(|e| {
            HandlerError::BadEvent(format!(
                "the timer trigger's payload is not JSON ({e}); set the trigger message to a JSON document"
            ))
        }),
        Some(other) => Ok(other.clone()),
    }
}

async fn request_span(request: Request, next: Next) -> Response {
    let request_id = request_id(request.headers());
    let span = info_span!("fc", request_id = %request_id);
    next.run(request).instrument(span).await
}

/// `x-fc-request-id`, or a local id when FC did not send one.
fn request_id(headers: &HeaderMap) -> String {
    static LOCAL: AtomicU64 = AtomicU64::new(0);
    headers
        .get(FC_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .unwrap_or_else(|| format!("local-{}", LOCAL.fetch_add(1, Ordering::Relaxed) + 1))
}

/// The `x-fc-access-key-*` headers, when both the id and the secret are
/// there.
fn header_credentials(headers: &HeaderMap) -> Option<Credentials> {
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    Some(Credentials {
        access_key_id: get("x-fc-access-key-id")?,
        access_key_secret: Secret::new(get("x-fc-access-key-secret")?),
        security_token: get("x-fc-security-token").map(Secret::new),
    })
}

async fn invoke(State(state): State<Arc<FcState>>, headers: HeaderMap, body: Body) -> Response {
    let request_id = request_id(&headers);
    let span = info_span!("invoke", function = %state.function);
    async move {
        info!("FC Invoke Start RequestId: {request_id}");
        let result = async {
            let bytes = to_bytes(body, MAX_EVENT_BYTES).await.map_err(|e| {
                HandlerError::BadEvent(format!(
                    "cannot read the event (at most {MAX_EVENT_BYTES} bytes): {e}"
                ))
            })?;
            let event = decode_event(&bytes)?;
            let invocation = Invocation {
                request_id: request_id.clone(),
                function: state.function.clone(),
                credentials: header_credentials(&headers).or_else(|| state.credentials.clone()),
            };
            state.handler.handle(invocation, event).await
        }
        .await;
        let response = match result {
            Ok(value) => success(&value),
            Err(e) => {
                warn!(error_type = e.kind(), error = %e, "invocation failed");
                failure(&e)
            }
        };
        info!("FC Invoke End RequestId: {request_id}");
        response
    }
    .instrument(span)
    .await
}

async fn initialize(State(state): State<Arc<FcState>>, headers: HeaderMap) -> Response {
    let request_id = request_id(&headers);
    info!("FC Initialize Start RequestId: {request_id}");
    let response = match state.handler.initialize().await {
        Ok(()) => with_fc_status(StatusCode::OK, Body::empty(), None),
        Err(e) => {
            warn!(error_type = e.kind(), error = %e, "initialization failed");
            failure(&e)
        }
    };
    info!("FC Initialize End RequestId: {request_id}");
    response
}

async fn pre_stop(State(state): State<Arc<FcState>>, headers: HeaderMap) -> Response {
    let request_id = request_id(&headers);
    info!("FC PreStop Start RequestId: {request_id}");
    let running = state.in_flight.drained(state.pre_stop_wait).await;
    let response = if running == 0 {
        with_fc_status(StatusCode::OK, Body::empty(), None)
    } else {
        warn!(
            running,
            "pre-stop: requests still running after {:?}; they will be cut off",
            state.pre_stop_wait
        );
        let body = serde_json::json!({
            "errorMessage": format!(
                "{running} request(s) still running after {:?} (UPDRAFT_PRE_STOP_WAIT)",
                state.pre_stop_wait
            ),
            "errorType": "StillRunning",
        });
        with_fc_status(
            StatusCode::SERVICE_UNAVAILABLE,
            Body::from(body.to_string()),
            Some("application/json"),
        )
    };
    info!("FC PreStop End RequestId: {request_id}");
    response
}

async fn healthz() -> Response {
    axum::Json(serde_json::json!({ "status": "ok" })).into_response()
}

fn success(value: &Value) -> Response {
    match serde_json::to_vec(value) {
        Ok(bytes) => with_fc_status(StatusCode::OK, Body::from(bytes), Some("application/json")),
        Err(e) => failure(&HandlerError::Failed(format!(
            "cannot encode the result: {e}"
        ))),
    }
}

fn failure(error: &HandlerError) -> Response {
    let body = error.to_body().to_string();
    with_fc_status(
        StatusCode::NOT_FOUND,
        Body::from(body),
        Some("application/json"),
    )
}

fn with_fc_status(status: StatusCode, body: Body, content_type: Option<&'static str>) -> Response {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(FC_STATUS, HeaderValue::from(status.as_u16()));
    if let Some(content_type) = content_type {
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    }
    response
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

    #[test]
    fn port_precedence_and_defaults() -> Result<(), EnvError> {
        let c = FcConfig::from_lookup(lookup(&[]))?;
        assert_eq!(c.listen, SocketAddr::from(([0, 0, 0, 0], 9000)));
        assert_eq!(c.function, "pipeline");
        assert_eq!(c.credentials, None);

        let c = FcConfig::from_lookup(lookup(&[("FC_SERVER_PORT", "8080")]))?;
        assert_eq!(c.listen.port(), 8080);

        let c = FcConfig::from_lookup(lookup(&[
            ("FC_CUSTOM_LISTEN_PORT", "7000"),
            ("FC_SERVER_PORT", "8080"),
            ("UPDRAFT_FUNCTION", "poll-registry"),
        ]))?;
        assert_eq!(c.listen.port(), 7000);
        assert_eq!(c.function, "poll-registry");

        let c = FcConfig::from_lookup(lookup(&[
            ("FC_CUSTOM_LISTEN_PORT", ""),
            ("FC_SERVER_PORT", "8080"),
        ]))?;
        assert_eq!(c.listen.port(), 8080);
        Ok(())
    }

    #[test]
    fn pre_stop_wait_from_the_environment() -> Result<(), EnvError> {
        let c = FcConfig::from_lookup(lookup(&[]))?;
        assert_eq!(c.pre_stop_wait, DEFAULT_PRE_STOP_WAIT);
        let c = FcConfig::from_lookup(lookup(&[("UPDRAFT_PRE_STOP_WAIT", "2.5")]))?;
        assert_eq!(c.pre_stop_wait, Duration::from_millis(2500));
        for bad in ["soon", "-1", "NaN", "99999"] {
            let e = FcConfig::from_lookup(lookup(&[("UPDRAFT_PRE_STOP_WAIT", bad)]));
            let Err(e) = e else {
                panic!("{bad} accepted");
            };
            assert_eq!(e.var, "UPDRAFT_PRE_STOP_WAIT");
            assert!(e.to_string().contains("seconds"), "{e}");
        }
        Ok(())
    }

    #[test]
    fn bad_port_is_an_error() {
        let e = FcConfig::from_lookup(lookup(&[("FC_CUSTOM_LISTEN_PORT", "nine")]));
        assert!(
            matches!(
                e,
                Err(EnvError {
                    var: "FC_CUSTOM_LISTEN_PORT",
                    ..
                })
            ),
            "{e:?}"
        );
    }

    #[test]
    fn env_credentials_are_redacted_in_debug() -> Result<(), EnvError> {
        let c = FcConfig::from_lookup(lookup(&[
            ("ALIBABA_CLOUD_ACCESS_KEY_ID", "STS.id"),
            ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "very-secret"),
            ("ALIBABA_CLOUD_SECURITY_TOKEN", "token-value"),
        ]))?;
        let creds = c.credentials.as_ref().map(|c| c.access_key_secret.expose());
        assert_eq!(creds, Some("very-secret"));
        let debug = format!("{c:?}");
        assert!(debug.contains("STS.id"), "{debug}");
        assert!(
            !debug.contains("very-secret") && !debug.contains("token-value"),
            "{debug}"
        );
        Ok(())
    }

    #[test]
    fn decodes_events() -> Result<(), HandlerError> {
        assert_eq!(decode_event(b"")?, Value::Null);
        assert_eq!(decode_event(b"  \n")?, Value::Null);
        let timer =
            json!({"triggerTime": "t", "triggerName": "n", "payload": "{\"job\":\"poll\"}"});
        assert_eq!(
            decode_event(timer.to_string().as_bytes())?,
            json!({"job": "poll"})
        );
        let empty = json!({"triggerTime": "t", "triggerName": "n", "payload": ""});
        assert_eq!(decode_event(empty.to_string().as_bytes())?, Value::Null);
        let absent = json!({"triggerTime": "t", "triggerName": "n"});
        assert_eq!(decode_event(absent.to_string().as_bytes())?, Value::Null);
        let envelope = json!({"requestPayload": {}, "responsePayload": {"a": 1}});
        assert_eq!(decode_event(envelope.to_string().as_bytes())?, envelope);
        let not_json = json!({"triggerTime": "t", "triggerName": "n", "payload": "awesome-fc"});
        assert!(matches!(
            decode_event(not_json.to_string().as_bytes()),
            Err(HandlerError::BadEvent(_))
        ));
        assert!(matches!(
            decode_event(b"{nope"),
            Err(HandlerError::BadEvent(_))
        ));
        Ok(())
    }
}
