//! Owns `PluginError`: one distinct error for each way a plugin can fail.

use std::fmt;

/// The kind of error a plugin itself reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuestErrorKind {
    /// A parameter or the constraint is invalid.
    InvalidConfig,
    /// The plugin cannot handle this input.
    Unsupported,
    /// Anything else the plugin reported.
    Internal,
}

impl fmt::Display for GuestErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::InvalidConfig => "invalid configuration",
            Self::Unsupported => "unsupported input",
            Self::Internal => "internal error",
        })
    }
}

/// Why loading or calling a plugin failed. Every variant names the plugin.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PluginError {
    /// The plugin answered with an error of its own.
    #[error("plugin {plugin}: {kind}: {message}")]
    Guest {
        /// The plugin's name.
        plugin: String,
        /// What kind of error the plugin reported.
        kind: GuestErrorKind,
        /// The plugin's message.
        message: String,
    },
    /// The call used up its fuel budget (a deterministic instruction count).
    #[error(
        "plugin {plugin}: ran out of fuel after {limit} units (raise limits.fuel or fix the plugin)"
    )]
    OutOfFuel {
        /// The plugin's name.
        plugin: String,
        /// The fuel budget of the call.
        limit: u64,
    },
    /// The call ran past its wall-clock deadline.
    #[error(
        "plugin {plugin}: timed out after {limit_ms} ms (raise limits.timeout_ms or fix the plugin)"
    )]
    Timeout {
        /// The plugin's name.
        plugin: String,
        /// The deadline in milliseconds.
        limit_ms: u64,
    },
    /// The plugin tried to grow its memory beyond the cap.
    #[error(
        "plugin {plugin}: exceeded its memory limit of {limit_bytes} bytes (raise limits.memory or fix the plugin)"
    )]
    MemoryLimit {
        /// The plugin's name.
        plugin: String,
        /// The cap in bytes.
        limit_bytes: usize,
    },
    /// The plugin trapped: a panic, an abort, an out-of-bounds access, or a
    /// call to an import the sandbox does not provide.
    #[error("plugin {plugin}: crashed: {detail}")]
    Crashed {
        /// The plugin's name.
        plugin: String,
        /// The trap, as wasmtime describes it.
        detail: String,
    },
    /// The component was built against a plugin ABI this host does not speak.
    #[error(
        "plugin {plugin}: built for plugin ABI {found}, but this host supports {supported}; rebuild it against wit/ of this release"
    )]
    IncompatibleAbi {
        /// The plugin's name.
        plugin: String,
        /// The ABI version the component exports.
        found: String,
        /// The ABI versions this host accepts.
        supported: &'static str,
    },
    /// The plugin answered something that cannot be right (e.g. a tag that was
    /// not among the candidates).
    #[error("plugin {plugin}: invalid output: {detail}")]
    InvalidOutput {
        /// The plugin's name.
        plugin: String,
        /// What was wrong.
        detail: String,
    },
    /// The plugin needs a capability the sandbox never grants.
    #[error(
        "plugin {plugin}: imports {import}, which plugins may not use (plugins get no filesystem, network, clock or randomness)"
    )]
    ForbiddenImport {
        /// The plugin's name.
        plugin: String,
        /// The offending imports, comma-separated.
        import: String,
    },
    /// The bytes are not a loadable plugin component.
    #[error("plugin {plugin}: {detail}")]
    NotAComponent {
        /// The plugin's name (usually its file name).
        plugin: String,
        /// What is wrong with the bytes.
        detail: String,
    },
    /// The plugin is of the other kind (a filter used as a strategy or the
    /// reverse).
    #[error("plugin {plugin}: is a {found} plugin, but a {wanted} plugin is needed here")]
    WrongKind {
        /// The plugin's name.
        plugin: String,
        /// What the plugin is.
        found: &'static str,
        /// What the caller needs.
        wanted: &'static str,
    },
    /// Reading or writing the artifact cache failed.
    #[error("plugin {plugin}: artifact cache {path}: {source}")]
    Cache {
        /// The plugin's name.
        plugin: String,
        /// The cache file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The engine could not be set up, or compilation failed for a reason
    /// other than the ones above.
    #[error("plugin {plugin}: {detail}")]
    Engine {
        /// The plugin's name, or `engine`.
        plugin: String,
        /// wasmtime's description.
        detail: String,
    },
}

impl PluginError {
    /// A short, stable code for logs and metrics (`out-of-fuel`, `timeout`, ...).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Guest { .. } => "guest-error",
            Self::OutOfFuel { .. } => "out-of-fuel",
            Self::Timeout { .. } => "timeout",
            Self::MemoryLimit { .. } => "memory-limit",
            Self::Crashed { .. } => "crashed",
            Self::IncompatibleAbi { .. } => "incompatible-abi",
            Self::InvalidOutput { .. } => "invalid-output",
            Self::ForbiddenImport { .. } => "forbidden-import",
            Self::NotAComponent { .. } => "not-a-component",
            Self::WrongKind { .. } => "wrong-kind",
            Self::Cache { .. } => "cache",
            Self::Engine { .. } => "engine",
        }
    }
}
