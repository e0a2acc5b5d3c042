//! Owns the process-wide `Engine`: its configuration (shared by compiling and
//! precompiled-loading sides, so artifacts always match), the epoch ticker that
//! enforces wall-clock deadlines, and the default per-call limits.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use wasmtime::{Config, Engine};

use crate::PluginError;
use crate::load::Plugin;

/// The plugin ABI versions this host loads (the WIT package `updraft:plugin`).
pub const SUPPORTED_ABI: &str = "0.1.x";

/// Per-call resource limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Fuel budget: roughly one unit per WebAssembly instruction.
    pub fuel: u64,
    /// Cap on the plugin's linear memory, in bytes.
    pub memory_bytes: usize,
    /// Wall-clock deadline of one call.
    pub timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            // The semver plugin uses about 1.5 M per 1,000 tags.
            fuel: 500_000_000,
            memory_bytes: 64 << 20,
            timeout: Duration::from_secs(2),
        }
    }
}

/// The epoch tick: the granularity of every wall-clock deadline.
pub(crate) const TICK: Duration = Duration::from_millis(10);

/// How to set up a `PluginHost`.
#[derive(Debug, Clone, Default)]
pub struct HostConfig {
    /// Default limits for every plugin loaded by this host.
    pub limits: Limits,
    /// Where compiled artifacts are cached (`<sha256>-<engine hash>.cwasm`);
    /// `None` keeps them in memory only.
    pub cache_dir: Option<PathBuf>,
}

/// One per process: the engine, its ticker and the plugins loaded so far.
pub struct PluginHost {
    pub(crate) engine: Engine,
    pub(crate) config: HostConfig,
    pub(crate) engine_hash: String,
    pub(crate) loaded: Mutex<HashMap<String, Arc<crate::load::Loaded>>>,
    stop: Arc<AtomicBool>,
    ticker: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for PluginHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginHost")
            .field("config", &self.config)
            .field("engine_hash", &self.engine_hash)
            .finish_non_exhaustive()
    }
}

/// The engine configuration. Precompiled artifacts are only valid for an
/// engine built from exactly this configuration.
pub fn engine_config() -> Config {
    let mut config = Config::new();
    config
        .consume_fuel(true)
        .epoch_interruption(true)
        .wasm_component_model(true)
        .gc_support(false)
        .concurrency_support(false);
    config
}

impl PluginHost {
    /// Builds the engine and starts the epoch ticker.
    pub fn new(config: HostConfig) -> Result<Self, PluginError> {
        let engine = Engine::new(&engine_config()).map_err(|e| PluginError::Engine {
            plugin: "engine".into(),
            detail: format!("{e:#}"),
        })?;
        let engine_hash = engine_hash(&engine);
        let stop = Arc::new(AtomicBool::new(false));
        let ticker = {
            let engine = engine.clone();
            let stop = Arc::clone(&stop);
            let tick = TICK;
            std::thread::Builder::new()
                .name("updraft-epoch".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(tick);
                        engine.increment_epoch();
                    }
                })
                .map_err(|e| PluginError::Engine {
                    plugin: "engine".into(),
                    detail: format!("cannot start the epoch ticker: {e}"),
                })?
        };
        Ok(Self {
            engine,
            config,
            engine_hash,
            loaded: Mutex::new(HashMap::new()),
            stop,
            ticker: Some(ticker),
        })
    }

    /// The default limits of this host.
    pub fn limits(&self) -> Limits {
        self.config.limits
    }

    /// A short hex digest of the engine configuration and wasmtime version:
    /// part of every cached artifact's name.
    pub fn engine_hash(&self) -> &str {
        &self.engine_hash
    }

    /// Loads a plugin from `.wasm` component bytes; `name` is used in errors
    /// (e.g. the file name). Loading the same bytes twice returns the same
    /// compiled plugin.
    pub fn load(&self, name: &str, wasm: &[u8]) -> Result<Plugin, PluginError> {
        crate::load::load(self, name, wasm)
    }

    /// Drops the in-memory table of loaded plugins, so that the next `load`
    /// reads the artifact cache again (benchmarks; freeing memory).
    pub fn forget_loaded(&self) {
        if let Ok(mut map) = self.loaded.lock() {
            map.clear();
        }
    }

    /// Compiles `.wasm` component bytes into a precompiled artifact (`.cwasm`)
    /// for this engine configuration.
    #[cfg(feature = "compiler")]
    pub fn precompile(&self, name: &str, wasm: &[u8]) -> Result<Vec<u8>, PluginError> {
        crate::load::check_component_bytes(name, wasm)?;
        self.engine
            .precompile_component(wasm)
            .map_err(|e| PluginError::NotAComponent {
                plugin: name.into(),
                detail: format!("{e:#}"),
            })
    }
}

impl Drop for PluginHost {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(ticker) = self.ticker.take() {
            let _ = ticker.join();
        }
    }
}

fn engine_hash(engine: &Engine) -> String {
    use sha2::{Digest, Sha256};
    use std::hash::{Hash, Hasher};
    // DefaultHasher::new() has fixed keys; the wasmtime version and our own
    // config version are mixed in, and wasmtime re-checks at load anyway.
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    let mut sha = Sha256::new();
    sha.update(hasher.finish().to_le_bytes());
    sha.update(b"wasmtime-48;updraft-engine-v1");
    hex::encode(&sha.finalize()[..8])
}
