//! Owns `updraft.yaml`: the state URL, registries (Image Updater's
//! `registries.conf` keys), extra plugins and where the applications are.
//! Unknown keys are errors that name the key; relative paths are relative
//! to the file.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use updraft_core::promotion::{PromotionConfig, PromotionGates};
use updraft_registry::{Registries, RegistryConf};
use updraft_state::DEFAULT_URL;

use crate::error::PipelineError;

/// The file name looked for in the working directory.
pub const FILE_NAME: &str = "updraft.yaml";

/// Environment variable naming the configuration file.
pub const CONFIG_ENV: &str = "UPDRAFT_CONFIG";

/// Environment variable overriding `state:` (serverless deployments set the
/// store through the function's environment).
pub const STATE_ENV: &str = "UPDRAFT_STATE";

/// Where applications are read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppSource {
    /// A directory of YAML manifests (read recursively).
    Dir(PathBuf),
    /// An object-storage prefix (same URL forms as `state:`), every
    /// `.yaml`/`.yml` object under it.
    Store(String),
    /// The Argo CD API of `argocd:` (Image Updater's own source): every
    /// Application the token may see, optionally narrowed.
    Argocd(ArgoAppSelector),
}

/// Which Applications to read from the Argo CD API.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArgoAppSelector {
    /// Only this project.
    #[serde(default)]
    pub project: Option<String>,
    /// A label selector (`argocd-image-updater.argoproj.io/enabled=true`).
    #[serde(default)]
    pub selector: Option<String>,
    /// Only Applications in this namespace (`appNamespace`).
    #[serde(default)]
    pub app_namespace: Option<String>,
}

/// A third-party plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginSpec {
    /// The name annotations use (`update-strategy: <name>`).
    pub name: String,
    /// The `.wasm` file.
    pub path: PathBuf,
    /// The pinned sha256 of the file, lower-case hex.
    pub sha256: Option<String>,
}

/// How commits are batched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CommitBatching {
    /// One commit and one push per repository and branch per cycle.
    #[default]
    PerRepository,
    /// One commit per application (Image Updater's behaviour), still one
    /// push attempt sequence per commit.
    PerApplication,
}

/// A secret value: a reference (`env:NAME`, `file:PATH`) resolved when
/// used, never stored or printed.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretRef(String);

impl std::fmt::Debug for SecretRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The reference names where the secret is, not the secret.
        write!(f, "SecretRef({})", self.0)
    }
}

impl SecretRef {
    /// Parses `env:NAME` or `file:PATH` (relative to `base`).
    pub fn parse(text: &str, base: &Path) -> Result<Self, String> {
        let text = text.trim();
        if let Some(name) = text.strip_prefix("env:") {
            if name.is_empty() {
                return Err("env: needs a variable name".into());
            }
            return Ok(Self(text.to_string()));
        }
        if let Some(path) = text.strip_prefix("file:") {
            if path.is_empty() {
                return Err("file: needs a path".into());
            }
            return Ok(Self(format!("file:{}", base.join(path).display())));
        }
        Err("a secret must be a reference, env:NAME or file:PATH, never the value itself".into())
    }

    /// The secret's value (a file's content is trimmed of surrounding
    /// whitespace).
    pub fn resolve(&self) -> Result<String, String> {
        if let Some(name) = self.0.strip_prefix("env:") {
            return std::env::var(name)
                .map_err(|_| format!("environment variable {name} is not set"));
        }
        let path = self.0.strip_prefix("file:").unwrap_or(&self.0);
        std::fs::read_to_string(path)
            .map(|t| t.trim().to_string())
            .map_err(|e| format!("cannot read {path} ({e})"))
    }

    /// The path of a `file:` reference.
    pub fn path(&self) -> Option<PathBuf> {
        self.0.strip_prefix("file:").map(PathBuf::from)
    }

