//! Owns `Candidate`: one tag offered to the filters and strategies, with the
//! metadata known about it.

use serde::{Deserialize, Serialize};

/// One tag of a repository with the metadata the host knows about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    /// The tag name.
    pub name: String,
    /// Manifest digest, `sha256:<hex>`, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// Image build time (config `created`) as signed nanoseconds since the
    /// Unix epoch, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<i64>,
    /// Platforms, `os/arch[/variant]`, when known.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub platforms: Vec<String>,
}

impl Candidate {
    /// A candidate known only by its name.
    pub fn named(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            digest: None,
            created: None,
            platforms: Vec::new(),
        }
    }
}
