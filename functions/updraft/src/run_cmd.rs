//! Owns `updraft run`, the local runtime: the pipeline on a cron schedule
//! (the expression style of Function Compute timers, `CRON_TZ=` prefix
//! included), an HTTP server for the approval endpoints and registry
//! webhooks, `--once` for a single cycle and `--dry-run` to print the diffs
//! instead of committing. Cycles never overlap: a timer that fires while one
//! runs is skipped; a webhook is answered at once (`queued`) and its cycle
//! runs after the running one, a push for a repository already waiting
//! joining it. Ctrl-C or SIGTERM stops taking work and lets a running cycle
//! finish (bounded), then exits; queued webhook cycles are left to the next
//! timer.

use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result, anyhow, bail};
use chrono::{FixedOffset, Utc};
use clap::Args;
use serde_json::{Value, json};
use tokio::sync::{Mutex, Notify, watch};
use tracing::{info, warn};
use updraft_pipeline::events::{PollRequest, Trigger};
use updraft_pipeline::{Context, Settings};

use crate::handler::{PipelineReport, run_pipeline};

/// The default schedule: every five minutes, on the minute.
const DEFAULT_SCHEDULE: &str = "0 */5 * * * *";
/// How long a running cycle may take to finish after a stop signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(120);

/// Arguments of `updraft run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// updraft.yaml (default: $UPDRAFT_CONFIG, else ./updraft.yaml if present).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Run one cycle, print what happened, exit.
    #[arg(long)]
    once: bool,
    /// Commit and push nothing: print the diff each commit would have.
    #[arg(long)]
    dry_run: bool,
    /// When to run: a cron expression with seconds (`sec min hour dom mon
    /// dow [year]`), optionally `CRON_TZ=<zone> ` in front (UTC, a fixed
    /// offset such as +08:00, or a zone without daylight saving time such as
    /// Asia/Shanghai).
    #[arg(long, default_value = DEFAULT_SCHEDULE)]
    schedule: String,
    /// Where the approval endpoints and webhooks listen; `off` for none.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    /// With --once: print the whole report as JSON.
    #[arg(long)]
    json: bool,
}

use std::path::PathBuf;

/// A parsed `--schedule`.
#[derive(Debug, Clone)]
pub struct Schedule {
    schedule: cron::Schedule,
    zone: FixedOffset,
}

impl Schedule {
    /// Parses `[CRON_TZ=<zone> ]<expression>`.
    pub fn parse(text: &str) -> Result<Schedule> {
        let text = text.trim();
        let (zone, expression) = match text.strip_prefix("CRON_TZ=") {
            Some(rest) => {
                let (zone, expression) = rest.split_once(char::is_whitespace).ok_or_else(|| {
                    anyhow!("--schedule: CRON_TZ=<zone> must be followed by an expression")
                })?;
                let zone = updraft_core::promotion::parse_time_zone(zone)
                    .map_err(|m| anyhow!("--schedule: CRON_TZ: {m}"))?;
                (zone, expression.trim())
            }
            None => (
                FixedOffset::east_opt(0).ok_or_else(|| anyhow!("UTC"))?,
                text,
            ),
        };
        let fields = expression.split_whitespace().count();
        if fields == 5 {
            bail!(
                "--schedule '{expression}' has 5 fields; Updraft's schedules have seconds first, as Function Compute timers do: write \"0 {expression}\""
            );
        }
        let schedule = cron::Schedule::from_str(expression)
            .map_err(|e| anyhow!("--schedule '{expression}' is not a cron expression: {e}"))?;
        Ok(Schedule { schedule, zone })
    }

    /// How long from now until the next fire time.
    pub fn until_next(&self) -> Option<Duration> {
        let now = Utc::now().with_timezone(&self.zone);
        let next = self.schedule.after(&now).next()?;
        (next - now).to_std().ok()
    }
}

/// Runs `updraft run`.
pub fn run(args: RunArgs) -> Result<()> {
    let schedule = Schedule::parse(&args.schedule)?;
    let mut settings = Settings::discover(args.config.as_deref())?;
    settings.git.dry_run = args.dry_run;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let ctx = Arc::new(Context::new(settings)?);
        if args.once {
            let report = run_pipeline(&ctx, &PollRequest::default()).await;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print_report(&report);
            }
            return Ok(());
        }
        serve(ctx, schedule, &args.listen).await
    })
}

