//! Owns [`Context`]: what a stage runs with — the settings, the checkpoint
//! store, one registry pool and one plugin catalog per process.

use std::sync::{Arc, OnceLock};

use updraft_argocd::ArgoClient;
use updraft_registry::{ClientOptions, RegistryPool};
use updraft_state::StateStore;

use crate::catalog::PluginCatalog;
use crate::error::PipelineError;
use crate::settings::Settings;

/// A stage's environment; build one per process and reuse it across
/// invocations (warm starts keep connections, tokens and loaded plugins).
#[derive(Debug)]
pub struct Context {
    /// The configuration.
    pub settings: Settings,
    /// The checkpoint store.
    pub store: StateStore,
    /// Registry clients.
    pub registries: RegistryPool,
    /// Plugins.
    pub catalog: PluginCatalog,
    argocd: OnceLock<Arc<ArgoClient>>,
    clock: fn() -> i64,
}

impl Context {
    /// Opens the store and the plugin host for `settings`.
    pub fn new(settings: Settings) -> Result<Self, PipelineError> {
        let store = StateStore::open(&settings.state)?;
        Self::with_parts(settings, store, ClientOptions::default())
    }

    /// A context over an already opened store and registry client options.
    pub fn with_parts(
        settings: Settings,
        store: StateStore,
        options: ClientOptions,
    ) -> Result<Self, PipelineError> {
        let catalog = PluginCatalog::new(settings.plugins.clone())?;
        Ok(Self {
            registries: RegistryPool::new(settings.registries.clone(), options),
            store,
            catalog,
            settings,
            argocd: OnceLock::new(),
            clock: now_nanos,
        })
    }

    /// Compiles (or reads from the on-disk cache) the plugins the
    /// configured applications use — their strategies and tag filters —
    /// off the async threads, so that a first cycle does not pay for it
    /// (Function Compute's `/initialize`, `updraft run`'s start). Returns
    /// how many are loaded; a plugin that cannot be loaded is an error
    /// naming it. Only those plugins: the regexp filter alone takes over a
    /// second to compile.
    pub async fn warm_plugins(self: Arc<Self>) -> Result<usize, String> {
        let apps = crate::apps::load(&self.settings).await;
        let used = PluginCatalog::used_by(&apps.apps);
        let started = std::time::Instant::now();
        let loaded = tokio::task::spawn_blocking(move || self.catalog.warm(&used))
            .await
            .map_err(|e| format!("loading the plugins failed: {e}"))?
            .map_err(|e| crate::error::one_line(&e))?;
        tracing::info!(
            plugins = loaded,
            millis = started.elapsed().as_millis() as u64,
            "plugins loaded"
        );
        Ok(loaded)
    }

    /// Replaces the clock (nanoseconds since the epoch), for tests.
    pub fn with_clock(mut self, clock: fn() -> i64) -> Self {
        self.clock = clock;
        self
    }

    /// The Argo CD client of `argocd:` in the settings, built on first use
    /// and kept for the process (its token is read then).
    pub fn argocd(&self) -> Result<Arc<ArgoClient>, String> {
        if let Some(client) = self.argocd.get() {
            return Ok(client.clone());
        }
        let Some(conf) = &self.settings.argocd else {
            return Err(format!(
                "{} has no argocd: section; add argocd: {{server: https://argocd.example.com, token: env:ARGOCD_TOKEN}}",
                self.settings.origin
            ));
        };
        let token = conf
            .token
            .resolve()
            .map_err(|m| format!("argocd token: {m}"))?;
        let options = updraft_argocd::ClientOptions {
            insecure: conf.insecure,
            ..Default::default()
        };
        let client =
            ArgoClient::new(&conf.server, token.into(), options).map_err(|e| e.to_string())?;
        Ok(self.argocd.get_or_init(|| Arc::new(client)).clone())
    }

    /// Now, nanoseconds since the epoch.
    pub fn now(&self) -> i64 {
        (self.clock)()
    }
}

fn now_nanos() -> i64 {
    chrono::Utc::now().timestamp_nanos_opt().unwrap_or(i64::MAX)
}
