//! Owns the approval endpoints over HTTP (an axum `Router` the local runtime
//! and the HTTP-triggered function mount): list what waits, approve,
//! reject, roll back, release, read the audit log. Every request needs
//! `Authorization: Bearer <token>` with the token of `approvals.token` in
//! `updraft.yaml`; without that setting the endpoints answer 503.
//!
//! ```text
//! GET    /approvals                              pending changes
//! POST   /approvals/{namespace}/{name}/approve   {"by": "...", "commit": "..."}
//! POST   /approvals/{namespace}/{name}/reject    {"by": "...", "commit": "...", "reason": "..."}
//! POST   /holds/{namespace}/{name}/rollback      {"by": "...", "to": "TAG", "image": "ALIAS"}
//! DELETE /holds/{namespace}/{name}?by=NAME       release the hold
//! GET    /audit                                  the audit log
//! ```

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::approvals::{self, ApprovalError};
use crate::context::Context;

/// The largest request body accepted.
const BODY_LIMIT: usize = 64 * 1024;

/// The approval endpoints over `ctx`.
pub fn router(ctx: Arc<Context>) -> Router {
    Router::new()
        .route("/approvals", get(list))
        .route("/approvals/{namespace}/{name}/approve", post(approve))
        .route("/approvals/{namespace}/{name}/reject", post(reject))
        .route("/holds/{namespace}/{name}/rollback", post(rollback))
        .route("/holds/{namespace}/{name}", delete(release))
        .route("/audit", get(audit))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(ctx)
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

/// Checks the bearer token in constant time (both sides hashed first, so
/// neither the length nor a prefix leaks through timing).
/// `Some(response)`: refused.
fn authorize(ctx: &Context, headers: &HeaderMap) -> Option<Response> {
    let Some(reference) = &ctx.settings.approvals_token else {
        return Some(error(
            StatusCode::SERVICE_UNAVAILABLE,
            "approvals over HTTP are off; set approvals: {token: env:NAME} in updraft.yaml",
        ));
    };
    let expected = match reference.resolve() {
        Ok(token) => token,
        Err(m) => {
            return Some(error(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("approvals token: {m}"),
            ));
        }
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    let a = Sha256::digest(expected.as_bytes());
    let b = Sha256::digest(given.as_bytes());
    let same = a
        .iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0;
    if given.is_empty() || !same {
        return Some(error(
            StatusCode::UNAUTHORIZED,
            "missing or wrong bearer token (Authorization: Bearer <approvals token>)",
        ));
    }
    None
}

fn actor(by: Option<String>) -> String {
    by.filter(|b| !b.trim().is_empty())
        .unwrap_or_else(|| "http".to_string())
}

/// A request that does not fit what is stored (nothing waits, unknown
/// application) is 409; the store, git or Argo CD failing is 502.
fn failed(e: ApprovalError) -> Response {
    match e {
        ApprovalError::Conflict(message) => error(StatusCode::CONFLICT, message),
        ApprovalError::Failed(message) => error(StatusCode::BAD_GATEWAY, message),
    }
}

async fn list(State(ctx): State<Arc<Context>>, headers: HeaderMap) -> Response {
    if let Some(r) = authorize(&ctx, &headers) {
        return r;
    }
    match approvals::pending(&ctx).await {
        Ok(list) => Json(list).into_response(),
        Err(m) => failed(m),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Decision {
    #[serde(default)]
    by: Option<String>,
    #[serde(default)]
    commit: Option<String>,
    #[serde(default)]
    reason: Option<String>,
}

fn decision(body: Option<Json<Decision>>) -> Decision {
    body.map(|Json(d)| d).unwrap_or_default()
}

async fn approve(
    State(ctx): State<Arc<Context>>,
    Path((namespace, name)): Path<(String, String)>,
    headers: HeaderMap,
    body: Option<Json<Decision>>,
) -> Response {
    if let Some(r) = authorize(&ctx, &headers) {
        return r;
    }
    let d = decision(body);
    let app = format!("{namespace}/{name}");
    match approvals::approve(&ctx, &app, d.commit.as_deref(), &actor(d.by)).await {
        Ok(done) => Json(done).into_response(),
        Err(m) => failed(m),
    }
}

async fn reject(
    State(ctx): State<Arc<Context>>,
    Path((namespace, name)): Path<(String, String)>,
    headers: HeaderMap,
    body: Option<Json<Decision>>,
) -> Response {
    if let Some(r) = authorize(&ctx, &headers) {
        return r;
    }
    let d = decision(body);
    let app = format!("{namespace}/{name}");
    let reason = d.reason.unwrap_or_else(|| "rejected".to_string());
    match approvals::reject(&ctx, &app, d.commit.as_deref(), &actor(d.by), &reason).await {
        Ok(message) => Json(json!({ "message": message })).into_response(),
        Err(m) => failed(m),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RollbackBody {
    to: String,
    #[serde(default)]
    image: Option<String>,
    #[serde(default)]
    by: Option<String>,
}

async fn rollback(
    State(ctx): State<Arc<Context>>,
    Path((namespace, name)): Path<(String, String)>,
    headers: HeaderMap,
    body: Result<Json<RollbackBody>, axum::extract::rejection::JsonRejection>,
) -> Response {
    if let Some(r) = authorize(&ctx, &headers) {
        return r;
    }
    let Json(body) = match body {
        Ok(b) => b,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!(
                    "the body must be {{\"to\": \"TAG\", \"image\": \"ALIAS\", \"by\": \"NAME\"}}: {e}"
                ),
            );
        }
    };
    let app = format!("{namespace}/{name}");
    match approvals::rollback(&ctx, &app, body.image.as_deref(), &body.to, &actor(body.by)).await {
        Ok(done) => Json(done).into_response(),
        Err(m) => failed(m),
    }
}

#[derive(Debug, Deserialize)]
struct By {
    #[serde(default)]
    by: Option<String>,
}

async fn release(
    State(ctx): State<Arc<Context>>,
    Path((namespace, name)): Path<(String, String)>,
    Query(by): Query<By>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = authorize(&ctx, &headers) {
        return r;
    }
    let app = format!("{namespace}/{name}");
    match approvals::release(&ctx, &app, &actor(by.by)).await {
        Ok(message) => Json(json!({ "message": message })).into_response(),
        Err(m) => failed(m),
    }
}

async fn audit(State(ctx): State<Arc<Context>>, headers: HeaderMap) -> Response {
    if let Some(r) = authorize(&ctx, &headers) {
        return r;
    }
    match crate::sync::audit_log(&ctx).await {
        Ok(log) => Json(log).into_response(),
        Err(m) => failed(ApprovalError::Failed(m)),
    }
}
