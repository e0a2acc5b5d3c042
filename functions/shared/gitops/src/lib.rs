//! Updraft's git write-back: what a commit to the deployment repository
//! changes.
//!
//! Today this crate holds the pure editors (no I/O, no git), byte-compatible
//! with Argo CD Image Updater:
//!
//! - [`targets::argocd_source`]: `.argocd-source-<app>.yaml`, the default
//!   target, and custom file targets (Helm parameters or Kustomize images,
//!   merged into the existing file);
//! - [`targets::helm_values`]: `helmvalues[:<file>]`, values edited in place;
//! - [`targets::kustomization`]: `kustomization[:<dir>]`, `images:` entries
//!   edited in place.
//!
//! Each takes the file's current text and a list of [`ImageChange`]s and
//! returns the new text, equal to the input when nothing changes. Where a
//! target lives in the repository is [`updraft_core::WriteBackTarget::resolve`].
//! Formats and rules: `docs/write-back.md`.
//!
//! [`git`] does the I/O: it fetches the deployment repository, lets the
//! caller apply these editors to the branch's files, commits and pushes
//! (never with force), retrying when someone else pushed first.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod git;
pub mod targets;
pub mod template;
mod yaml;

pub use targets::{EditError, ImageChange, Problem};
