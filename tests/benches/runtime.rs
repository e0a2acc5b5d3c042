//! The runtimes' latency (issue 6's benchmark), on the tutorial's world
//! (`tests/tutorial_world.rs`: the real Distribution registry, git over
//! smart HTTP, the Argo CD API emulator):
//!
//! 1. **Push → commit** through the local runtime: `updraft run` serving the
//!    registry's notifications; for each of 50 pushes (after 2 warm-up
//!    pushes), the time from the registry acknowledging the manifest `PUT`
//!    to the new commit being on the deployment repository's branch. The
//!    next push waits until the cycle, Dev's sync included, is over
//!    (`GET /cycles`), so each push meets an idle runtime. Reference: Image
//!    Updater polls every 2 minutes by default.
//! 2. **Function Compute cold start**: `updraft fc` spawned, then, as soon as
//!    its port accepts (what FC does), `/invoke` with a timer event on the
//!    warm store (a full pipeline cycle that finds nothing new); the time
//!    from spawn to the answer, the time to the port accepting, and the
//!    process's peak RSS (`VmHWM`). Each start gets an empty plugin cache,
//!    as a fresh FC instance does, unless noted.
//!
//! Needs the release binary beside the bench:
//! `cargo build --release -p updraft --bins && cargo bench -p updraft-tests --bench runtime`.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "../git_support.rs"]
#[allow(dead_code)]
mod git_support;

#[path = "../registry_support.rs"]
#[allow(dead_code)]
mod support;

#[path = "../tutorial_world.rs"]
mod world;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::ImageSpec;
use world::{World, free_port};

const WARM_UP: usize = 2;

/// 50 pushes and 15 starts per mode, unless `UPDRAFT_BENCH_PUSHES` /
/// `UPDRAFT_BENCH_STARTS` say otherwise (a quick look).
fn count(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
const BRANCH: &str = "stable-example";

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    percentile(&v, 50.0)
}

/// The branch's commit, read from the bare repository's loose ref (what
/// git-http-backend writes on a push), else through `git rev-parse`.
fn tip(bare: &Path) -> String {
    match std::fs::read_to_string(bare.join("refs/heads").join(BRANCH)) {
        Ok(s) => s.trim().to_string(),
        Err(_) => git_support::git(bare, &["rev-parse", BRANCH])
            .trim()
            .to_string(),
    }
}

/// `updraft run`'s log: `UPDRAFT_BENCH_LOG=FILE` keeps it (with
/// `RUST_LOG=info` for the cycles' timings), else it is dropped.
fn log_file() -> Stdio {
    match std::env::var_os("UPDRAFT_BENCH_LOG") {
        Some(path) => Stdio::from(std::fs::File::create(path).unwrap()),
        None => Stdio::null(),
    }
}

fn wait_healthy(port: u16, child: &mut Child) -> Duration {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("updraft exited early: {status}");
        }
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return started.elapsed();
        }
        assert!(started.elapsed() < Duration::from_secs(60), "no server");
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

