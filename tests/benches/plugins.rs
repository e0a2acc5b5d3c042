//! Plugin benchmarks (criterion): the `semver` plugin against the same logic
//! compiled natively (`semver-rules`), measured side by side; loading a
//! precompiled plugin; instantiate + empty call. Results: docs/benchmarks.md.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use updraft_core::Candidate;
use updraft_plugin_host::{HostConfig, PluginHost, SelectRequest};

/// 10,000 distinct version tags, a few of them pre-releases and junk.
fn tags(n: u32) -> Vec<Candidate> {
    (0..n)
        .map(|i| {
            let name = match i % 50 {
                0 => format!("{}.{}.{}-rc.{}", i % 13, i % 101, i % 7, i % 3),
                1 => format!("build-{i}"),
                _ => format!("v{}.{}.{}", i % 13, (i / 13) % 101, i % 997),
            };
            Candidate::named(name)
        })
        .collect()
}

const CONSTRAINT: &str = ">=2.0.0, <12";

fn select_semver(c: &mut Criterion) {
    let host = PluginHost::new(HostConfig::default()).unwrap();
    let semver = updraft_builtins::get("strategy-semver").unwrap();
    let plugin = host.load(semver.name, semver.wasm).unwrap();
    let mut group = c.benchmark_group("select-semver");
    for n in [1_000u32, 10_000] {
        let candidates = tags(n);
        // Same answer from both sides, or the comparison means nothing.
        let native =
            semver_rules::select(Some(CONSTRAINT), candidates.iter().map(|c| c.name.as_str()))
                .unwrap()
                .tag
                .map(str::to_string);
        let wasm = plugin
            .select(SelectRequest {
                current: None,
                constraint: Some(CONSTRAINT),
                params: &[],
                candidates: &candidates,
            })
            .unwrap()
            .tag;
        assert_eq!(native, wasm);
        group.bench_with_input(BenchmarkId::new("native", n), &candidates, |b, cands| {
            b.iter(|| {
                // The plugin's work, natively: select, then the reason texts.
                let s = semver_rules::select(
                    Some(black_box(CONSTRAINT)),
                    cands.iter().map(|c| c.name.as_str()),
                )
                .unwrap();
                let rejected: Vec<(String, String)> = s
                    .rejected
                    .iter()
                    .map(|r| (r.tag.to_string(), s.reason(r)))
                    .collect();
                black_box((s.tag.map(str::to_string), s.summary(), rejected));
            })
        });
        group.bench_with_input(BenchmarkId::new("wasm", n), &candidates, |b, cands| {
            b.iter(|| {
                let s = plugin
                    .select(SelectRequest {
                        current: None,
                        constraint: Some(black_box(CONSTRAINT)),
                        params: &[],
                        candidates: cands,
                    })
                    .unwrap();
                black_box(s.tag);
            })
        });
    }
    group.finish();
}

fn load_and_instantiate(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("updraft-bench-cache-{}", std::process::id()));
    let host = PluginHost::new(HostConfig {
        cache_dir: Some(dir.clone()),
        ..HostConfig::default()
    })
    .unwrap();
    let semver = updraft_builtins::get("strategy-semver").unwrap();
    // Warm the on-disk artifact cache once.
    let plugin = host.load(semver.name, semver.wasm).unwrap();
    let mut group = c.benchmark_group("plugin");
    group.bench_function("load-precompiled", |b| {
        b.iter(|| {
            host.forget_loaded();
            black_box(host.load(semver.name, black_box(semver.wasm)).unwrap());
        })
    });
    group.bench_function("instantiate-empty-call", |b| {
        b.iter(|| {
            black_box(
                plugin
                    .select(SelectRequest {
                        current: None,
                        constraint: None,
                        params: &[],
                        candidates: &[],
                    })
                    .unwrap(),
            );
        })
    });
    group.finish();
    let _ = std::fs::remove_dir_all(dir);
}

criterion_group!(benches, select_semver, load_and_instantiate);
criterion_main!(benches);
