//! The git server of `infra/local/git.sh` and the git CLI, for the
//! write-back tests and benchmark.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A git server started by `infra/local/git.sh`, stopped on drop.
pub struct GitServer {
    dir: tempfile::TempDir,
    env: HashMap<String, String>,
}

impl GitServer {
    pub fn start(repos: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let script = repo_root().join("infra/local/git.sh");
        let output = Command::new(&script)
            .arg("start")
            .arg(dir.path())
            .args(repos)
            .env("UPDRAFT_SERVICE_TTL", "300")
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "git.sh start: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let env = std::fs::read_to_string(dir.path().join("git.env"))
            .unwrap()
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        GitServer { dir, env }
    }

    pub fn get(&self, key: &str) -> &str {
        &self.env[key]
    }

    pub fn url(&self, repo: &str) -> String {
        format!("{}/{repo}.git", self.get("GIT_REPOS_URL"))
    }

    pub fn bare(&self, repo: &str) -> PathBuf {
        Path::new(self.get("GIT_REPOS_DIR")).join(format!("{repo}.git"))
    }
}

impl Drop for GitServer {
    fn drop(&mut self) {
        let _ = Command::new(repo_root().join("infra/local/git.sh"))
            .arg("stop")
            .arg(self.dir.path())
            .status();
    }
}

/// The git CLI without user or system configuration; panics on failure.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=Release Manager"])
        .args(["-c", "user.email=rm@example.com"])
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Gives the bare repository the tutorial's chart (`manifests/helm/echo-server`)
/// on the branches the tutorial's Applications track: `stable-example` (Dev,
/// Staging) and `test2` (Production).
pub fn seed_tutorial_chart(bare: &Path) {
    let work = tempfile::tempdir().unwrap();
    git(work.path(), &["init", "-q", "-b", "stable-example"]);
    let chart = work.path().join("manifests/helm/echo-server");
    std::fs::create_dir_all(&chart).unwrap();
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: echo-server\nversion: 0.1.0\n",
    )
    .unwrap();
    git(work.path(), &["add", "-A"]);
    git(work.path(), &["commit", "-q", "-m", "chart"]);
    for branch in ["stable-example", "test2"] {
        let target = format!("HEAD:refs/heads/{branch}");
        git(
            work.path(),
            &["push", "-q", bare.to_str().unwrap(), &target],
        );
    }
}
