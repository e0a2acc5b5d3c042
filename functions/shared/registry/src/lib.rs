//! Updraft's OCI Distribution client: everything between "which tags does
//! this image have, and what are they" and the registry's HTTP API.
//!
//! - [`conf`]: Image Updater's `registries.conf` (also the `registries:`
//!   list of updraft.yaml), validated into [`Registries`] with the
//!   longest-prefix endpoint lookup; Docker Hub built in.
//! - [`credentials`]: `env:`, `file:`, `ext:` and `dockerconfig:`
//!   references resolved to [`Credentials`]; Kubernetes references refused
//!   with directions.
//! - [`client`]: [`RegistryClient`] — `/v2/` challenge, anonymous, Basic and
//!   Bearer auth, paginated tag listing, manifest `HEAD`/`GET`, config blobs,
//!   a tag's metadata with Image Updater's platform rules; timeouts,
//!   retries, a rate limit, redirects, and request counters.
//! - [`pool`]: [`RegistryPool`], one client per endpoint per process.
//! - [`manifest`], [`auth`], [`tags`], [`retry`], [`ratelimit`]: the
//!   protocol pieces, each testable without a network.
//! - [`secret`]: [`Secret`], whose `Debug` prints `***`.
//! - [`error`]: [`RegistryError`]; every message names the registry, the
//!   repository and, where relevant, the tag.
//!
//! TLS certificates are verified unless a registry says `insecure: true`.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod auth;
pub mod client;
pub mod conf;
pub mod credentials;
pub mod error;
pub mod manifest;
pub mod pool;
pub mod ratelimit;
pub mod retry;
pub mod secret;
pub mod tags;

pub use client::{ClientOptions, RegistryClient, RequestCounts, RequestKind};
pub use conf::{Endpoint, Registries, RegistriesConf, RegistryConf, TagSortMode};
pub use credentials::{CredentialSpec, resolve_credentials};
pub use error::{Reference, RegistryError, Target, TargetParts};
pub use manifest::{ImageConfig, ImageMetadata, Manifest, ManifestBody, TagMetadata};
pub use pool::{RegistryPool, ResolvedImage};
pub use retry::RetryPolicy;
pub use secret::{Credentials, Secret};