async fn push_to_commit(world: &World) -> Vec<f64> {
    let port = world.port;
    let cache = tempfile::tempdir().unwrap();
    let mut child = world
        .serve_command()
        .env("UPDRAFT_CACHE_DIR", cache.path())
        .stdout(Stdio::null())
        .stderr(log_file())
        .spawn()
        .unwrap();
    wait_healthy(port, &mut child);
    // The first cycle brings the repository to v1.1.0 (the world's newest).
    let out = world.run(&["--once"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let bare = world.bare();
    let pushes = count("UPDRAFT_BENCH_PUSHES", 50);
    let mut latencies = Vec::new();
    for i in 0..WARM_UP + pushes {
        let before = tip(&bare);
        let finished = cycles(port)["finished"].as_u64().unwrap();
        // A newer build each time: `latest` picks it.
        let created = format!("2026-11-27T{:02}:{:02}:00Z", 1 + i / 60, i % 60);
        let tag = format!("v2.{i}.0");
        world
            .pusher
            .image(
                "cidemo/echo-server",
                Some(&tag),
                &ImageSpec::new(&created, "linux/amd64"),
            )
            .await
            .unwrap();
        let pushed = Instant::now();
        loop {
            if tip(&bare) != before {
                break;
            }
            assert!(
                pushed.elapsed() < Duration::from_secs(30),
                "push {i} ({tag}) led to no commit"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let latency = pushed.elapsed().as_secs_f64() * 1000.0;
        if std::env::var_os("UPDRAFT_BENCH_LOG").is_some() {
            eprintln!(
                "push {i} {tag}: pushed at {:?}, committed after {latency:.0} ms",
                chrono::Utc::now() - chrono::Duration::milliseconds(latency as i64)
            );
        }
        if i >= WARM_UP {
            latencies.push(latency);
        }
        // Let the cycle finish (Dev's sync included) before the next push:
        // one push at a time, as the goal is stated.
        let waited = Instant::now();
        loop {
            let now = cycles(port);
            if now["finished"].as_u64().unwrap() > finished
                && now["running"] == false
                && now["queued"] == 0
            {
                break;
            }
            assert!(
                waited.elapsed() < Duration::from_secs(60),
                "cycle not over: {now}"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    let source = format!("{BRANCH}:manifests/helm/echo-server/.argocd-source-app-helm-dev.yaml");
    let last = format!("v2.{}.0", WARM_UP + pushes - 1);
    assert!(git_support::git(&bare, &["show", &source]).contains(&last));
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    latencies
}

/// `updraft run`'s `GET /cycles`.
fn cycles(port: u16) -> serde_json::Value {
    let answer = raw_request(port, "GET", "/cycles", "");
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {answer}"))
}

struct Start {
    accepting_ms: f64,
    answered_ms: f64,
    /// The `/invoke` request alone.
    invoke_ms: f64,
    peak_kib: u64,
}

/// What the first `/invoke` asks.
#[derive(Clone, Copy)]
enum FirstInvoke {
    /// `pipeline` on a timer: a whole cycle that finds nothing new.
    TimerCycle,
    /// `resolve-strategy` with no candidates: the adapter's own cost.
    EmptyResolve,
}

fn fc_start(world: &World, cache: &Path, first: FirstInvoke, initialize: bool) -> Start {
    let (function, event, expect) = match first {
        FirstInvoke::TimerCycle => (
            "pipeline",
            r#"{"triggerTime":"2026-11-27T10:00:00Z","triggerName":"every-5-minutes","payload":""}"#,
            "PipelineReport",
        ),
        FirstInvoke::EmptyResolve => (
            "resolve-strategy",
            r#"{"apiVersion":"updraft.dev/v1alpha1","kind":"ResolveRequest"}"#,
            "WriteBackRequest",
        ),
    };
    let port = free_port();
    let spawned = Instant::now();
    let mut child = Command::new(updraft_tests::updraft_bin().unwrap())
        .arg("fc")
        .env("FC_CUSTOM_LISTEN_PORT", port.to_string())
        .env("UPDRAFT_FUNCTION", function)
        .env("UPDRAFT_CONFIG", &world.config)
        .env("UPDRAFT_CACHE_DIR", cache)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let accepting = wait_healthy(port, &mut child);
    if initialize {
        let init = raw_request(port, "POST", "/initialize", "");
        assert!(init.starts_with("HTTP/1.1 200"), "{init}");
    }
    let invoked = Instant::now();
    let answer = raw_request(port, "POST", "/invoke", event);
    let answered = spawned.elapsed();
    let invoke_ms = invoked.elapsed().as_secs_f64() * 1000.0;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains(expect), "{answer}");
    let peak_kib = peak_rss_kib(child.id());
    let _ = child.kill();
    let _ = child.wait();
    Start {
        accepting_ms: accepting.as_secs_f64() * 1000.0,
        answered_ms: answered.as_secs_f64() * 1000.0,
        invoke_ms,
        peak_kib,
    }
}

/// One HTTP/1.1 request over a plain socket, the whole answer as text: no
/// client start-up cost in the measurement.
fn raw_request(port: u16, method: &str, path: &str, body: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nx-fc-request-id: bench\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    answer
}

fn report_starts(label: &str, starts: &[Start]) {
    let accepting: Vec<f64> = starts.iter().map(|s| s.accepting_ms).collect();
    let answered: Vec<f64> = starts.iter().map(|s| s.answered_ms).collect();
    let invoke: Vec<f64> = starts.iter().map(|s| s.invoke_ms).collect();
    let peak: Vec<f64> = starts.iter().map(|s| s.peak_kib as f64 / 1024.0).collect();
    println!(
        "| {label} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} |",
        starts.len(),
        median(&accepting),
        median(&answered),
        answered.iter().copied().fold(0.0, f64::max),
        median(&invoke),
        median(&peak),
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let world = World::new(free_port()).await;

    let mut latencies = push_to_commit(&world).await;
    latencies.sort_by(f64::total_cmp);
    let mean = latencies.iter().sum::<f64>() / latencies.len() as f64;
    println!(
        "## push → commit through `updraft run` ({} pushes after {WARM_UP} warm-up)",
        latencies.len()
    );
    println!(
        "| p50 ms | p90 ms | p99 ms | max ms | mean ms | Image Updater (2 min poll) mean wait ÷ p50 |"
    );
    println!("|---|---|---|---|---|---|");
    println!(
        "| {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0}× |",
        percentile(&latencies, 50.0),
        percentile(&latencies, 90.0),
        percentile(&latencies, 99.0),
        latencies[latencies.len() - 1],
        mean,
        60_000.0 / percentile(&latencies, 50.0),
    );

    println!();
    println!("## `updraft fc`: spawn → port accepting → first /invoke answered");
    println!(
        "| first /invoke | plugin cache | starts | accepting ms (median) | answered ms (median) | answered ms (max) | the /invoke alone ms (median) | peak RSS MiB (median) |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let starts = count("UPDRAFT_BENCH_STARTS", 15);
    let shared = tempfile::tempdir().unwrap();
    fc_start(&world, shared.path(), FirstInvoke::TimerCycle, false);
    // Interleaved, so that the machine's noise hits every row alike.
    let mut rows: [Vec<Start>; 4] = Default::default();
    for _ in 0..starts {
        let fresh = tempfile::tempdir().unwrap();
        rows[0].push(fc_start(
            &world,
            fresh.path(),
            FirstInvoke::EmptyResolve,
            false,
        ));
        let fresh = tempfile::tempdir().unwrap();
        rows[1].push(fc_start(
            &world,
            fresh.path(),
            FirstInvoke::TimerCycle,
            false,
        ));
        let fresh = tempfile::tempdir().unwrap();
        rows[2].push(fc_start(
            &world,
            fresh.path(),
            FirstInvoke::TimerCycle,
            true,
        ));
        rows[3].push(fc_start(
            &world,
            shared.path(),
            FirstInvoke::TimerCycle,
            false,
        ));
    }
    report_starts("resolve-strategy, no candidates | empty", &rows[0]);
    report_starts(
        "pipeline timer cycle, nothing new | empty (fresh instance)",
        &rows[1],
    );
    report_starts(
        "pipeline timer cycle after /initialize | empty (fresh instance)",
        &rows[2],
    );
    report_starts("pipeline timer cycle, nothing new | kept", &rows[3]);
}
