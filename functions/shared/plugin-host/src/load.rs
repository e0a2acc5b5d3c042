//! Owns loading: byte checks, the artifact cache (by content hash and engine
//! configuration), ABI and import inspection, and one-time type-checking into
//! an `InstancePre`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};
use wasmtime::component::{Component, Linker};
use wasmtime::{Engine, ResourceLimiter};

use crate::bindings::{filter, strategy};
use crate::call::{FilterInfo, StrategyInfo};
use crate::engine::{Limits, PluginHost, SUPPORTED_ABI};
use crate::error::PluginError;

/// The WIT package every plugin exports from.
const PACKAGE: &str = "updraft:plugin/";
/// Import namespaces no plugin may use. Everything else a std guest imports
/// (`wasi:cli`, `wasi:io`) is linked as a trap.
const FORBIDDEN_IMPORTS: &[&str] = &[
    "wasi:filesystem/",
    "wasi:sockets/",
    "wasi:http/",
    "wasi:clocks/",
    "wasi:random/",
];

/// What a plugin provides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PluginKind {
    /// An update strategy (`updraft:plugin/strategy`).
    Strategy,
    /// A tag filter (`updraft:plugin/tag-filter`).
    TagFilter,
}

impl PluginKind {
    /// `strategy` or `tag-filter`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Strategy => "strategy",
            Self::TagFilter => "tag-filter",
        }
    }
}

/// Per-store data: only the memory limiter.
pub(crate) struct State {
    pub(crate) limiter: MemoryLimiter,
    pub(crate) _table: wasmtime::component::ResourceTable,
}

/// Caps linear memory and remembers that it refused, so that a guest abort
/// after a failed allocation is reported as a memory limit, not a crash.
pub(crate) struct MemoryLimiter {
    pub(crate) max: usize,
    pub(crate) refused: bool,
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.max {
            self.refused = true;
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 1_000_000)
    }
}

pub(crate) enum Pre {
    Strategy(strategy::StrategyPluginPre<State>),
    Filter(filter::TagFilterPluginPre<State>),
}

/// A compiled, type-checked plugin, shared by every `Plugin` handle to it.
pub(crate) struct Loaded {
    pub(crate) name: String,
    pub(crate) sha256: String,
    pub(crate) abi: String,
    pub(crate) imports: Vec<String>,
    pub(crate) pre: Pre,
    pub(crate) strategy_info: Option<StrategyInfo>,
    pub(crate) filter_info: Option<FilterInfo>,
}

/// A loaded plugin, ready to call. Cheap to clone.
#[derive(Clone)]
pub struct Plugin {
    pub(crate) loaded: Arc<Loaded>,
    pub(crate) engine: Engine,
    pub(crate) limits: Limits,
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("name", &self.loaded.name)
            .field("sha256", &self.loaded.sha256)
            .field("kind", &self.kind())
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

/// What `updraft plugin inspect` shows.
#[derive(Debug, Clone)]
pub struct Inspection {
    /// The plugin's name (as loaded).
    pub name: String,
    /// Strategy or tag filter.
    pub kind: PluginKind,
    /// The ABI version it was built against (`0.1.0`).
    pub abi: String,
    /// sha256 of the `.wasm` bytes, hex.
    pub sha256: String,
    /// The imports it declares (all trap when called).
    pub imports: Vec<String>,
    /// For a strategy: what it needs.
    pub strategy: Option<StrategyInfo>,
    /// For a filter: its self-description.
    pub filter_name: Option<String>,
}

impl Plugin {
    /// The name it was loaded under.
    pub fn name(&self) -> &str {
        &self.loaded.name
    }

    /// sha256 of its `.wasm` bytes, hex.
    pub fn sha256(&self) -> &str {
        &self.loaded.sha256
    }

    /// Strategy or tag filter.
    pub fn kind(&self) -> PluginKind {
        match self.loaded.pre {
            Pre::Strategy(_) => PluginKind::Strategy,
            Pre::Filter(_) => PluginKind::TagFilter,
        }
    }

    /// The limits its calls run under.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// The same plugin with other limits.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// What a strategy needs (`None` for a filter).
    pub fn strategy_info(&self) -> Option<&StrategyInfo> {
        self.loaded.strategy_info.as_ref()
    }

