//! Owns plugins by name for the stages: the built-ins embedded in the
//! binary and the `.wasm` files configured in `updraft.yaml` (sha256 checked
//! before loading), all through one plugin host, each loaded once.

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Mutex;

use sha2::{Digest, Sha256};
use updraft_core::{FilterCall, ImageConfig, UpdateStrategy};
use updraft_plugin_host::{FilterStep, HostConfig, Plugin, PluginHost, PluginKind};

use crate::error::PipelineError;
use crate::settings::PluginSpec;

/// Plugins by name.
pub struct PluginCatalog {
    host: PluginHost,
    configured: Vec<PluginSpec>,
    loaded: Mutex<HashMap<String, Plugin>>,
}

impl std::fmt::Debug for PluginCatalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginCatalog")
            .field("configured", &self.configured)
            .finish_non_exhaustive()
    }
}

impl PluginCatalog {
    /// A catalog over `configured` plugins, with compiled artifacts cached
    /// in [`default_cache_dir`].
    pub fn new(configured: Vec<PluginSpec>) -> Result<Self, PipelineError> {
        let host = PluginHost::new(HostConfig {
            cache_dir: default_cache_dir(),
            ..HostConfig::default()
        })?;
        Ok(Self::with_host(host, configured))
    }

    /// A catalog over an existing host.
    pub fn with_host(host: PluginHost, configured: Vec<PluginSpec>) -> Self {
        Self {
            host,
            configured,
            loaded: Mutex::new(HashMap::new()),
        }
    }

    /// The plugin host.
    pub fn host(&self) -> &PluginHost {
        &self.host
    }

    /// The names of the configured (third-party) plugins.
    pub fn configured_names(&self) -> Vec<String> {
        self.configured.iter().map(|p| p.name.clone()).collect()
    }

    /// A plugin by name: a built-in (`strategy-semver`, `filter-glob`, …) or
    /// a configured one.
    pub fn get(&self, name: &str) -> Result<Plugin, PipelineError> {
        if let Some(plugin) = self.lock().get(name) {
            return Ok(plugin.clone());
        }
        let plugin = match updraft_builtins::get(name) {
            Some(builtin) => self.host.load(builtin.name, builtin.wasm)?,
            None => self.load_configured(name)?,
        };
        self.lock().insert(name.to_string(), plugin.clone());
        Ok(plugin)
    }

    /// Loads (compiles, or reads from the on-disk cache) the plugins
    /// `names`, so that the first cycle does not pay for it (Function
    /// Compute's `/initialize`). Returns how many are loaded; a plugin that
    /// cannot be loaded is an error naming it.
    pub fn warm(&self, names: &BTreeSet<String>) -> Result<usize, PipelineError> {
        for name in names {
            self.get(name)?;
        }
        Ok(names.len())
    }

    /// The plugins `apps` use: each image's strategy and tag filters.
    pub fn used_by(apps: &[crate::apps::LoadedApp]) -> BTreeSet<String> {
        apps.iter()
            .flat_map(|app| &app.config.images)
            .flat_map(|image| {
                std::iter::once(image.strategy.plugin_name().to_string())
                    .chain(image.filter_calls().into_iter().map(|c| c.plugin))
            })
            .collect()
    }

    /// The strategy plugin of an image; a configured plugin must be a
    /// strategy.
    pub fn strategy(&self, strategy: &UpdateStrategy) -> Result<Plugin, PipelineError> {
        let plugin = self.get(strategy.plugin_name())?;
        if plugin.kind() != PluginKind::Strategy {
            return Err(PipelineError::Catalog {
                name: plugin.name().to_string(),
                message: "is a tag filter, not a strategy; use it in a filter setting".into(),
            });
        }
        Ok(plugin)
    }

    /// The filter steps of an image (`allow-tags`, then `ignore-tags`).
    pub fn filters(&self, image: &ImageConfig) -> Result<Vec<FilterStep>, PipelineError> {
        image
            .filter_calls()
            .into_iter()
            .map(|call| self.filter(call))
            .collect()
    }

    fn filter(&self, call: FilterCall) -> Result<FilterStep, PipelineError> {
        Ok(FilterStep {
            plugin: self.get(&call.plugin)?,
            params: call.params,
        })
    }

    fn load_configured(&self, name: &str) -> Result<Plugin, PipelineError> {
        let Some(spec) = self.configured.iter().find(|p| p.name == name) else {
            let configured = self.configured_names();
            return Err(PipelineError::Catalog {
                name: name.to_string(),
                message: if configured.is_empty() {
                    "is neither built in nor configured; add it under plugins: in updraft.yaml"
                        .to_string()
                } else {
                    format!(
                        "is neither built in nor configured (configured: {})",
                        configured.join(", ")
                    )
                },
            });
        };
        let wasm = std::fs::read(&spec.path).map_err(|e| PipelineError::Catalog {
            name: name.to_string(),
            message: format!("cannot read {} ({e})", spec.path.display()),
        })?;
        if let Some(pinned) = &spec.sha256 {
            let actual = hex::encode(Sha256::digest(&wasm));
            if &actual != pinned {
                return Err(PipelineError::Catalog {
                    name: name.to_string(),
                    message: format!(
                        "{} has sha256 {actual}, but updraft.yaml pins {pinned}; refusing to run it (update the pin only if you trust the new file)",
                        spec.path.display()
                    ),
                });
            }
        }
        Ok(self.host.load(name, &wasm)?)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Plugin>> {
        match self.loaded.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

/// `UPDRAFT_CACHE_DIR`, else `$XDG_CACHE_HOME/updraft/plugins`, else
/// `~/.cache/updraft/plugins`; none if no home is known.
pub fn default_cache_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("UPDRAFT_CACHE_DIR") {
        return Some(PathBuf::from(dir));
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME") {
        return Some(PathBuf::from(dir).join("updraft/plugins"));
    }
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache/updraft/plugins"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn warm_loads_the_plugins_in_use_and_names_a_broken_one() {
        let dir = tempfile::tempdir().unwrap();
        let host = PluginHost::new(HostConfig {
            cache_dir: Some(dir.path().join("cache")),
            ..HostConfig::default()
        })
        .unwrap();
        let catalog = PluginCatalog::with_host(host, Vec::new());
        let text = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: a\n  namespace: argocd\n  annotations:\n    argocd-image-updater.argoproj.io/image-list: x=ghcr.io/t/x\n    argocd-image-updater.argoproj.io/x.update-strategy: newest-build\n    argocd-image-updater.argoproj.io/x.allow-tags: regexp:^v\nspec:\n  source:\n    repoURL: https://git.example/d.git\n    path: a\n";
        let loaded = crate::apps::from_documents(&[("a.yaml".into(), text.into())]);
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        let used = PluginCatalog::used_by(&loaded.apps);
        assert_eq!(
            used.iter().map(String::as_str).collect::<Vec<_>>(),
            ["filter-regexp", "strategy-newest-build"]
        );
        assert_eq!(catalog.warm(&used).unwrap(), 2);
        // Loaded once, and only those.
        assert_eq!(catalog.lock().len(), 2);
        assert_eq!(catalog.warm(&used).unwrap(), 2);

        let host = PluginHost::new(HostConfig::default()).unwrap();
        let missing = PluginSpec {
            name: "my-strategy".into(),
            path: dir.path().join("missing.wasm"),
            sha256: None,
        };
        let catalog = PluginCatalog::with_host(host, vec![missing]);
        let err = catalog
            .warm(&BTreeSet::from(["my-strategy".to_string()]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("my-strategy") && err.contains("missing.wasm"),
            "{err}"
        );
    }
}
