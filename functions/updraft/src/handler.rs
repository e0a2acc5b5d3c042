//! Owns the one handler every runtime calls (`updraft invoke`, `updraft
//! run`, the Function Compute and Lambda adapters of `updraft-runtime`): a
//! function name and a JSON event in, a JSON result out; and the `pipeline`
//! function, which runs the four stages in process (local runtime, small
//! installs) and returns every stage's result.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tracing::info;
use updraft_pipeline::events::{
    PollRequest, ResolveRequest, SyncReport, SyncRequest, WriteBackRequest, decode,
};
use updraft_pipeline::{Context, PipelineError};

/// A function Updraft deploys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Function {
    /// `poll-registry`: PollRequest → ResolveRequest.
    PollRegistry,
    /// `resolve-strategy`: ResolveRequest → WriteBackRequest.
    ResolveStrategy,
    /// `write-back`: WriteBackRequest → SyncRequest.
    WriteBack,
    /// `sync-trigger`: SyncRequest → SyncReport.
    SyncTrigger,
    /// `pipeline`: PollRequest → every stage in process → PipelineReport.
    Pipeline,
}

impl Function {
    /// Every function, in pipeline order.
    pub const ALL: [Function; 5] = [
        Function::PollRegistry,
        Function::ResolveStrategy,
        Function::WriteBack,
        Function::SyncTrigger,
        Function::Pipeline,
    ];

    /// The function's name (`poll-registry`, …).
    pub fn name(self) -> &'static str {
        match self {
            Function::PollRegistry => updraft_poll_registry::NAME,
            Function::ResolveStrategy => updraft_resolve_strategy::NAME,
            Function::WriteBack => updraft_write_back::NAME,
            Function::SyncTrigger => updraft_sync_trigger::NAME,
            Function::Pipeline => "pipeline",
        }
    }

    /// The function called `name`.
    pub fn from_name(name: &str) -> Option<Function> {
        Function::ALL.into_iter().find(|f| f.name() == name)
    }

    /// Every name, comma-separated (for messages).
    pub fn names() -> String {
        Function::ALL
            .iter()
            .map(|f| f.name())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl std::fmt::Display for Function {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Runs `function` with `event`. `null` is a timer's event: poll everything
/// (poll-registry, pipeline) or re-evaluate open changes (sync-trigger).
pub async fn handle(
    ctx: &Context,
    function: Function,
    event: Value,
) -> Result<Value, PipelineError> {
    match function {
        Function::PollRegistry => updraft_poll_registry::handle(ctx, event).await,
        Function::ResolveStrategy => updraft_resolve_strategy::handle(ctx, event).await,
        Function::WriteBack => updraft_write_back::handle(ctx, event).await,
        Function::SyncTrigger => updraft_sync_trigger::handle(ctx, event).await,
        Function::Pipeline => {
            let request = if event.is_null() {
                PollRequest::default()
            } else {
                decode::<PollRequest>(event)?
            };
            Ok(serde_json::to_value(run_pipeline(ctx, &request).await).unwrap_or(Value::Null))
        }
    }
}

/// Every stage's result of one in-process cycle.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PipelineReport {
    /// `updraft.dev/v1alpha1`.
    pub api_version: String,
    /// `PipelineReport`.
    pub kind: String,
    /// poll-registry's result.
    pub resolve: ResolveRequest,
    /// resolve-strategy's result.
    pub write_back: WriteBackRequest,
    /// write-back's result.
    pub sync: SyncRequest,
    /// sync-trigger's result (`None` without `argocd:`: Argo CD's own sync
    /// policy takes the commit from git).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<SyncReport>,
}

/// Runs poll-registry → resolve-strategy → write-back → sync-trigger in
/// process (sync-trigger only with `argocd:` configured).
pub async fn run_pipeline(ctx: &Context, request: &PollRequest) -> PipelineReport {
    let resolve = updraft_pipeline::poll::poll(ctx, request).await;
    let write_back = updraft_pipeline::resolve::resolve(ctx, resolve.clone()).await;
    let sync = updraft_pipeline::writeback_run::write_back(ctx, write_back.clone()).await;
    // A dry run syncs nothing and approves nothing.
    let report = if ctx.settings.argocd.is_some() && !ctx.settings.git.dry_run {
        Some(updraft_pipeline::sync::sync_trigger(ctx, sync.clone()).await)
    } else {
        None
    };

    info!(
        changes = write_back.applications.len(),
        commits = sync.stats.commits,
        "pipeline cycle finished"
    );
    PipelineReport {
        api_version: updraft_pipeline::events::API_VERSION.to_string(),
        kind: "PipelineReport".to_string(),
        resolve,
        write_back,
        sync,
        report,
    }
}
