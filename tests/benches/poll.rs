//! Poll-cycle cost at scale (issue 3's benchmark): 200 applications over 20
//! repositories × 300 tags on the real Distribution registry, newest-build.
//! Counts the registry's own access-log reads per cycle for (a) a cold
//! store, (b) a fresh process with a warm store, (c) one new tag in every
//! repository; prints Image Updater's figures beside ours, and the peak
//! resident memory each cycle added. Run:
//! `cargo bench -p updraft-tests --bench poll` (about two minutes).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "../registry_support.rs"]
#[allow(dead_code)]
mod support;

use std::time::Instant;

use futures::StreamExt;
use updraft_pipeline::events::PollRequest;
use updraft_pipeline::{Context, Settings};
use updraft_registry::ClientOptions;
use updraft_state::StateStore;

use support::{ImageSpec, PushAuth, Pusher, Services};

const REPOS: usize = 20;
const TAGS: usize = 300;
const APPS: usize = 200;

fn vm_hwm_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn vm_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Resets the peak-RSS counter (Linux: `5` to `clear_refs`).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

struct Cycle {
    name: &'static str,
    reads: usize,
    lists: usize,
    manifests: usize,
    blobs: usize,
    client_requests: u64,
    fetched: usize,
    millis: u128,
    peak_delta_kib: u64,
    errors: usize,
}

async fn cycle(name: &'static str, services: &Services, settings: &Settings, state: &str) -> Cycle {
    let count = |needle: &str| services.access_log_count("anon", needle);
    let before = (
        services.access_log_reads("anon"),
        count("/tags/list"),
        count("/manifests/"),
        count("/blobs/sha256"),
    );
    // A fresh process: new store client, new registry clients, new plugins.
    let store = StateStore::open(state).unwrap();
    let ctx = Context::with_parts(settings.clone(), store, ClientOptions::default()).unwrap();
    reset_peak();
    let rss_before = vm_rss_kib();
    let started = Instant::now();
    let rr = updraft_pipeline::poll::poll(&ctx, &PollRequest::default()).await;
    let wb = updraft_pipeline::resolve::resolve(&ctx, rr.clone()).await;
    let millis = started.elapsed().as_millis();
    let peak_delta_kib = vm_hwm_kib().saturating_sub(rss_before);
    assert_eq!(wb.decisions.len(), APPS, "{:#?}", wb.errors);
    Cycle {
        name,
        reads: services.access_log_reads("anon") - before.0,
        lists: count("/tags/list") - before.1,
        manifests: count("/manifests/") - before.2,
        blobs: count("/blobs/sha256") - before.3,
        client_requests: rr.stats.registry_requests,
        fetched: rr.stats.metadata_fetched,
        millis,
        peak_delta_kib,
        errors: rr.errors.len() + wb.errors.len(),
    }
}

async fn push_all(pusher: &Pusher, day: usize, tags: std::ops::Range<usize>) {
    let jobs: Vec<(usize, usize)> = (0..REPOS)
        .flat_map(|r| tags.clone().map(move |t| (r, t)))
        .collect();
    let pushes = futures::stream::iter(jobs)
        .map(|(r, t)| async move {
            let created = format!(
                "2026-{:02}-{:02}T{:02}:{:02}:00Z",
                1 + day / 28,
                1 + day % 28,
                t / 60 % 24,
                t % 60
            );
            pusher
                .image(
                    &format!("bench/repo{r:02}"),
                    Some(&format!("1.0.{t}")),
                    &ImageSpec::new(&created, "linux/amd64"),
                )
                .await
                .unwrap();
        })
        .buffer_unordered(16);
    pushes.collect::<Vec<()>>().await;
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run());
}