/// A readable account of one cycle.
pub fn print_report(report: &PipelineReport) {
    let r = &report.resolve.stats;
    println!(
        "polled {} applications, {} repositories ({} new tags); {} changes",
        report.resolve.applications.len(),
        r.repositories,
        r.new_tags,
        report.write_back.applications.len()
    );
    for app in &report.sync.applications {
        println!("  {}: {}", app.config.name, app.reason);
    }
    for preview in &report.sync.previews {
        println!(
            "\n# {} {} (dry run)\n{}",
            preview.repository, preview.branch, preview.diff
        );
    }
    if let Some(sync) = &report.report {
        for app in &sync.applications {
            println!("  {} → {}: {}", app.application, app.outcome, app.message);
        }
    }
    for e in report_errors(report) {
        println!("  ! {} ({}): {}", e.application, e.stage, e.message);
    }
}

/// At most one cycle at a time: a timer that finds one running is skipped,
/// a webhook waits for it.
#[derive(Default)]
struct OneAtATime(Mutex<()>);

impl OneAtATime {
    /// Runs `work` unless a cycle is running (then `None`).
    async fn skip_if_busy<T>(&self, work: impl std::future::Future<Output = T>) -> Option<T> {
        let _guard = self.0.try_lock().ok()?;
        Some(work.await)
    }

    /// Runs `work` after the running cycle, if any.
    async fn after_running<T>(&self, work: impl std::future::Future<Output = T>) -> T {
        let _guard = self.0.lock().await;
        work.await
    }
}

/// Webhook cycles waiting to run, oldest first, one per repository.
#[derive(Default)]
struct Queue {
    waiting: std::sync::Mutex<Vec<Trigger>>,
    wake: Notify,
}

impl Queue {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Trigger>> {
        // The list stays whole whatever panicked while holding it.
        self.waiting.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `trigger`, or joins the waiting cycle of the same repository
    /// (the newest tag becomes its hint). Answers what the webhook sees.
    fn push(&self, trigger: Trigger) -> Value {
        let mut waiting = self.lock();
        let joined = match &trigger {
            Trigger::Webhook {
                registry,
                repository,
                tag,
            } => waiting.iter_mut().find_map(|t| match t {
                Trigger::Webhook {
                    registry: r,
                    repository: p,
                    tag: hint,
                } if r == registry && p == repository => {
                    if tag.is_some() {
                        hint.clone_from(tag);
                    }
                    Some(())
                }
                _ => None,
            }),
            Trigger::Timer => None,
        }
        .is_some();
        let answer = json!({
            "status": "queued",
            "trigger": trigger,
            "joined": joined,
            "waiting": if joined { waiting.len() } else { waiting.len() + 1 },
        });
        if !joined {
            waiting.push(trigger);
        }
        drop(waiting);
        self.wake.notify_one();
        answer
    }

    fn next(&self) -> Option<Trigger> {
        let mut waiting = self.lock();
        (!waiting.is_empty()).then(|| waiting.remove(0))
    }
}

/// The pipeline's cycles in this process.
struct Cycles {
    ctx: Arc<Context>,
    one: OneAtATime,
    queue: Queue,
    /// Cycles finished since the start (timer and webhook).
    finished: std::sync::atomic::AtomicU64,
}

impl Cycles {
    /// `GET /cycles`: whether a cycle runs, how many wait, how many ran.
    fn status(&self) -> Value {
        json!({
            "running": self.one.0.try_lock().is_err(),
            "queued": self.queue.lock().len(),
            "finished": self.finished.load(std::sync::atomic::Ordering::SeqCst),
        })
    }

    /// A timer's cycle.
    async fn on_timer(&self) {
        let ran = self
            .one
            .skip_if_busy(run_pipeline(&self.ctx, &PollRequest::default()))
            .await;
        match ran {
            Some(report) => {
                self.finished
                    .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                log_report(&report);
            }
            None => warn!("the previous cycle is still running; this timer is skipped"),
        }
    }

