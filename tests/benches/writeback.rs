//! Write-back cost for many applications on one repository (issue 4's
//! benchmark): 100 Applications on one deployment repository, each with a
//! new tag, written over smart HTTP git (`infra/local/git.sh`) with one
//! commit for the repository (the default) and with one commit per
//! application, side by side in one run. Counts commits (from the
//! repository itself) and pushes, and times each cycle; the first cycle
//! of each mode clones (cold), the others fetch into the cached work
//! directory (warm). Run: `cargo bench -p updraft-tests --bench writeback`.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "../git_support.rs"]
#[allow(dead_code)]
mod git_support;

use std::time::Instant;

use git_support::{GitServer, git};
use updraft_pipeline::events::{AppUpdate, ImageChange, WriteBackRequest};
use updraft_pipeline::{Context, Settings};

const APPS: usize = 100;
const ROUNDS: usize = 7;

fn manifests(url: &str) -> String {
    (0..APPS)
        .map(|i| {
            format!(
                "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: app-{i:03}\n  namespace: argocd\n  annotations:\n    argocd-image-updater.argoproj.io/image-list: app=registry.example.com/team/app-{i:03}\n    argocd-image-updater.argoproj.io/write-back-method: git\nspec:\n  source:\n    repoURL: {url}\n    path: apps/app-{i:03}\n    targetRevision: main\n    helm:\n      valueFiles: [values.yaml]\n---\n"
            )
        })
        .collect()
}

fn seed(bare: &std::path::Path) {
    let work = tempfile::tempdir().unwrap();
    git(work.path(), &["init", "-q", "-b", "main"]);
    for i in 0..APPS {
        let dir = work.path().join(format!("apps/app-{i:03}"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("values.yaml"),
            format!("image:\n  repository: registry.example.com/team/app-{i:03}\n  tag: 1.0.0\n"),
        )
        .unwrap();
    }
    git(work.path(), &["add", "-A"]);
    git(work.path(), &["commit", "-q", "-m", "100 applications"]);
    git(
        work.path(),
        &["push", "-q", bare.to_str().unwrap(), "HEAD:refs/heads/main"],
    );
}

struct Mode {
    name: &'static str,
    repo: &'static str,
    ctx: Context,
    apps: Vec<AppUpdate>,
    rows: Vec<(usize, usize, u32, f64)>,
}

fn main() {
    let server = GitServer::start(&["batched", "per-app"]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pw"), server.get("GIT_PASSWORD")).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut modes: Vec<Mode> = [
        ("batched (per-repository)", "batched", "per-repository"),
        ("per-application", "per-app", "per-application"),
    ]
    .into_iter()
    .map(|(name, repo, commit)| {
        seed(&server.bare(repo));
        let config = format!(
            "state: \"file://{state}\"\ngit:\n  commit: {commit}\n  work_dir: {work}\n  credentials:\n    - match: \"{prefix}\"\n      username: {user}\n      password: file:pw\n",
            state = dir.path().join(repo).join("state").display(),
            work = dir.path().join(repo).join("work").display(),
            prefix = server.get("GIT_REPOS_URL"),
            user = server.get("GIT_USER"),
        );
        let settings = Settings::parse(&config, "updraft.yaml", dir.path()).unwrap();
        let loaded = updraft_pipeline::apps::from_documents(&[(
            "apps.yaml".into(),
            manifests(&server.url(repo)),
        )]);
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        let apps = loaded
            .apps
            .into_iter()
            .map(|a| AppUpdate {
                config: a.config,
                changes: Vec::new(),
            })
            .collect();
        Mode {
            name,
            repo,
            ctx: Context::new(settings).unwrap(),
            apps,
            rows: Vec::new(),
        }
    })
    .collect();

    for round in 1..=ROUNDS {
        for mode in &mut modes {
            let bare = server.bare(mode.repo);
            let before: usize = git(&bare, &["rev-list", "--count", "main"])
                .trim()
                .parse()
                .unwrap();
            let applications = mode
                .apps
                .iter()
                .enumerate()
                .map(|(i, app)| AppUpdate {
                    config: app.config.clone(),
                    changes: vec![ImageChange {
                        index: 0,
                        alias: Some("app".into()),
                        image: format!("registry.example.com/team/app-{i:03}"),
                        from: Some(format!("1.0.{}", round - 1)),
                        to: format!("1.0.{round}"),
                        digest: None,
                        reason: "benchmark".into(),
                    }],
                })
                .collect();
            let request = WriteBackRequest {
                cycle: format!("round-{round}"),
                applications,
                ..Default::default()
            };
            let started = Instant::now();
            let sync = runtime.block_on(updraft_pipeline::writeback_run::write_back(
                &mode.ctx, request,
            ));
            let secs = started.elapsed().as_secs_f64();
            assert!(sync.errors.is_empty(), "{:?}", sync.errors);
            assert_eq!(sync.stats.applications_written, APPS);
            let after: usize = git(&bare, &["rev-list", "--count", "main"])
                .trim()
                .parse()
                .unwrap();
            mode.rows.push((
                after - before,
                sync.stats.pushes,
                sync.stats.push_attempts,
                secs,
            ));
            println!(
                "round {round} {:<26} commits {:>3} pushes {:>3} attempts {:>3} wall {secs:.2} s",
                mode.name,
                after - before,
                sync.stats.pushes,
                sync.stats.push_attempts
            );
        }
    }

    println!("\n{APPS} applications, one repository, {ROUNDS} rounds (round 1 clones):");
    println!(
        "| mode | commits / cycle | pushes / cycle | cold (round 1) | warm median (rounds 2–{ROUNDS}) |"
    );
    println!("|---|---|---|---|---|");
    let mut medians = Vec::new();
    for mode in &modes {
        let mut warm: Vec<f64> = mode.rows[1..].iter().map(|r| r.3).collect();
        warm.sort_by(f64::total_cmp);
        let median = warm[warm.len() / 2];
        medians.push(median);
        let (commits, pushes, _, cold) = mode.rows[0];
        assert!(mode.rows.iter().all(|r| r.0 == commits && r.1 == pushes));
        println!(
            "| {} | {commits} | {pushes} | {cold:.2} s | {median:.2} s |",
            mode.name
        );
    }
    println!(
        "\nratio per-application / batched (warm medians): {:.1}×",
        medians[1] / medians[0]
    );
    let batched = &modes[0].rows;
    let goal = batched[1..].iter().all(|r| r.0 == 1 && r.1 == 1) && medians[0] < 2.0;
    println!(
        "goal (batched = 1 commit, 1 push, under 2 s): {}",
        if goal { "met" } else { "MISSED" }
    );
}
