//! Owns finding plugins for the CLI: the built-ins embedded in the binary and
//! `.wasm` files named on the command line, loaded through one `PluginHost`.

use std::path::Path;

use anyhow::{Context, Result, bail};
use updraft_plugin_host::{HostConfig, Plugin, PluginHost};

/// The plugin host plus the ways the CLI names plugins.
pub struct Catalog {
    host: PluginHost,
}

impl Catalog {
    /// A host whose compiled artifacts are cached in `cache_dir()`.
    pub fn new() -> Result<Self> {
        let host = PluginHost::new(HostConfig {
            cache_dir: updraft_pipeline::catalog::default_cache_dir(),
            ..HostConfig::default()
        })?;
        Ok(Self { host })
    }

    /// The underlying host.
    pub fn host(&self) -> &PluginHost {
        &self.host
    }

    /// A built-in plugin by name (`strategy-semver`, `filter-glob`, ...).
    pub fn builtin(&self, name: &str) -> Result<Plugin> {
        let Some(builtin) = updraft_builtins::get(name) else {
            let names: Vec<&str> = updraft_builtins::ALL.iter().map(|b| b.name).collect();
            bail!(
                "no built-in plugin named '{name}' (built-ins: {})",
                names.join(", ")
            );
        };
        Ok(self.host.load(builtin.name, builtin.wasm)?)
    }

    /// A plugin from a `.wasm` file.
    pub fn file(&self, path: &Path) -> Result<Plugin> {
        let wasm = read_wasm(path)?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        Ok(self.host.load(&name, &wasm)?)
    }
}

/// Reads a plugin file; only `.wasm` components are accepted from outside.
pub fn read_wasm(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read plugin file {}", path.display()))
}
