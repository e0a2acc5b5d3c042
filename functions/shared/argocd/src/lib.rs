//! Updraft's Argo CD API client, and an emulator of that API for tests.
//!
//! - [`client`]: [`ArgoClient`] — bearer token or `POST /api/v1/session`
//!   login; list/get Applications; refresh (bounded by a timeout, since the
//!   server blocks until reconciled); sync with the server's exact wire
//!   format and wait for the operation; resource actions (Argo Rollouts
//!   `promote-full` / `resume`) on the v2 endpoint with a v1 fallback; the
//!   `argocd` write-back method (`PUT …/spec` with the full spec).
//! - [`model`]: the wire types the core [`updraft_core::Application`] does
//!   not carry (sync / health / operation state, request bodies, resource
//!   tree) and [`AppName`].
//! - [`spec`]: [`SpecPatch`], Helm parameters and Kustomize images applied to
//!   a spec as JSON.
//! - [`error`]: [`ArgoError`]; messages name the server and the
//!   Application, never the token.
//! - [`secret`]: [`Secret`], whose `Debug` prints `***`.
//! - `emulator` (cargo feature `emulator`): an emulator of the Argo CD API
//!   for tests; Argo CD needs Kubernetes, which cannot run here.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod client;
#[cfg(feature = "emulator")]
pub mod emulator;
pub mod error;
pub mod model;
pub mod spec;

pub use client::{ArgoClient, ClientOptions};
pub use error::ArgoError;
pub use model::{
    ActionApi, ActionEndpoint, AppName, HealthStatusCode, LiveApplication, LiveStatus,
    OperationPhase, OperationState, ResourceNode, ResourceRef, SyncOptions, SyncStatusCode,
};
pub use spec::{SourceSelector, SpecChange, SpecPatch, SpecPatchError};
pub use updraft_core::Secret;
