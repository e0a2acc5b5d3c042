//! The `write-back` function, as thin as it can be: decode a
//! `WriteBackRequest` (or the async-destination envelope around one), write
//! every change to git or the Argo CD API, encode the `SyncRequest`.
//! Runtimes call [`handle`].

use serde_json::Value;
use updraft_pipeline::events::{WriteBackRequest, decode, encode};
use updraft_pipeline::{Context, PipelineError};

/// The function's name, as `updraft invoke` and the runtimes spell it.
pub const NAME: &str = "write-back";

/// Handles one event.
pub async fn handle(ctx: &Context, event: Value) -> Result<Value, PipelineError> {
    let request = decode::<WriteBackRequest>(event)?;
    Ok(encode(
        &updraft_pipeline::writeback_run::write_back(ctx, request).await,
    ))
}
