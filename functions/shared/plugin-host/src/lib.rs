//! Runs Updraft plugins (WebAssembly components) in a sandbox: no WASI, a fuel
//! budget, a wall-clock deadline and a memory cap, one fresh `Store` per call.
//!
//! The flow is `PluginHost::new` (one per process: it owns the `Engine` and the
//! epoch ticker) → `PluginHost::load` (checks, compiles or loads a cached
//! artifact, type-checks once) → `Plugin::select` / `Plugin::filter`.

mod bindings;
mod call;
mod engine;
mod error;
mod load;
mod resolve;

pub use call::{FilterOutcome, Rejection, SelectRequest, Selection, StrategyInfo, Verdict};
pub use engine::{HostConfig, Limits, PluginHost, SUPPORTED_ABI};
pub use error::{GuestErrorKind, PluginError};
pub use load::{Inspection, Plugin, PluginKind};
pub use resolve::{
    FilterStep, Filtered, PluginRun, Rejected, Resolution, ResolveSpec, apply_filters, resolve,
};
