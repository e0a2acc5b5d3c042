//! Updraft's checkpoint store: what survives between runs of the stateless
//! functions, in object storage through `object_store` — local files (the
//! default, `file://.updraft/state`), memory (tests), S3 and S3-compatible
//! servers, and Alibaba OSS.
//!
//! - [`config`]: the store URL; credentials only from the environment.
//! - [`keys`]: the key layout (`v1/…`), documented in `docs/state.md`.
//! - [`document`]: JSON documents with `schemaVersion` and `kind`; an
//!   unusable document is a warning and reads as empty, never an error.
//! - [`store`]: [`StateStore`] — typed reads and writes, conditional writes
//!   where the backend has them, merge-on-conflict everywhere.
//! - [`registry`]: the persistent registry cache and first-seen ledger.
//! - [`decision`]: the per-application decision record.
//!
//! No correctness property depends on `If-Match`: where a backend lacks it
//! (files, OSS) writes fall back to a lock object or to
//! read-merge-write-verify, and every document is a merge-friendly union.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod backend;
pub mod config;
pub mod decision;
pub mod document;
pub mod error;
pub mod keys;
pub mod registry;
pub mod store;
pub mod time;

pub use backend::Capabilities;
pub use config::{Backend, DEFAULT_URL, StoreUrl};
pub use decision::{DecisionRecord, ImageDecision};
pub use document::{Document, Merge, decode as decode_document};
pub use error::{StateError, StateWarning};
pub use keys::Key;
pub use registry::{
    ImageMetadata, RepoCache, RepositoryDocument, SaveReport, TagChanges, TagRecord,
};
pub use store::{Conditional, Loaded, RequestStats, Saved, StateStore, Version, WriteMode};