async fn run() {
    let services = Services::start(&["anon"]).unwrap();
    let url = services.get("ANON_URL");
    let host = url.trim_start_matches("http://").to_string();
    let pusher = Pusher::new(&url, PushAuth::None);
    let started = Instant::now();
    push_all(&pusher, 0, 0..TAGS).await;
    eprintln!(
        "pushed {} images in {:.1} s",
        REPOS * TAGS,
        started.elapsed().as_secs_f64()
    );

    let dir = tempfile::tempdir().unwrap();
    let apps_dir = dir.path().join("apps");
    std::fs::create_dir_all(&apps_dir).unwrap();
    let mut manifests = String::new();
    for a in 0..APPS {
        let repo = a % REPOS;
        manifests += &format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: app{a:03}\n  namespace: argocd\n  annotations:\n    argocd-image-updater.argoproj.io/image-list: \"{host}/bench/repo{repo:02}\"\n    argocd-image-updater.argoproj.io/update-strategy: newest-build\nspec:\n  source: {{repoURL: https://git.example/deploy.git, path: apps/app{a:03}}}\n---\n"
        );
    }
    std::fs::write(apps_dir.join("apps.yaml"), manifests).unwrap();
    let config = format!(
        "applications:\n  - dir: apps\nregistries:\n  - name: local\n    api_url: {url}\n    prefix: {host}\n"
    );
    let settings = Settings::parse(&config, "bench updraft.yaml", dir.path()).unwrap();
    let state = format!("file://{}/state", dir.path().display());

    let cold = cycle("(a) cold store", &services, &settings, &state).await;
    let warm = cycle(
        "(b) warm store, fresh process",
        &services,
        &settings,
        &state,
    )
    .await;
    push_all(&pusher, 40, TAGS..TAGS + 1).await;
    let new_tag = cycle(
        "(c) one new tag per repository",
        &services,
        &settings,
        &state,
    )
    .await;

    println!(
        "\n{APPS} applications, {REPOS} repositories x {TAGS} tags, newest-build, Distribution 2.8 on loopback (anonymous, no redirects, one tag-list page)\n"
    );
    println!(
        "| cycle | registry reads (access log) | tag lists | manifest | blob | client-counted | metadata fetched | wall | peak RSS added | errors |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for c in [&cold, &warm, &new_tag] {
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} ms | {:.1} MiB | {} |",
            c.name,
            c.reads,
            c.lists,
            c.manifests,
            c.blobs,
            c.client_requests,
            c.fetched,
            c.millis,
            c.peak_delta_kib as f64 / 1024.0,
            c.errors
        );
    }
    // Image Updater, per (app, image): 1 ping + T token + pg tag pages
    // (+ c = 2 + R per uncached tag); no dedupe across applications, and its
    // cache does not survive a restart. Same registry (T = 0, R = 0, pg = 1):
    let iu_warm = APPS * 2;
    let iu_cold = APPS * (2 + TAGS * 2);
    let iu_new = APPS * 2 + APPS * 2;
    println!(
        "\nImage Updater, same registry (formula of image-updater-semantics §2.2 with T=0, R=0, pg=1): cold {iu_cold}, warm {iu_warm}, one new tag per repository {iu_new}"
    );
    println!(
        "Image Updater, reference example (Bearer, redirects, 3 pages): cold 181000, warm 1000, one new tag per repository 1600"
    );
    println!(
        "Ratios (Image Updater same registry / Updraft): cold {:.1}x, warm {:.1}x, new tag {:.1}x",
        iu_cold as f64 / cold.reads.max(1) as f64,
        iu_warm as f64 / warm.reads.max(1) as f64,
        iu_new as f64 / new_tag.reads.max(1) as f64
    );
    let goal_b = warm.lists <= REPOS && warm.manifests == 0 && warm.blobs == 0;
    let goal_c = new_tag.reads <= warm.reads + 2 * REPOS;
    println!(
        "Goals: (b) <= {REPOS} tag lists and no manifest/blob: {}; (c) <= 2 more requests per new tag per repository: {}",
        if goal_b { "met" } else { "MISSED" },
        if goal_c { "met" } else { "MISSED" }
    );
}
