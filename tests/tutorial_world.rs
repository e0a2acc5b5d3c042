//! The tutorial's world on this machine, for the runtime tests and the
//! runtime benchmark: the real Distribution registry (standing in for ACR
//! through registries.conf, its notifications sent to `updraft run` or
//! `updraft fc` on a given port), the tutorial chart on git over smart HTTP,
//! the three tutorial Applications in the in-tree Argo CD API emulator, and
//! an `updraft.yaml` tying them together. Included with `#[path]` beside a
//! `support` module (`registry_support.rs`) and a crate-level `git_support`.

#![allow(dead_code)]

use updraft_argocd::emulator::{Emulator, EmulatorConfig};

use super::support::{ImageSpec, PushAuth, Pusher, Services};
use crate::git_support::GitServer;

pub const TUTORIAL: &str = include_str!("../infra/local/demo/tutorial-apps.yaml");
pub const TUTORIAL_REPO: &str = "git@github.com:ivan-cai/gitops-demo.git";
pub const ACR: &str = "demo-test-registry.cn-hangzhou.cr.aliyuncs.com";

pub struct World {
    _registry: Services,
    pub registry_host: String,
    pub pusher: Pusher,
    pub git: GitServer,
    pub emulator: Emulator,
    _dir: tempfile::TempDir,
    pub config: std::path::PathBuf,
    /// Where the registry sends its notifications (`updraft run --listen`).
    pub port: u16,
}

impl World {
    /// `port`: where `updraft run` will listen; the registry sends its
    /// notifications there.
    pub async fn new(port: u16) -> World {
        let notify = format!("http://127.0.0.1:{port}/webhook/distribution");
        let registry = Services::start_with_env(
            &["anon"],
            &[
                ("UPDRAFT_REGISTRY_NOTIFY_URL", notify.as_str()),
                ("UPDRAFT_REGISTRY_NOTIFY_TOKEN", "dist-token"),
            ],
        )
        .unwrap();
        let url = registry.get("ANON_URL");
        let pusher = Pusher::new(&url, PushAuth::None);
        for (repo, tag, day) in [
            ("cidemo/echo-server", "v1.0.0", 1),
            ("cidemo/echo-server", "v1.1.0", 5),
            ("cidemo/echo-web-server", "v1.0.0", 2),
        ] {
            pusher
                .image(
                    repo,
                    Some(tag),
                    &ImageSpec::new(&format!("2026-11-{day:02}T10:00:00Z"), "linux/amd64"),
                )
                .await
                .unwrap();
        }
        let git_server = GitServer::start(&["gitops-demo"]);
        let bare = git_server.bare("gitops-demo");
        crate::git_support::seed_tutorial_chart(&bare);
        let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
        emulator.load_yaml(TUTORIAL).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let repo_url = git_server.url("gitops-demo");
        std::fs::create_dir_all(dir.path().join("apps")).unwrap();
        std::fs::write(
            dir.path().join("apps/tutorial.yaml"),
            TUTORIAL.replace(TUTORIAL_REPO, &repo_url),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("git-password"),
            git_server.get("GIT_PASSWORD"),
        )
        .unwrap();
        std::fs::write(dir.path().join("argocd-token"), &emulator.token).unwrap();
        std::fs::write(dir.path().join("approvals-token"), "approve-me").unwrap();
        std::fs::write(dir.path().join("dist-token"), "dist-token").unwrap();
        let config = dir.path().join("updraft.yaml");
        std::fs::write(
            &config,
            format!(
                r#"state: "file://{state}"
applications:
  - dir: apps
registries:
  - name: acr (local stand-in)
    api_url: {url}
    prefix: {ACR}
git:
  work_dir: {work}
  credentials:
    - match: "{prefix}"
      username: {user}
      password: file:git-password
argocd:
  server: {argocd}
  token: file:argocd-token
  refresh_timeout: 5s
  sync_timeout: 20s
approvals:
  token: file:approvals-token
webhooks:
  distribution: {{token: file:dist-token}}
"#,
                state = dir.path().join("state").display(),
                work = dir.path().join("work").display(),
                prefix = git_server.get("GIT_REPOS_URL"),
                user = git_server.get("GIT_USER"),
                argocd = emulator.url,
            ),
        )
        .unwrap();
        World {
            registry_host: url.trim_start_matches("http://").to_string(),
            _registry: registry,
            pusher,
            git: git_server,
            emulator,
            _dir: dir,
            config,
            port,
        }
    }

    /// `updraft run` serving this world on `self.port` (webhooks,
    /// approvals, `/cycles`), its timer far away; not yet waited for.
    pub fn serve_command(&self) -> std::process::Command {
        let mut command = std::process::Command::new(updraft_tests::updraft_bin().unwrap());
        command.args([
            "run",
            "--config",
            self.config.to_str().unwrap(),
            "--listen",
            &format!("127.0.0.1:{}", self.port),
            "--schedule",
            "0 0 0 1 1 * 2099",
        ]);
        command
    }

    pub fn bare(&self) -> std::path::PathBuf {
        self.git.bare("gitops-demo")
    }

    pub fn run(&self, args: &[&str]) -> std::process::Output {
        let mut all = vec!["run", "--config", self.config.to_str().unwrap()];
        all.extend_from_slice(args);
        updraft_tests::updraft(&all, None).unwrap()
    }
}

/// A port free on 127.0.0.1 now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
