//! The `resolve-strategy` function, as thin as it can be: decode a
//! `ResolveRequest` (or the async-destination envelope around one), decide,
//! encode the `WriteBackRequest`. Runtimes call [`handle`].

use serde_json::Value;
use updraft_pipeline::events::{ResolveRequest, decode, encode};
use updraft_pipeline::{Context, PipelineError};

/// The function's name, as `updraft invoke` and the runtimes spell it.
pub const NAME: &str = "resolve-strategy";

/// Handles one event.
pub async fn handle(ctx: &Context, event: Value) -> Result<Value, PipelineError> {
    let request = decode::<ResolveRequest>(event)?;
    Ok(encode(
        &updraft_pipeline::resolve::resolve(ctx, request).await,
    ))
}