    /// A webhook's cycle: polls the pushed repository (the tag is only a
    /// hint).
    async fn on_push(&self, trigger: Trigger) -> PipelineReport {
        let request = PollRequest {
            trigger,
            ..PollRequest::default()
        };
        let report = self
            .one
            .after_running(run_pipeline(&self.ctx, &request))
            .await;
        self.finished
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        log_report(&report);
        report
    }
}

impl Cycles {
    /// Runs the queued webhook cycles one after another until `stop`.
    async fn run_queue(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        loop {
            if *stop.borrow() {
                break;
            }
            match self.queue.next() {
                Some(trigger) => {
                    self.on_push(trigger).await;
                }
                None => {
                    tokio::select! {
                        _ = self.queue.wake.notified() => {}
                        _ = stop.wait_for(|s| *s) => break,
                    }
                }
            }
        }
        let left = self.queue.lock().len();
        if left > 0 {
            warn!(
                left,
                "stopping with webhook cycles still queued; the next timer cycle polls those repositories"
            );
        }
    }
}

fn log_report(report: &PipelineReport) {
    let errors = report_errors(report);
    info!(
        changes = report.write_back.applications.len(),
        commits = report.sync.stats.commits,
        errors = errors.len(),
        "cycle finished"
    );
    // A server has no one reading its reports: each problem goes to the log.
    for e in errors {
        warn!(application = %e.application, stage = %e.stage, "{}", e.message);
    }
}

/// Every stage's problems, each (application, message) once: later stages
/// carry the earlier ones forward.
fn report_errors(report: &PipelineReport) -> Vec<&updraft_pipeline::events::AppError> {
    let mut seen = std::collections::BTreeSet::new();
    report
        .resolve
        .errors
        .iter()
        .chain(&report.write_back.errors)
        .chain(&report.sync.errors)
        .chain(report.report.iter().flat_map(|r| r.errors.iter()))
        .filter(|e| seen.insert((e.application.clone(), e.message.clone())))
        .collect()
}

async fn serve(ctx: Arc<Context>, schedule: Schedule, listen: &str) -> Result<()> {
    crate::http::check_webhook_secrets(&ctx)?;
    let cycles = Arc::new(Cycles {
        ctx: ctx.clone(),
        one: OneAtATime::default(),
        queue: Queue::default(),
        finished: std::sync::atomic::AtomicU64::new(0),
    });
    let (stop_tx, stop_rx) = watch::channel(false);
    let queue = tokio::spawn(cycles.clone().run_queue(stop_rx.clone()));
    // Compile the plugins the applications use now, not in the first
    // webhook's cycle (as Function Compute's /initialize does).
    let warm = ctx.clone();
    tokio::spawn(async move {
        if let Err(e) = warm.warm_plugins().await {
            warn!(error = %e, "a plugin could not be loaded; the cycles that use it will say so");
        }
    });

    // The HTTP server.
    let server = if listen == "off" {
        None
    } else {
        let addr: SocketAddr = listen.parse().with_context(|| {
            format!("--listen '{listen}' is not an address such as 127.0.0.1:8080")
        })?;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        let status = cycles.clone();
        let app = crate::http::router(ctx.clone(), cycles_hook(cycles.clone())).route(
            "/cycles",
            axum::routing::get(move || {
                let status = status.status();
                async move { axum::Json(status) }
            }),
        );
        let mut stop = stop_rx.clone();
        info!(%addr, "serving approvals and webhooks");
        eprintln!("updraft run: listening on http://{addr} (approvals, webhooks, /healthz)");
        Some(tokio::spawn(async move {
            let shutdown = async move {
                let _ = stop.wait_for(|s| *s).await;
            };
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
        }))
    };

    // The schedule.
    let timer_cycles = cycles.clone();
    let mut timer_stop = stop_rx.clone();
    let timer = tokio::spawn(async move {
        loop {
            let Some(wait) = schedule.until_next() else {
                warn!("the schedule never fires again");
                return;
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = timer_stop.wait_for(|s| *s) => return,
            }
            let cycles = timer_cycles.clone();
            // Spawned, so that a long cycle does not delay the next check.
            tokio::spawn(async move { cycles.on_timer().await });
        }
    });

    shutdown_signal().await;
    eprintln!("updraft run: stopping; letting a running cycle finish");
    let _ = stop_tx.send(true);
    let _ = timer.await;
    if let Some(server) = server {
        let _ = server.await;
    }
    match tokio::time::timeout(SHUTDOWN_GRACE, cycles.one.0.lock()).await {
        Ok(_) => eprintln!("updraft run: stopped"),
        Err(_) => eprintln!(
            "updraft run: a cycle did not finish within {}s and was abandoned; nothing is half-written (git pushes are atomic, the next cycle starts over)",
            SHUTDOWN_GRACE.as_secs()
        ),
    }
    // The queue stops before its next cycle (and says what it left).
    let _ = tokio::time::timeout(Duration::from_secs(5), queue).await;
    Ok(())
}

/// Webhooks queue their cycle and are answered at once: registries deliver
/// their notifications one after another, so an answer that waited for the
/// cycle (sync included) would hold back the next push.
fn cycles_hook(cycles: Arc<Cycles>) -> crate::http::OnPush {
    Arc::new(move |trigger: Trigger| {
        let answer = cycles.queue.push(trigger);
        Box::pin(async move { Ok(answer) })
    })
}

/// Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_parse_like_function_compute_timers() {
        assert!(Schedule::parse("0 */5 * * * *").is_ok());
        assert!(Schedule::parse("CRON_TZ=Asia/Shanghai 0 0 9 * * Mon-Fri").is_ok());
        let five = Schedule::parse("*/5 * * * *").unwrap_err().to_string();
        assert!(five.contains("seconds first"), "{five}");
        let zone = Schedule::parse("CRON_TZ=Europe/Berlin 0 0 9 * * *")
            .unwrap_err()
            .to_string();
        assert!(zone.contains("CRON_TZ"), "{zone}");
        let wait = Schedule::parse("* * * * * *")
            .unwrap()
            .until_next()
            .unwrap();
        assert!(wait <= Duration::from_secs(1));
    }

    fn push(repository: &str, tag: &str) -> Trigger {
        Trigger::Webhook {
            registry: Some("registry.example".into()),
            repository: repository.into(),
            tag: Some(tag.into()),
        }
    }

    #[test]
    fn a_push_for_a_waiting_repository_joins_its_cycle() {
        let queue = Queue::default();
        let first = queue.push(push("team/a", "v1"));
        assert_eq!(
            (first["joined"].as_bool(), first["waiting"].as_u64()),
            (Some(false), Some(1))
        );
        assert_eq!(first["status"], "queued");
        queue.push(push("team/b", "v7"));
        let joined = queue.push(push("team/a", "v2"));
        assert_eq!(
            (joined["joined"].as_bool(), joined["waiting"].as_u64()),
            (Some(true), Some(2))
        );
        // Oldest first; the joined cycle carries the newest tag as its hint.
        assert_eq!(queue.next(), Some(push("team/a", "v2")));
        assert_eq!(queue.next(), Some(push("team/b", "v7")));
        assert_eq!(queue.next(), None);
        // Once taken, a new push for the same repository queues again: the
        // running cycle may have listed the tags before it.
        queue.push(push("team/a", "v3"));
        assert_eq!(queue.next(), Some(push("team/a", "v3")));
    }

    #[tokio::test]
    async fn a_timer_during_a_cycle_is_skipped_and_a_webhook_waits() {
        let one = Arc::new(OneAtATime::default());
        let (started_tx, started_rx) = tokio::sync::oneshot::channel();
        let (finish_tx, finish_rx) = tokio::sync::oneshot::channel::<()>();
        let running = {
            let one = one.clone();
            tokio::spawn(async move {
                one.after_running(async move {
                    let _ = started_tx.send(());
                    let _ = finish_rx.await;
                    "first"
                })
                .await
            })
        };
        started_rx.await.unwrap();
        // A timer fires while the cycle runs: skipped.
        assert_eq!(one.skip_if_busy(async { "timer" }).await, None);
        // A webhook arrives: it waits for the running cycle, then runs.
        let webhook = {
            let one = one.clone();
            tokio::spawn(async move { one.after_running(async { "webhook" }).await })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!webhook.is_finished());
        finish_tx.send(()).unwrap();
        assert_eq!(running.await.unwrap(), "first");
        assert_eq!(webhook.await.unwrap(), "webhook");
        // Idle again: the next timer runs.
        assert_eq!(one.skip_if_busy(async { "timer" }).await, Some("timer"));
    }
}
