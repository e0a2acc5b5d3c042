//! Shared helpers: one plugin host per test, built-ins by name, candidates.

use std::time::Duration;

use updraft_core::Candidate;
use updraft_plugin_host::{
    FilterStep, HostConfig, Limits, Plugin, PluginError, PluginHost, Resolution, ResolveSpec,
    resolve,
};

/// A host with default limits and no artifact cache.
pub fn host() -> PluginHost {
    PluginHost::new(HostConfig::default()).expect("engine")
}

/// A host whose calls time out quickly and have plenty of fuel.
pub fn host_with(limits: Limits) -> PluginHost {
    PluginHost::new(HostConfig {
        limits,
        ..HostConfig::default()
    })
    .expect("engine")
}

/// Short limits for hostile plugins.
pub fn tight_limits() -> Limits {
    Limits {
        fuel: 50_000_000,
        memory_bytes: 16 << 20,
        timeout: Duration::from_millis(500),
    }
}

pub fn builtin(host: &PluginHost, name: &str) -> Plugin {
    let b = updraft_builtins::get(name).unwrap_or_else(|| panic!("no builtin {name}"));
    host.load(b.name, b.wasm).expect("builtin loads")
}

pub fn names(tags: &[&str]) -> Vec<Candidate> {
    tags.iter().map(|t| Candidate::named(*t)).collect()
}

/// Resolution with a strategy, optional constraint, and filters.
pub fn decide(
    host: &PluginHost,
    strategy: &str,
    constraint: Option<&str>,
    filters: Vec<(&str, Vec<(&str, &str)>)>,
    candidates: Vec<Candidate>,
) -> Result<Resolution, PluginError> {
    let spec = ResolveSpec {
        strategy: builtin(host, strategy),
        params: Vec::new(),
        constraint: constraint.map(str::to_string),
        filters: filters
            .into_iter()
            .map(|(name, params)| FilterStep {
                plugin: builtin(host, name),
                params: params
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            })
            .collect(),
        platforms: Vec::new(),
        current: None,
    };
    resolve(&spec, candidates)
}

/// The selected tag, panicking with the error if the call failed.
pub fn selected(r: Result<Resolution, PluginError>) -> Option<String> {
    r.unwrap_or_else(|e| panic!("resolution failed: {e}"))
        .selected
}
