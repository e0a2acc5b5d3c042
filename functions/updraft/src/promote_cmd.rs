//! Owns the release manager's commands: `updraft pending`, `approve`,
//! `reject`, `rollback`, `release` and `audit` — thin wrappers over
//! `updraft_pipeline::approvals` that print readable text, or JSON with
//! `--output json`.

use std::path::PathBuf;

use anyhow::{Context as _, Result, anyhow};
use clap::{Args, ValueEnum};
use updraft_pipeline::approvals::{self, application_id};
use updraft_pipeline::{Context, Settings};

/// Output format.
#[derive(Debug, Clone, Copy, Default, ValueEnum)]
pub enum Output {
    /// Readable text.
    #[default]
    Text,
    /// JSON.
    Json,
}

/// Options every promotion command takes.
#[derive(Debug, Args)]
pub struct Common {
    /// updraft.yaml (default: $UPDRAFT_CONFIG, else ./updraft.yaml if present).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Output::Text)]
    output: Output,
}

/// Who decides (recorded in the audit log).
#[derive(Debug, Args)]
pub struct Actor {
    /// Your name for the audit log (default: $UPDRAFT_USER, else $USER).
    #[arg(long)]
    by: Option<String>,
}

impl Actor {
    fn name(&self) -> String {
        self.by
            .clone()
            .or_else(|| std::env::var("UPDRAFT_USER").ok())
            .or_else(|| std::env::var("USER").ok())
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| "cli".to_string())
    }
}

/// `updraft pending`.
#[derive(Debug, Args)]
pub struct PendingArgs {
    #[command(flatten)]
    common: Common,
}

/// `updraft approve APP`.
#[derive(Debug, Args)]
pub struct ApproveArgs {
    /// The application: `name` (namespace argocd) or `namespace/name`.
    app: String,
    /// The commit to approve (a prefix is enough); default: the newest waiting.
    #[arg(long)]
    commit: Option<String>,
    #[command(flatten)]
    actor: Actor,
    #[command(flatten)]
    common: Common,
}

/// `updraft reject APP`.
#[derive(Debug, Args)]
pub struct RejectArgs {
    /// The application: `name` or `namespace/name`.
    app: String,
    /// The commit to reject (a prefix is enough); default: the newest waiting.
    #[arg(long)]
    commit: Option<String>,
    /// Why (recorded in the audit log).
    #[arg(long, default_value = "rejected")]
    reason: String,
    #[command(flatten)]
    actor: Actor,
    #[command(flatten)]
    common: Common,
}

/// `updraft rollback APP --to TAG`.
#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The application: `name` or `namespace/name`.
    app: String,
    /// The tag to go back to.
    #[arg(long)]
    to: String,
    /// Which image (alias or name) when the application has several.
    #[arg(long)]
    image: Option<String>,
    #[command(flatten)]
    actor: Actor,
    #[command(flatten)]
    common: Common,
}

/// `updraft release APP`.
#[derive(Debug, Args)]
pub struct ReleaseArgs {
    /// The application: `name` or `namespace/name`.
    app: String,
    #[command(flatten)]
    actor: Actor,
    #[command(flatten)]
    common: Common,
}

/// `updraft audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(flatten)]
    common: Common,
}

fn block_on<T, E: std::fmt::Display>(
    common: &Common,
    f: impl AsyncFnOnce(&Context) -> Result<T, E>,
) -> Result<T> {
    let settings = Settings::discover(common.config.as_deref())?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let ctx = Context::new(settings)?;
        f(&ctx).await.map_err(|e| anyhow!(e.to_string()))
    })
}

fn print_json<T: serde::Serialize>(value: &T) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// Runs `updraft pending`.
pub fn pending(args: PendingArgs) -> Result<()> {
    let list = block_on(&args.common, async |ctx| approvals::pending(ctx).await)?;
    if let Output::Json = args.common.output {
        return print_json(&list);
    }
    if list.is_empty() {
        println!("nothing waits");
        return Ok(());
    }
    for p in &list {
        println!(
            "{}{}  {}  commit {}  waiting {}",
            p.application,
            p.environment
                .as_deref()
                .map(|e| format!(" ({e})"))
                .unwrap_or_default(),
            p.state,
            p.commit.get(..12).unwrap_or(&p.commit),
            p.age
        );
        for c in &p.changes {
            println!("    {c}");
        }
        if let Some(by) = &p.approved_by {
            println!("    approved by {by}");
        }
        for w in &p.waiting_for {
            println!("    waits for {w}");
        }
    }
    Ok(())
}

/// Runs `updraft approve`.
pub fn approve(args: ApproveArgs) -> Result<()> {
    let app = application_id(&args.app);
    let by = args.actor.name();
    let done = block_on(&args.common, async |ctx| {
        approvals::approve(ctx, &app, args.commit.as_deref(), &by).await
    })?;
    match args.common.output {
        Output::Json => print_json(&done),
        Output::Text => {
            println!("{}", done.message);
            Ok(())
        }
    }
}

/// Runs `updraft reject`.
pub fn reject(args: RejectArgs) -> Result<()> {
    let app = application_id(&args.app);
    let by = args.actor.name();
    let message = block_on(&args.common, async |ctx| {
        approvals::reject(ctx, &app, args.commit.as_deref(), &by, &args.reason).await
    })?;
    match args.common.output {
        Output::Json => print_json(&serde_json::json!({ "message": message })),
        Output::Text => {
            println!("{message}");
            Ok(())
        }
    }
}

/// Runs `updraft rollback`.
pub fn rollback(args: RollbackArgs) -> Result<()> {
    let app = application_id(&args.app);
    let by = args.actor.name();
    let done = block_on(&args.common, async |ctx| {
        approvals::rollback(ctx, &app, args.image.as_deref(), &args.to, &by).await
    })?;
    match args.common.output {
        Output::Json => print_json(&done),
        Output::Text => {
            for w in &done.written.applications {
                println!("{}: {}", app, w.reason);
            }
            if let Some(s) = &done.synced {
                println!("{}", s.message);
            }
            println!(
                "{app} is held ({}); `updraft release {app}` lets updates through again",
                done.hold.reason
            );
            Ok(())
        }
    }
}

/// Runs `updraft release`.
pub fn release(args: ReleaseArgs) -> Result<()> {
    let app = application_id(&args.app);
    let by = args.actor.name();
    let message = block_on(&args.common, async |ctx| {
        approvals::release(ctx, &app, &by).await
    })?;
    match args.common.output {
        Output::Json => print_json(&serde_json::json!({ "message": message })),
        Output::Text => {
            println!("{message}");
            Ok(())
        }
    }
}

/// Runs `updraft audit`.
pub fn audit(args: AuditArgs) -> Result<()> {
    let log = block_on(&args.common, async |ctx| {
        updraft_pipeline::sync::audit_log(ctx).await
    })?;
    if let Output::Json = args.common.output {
        return print_json(&log);
    }
    for e in &log {
        let result = match &e.result {
            updraft_core::promotion::AuditResult::Ok => "ok".to_string(),
            updraft_core::promotion::AuditResult::Error { message } => format!("error: {message}"),
        };
        println!(
            "{}  {:<10} {:<8} {}  {}  [{result}]",
            e.at.to_rfc3339(),
            e.actor,
            format!("{:?}", e.action).to_lowercase(),
            e.application,
            e.detail
        );
    }
    Ok(())
}