    /// The reference as written after parsing (`env:NAME`, `file:/abs`).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Credentials for the repositories whose URL starts with a prefix, or for
/// the applications that name an Image Updater secret
/// (`write-back-method: git:secret:<ns>/<name>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitCredentialRule {
    /// URL prefix (`https://github.com/acme/`, `git@github.com:`).
    pub match_prefix: Option<String>,
    /// `namespace/name` of the Image Updater secret this stands for.
    pub secret: Option<String>,
    /// HTTPS user name (not a secret; a reference is also accepted).
    pub username: Option<String>,
    /// HTTPS password or token.
    pub password: Option<SecretRef>,
    /// SSH private key (a `file:` reference).
    pub ssh_key: Option<SecretRef>,
    /// The SSH private key's passphrase, when it has one.
    pub ssh_key_passphrase: Option<SecretRef>,
    /// known_hosts file for SSH.
    pub known_hosts: Option<PathBuf>,
    /// Accept SSH hosts missing from known_hosts (off by default).
    pub accept_unknown_hosts: bool,
}

/// Git write-back settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitSettings {
    /// Commit author name.
    pub user: String,
    /// Commit author email.
    pub email: String,
    /// Batching.
    pub commit: CommitBatching,
    /// Push attempts on a rejected (non-fast-forward) push.
    pub max_attempts: u32,
    /// Where clones are kept between invocations (a warm function reuses
    /// them); default `<temp>/updraft-git`.
    pub work_dir: PathBuf,
    /// Credentials, longest matching prefix first.
    pub credentials: Vec<GitCredentialRule>,
    /// Add a `Signed-off-by:` trailer (Image Updater's `git.commit-sign-off`).
    pub signoff: bool,
    /// Commit and push nothing; report the diffs instead (`updraft run
    /// --dry-run`; not a file setting).
    pub dry_run: bool,
    /// The commit message template (Image Updater's
    /// `git.commit-message-template`, Go template syntax); `None`: Image
    /// Updater's default message.
    pub message_template: Option<String>,
}

impl Default for GitSettings {
    fn default() -> Self {
        Self {
            user: "argocd-image-updater".into(),
            email: "noreply@argoproj.io".into(),
            commit: CommitBatching::PerRepository,
            max_attempts: 5,
            work_dir: std::env::temp_dir().join("updraft-git"),
            credentials: Vec::new(),
            signoff: false,
            dry_run: false,
            message_template: None,
        }
    }
}

