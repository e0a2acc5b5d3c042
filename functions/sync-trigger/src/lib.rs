//! The `sync-trigger` function, as thin as it can be: decode a
//! `SyncRequest` (or the async-destination envelope around one), sync the
//! automated applications and record pending approvals for the manual ones,
//! encode the `SyncReport`. An empty event (a timer) re-evaluates every
//! open change. Runtimes call [`handle`].

use serde_json::Value;
use updraft_pipeline::events::{SyncRequest, decode, encode};
use updraft_pipeline::{Context, PipelineError};

/// The function's name, as `updraft invoke` and the runtimes spell it.
pub const NAME: &str = "sync-trigger";

/// Handles one event. `null` (a timer) re-evaluates open changes.
pub async fn handle(ctx: &Context, event: Value) -> Result<Value, PipelineError> {
    let request = if event.is_null() {
        SyncRequest::default()
    } else {
        decode::<SyncRequest>(event)?
    };
    Ok(encode(
        &updraft_pipeline::sync::sync_trigger(ctx, request).await,
    ))
}
