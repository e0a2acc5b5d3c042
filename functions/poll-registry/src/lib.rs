//! The `poll-registry` function, as thin as it can be: decode a
//! `PollRequest`, poll, encode the `ResolveRequest`. Runtimes (Function
//! Compute, Lambda, local) call [`handle`].

use serde_json::Value;
use updraft_pipeline::events::{PollRequest, decode, encode};
use updraft_pipeline::{Context, PipelineError};

/// The function's name, as `updraft invoke` and the runtimes spell it.
pub const NAME: &str = "poll-registry";

/// Handles one event. `null` (an empty timer payload) polls everything.
pub async fn handle(ctx: &Context, event: Value) -> Result<Value, PipelineError> {
    let request = if event.is_null() {
        PollRequest::default()
    } else {
        decode::<PollRequest>(event)?
    };
    Ok(encode(&updraft_pipeline::poll::poll(ctx, &request).await))
}
