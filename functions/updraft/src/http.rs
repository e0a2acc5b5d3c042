//! Owns the HTTP surface the local runtime (and the HTTP-triggered
//! function) serves: `/healthz`, the approval endpoints of
//! `updraft_pipeline::approvals_http`, and registry webhooks
//! (`updraft_webhooks`), each push turned into a webhook-triggered cycle
//! that polls the pushed repository (the tag is only a hint).

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use futures::future::BoxFuture;
use serde_json::{Value, json};
use updraft_pipeline::Context;
use updraft_pipeline::events::Trigger;
use updraft_pipeline::settings::SecretRef;

/// Runs a cycle for a push and returns its report.
pub type OnPush = Arc<dyn Fn(Trigger) -> BoxFuture<'static, Result<Value, String>> + Send + Sync>;

/// Fails when a configured webhook source's secret cannot be read, so that
/// a typo shows at start-up rather than as a 500 on the first delivery.
pub fn check_webhook_secrets(ctx: &Context) -> anyhow::Result<()> {
    let base = ctx.settings.base.clone();
    ctx.settings
        .webhooks
        .check_secrets(&|reference: &str| SecretRef::parse(reference, &base)?.resolve())
        .map_err(|e| anyhow::anyhow!("webhooks: {e}"))
}

/// The routes.
pub fn router(ctx: Arc<Context>, on_push: OnPush) -> Router {
    let base = ctx.settings.base.clone();
    let resolve: updraft_webhooks::Resolver =
        Arc::new(move |reference: &str| SecretRef::parse(reference, &base)?.resolve());
    let pushes: updraft_webhooks::OnPush = Arc::new(move |pushes: Vec<updraft_webhooks::Push>| {
        let on_push = on_push.clone();
        Box::pin(async move {
            // One cycle per distinct repository; the tag is only a hint.
            let mut seen = std::collections::BTreeSet::new();
            let mut reports = Vec::new();
            for push in pushes {
                if !seen.insert((push.registry.clone(), push.repository.clone())) {
                    continue;
                }
                let trigger = Trigger::Webhook {
                    registry: push.registry,
                    repository: push.repository,
                    tag: push.tag,
                };
                reports.push(on_push(trigger).await?);
            }
            Ok(json!({ "cycles": reports }))
        })
    });
    Router::new()
        .route(
            "/healthz",
            get(|| async { axum::Json(json!({"status": "ok"})) }),
        )
        .merge(updraft_pipeline::approvals_http::router(ctx.clone()))
        .merge(updraft_webhooks::router(
            Arc::new(ctx.settings.webhooks.clone()),
            resolve,
            pushes,
        ))
}
