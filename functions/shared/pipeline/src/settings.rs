//! Owns `updraft.yaml`: the state URL, registries (Image Updater's
//! `registries.conf` keys), extra plugins and where the applications are.
//! Unknown keys are errors that name the key; relative paths are relative
//! to the file.

use std::path::{Path, PathBuf};

use serde::Deserialize;
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
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAppSource {
    #[serde(default)]
    dir: Option<String>,
    #[serde(default)]
    store: Option<String>,
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
                "{} (known keys: state, applications, registries, plugins)",
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
            match (source.dir, source.store) {
                (Some(dir), None) if !dir.trim().is_empty() => {
                    applications.push(AppSource::Dir(base.join(dir.trim())));
                }
                (None, Some(url)) if !url.trim().is_empty() => {
                    updraft_state::StoreUrl::parse(url.trim())
                        .map_err(|e| fail(format!("applications item {item}: store: {e}")))?;
                    applications.push(AppSource::Store(url.trim().to_string()));
                }
                _ => {
                    return Err(fail(format!(
                        "applications item {item}: give exactly one of `dir: PATH` or `store: URL`"
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
        Ok(Self {
            state,
            applications,
            registries,
            plugins,
            origin: origin.to_string(),
        })
    }
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
