//! The Rust SDK for Updraft plugins: bindings for `wit/plugin.wit` plus small helpers.
//!
//! An Updraft plugin is a WebAssembly component built for `wasm32-wasip2`
//! that exports either the `strategy` interface (world `strategy-plugin`) or the
//! `tag-filter` interface (world `tag-filter-plugin`) of
//! `updraft:plugin@0.1.0`. With this crate a plugin is a `cdylib` that
//! implements one trait and calls one macro:
//!
//! ```no_run
//! use updraft_plugin_sdk::{Params, PluginError, SelectRequest, Selection, Strategy, StrategyInfo};
//!
//! struct Alphabetical;
//!
//! impl Strategy for Alphabetical {
//!     fn describe() -> StrategyInfo {
//!         StrategyInfo::new("alphabetical")
//!     }
//!     fn select(request: SelectRequest) -> Result<Selection, PluginError> {
//!         Params::new(&request.params, &[])?; // no parameters accepted
//!         let best = request.candidates.iter().map(|c| c.name.as_str()).max();
//!         Ok(match best {
//!             Some(tag) => Selection::chosen(tag, "lexically greatest tag", Vec::new()),
//!             None => Selection::none("no candidates", Vec::new()),
//!         })
//!     }
//! }
//!
//! updraft_plugin_sdk::export_strategy!(Alphabetical);
//! ```
//!
//! Rules of the sandbox: a plugin is a pure function of its arguments. The host
//! links no WASI at all (every import traps), so do not read clocks, draw
//! random numbers (no `std::collections::HashMap` with its random hasher: use
//! `BTreeMap`), touch files or open sockets. Dependencies count too: the
//! `regex` crate seeds a `HashMap` on every compile, so use `regex-automata`
//! without its `std` feature instead. Never panic on input: a panic aborts the
//! instance and the host reports the plugin as crashed.
//!
//! The semantic-version rules of Argo CD Image Updater are re-exported as
//! [`version`].

pub use semver_rules as version;

mod helpers;
#[cfg(feature = "regex")]
pub mod regex;

pub use helpers::{Params, internal, invalid_config, one_line, unsupported};

/// Generated bindings for both worlds of `wit/plugin.wit`.
///
/// The `types` interface is generated once (in the strategy world) and shared
/// with the tag-filter world, so [`PluginError`] and [`TagInfo`] are the same
/// Rust types in both kinds of plugin.
#[doc(hidden)]
pub mod bindings {
    /// The `strategy-plugin` world.
    #[allow(unsafe_code, missing_docs, clippy::all)]
    pub mod strategy_world {
        wit_bindgen::generate!({
            world: "strategy-plugin",
            path: "../../wit",
            pub_export_macro: true,
            export_macro_name: "__export_strategy_world",
            default_bindings_module: "updraft_plugin_sdk::bindings::strategy_world",
        });
    }

    /// The `tag-filter-plugin` world.
    #[allow(unsafe_code, missing_docs, clippy::all)]
    pub mod filter_world {
        wit_bindgen::generate!({
            world: "tag-filter-plugin",
            path: "../../wit",
            pub_export_macro: true,
            export_macro_name: "__export_filter_world",
            default_bindings_module: "updraft_plugin_sdk::bindings::filter_world",
            with: {
                "updraft:plugin/types@0.1.0": crate::bindings::strategy_world::updraft::plugin::types,
            },
        });
    }
}

/// Types shared by both plugin kinds (`updraft:plugin/types`).
pub mod types {
    pub use crate::bindings::strategy_world::updraft::plugin::types::{
        Params as RawParams, PluginError, TagInfo,
    };
}

/// The `strategy` interface: pick one tag among the candidates.
pub mod strategy {
    pub use crate::bindings::strategy_world::exports::updraft::plugin::strategy::{
        Guest as Strategy, Rejection, SelectRequest, Selection, StrategyInfo,
    };
}

/// The `tag-filter` interface: keep or reject each tag of a batch.
pub mod filter {
    pub use crate::bindings::filter_world::exports::updraft::plugin::tag_filter::{
        FilterInfo, Guest as TagFilter, Verdict,
    };
}

pub use filter::{FilterInfo, TagFilter, Verdict};
pub use strategy::{Rejection, SelectRequest, Selection, Strategy, StrategyInfo};
pub use types::{PluginError, TagInfo};

/// Exports a type implementing [`Strategy`] as the component's
/// `updraft:plugin/strategy@0.1.0`. Use it once, in a `cdylib` crate.
#[macro_export]
macro_rules! export_strategy {
    ($ty:ident) => {
        $crate::bindings::strategy_world::__export_strategy_world!(
            $ty with_types_in $crate::bindings::strategy_world
        );
    };
}

/// Exports a type implementing [`TagFilter`] as the component's
/// `updraft:plugin/tag-filter@0.1.0`. Use it once, in a `cdylib` crate.
#[macro_export]
macro_rules! export_filter {
    ($ty:ident) => {
        $crate::bindings::filter_world::__export_filter_world!(
            $ty with_types_in $crate::bindings::filter_world
        );
    };
}
