//! Owns `updraft invoke FUNCTION --event FILE|-`: one function, once, as the
//! cloud runs it — the event in, the result JSON on stdout.

use std::io::Read;
use std::path::PathBuf;

use crate::handler::Function;
use anyhow::{Context as _, Result, bail};
use clap::Args;
use serde_json::Value;
use updraft_pipeline::{Context, Settings};

/// Arguments of `updraft invoke`.
#[derive(Debug, Args)]
pub struct InvokeArgs {
    /// The function: poll-registry, resolve-strategy, write-back, sync-trigger,
    /// or pipeline (all four in process).
    function: String,
    /// The event: a JSON file, or `-` for stdin. Without it, poll-registry
    /// polls everything and sync-trigger re-evaluates open changes (a timer
    /// event).
    #[arg(long)]
    event: Option<String>,
    /// updraft.yaml (default: $UPDRAFT_CONFIG, else ./updraft.yaml if present).
    #[arg(long)]
    config: Option<PathBuf>,
}

/// Runs `updraft invoke`.
pub fn run(args: InvokeArgs) -> Result<()> {
    let Some(function) = Function::from_name(&args.function) else {
        bail!(
            "no function named '{}' (functions: {})",
            args.function,
            Function::names()
        );
    };
    let event = match args.event.as_deref() {
        None => Value::Null,
        Some(source) => {
            let text = read_event(source)?;
            serde_json::from_str(&text)
                .with_context(|| format!("the event in {} is not JSON", display_source(source)))?
        }
    };
    let settings = Settings::discover(args.config.as_deref())?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let result = runtime.block_on(async {
        let ctx = Context::new(settings)?;
        crate::handler::handle(&ctx, function, event).await
    })?;
    println!("{}", serde_json::to_string_pretty(&result)?);
    Ok(())
}

fn read_event(source: &str) -> Result<String> {
    if source == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read the event from stdin")?;
        return Ok(text);
    }
    std::fs::read_to_string(source).with_context(|| format!("cannot read event file {source}"))
}

fn display_source(source: &str) -> &str {
    if source == "-" { "<stdin>" } else { source }
}
