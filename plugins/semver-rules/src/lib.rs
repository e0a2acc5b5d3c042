//! Semantic versions and constraints exactly as Argo CD Image Updater sees them.
//!
//! A dependency-free Rust port of the parts of Masterminds/semver v3.4 that
//! Image Updater's `semver` strategy uses:
//!
//! - [`Version::parse`]: lenient `NewVersion` (optional `v`, `1` and `1.2`
//!   coerced to `1.0.0` and `1.2.0`, pre-release and build metadata);
//!   ordering per semver 2.0 with build metadata ignored.
//! - [`Constraint::parse`]: `NewConstraint` (`,`/space = AND, `||` = OR,
//!   `= != > < >= => <= =< ~ ~> ^`, hyphen ranges, `x`/`X`/`*` wildcards) and
//!   `Check`, including the rule that only groups naming a pre-release admit
//!   pre-release versions.
//! - [`select`]: the strategy itself, with a reason for every refused tag.
//!
//! The crate builds for the host (the benchmark compares it natively against
//! the same logic inside the WebAssembly plugin) and for `wasm32-wasip2`.
//!
//! ```
//! let tags = ["0.9", "1.0", "1.0.1", "1.1.2", "2.0.3", "latest"];
//! let selection = semver_rules::select(Some("~1.0"), tags.into_iter()).unwrap();
//! assert_eq!(selection.tag, Some("1.0.1"));
//! assert_eq!(selection.reason(&selection.rejected[0]), "does not satisfy constraint '~1.0'");
//! ```
#![forbid(unsafe_code)]

mod constraint;
mod select;
mod version;

pub use constraint::{Constraint, ConstraintError, MAX_CONSTRAINT_LEN};
pub use select::{Rejection, RejectionKind, RejectionReason, Selection, select};
pub use version::{Version, VersionError};
