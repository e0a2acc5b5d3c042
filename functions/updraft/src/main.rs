//! The `updraft` command line: parses arguments and dispatches to one module
//! per command. Errors are printed on one line and exit non-zero.

mod catalog;
mod handler;
mod http;
mod invoke_cmd;
mod platform_cmd;
mod plugin_cmd;
mod promote_cmd;
mod resolve_cmd;
mod run_cmd;
mod test_cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Keeps GitOps deployments on the newest acceptable container image.
#[derive(Debug, Parser)]
#[command(name = "updraft", version, about)]
struct Cli {
    /// Log level filter (also RUST_LOG), e.g. `info` or `updraft=debug`.
    #[arg(long, global = true, default_value = "warn")]
    log_level: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Pick a tag from a JSON list of tags, offline, and print the decision as JSON.
    Resolve(resolve_cmd::ResolveArgs),
    /// Resolve IMAGE against its live registry and print the chosen reference.
    Test(test_cmd::TestArgs),
    /// Run one function once, as the cloud runs it: an event in, the result out.
    Invoke(invoke_cmd::InvokeArgs),
    /// The local runtime: the pipeline on a schedule, approvals and webhooks over HTTP.
    Run(run_cmd::RunArgs),
    /// Serve as an Alibaba Cloud Function Compute custom runtime (UPDRAFT_FUNCTION picks the function).
    Fc,
    /// Run as an AWS Lambda bootstrap (events; --http for the Function URL).
    Lambda(platform_cmd::LambdaArgs),
    /// Inspect or precompile plugins.
    #[command(subcommand)]
    Plugin(plugin_cmd::PluginCommand),
    /// List the changes that wait for approval, a gate or a hold.
    Pending(promote_cmd::PendingArgs),
    /// Approve the change waiting for APP: sync it and promote its canary.
    Approve(promote_cmd::ApproveArgs),
    /// Reject the change waiting for APP: it is never synced.
    Reject(promote_cmd::RejectArgs),
    /// Write an older tag for APP and hold it there.
    Rollback(promote_cmd::RollbackArgs),
    /// Lift the hold on APP.
    Release(promote_cmd::ReleaseArgs),
    /// Print the audit log.
    Audit(promote_cmd::AuditArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli.log_level);
    let result = match cli.command {
        Command::Resolve(args) => resolve_cmd::run(args),
        Command::Test(args) => test_cmd::run(args),
        Command::Invoke(args) => invoke_cmd::run(args),
        Command::Run(args) => run_cmd::run(args),
        Command::Fc => platform_cmd::fc(),
        Command::Lambda(args) => platform_cmd::lambda(args),
        Command::Plugin(cmd) => plugin_cmd::run(cmd),
        Command::Pending(args) => promote_cmd::pending(args),
        Command::Approve(args) => promote_cmd::approve(args),
        Command::Reject(args) => promote_cmd::reject(args),
        Command::Rollback(args) => promote_cmd::rollback(args),
        Command::Release(args) => promote_cmd::release(args),
        Command::Audit(args) => promote_cmd::audit(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", one_line(&format!("{e:#}")));
            ExitCode::FAILURE
        }
    }
}

fn init_logging(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(level))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    use std::io::IsTerminal as _;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
}

/// Errors are printed on one line, whatever a library put in them.
pub(crate) fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}
