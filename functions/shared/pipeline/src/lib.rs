//! Updraft's stages as libraries, shared by the function crates, the CLI and
//! the local runtime.
//!
//! - [`settings`]: `updraft.yaml` (state URL, registries, plugins, where the
//!   applications are).
//! - [`events`]: the JSON events between stages (`apiVersion:
//!   updraft.dev/v1alpha1`, `kind`), including the async-destination
//!   envelope of Function Compute and Lambda.
//! - [`catalog`]: plugins by name — built-ins and configured `.wasm` files
//!   (sha256-pinned) — through one plugin host.
//! - [`apps`]: Applications and `ImageUpdater` resources from directories or
//!   object storage → configurations plus what is deployed now.
//! - [`poll`]: `poll-registry` — each repository listed once per cycle,
//!   metadata fetched only when a strategy needs it and the cache lacks it.
//! - [`resolve`]: `resolve-strategy` — plugins decide; real changes become
//!   write-back requests; every decision is recorded.
//! - [`writeback`]: `write-back` — applications grouped into commits, target
//!   files edited in place, pushed without force.
//! - [`context`]: what a stage runs with (store, registry pool, catalog).
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod approvals;
pub mod approvals_http;
pub mod apps;
pub mod catalog;
pub mod context;
pub mod error;
pub mod events;
pub mod notify;
pub mod poll;
pub mod resolve;
pub mod settings;
pub mod sync;
pub mod writeback;
pub mod writeback_run;

pub use context::Context;
pub use error::PipelineError;
pub use settings::Settings;
