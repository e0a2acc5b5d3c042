//! Owns the HTTP endpoint: `POST /webhook/{source}` and
//! `POST /webhook/{source}/{secret}` (plus Image Updater's
//! `POST /webhook?type=<type>` for drop-in URLs), applying, in order: unknown
//! or disabled source (404), body limit (413), [`receive`] (400/401/500),
//! nothing to do (200 `ignored`), replay (200 `duplicate`), rate limit
//! (429), then the caller's `on_push` (200 with its JSON, or 502). The rate
//! limit counts genuine pushes only: a registry's blob and pull events and
//! requests without the secret do not spend it, so they can neither hold
//! back real pushes nor be throttled into hiding them.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use futures::StreamExt;
use futures::future::BoxFuture;
use serde_json::{Value, json};

use crate::{
    BODY_LIMIT, Incoming, Push, RateLimiter, Rejection, ReplayGuard, Source, WebhookConfig, receive,
};

/// Resolves a secret reference (`env:NAME`, `file:PATH`) to its value.
pub type Resolver = Arc<dyn Fn(&str) -> Result<String, String> + Send + Sync>;

/// Hands accepted pushes to the rest of Updraft; its JSON is the response.
pub type OnPush = Arc<dyn Fn(Vec<Push>) -> BoxFuture<'static, Result<Value, String>> + Send + Sync>;

struct AppState {
    config: Arc<WebhookConfig>,
    resolve: Resolver,
    on_push: OnPush,
    limiter: RateLimiter,
    replay: ReplayGuard,
}

/// The webhook router. Rate-limit and replay state live inside it, one set
/// per router (so per process).
pub fn router(config: Arc<WebhookConfig>, resolve: Resolver, on_push: OnPush) -> Router {
    let state = Arc::new(AppState {
        limiter: RateLimiter::new(config.rate_limit),
        replay: ReplayGuard::default(),
        config,
        resolve,
        on_push,
    });
    Router::new()
        .route("/webhook", post(by_type))
        .route("/webhook/{source}", post(by_path))
        .route("/webhook/{source}/{secret}", post(by_path_secret))
        .with_state(state)
}

async fn by_path(
    State(state): State<Arc<AppState>>,
    Path(source): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    handle(&state, &source, None, query, headers, body).await
}

async fn by_path_secret(
    State(state): State<Arc<AppState>>,
    Path((source, secret)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    handle(&state, &source, Some(secret), query, headers, body).await
}

/// Image Updater's `POST /webhook?type=<type>` (type also in `X-Registry-Type`).
async fn by_type(
    State(state): State<Arc<AppState>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let pairs = parse_query(query.as_deref());
    let kind = pairs
        .iter()
        .find(|(k, _)| k == "type")
        .map(|(_, v)| v.clone())
        .or_else(|| {
            headers
                .get("x-registry-type")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        })
        .unwrap_or_default();
    match Source::from_image_updater_type(kind.trim()) {
        Some(source) => handle(&state, source.name(), None, query, headers, body).await,
        None => rejection_response(
            None,
            &Rejection::new(
                404,
                format!("unknown webhook type {}", crate::quoted(&kind)),
            ),
        ),
    }
}

fn parse_query(query: Option<&str>) -> Vec<(String, String)> {
    query
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default()
}

async fn handle(
    state: &AppState,
    name: &str,
    path_secret: Option<String>,
    query: Option<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(source) = Source::from_name(name) else {
        return rejection_response(None, &Rejection::unknown_source(name));
    };
    if !state.config.is_enabled(source) {
        return rejection_response(Some(source), &Rejection::not_configured(source));
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > BODY_LIMIT as u64) {
        return rejection_response(Some(source), &Rejection::too_large());
    }
    let bytes = match read_limited(body, BODY_LIMIT).await {
        Ok(bytes) => bytes,
        Err(rejection) => return rejection_response(Some(source), &rejection),
    };
    let query = parse_query(query.as_deref());
    let headers: Vec<(String, String)> = headers
        .iter()
        .filter_map(|(k, v)| {
            v.to_str()
                .ok()
                .map(|v| (k.as_str().to_ascii_lowercase(), v.to_owned()))
        })
        .collect();
    let incoming = Incoming {
        source: source.name(),
        path_secret: path_secret.as_deref(),
        query: &query,
        headers: &headers,
        body: &bytes,
    };
    let pushes = match receive(&state.config, &incoming, &*state.resolve) {
        Ok(pushes) => pushes,
        Err(rejection) => return rejection_response(Some(source), &rejection),
    };
    if pushes.is_empty() {
        tracing::debug!(source = source.name(), "webhook had nothing to do");
        return (StatusCode::OK, axum::Json(json!({"status": "ignored"}))).into_response();
    }
    if state.replay.seen(source.name(), &bytes, Instant::now()) {
        tracing::info!(source = source.name(), "webhook replayed; ignored");
        return (StatusCode::OK, axum::Json(json!({"status": "duplicate"}))).into_response();
    }
    let now = Instant::now();
    if !state.limiter.check(source.name(), now) {
        // Not handled: the registry's retry must not look like a replay.
        state.replay.forget(source.name(), &bytes);
        let retry = state.limiter.retry_after(source.name(), now);
        let mut response = rejection_response(
            Some(source),
            &Rejection::new(
                429,
                format!("rate limit exceeded for webhook source {source}"),
            ),
        );
        if let Ok(v) = HeaderValue::from_str(&retry.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return response;
    }
    for push in &pushes {
        tracing::info!(
            source = push.source,
            registry = push.registry.as_deref().unwrap_or(""),
            repository = %push.repository,
            tag = push.tag.as_deref().unwrap_or(""),
            "webhook push received"
        );
    }
    match (state.on_push)(pushes).await {
        Ok(value) => (StatusCode::OK, axum::Json(value)).into_response(),
        Err(message) => {
            // Let the registry's retry through: it is not a replay.
            state.replay.forget(source.name(), &bytes);
            tracing::warn!(source = source.name(), error = %message, "webhook hand-off failed");
            (
                StatusCode::BAD_GATEWAY,
                axum::Json(json!({"error": message})),
            )
                .into_response()
        }
    }
}

/// Reads the body, refusing more than `limit` bytes without buffering them.
async fn read_limited(body: Body, limit: usize) -> Result<Vec<u8>, Rejection> {
    let mut stream = body.into_data_stream();
    let mut buf = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| Rejection::malformed("request body could not be read"))?;
        if buf.len() + chunk.len() > limit {
            return Err(Rejection::too_large());
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf)
}

fn rejection_response(source: Option<Source>, rejection: &Rejection) -> Response {
    let source = source.map_or("", Source::name);
    if rejection.status >= 500 {
        tracing::error!(source, status = rejection.status, message = %rejection.message, "webhook refused");
    } else {
        tracing::warn!(source, status = rejection.status, message = %rejection.message, "webhook refused");
    }
    let status = StatusCode::from_u16(rejection.status).unwrap_or(StatusCode::BAD_REQUEST);
    (status, axum::Json(json!({"error": rejection.message}))).into_response()
}
