//! Updraft's sans-IO core: it parses, validates and decides, and never does I/O
//! (no tokio, reqwest, git2 or wasmtime here).
//!
//! The crate turns what users write into one configuration model:
//!
//! - [`image`]: image references as Argo CD Image Updater parses them
//!   (`[alias=]image[:tag-or-constraint][@digest]`).
//! - [`strategy`], [`filters`], [`platform`], [`credentials`]: the value
//!   grammars of the per-image settings.
//! - [`application`] and [`manifest`]: Argo CD `Application` manifests (and any
//!   YAML stream that carries them).
//! - [`annotations`]: the `argocd-image-updater.argoproj.io/*` annotations of an
//!   Application → [`config::AppConfig`].
//! - [`imageupdater`]: the v1alpha1 `ImageUpdater` resource → [`config::AppConfig`].
//! - [`writeback`]: write-back method, target and branch.
//! - [`tags`]: the tag list that `updraft resolve` reads → [`Candidate`]s.
//! - [`glob`]: Go `path/filepath.Match` globs (application name patterns,
//!   ignore-tags).
//!
//! Errors name what was wrong, where, and how to fix it; every module has its
//! own error enum.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod annotations;
pub mod application;
pub mod candidate;
pub mod config;
pub mod credentials;
pub mod filters;
pub mod glob;
pub mod image;
pub mod imageupdater;
pub mod manifest;
pub mod platform;
pub mod promotion;
pub mod secret;
pub mod strategy;
pub mod tags;
pub mod writeback;

pub use application::Application;
pub use candidate::Candidate;
pub use config::{AppConfig, ConfigError, ImageConfig};
pub use credentials::CredentialRef;
pub use filters::{AllowTags, FilterCall, IgnoreTags, StrategyCall};
pub use image::ImageRef;
pub use imageupdater::ImageUpdater;
pub use manifest::{Manifests, parse_manifests};
pub use platform::Platform;
pub use secret::Secret;
pub use strategy::UpdateStrategy;
pub use writeback::{WriteBack, WriteBackTarget};

/// The prefix of every Image Updater annotation on an `Application`.
pub const ANNOTATION_PREFIX: &str = "argocd-image-updater.argoproj.io/";
