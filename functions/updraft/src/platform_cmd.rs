//! Owns `updraft fc` and `updraft lambda`: the binary as a Function Compute
//! custom runtime or an AWS Lambda `bootstrap`. The pipeline handler of
//! [`crate::handler`] behind `updraft_runtime`'s adapters; the HTTP surface
//! of [`crate::http`] (webhooks, approvals) as the adapters' extra routes.

use std::sync::Arc;

use anyhow::{Context as _, Result, anyhow};
use clap::Args;
use futures::future::BoxFuture;
use serde_json::Value;
use tokio::sync::Mutex;
use updraft_pipeline::events::{PollRequest, Trigger};
use updraft_pipeline::{Context, PipelineError, Settings};
use updraft_runtime::{Credentials, Handler, HandlerError, Invocation};

use crate::handler::{Function, handle, run_pipeline};

/// The pipeline behind the platform adapters.
pub struct PipelineHandler {
    ctx: Arc<Context>,
}

impl Handler for PipelineHandler {
    fn handle(
        &self,
        invocation: Invocation,
        event: Value,
    ) -> BoxFuture<'_, Result<Value, HandlerError>> {
        Box::pin(async move {
            let Some(function) = Function::from_name(&invocation.function) else {
                return Err(HandlerError::UnknownFunction(format!(
                    "no function named '{}' (functions: {}); set UPDRAFT_FUNCTION",
                    invocation.function,
                    Function::names()
                )));
            };
            if let Some(credentials) = &invocation.credentials {
                self.use_credentials(credentials);
            }
            handle(&self.ctx, function, event)
                .await
                .map_err(|e| match e {
                    PipelineError::Event(m) => HandlerError::BadEvent(m),
                    other => HandlerError::Failed(crate::one_line(&other.to_string())),
                })
        })
    }

    fn initialize(&self) -> BoxFuture<'_, Result<(), HandlerError>> {
        // The settings, store and plugin engine are built before the server
        // starts; what is left is compiling the plugins.
        let ctx = self.ctx.clone();
        Box::pin(async move {
            ctx.warm_plugins().await.map_err(HandlerError::Failed)?;
            Ok(())
        })
    }

    fn use_credentials(&self, credentials: &Credentials) {
        // Function Compute's STS credentials: the OSS state store signs
        // with the newest (other stores ignore them).
        self.ctx.store.use_role_credentials(
            &credentials.access_key_id,
            credentials.access_key_secret.expose(),
            credentials.security_token.as_ref().map(|t| t.expose()),
        );
    }
}

fn context() -> Result<Arc<Context>> {
    let settings = Settings::discover(None)?;
    Ok(Arc::new(Context::new(settings)?))
}

/// Webhook cycles, one at a time.
fn on_push(ctx: Arc<Context>) -> crate::http::OnPush {
    let lock = Arc::new(Mutex::new(()));
    Arc::new(move |trigger: Trigger| {
        let ctx = ctx.clone();
        let lock = lock.clone();
        Box::pin(async move {
            let _guard = lock.lock().await;
            let request = PollRequest {
                trigger,
                ..PollRequest::default()
            };
            serde_json::to_value(run_pipeline(&ctx, &request).await).map_err(|e| e.to_string())
        })
    })
}

/// Runs `updraft fc`.
pub fn fc() -> Result<()> {
    let config = updraft_runtime::fc::FcConfig::from_env().map_err(|e| anyhow!("{e}"))?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let ctx = context()?;
        crate::http::check_webhook_secrets(&ctx)?;
        let extra = crate::http::router(ctx.clone(), on_push(ctx.clone()));
        let handler: Arc<dyn Handler> = Arc::new(PipelineHandler { ctx });
        eprintln!(
            "updraft fc: function {} on {}",
            config.function, config.listen
        );
        updraft_runtime::fc::serve(handler, &config, extra, crate::run_cmd::shutdown_signal())
            .await
            .map_err(|e| anyhow!("{e}"))
    })
}

/// Arguments of `updraft lambda`.
#[derive(Debug, Args)]
pub struct LambdaArgs {
    /// Serve the Function URL (webhooks, approvals) instead of events.
    #[arg(long)]
    http: bool,
}

/// Runs `updraft lambda`.
pub fn lambda(args: LambdaArgs) -> Result<()> {
    let function = std::env::var("UPDRAFT_FUNCTION")
        .ok()
        .filter(|f| !f.trim().is_empty())
        .unwrap_or_else(|| "pipeline".to_string());
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let ctx = context()?;
        let handler: Arc<dyn Handler> = Arc::new(PipelineHandler { ctx: ctx.clone() });
        if args.http {
            crate::http::check_webhook_secrets(&ctx)?;
            let extra = crate::http::router(ctx.clone(), on_push(ctx));
            updraft_runtime::lambda::run_http(handler, function, extra)
                .await
                .map_err(|e| anyhow!("{e}"))
        } else {
            updraft_runtime::lambda::run_events(handler, function)
                .await
                .map_err(|e| anyhow!("{e}"))
        }
    })
}