/// How to reach Argo CD's API.
#[derive(Debug, Clone)]
pub struct ArgoSettings {
    /// The server URL (`https://argocd.example.com`).
    pub server: String,
    /// The bearer token (an account's API token).
    pub token: SecretRef,
    /// Skip TLS verification (a self-signed argocd-server); off by default.
    pub insecure: bool,
    /// How long a refresh may block (default 60s).
    pub refresh_timeout: std::time::Duration,
    /// How long a sync operation may run before it is reported as failed
    /// (default 5m).
    pub sync_timeout: std::time::Duration,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawArgo {
    server: String,
    token: String,
    #[serde(default)]
    insecure: bool,
    #[serde(default)]
    refresh_timeout: Option<String>,
    #[serde(default)]
    sync_timeout: Option<String>,
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The checkpoint store URL.
    pub state: String,
    /// Where applications are read from, in order.
    pub applications: Vec<AppSource>,
    /// Registries (Docker Hub built in).
    pub registries: Registries,
    /// Third-party plugins.
    pub plugins: Vec<PluginSpec>,
    /// Git write-back.
    pub git: GitSettings,
    /// The Argo CD API (the `argocd` write-back method, `sync-trigger`).
    pub argocd: Option<ArgoSettings>,
    /// Environments, their promotion gates and canaries.
    pub promotion: PromotionGates,
    /// The bearer token of the approval endpoints over HTTP (`approvals:
    /// {token: env:NAME}`); `None`: they are off.
    pub approvals_token: Option<SecretRef>,
    /// Where to announce changes that wait, and decisions.
    pub notify: Vec<crate::notify::NotifyTarget>,
    /// Registry webhooks (sources and their secrets).
    pub webhooks: updraft_webhooks::WebhookConfig,
    /// The directory relative references are read from.
    pub base: PathBuf,
    /// Where the settings came from (for messages).
    pub origin: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSettings {
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    applications: Vec<RawAppSource>,
    #[serde(default)]
    registries: Vec<RegistryConf>,
    #[serde(default)]
    plugins: Vec<RawPlugin>,
    #[serde(default)]
    git: Option<RawGit>,
    #[serde(default)]
    argocd: Option<RawArgo>,
    #[serde(default)]
    promotion: Option<PromotionConfig>,
    #[serde(default)]
    approvals: Option<RawApprovals>,
    #[serde(default)]
    notify: Vec<crate::notify::NotifyTarget>,
    #[serde(default)]
    webhooks: Option<updraft_webhooks::WebhookConfig>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawApprovals {
    token: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGit {
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    commit: Option<String>,
    #[serde(default)]
    max_attempts: Option<u32>,
    #[serde(default)]
    work_dir: Option<String>,
    #[serde(default)]
    credentials: Vec<RawGitCredentials>,
    #[serde(default)]
    signoff: bool,
    #[serde(default)]
    commit_message: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGitCredentials {
    #[serde(default, rename = "match")]
    match_prefix: Option<String>,
    #[serde(default)]
    secret: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    ssh_key: Option<String>,
    #[serde(default)]
    ssh_key_passphrase: Option<String>,
    #[serde(default)]
    known_hosts: Option<String>,
    #[serde(default)]
    accept_unknown_hosts: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAppSource {
    #[serde(default)]
    dir: Option<String>,
    #[serde(default)]
    store: Option<String>,
    #[serde(default)]
    argocd: Option<ArgoAppSelector>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlugin {
    name: String,
    source: String,
    #[serde(default)]
    sha256: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            state: DEFAULT_URL.to_string(),
            applications: Vec::new(),
            registries: Registries::builtin(),
            plugins: Vec::new(),
            git: GitSettings::default(),
            argocd: None,
            promotion: PromotionGates::default(),
            approvals_token: None,
            notify: Vec::new(),
            webhooks: updraft_webhooks::WebhookConfig::default(),
            base: PathBuf::from("."),
            origin: "defaults".to_string(),
        }
    }
}

impl Settings {
    /// The settings a process runs with: `path` if given, else
    /// `UPDRAFT_CONFIG`, else `./updraft.yaml` if it exists, else the
    /// defaults; then `UPDRAFT_STATE` overrides `state:`.
    pub fn discover(path: Option<&Path>) -> Result<Self, PipelineError> {
        let explicit = path
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os(CONFIG_ENV).map(PathBuf::from));
        let mut settings = match explicit {
            Some(path) => Self::load(&path)?,
            None if Path::new(FILE_NAME).is_file() => Self::load(Path::new(FILE_NAME))?,
            None => Self::default(),
        };
        if let Ok(state) = std::env::var(STATE_ENV)
            && !state.trim().is_empty()
        {
            settings.state = state.trim().to_string();
        }
        Ok(settings)
    }

    /// Reads and validates a file.
    pub fn load(path: &Path) -> Result<Self, PipelineError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| PipelineError::Settings {
            origin: origin.clone(),
            message: format!(
                "cannot read the configuration file ({e}); pass --config FILE or set {CONFIG_ENV}"
            ),
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        Self::parse(&text, &origin, base)
    }

    /// Parses `text`; relative paths are resolved against `base`.
    pub fn parse(text: &str, origin: &str, base: &Path) -> Result<Self, PipelineError> {
        let fail = |message: String| PipelineError::Settings {
            origin: origin.to_string(),
            message,
        };
        let raw: Option<RawSettings> = serde_saphyr::from_str(text).map_err(|e| {
            fail(format!(
                "{} (known keys: state, applications, registries, plugins, git, argocd, promotion, approvals, notify, webhooks)",
                one_line(&e.to_string())
            ))
        })?;
        let Some(raw) = raw else {
            return Ok(Self {
                origin: origin.to_string(),
                ..Self::default()
            });
        };
        let state = match raw.state {
            Some(url) if !url.trim().is_empty() => {
                updraft_state::StoreUrl::parse(url.trim())
                    .map_err(|e| fail(format!("state: {e}")))?;
                url.trim().to_string()
            }
            _ => DEFAULT_URL.to_string(),
        };
        let mut applications = Vec::new();
        for (i, source) in raw.applications.into_iter().enumerate() {
            let item = i + 1;
            match (source.dir, source.store, source.argocd) {
                (None, None, Some(selector)) => {
                    if raw.argocd.is_none() {
                        return Err(fail(format!(
                            "applications item {item}: argocd: reads the Argo CD API; add argocd: {{server: …, token: env:…}} to updraft.yaml"
                        )));
                    }
                    applications.push(AppSource::Argocd(selector));
                }
                (Some(dir), None, None) if !dir.trim().is_empty() => {
                    applications.push(AppSource::Dir(base.join(dir.trim())));
                }
                (None, Some(url), None) if !url.trim().is_empty() => {
                    updraft_state::StoreUrl::parse(url.trim())
                        .map_err(|e| fail(format!("applications item {item}: store: {e}")))?;
                    applications.push(AppSource::Store(url.trim().to_string()));
                }
                _ => {
                    return Err(fail(format!(
                        "applications item {item}: give exactly one of `dir: PATH`, `store: URL` or `argocd: {{project, selector, app_namespace}}`"
                    )));
                }
            }
        }
        let registries = if raw.registries.is_empty() {
            Registries::builtin()
        } else {
            Registries::from_entries(&raw.registries, &format!("{origin} registries"))?
        };
        let mut plugins: Vec<PluginSpec> = Vec::new();
        for plugin in raw.plugins {
            let name = plugin.name.trim().to_string();
            if name.is_empty() {
                return Err(fail("plugins: a plugin has an empty name".to_string()));
            }
            if updraft_builtins::get(&name).is_some() || is_builtin_strategy_name(&name) {
                return Err(fail(format!(
                    "plugins: '{name}' is the name of a built-in; choose another name"
                )));
            }
            if plugins.iter().any(|p| p.name == name) {
                return Err(fail(format!("plugins: '{name}' is configured twice")));
            }
            let source = plugin.source.trim();
            let path = match source.strip_prefix("file:") {
                Some(path) => path,
                None if source.contains("://") => {
                    return Err(fail(format!(
                        "plugins: '{name}': source '{source}' is not supported; download the .wasm, pin its sha256 and use file:PATH"
                    )));
                }
                None => source,
            };
            let sha256 = match plugin.sha256 {
                Some(hash) => {
                    let hash = hash.trim().to_ascii_lowercase();
                    if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
                        return Err(fail(format!(
                            "plugins: '{name}': sha256 '{hash}' is not 64 hex digits (sha256sum FILE prints it)"
                        )));
                    }
                    Some(hash)
                }
                None => None,
            };
            plugins.push(PluginSpec {
                name,
                path: base.join(path),
                sha256,
            });
        }
        let git = match raw.git {
            Some(git) => parse_git(git, base).map_err(|m| fail(format!("git: {m}")))?,
            None => GitSettings::default(),
        };
        let argocd = match raw.argocd {
            Some(a) => {
                let server = a.server.trim().trim_end_matches('/').to_string();
                if !(server.starts_with("https://") || server.starts_with("http://")) {
                    return Err(fail(format!(
                        "argocd: server '{server}' must be an https:// (or http://) URL"
                    )));
                }
                let token = SecretRef::parse(&a.token, base)
                    .map_err(|m| fail(format!("argocd: token: {m}")))?;
                let duration = |field: &str, value: &Option<String>, default: u64| match value {
                    None => Ok(std::time::Duration::from_secs(default)),
                    Some(text) => updraft_core::promotion::parse_duration(text)
                        .ok()
                        .and_then(|d| d.to_std().ok())
                        .filter(|d| !d.is_zero())
                        .ok_or_else(|| {
                            fail(format!(
                                "argocd: {field}: '{text}' is not a duration such as 30s, 5m or 1h"
                            ))
                        }),
                };
                Some(ArgoSettings {
                    server,
                    token,
                    insecure: a.insecure,
                    refresh_timeout: duration("refresh_timeout", &a.refresh_timeout, 60)?,
                    sync_timeout: duration("sync_timeout", &a.sync_timeout, 300)?,
                })
            }
            None => None,
        };
        let promotion = match raw.promotion {
            Some(p) => p.compile().map_err(|e| fail(e.to_string()))?,
            None => PromotionGates::default(),
        };
        let approvals_token = match raw.approvals {
            Some(a) => Some(
                SecretRef::parse(&a.token, base)
                    .map_err(|m| fail(format!("approvals: token: {m}")))?,
            ),
            None => None,
        };
        let mut notify = raw.notify;
        for (i, target) in notify.iter_mut().enumerate() {
            let item = i + 1;
            let reference = |what: &str, text: &str| {
                SecretRef::parse(text, base)
                    .map(|r| r.as_str().to_string())
                    .map_err(|m| {
                        fail(format!(
                            "notify item {item} ({}): {what}: {m} (webhook URLs carry tokens)",
                            target.kind
                        ))
                    })
            };
            let url = reference("url", &target.url)?;
            let secret = match &target.secret {
                Some(s) => Some(reference("secret", s)?),
                None => None,
            };
            target.url = url;
            target.secret = secret;
        }
        let webhooks = raw.webhooks.unwrap_or_default();
        webhooks
            .validate()
            .map_err(|e| fail(format!("webhooks: {e}")))?;
        Ok(Self {
            state,
            applications,
            registries,
            plugins,
            git,
            argocd,
            promotion,
            approvals_token,
            notify,
            webhooks,
            base: base.to_path_buf(),
            origin: origin.to_string(),
        })
    }
}

fn parse_git(raw: RawGit, base: &Path) -> Result<GitSettings, String> {
    let defaults = GitSettings::default();
    let commit = match raw.commit.as_deref().map(str::trim) {
        None | Some("per-repository") => CommitBatching::PerRepository,
        Some("per-application") => CommitBatching::PerApplication,
        Some(other) => {
            return Err(format!(
                "commit: '{other}' is not per-repository or per-application"
            ));
        }
    };
    let max_attempts = raw.max_attempts.unwrap_or(defaults.max_attempts);
    if max_attempts == 0 {
        return Err("max_attempts must be at least 1".into());
    }
    let mut credentials = Vec::new();
    for (i, c) in raw.credentials.into_iter().enumerate() {
        let item = i + 1;
        let secret_ref = |value: Option<String>, key: &str| {
            value
                .map(|v| SecretRef::parse(&v, base))
                .transpose()
                .map_err(|m| format!("credentials item {item}: {key}: {m}"))
        };
        if c.match_prefix.is_none() && c.secret.is_none() {
            return Err(format!(
                "credentials item {item}: give `match: URL-PREFIX` or `secret: NAMESPACE/NAME` (or both)"
            ));
        }
        let password = secret_ref(c.password, "password")?;
        let ssh_key = secret_ref(c.ssh_key, "ssh_key")?;
        if password.is_some() == ssh_key.is_some() {
            return Err(format!(
                "credentials item {item}: give exactly one of password (with username) or ssh_key"
            ));
        }
        if password.is_some() && c.username.is_none() {
            return Err(format!("credentials item {item}: password needs username"));
        }
        let ssh_key_passphrase = secret_ref(c.ssh_key_passphrase, "ssh_key_passphrase")?;
        if ssh_key_passphrase.is_some() && ssh_key.is_none() {
            return Err(format!(
                "credentials item {item}: ssh_key_passphrase goes with ssh_key"
            ));
        }
        let known_hosts = c.known_hosts.map(|k| {
            SecretRef::parse(&k, base)
                .ok()
                .and_then(|r| r.path())
                .unwrap_or_else(|| base.join(k.trim()))
        });
        credentials.push(GitCredentialRule {
            match_prefix: c.match_prefix.map(|m| m.trim().to_string()),
            secret: c.secret.map(|s| s.trim().to_string()),
            username: c.username.map(|u| u.trim().to_string()),
            password,
            ssh_key,
            ssh_key_passphrase,
            known_hosts,
            accept_unknown_hosts: c.accept_unknown_hosts,
        });
    }
    // Longest prefix first, so the most specific rule wins.
    credentials
        .sort_by_key(|c| std::cmp::Reverse(c.match_prefix.as_deref().map(str::len).unwrap_or(0)));
    Ok(GitSettings {
        user: raw
            .user
            .map(|u| u.trim().to_string())
            .unwrap_or(defaults.user),
        email: raw
            .email
            .map(|e| e.trim().to_string())
            .unwrap_or(defaults.email),
        commit,
        max_attempts,
        work_dir: raw
            .work_dir
            .map(|w| base.join(w.trim()))
            .unwrap_or(defaults.work_dir),
        credentials,
        signoff: raw.signoff,
        dry_run: false,
        message_template: raw.commit_message.filter(|t| !t.trim().is_empty()),
    })
}

fn is_builtin_strategy_name(name: &str) -> bool {
    matches!(
        name,
        "semver" | "newest-build" | "latest" | "alphabetical" | "name" | "digest"
    )
}

fn one_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_file() {
        let text = r#"
state: s3://bucket/prefix?endpoint=http://127.0.0.1:9000&allow_http=true
applications:
  - dir: apps
  - store: file:///srv/apps
registries:
  - name: local
    api_url: http://127.0.0.1:5000
    prefix: localhost:5000
    insecure: true
plugins:
  - name: release-version
    source: file:plugins/release_version.wasm
    sha256: 3F2A000000000000000000000000000000000000000000000000000000000000
"#;
        let s = Settings::parse(text, "updraft.yaml", Path::new("/etc/updraft")).unwrap();
        assert_eq!(
            s.state,
            "s3://bucket/prefix?endpoint=http://127.0.0.1:9000&allow_http=true"
        );
        assert_eq!(
            s.applications,
            [
                AppSource::Dir(PathBuf::from("/etc/updraft/apps")),
                AppSource::Store("file:///srv/apps".into())
            ]
        );
        assert_eq!(
            s.plugins[0].path,
            Path::new("/etc/updraft/plugins/release_version.wasm")
        );
        assert_eq!(
            s.plugins[0].sha256.as_deref(),
            Some("3f2a000000000000000000000000000000000000000000000000000000000000")
        );
        assert!(
            s.registries
                .endpoint_for(Some("localhost:5000"), "app")
                .unwrap()
                .api()
                .starts_with("http://127.0.0.1:5000")
        );
    }

    #[test]
    fn git_section() {
        let text = r#"
git:
  user: updraft
  email: updraft@example.com
  commit: per-application
  credentials:
    - {match: "https://git.example/", username: bot, password: env:GIT_TOKEN}
    - {match: "https://git.example/team/", username: bot2, password: "file:token.txt"}
    - {secret: argocd/git-creds, ssh_key: file:/run/key, ssh_key_passphrase: env:KEY_PASS, known_hosts: /etc/known_hosts}
"#;
        let s = Settings::parse(text, "updraft.yaml", Path::new("/etc/updraft")).unwrap();
        let ssh = s
            .git
            .credentials
            .iter()
            .find(|c| c.ssh_key.is_some())
            .unwrap();
        assert_eq!(
            ssh.ssh_key_passphrase,
            Some(SecretRef::parse("env:KEY_PASS", Path::new(".")).unwrap())
        );
        assert_eq!(s.git.user, "updraft");
        assert_eq!(s.git.commit, CommitBatching::PerApplication);
        assert_eq!(
            s.git.credentials[0].match_prefix.as_deref(),
            Some("https://git.example/team/")
        );
        assert_eq!(
            s.git.credentials[0]
                .password
                .as_ref()
                .unwrap()
                .path()
                .unwrap(),
            Path::new("/etc/updraft/token.txt")
        );
        let err = |text: &str| {
            Settings::parse(text, "updraft.yaml", Path::new("."))
                .unwrap_err()
                .to_string()
        };
        assert!(
            err("git:\n  credentials:\n    - {match: x, username: u, password: hunter2}\n")
                .contains("never the value itself")
        );
        assert!(
            err("git:\n  credentials:\n    - {username: u, password: env:X}\n").contains("match")
        );
        assert!(err("git:\n  commit: sometimes\n").contains("per-repository"));
        assert_eq!(Settings::default().git.email, "noreply@argoproj.io");
    }

    #[test]
    fn empty_file_is_the_defaults() {
        let s = Settings::parse("", "updraft.yaml", Path::new(".")).unwrap();
        assert_eq!(s.state, DEFAULT_URL);
        assert!(s.applications.is_empty());
    }

    #[test]
    fn errors_name_the_problem() {
        let err = |text: &str| {
            Settings::parse(text, "updraft.yaml", Path::new("."))
                .unwrap_err()
                .to_string()
        };
        assert!(err("stat: x\n").contains("stat"), "{}", err("stat: x\n"));
        assert!(err("applications:\n  - {dir: a, store: b}\n").contains("exactly one"));
        assert!(err("plugins:\n  - {name: semver, source: a.wasm}\n").contains("built-in"));
        assert!(
            err("plugins:\n  - {name: x, source: 'https://e.com/x.wasm'}\n").contains("file:PATH")
        );
        assert!(err("plugins:\n  - {name: x, source: a.wasm, sha256: abc}\n").contains("64 hex"));
        assert!(err("state: 'ftp://x'\n").starts_with("updraft.yaml: state:"));
    }
}
