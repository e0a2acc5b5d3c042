//! Updraft's integration tests: one binary (wasmtime links once), one module
//! per area. Plugins are real components built by `tests/build.rs` and the
//! builtins crate; services are real processes started by the project's
//! scripts.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cli;
mod conformance;
mod fuel;
#[path = "../git_support.rs"]
mod git_support;
mod pipeline;
mod promotion;
mod registry;
mod run;
mod sandbox;
mod state;
mod support;
mod test_cmd;
mod writeback;