    /// Everything known about the plugin, for `updraft plugin inspect`.
    pub fn inspect(&self) -> Inspection {
        Inspection {
            name: self.loaded.name.clone(),
            kind: self.kind(),
            abi: self.loaded.abi.clone(),
            sha256: self.loaded.sha256.clone(),
            imports: self.loaded.imports.clone(),
            strategy: self.loaded.strategy_info.clone(),
            filter_name: self.loaded.filter_info.as_ref().map(|f| f.name.clone()),
        }
    }
}

/// Checks that `bytes` look like a WebAssembly component (not a core module,
/// not a precompiled artifact, not something else).
pub(crate) fn check_component_bytes(name: &str, bytes: &[u8]) -> Result<(), PluginError> {
    let not = |detail: &str| PluginError::NotAComponent {
        plugin: name.into(),
        detail: detail.into(),
    };
    if Engine::detect_precompiled(bytes).is_some() {
        return Err(not(
            "is a precompiled artifact (.cwasm), which is native code; only .wasm components are accepted",
        ));
    }
    match bytes.get(..8) {
        Some([0, b'a', b's', b'm', 0x0d, 0, 1, 0]) => Ok(()),
        Some([0, b'a', b's', b'm', 1, 0, 0, 0]) => Err(not(
            "is a core WebAssembly module, not a component: build it for wasm32-wasip2 (or wrap it with `wasm-tools component new`)",
        )),
        _ => Err(not(
            "is not a WebAssembly component (expected a .wasm file built for wasm32-wasip2)",
        )),
    }
}

pub(crate) fn load(host: &PluginHost, name: &str, wasm: &[u8]) -> Result<Plugin, PluginError> {
    check_component_bytes(name, wasm)?;
    let sha256 = hex::encode(Sha256::digest(wasm));
    let cached = host
        .loaded
        .lock()
        .ok()
        .and_then(|map| map.get(&sha256).cloned());
    let loaded = match cached {
        Some(loaded) => loaded,
        None => {
            let component = compile_or_cached(host, name, &sha256, wasm)?;
            let loaded = Arc::new(prepare(host, name, sha256.clone(), &component)?);
            if let Ok(mut map) = host.loaded.lock() {
                map.insert(sha256, Arc::clone(&loaded));
            }
            loaded
        }
    };
    Ok(Plugin {
        loaded,
        engine: host.engine.clone(),
        limits: host.config.limits,
    })
}

fn cache_path(host: &PluginHost, sha256: &str) -> Option<PathBuf> {
    host.config
        .cache_dir
        .as_ref()
        .map(|dir| dir.join(format!("{sha256}-{}.cwasm", host.engine_hash)))
}

fn compile_or_cached(
    host: &PluginHost,
    name: &str,
    sha256: &str,
    wasm: &[u8],
) -> Result<Component, PluginError> {
    let path = cache_path(host, sha256);
    if let Some(path) = &path
        && path.is_file()
    {
        match deserialize(&host.engine, path) {
            Ok(component) => return Ok(component),
            Err(e) => tracing::warn!(
                plugin = name,
                path = %path.display(),
                error = %format!("{e:#}"),
                "cached plugin artifact unusable; compiling again"
            ),
        }
    }
    compile(host, name, wasm, path.as_deref())
}

/// Loads an artifact that this process (or an earlier run of it) produced in
/// its own cache directory, named after the `.wasm` sha256 and engine hash.
#[allow(unsafe_code)]
fn deserialize(engine: &Engine, path: &Path) -> wasmtime::Result<Component> {
    // SAFETY: the file lives in our private cache directory and was written by
    // `compile` below from a .wasm whose sha256 is part of its name; wasmtime
    // checks version, target and configuration compatibility before use.
    unsafe { Component::deserialize_file(engine, path) }
}

#[cfg(feature = "compiler")]
fn compile(
    host: &PluginHost,
    name: &str,
    wasm: &[u8],
    cache: Option<&Path>,
) -> Result<Component, PluginError> {
    let artifact =
        host.engine
            .precompile_component(wasm)
            .map_err(|e| PluginError::NotAComponent {
                plugin: name.into(),
                detail: format!("does not compile: {e:#}"),
            })?;
    if let Some(path) = cache {
        write_atomically(path, &artifact).map_err(|source| PluginError::Cache {
            plugin: name.into(),
            path: path.display().to_string(),
            source,
        })?;
    }
    #[allow(unsafe_code)]
    // SAFETY: `artifact` was produced a moment ago by this very engine.
    let component = unsafe { Component::deserialize(&host.engine, &artifact) };
    component.map_err(|e| PluginError::Engine {
        plugin: name.into(),
        detail: format!("{e:#}"),
    })
}

#[cfg(not(feature = "compiler"))]
fn compile(
    _host: &PluginHost,
    name: &str,
    _wasm: &[u8],
    _cache: Option<&Path>,
) -> Result<Component, PluginError> {
    Err(PluginError::Engine {
        plugin: name.into(),
        detail: "this build cannot compile plugins and no precompiled artifact is cached; run `updraft plugin precompile` first".into(),
    })
}

#[cfg(feature = "compiler")]
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

/// Reads the ABI and kind from the export names, refuses forbidden imports,
/// type-checks once and asks the plugin to describe itself.
fn prepare(
    host: &PluginHost,
    name: &str,
    sha256: String,
    component: &Component,
) -> Result<Loaded, PluginError> {
    let engine = &host.engine;
    let ty = component.component_type();
    let imports: Vec<String> = ty.imports(engine).map(|(n, _)| n.to_string()).collect();
    let forbidden: Vec<&str> = imports
        .iter()
        .filter(|i| FORBIDDEN_IMPORTS.iter().any(|f| i.starts_with(f)))
        .map(String::as_str)
        .collect();
    if !forbidden.is_empty() {
        return Err(PluginError::ForbiddenImport {
            plugin: name.into(),
            import: forbidden.join(", "),
        });
    }

    let mut found: Option<(PluginKind, String)> = None;
    for (export, _) in ty.exports(engine) {
        let Some(rest) = export.strip_prefix(PACKAGE) else {
            continue;
        };
        let (iface, version) = rest.split_once('@').unwrap_or((rest, ""));
        let kind = match iface {
            "strategy" => PluginKind::Strategy,
            "tag-filter" => PluginKind::TagFilter,
            _ => continue,
        };
        if !abi_supported(version) {
            return Err(PluginError::IncompatibleAbi {
                plugin: name.into(),
                found: if version.is_empty() {
                    "(unversioned)".into()
                } else {
                    version.into()
                },
                supported: SUPPORTED_ABI,
            });
        }
        found = Some((kind, version.to_string()));
    }
    let Some((kind, abi)) = found else {
        return Err(PluginError::NotAComponent {
            plugin: name.into(),
            detail: "exports neither updraft:plugin/strategy nor updraft:plugin/tag-filter; build it against wit/plugin.wit".into(),
        });
    };

    let mut linker: Linker<State> = Linker::new(engine);
    let engine_err = |e: wasmtime::Error| PluginError::Engine {
        plugin: name.into(),
        detail: format!("{e:#}"),
    };
    linker
        .define_unknown_imports_as_traps(component)
        .map_err(engine_err)?;
    let instance_pre = linker.instantiate_pre(component).map_err(engine_err)?;
    let incompatible = |e: wasmtime::Error| PluginError::IncompatibleAbi {
        plugin: name.into(),
        found: format!("{abi} ({e:#})"),
        supported: SUPPORTED_ABI,
    };
    let pre = match kind {
        PluginKind::Strategy => {
            Pre::Strategy(strategy::StrategyPluginPre::new(instance_pre).map_err(incompatible)?)
        }
        PluginKind::TagFilter => {
            Pre::Filter(filter::TagFilterPluginPre::new(instance_pre).map_err(incompatible)?)
        }
    };
    let limits = host.config.limits;
    let (strategy_info, filter_info) = match &pre {
        Pre::Strategy(p) => (
            Some(crate::call::describe_strategy(p, engine, limits, name)?),
            None,
        ),
        Pre::Filter(p) => (
            None,
            Some(crate::call::describe_filter(p, engine, limits, name)?),
        ),
    };
    let loaded = Loaded {
        name: name.into(),
        sha256,
        abi,
        imports,
        pre,
        strategy_info,
        filter_info,
    };
    Ok(loaded)
}

/// 0.1.x is the only ABI line so far.
fn abi_supported(version: &str) -> bool {
    version.strip_prefix("0.1.").is_some_and(|patch| {
        let core = patch.split(['-', '+']).next().unwrap_or(patch);
        !core.is_empty() && core.bytes().all(|b| b.is_ascii_digit())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abi_versions() {
        assert!(abi_supported("0.1.0"));
        assert!(abi_supported("0.1.7"));
        assert!(!abi_supported("0.2.0"));
        assert!(!abi_supported("1.0.0"));
        assert!(!abi_supported(""));
        assert!(!abi_supported("0.1."));
    }

    #[test]
    fn byte_checks_name_the_problem() {
        let e = check_component_bytes("x.wasm", b"hello world").unwrap_err();
        assert!(e.to_string().contains("not a WebAssembly component"), "{e}");
        let e = check_component_bytes("x.wasm", b"\0asm\x01\0\0\0").unwrap_err();
        assert!(e.to_string().contains("core WebAssembly module"), "{e}");
        assert!(check_component_bytes("x.wasm", b"\0asm\x0d\0\x01\0").is_ok());
    }
}
