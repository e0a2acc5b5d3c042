//! Owns the per-application decision record: what `resolve-strategy`
//! decided for each image of an application, and why.

use serde::{Deserialize, Serialize};
use updraft_core::Candidate;

use crate::document::Document;
use crate::error::StateError;
use crate::keys;
use crate::store::{Loaded, StateStore, Version};

/// The last decision for one application,
/// `v1/apps/<namespace>/<application>/decision.json`. A snapshot: the
/// latest write wins, and writing the same decision again changes nothing
/// that matters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DecisionRecord {
    /// The application's namespace (`argocd` for most installations).
    pub namespace: String,
    /// The application's name.
    pub application: String,
    /// When the decision was made, nanoseconds since the epoch.
    #[serde(with = "crate::time::rfc3339")]
    pub decided_at: i64,
    /// One entry per image of the application.
    #[serde(default)]
    pub images: Vec<ImageDecision>,
}

/// The decision for one image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageDecision {
    /// The image alias, when the application names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    /// The image repository, e.g. `ghcr.io/team/app`.
    pub image: String,
    /// The tag deployed when deciding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<String>,
    /// The chosen tag, with the metadata it was chosen on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selected: Option<Candidate>,
    /// Whether a write-back was requested (a real change).
    pub update: bool,
    /// Why: the strategy's reason, or why nothing was chosen.
    pub reason: String,
    /// The error that prevented a decision, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Document for DecisionRecord {
    const KIND: &'static str = "Decision";
}

impl DecisionRecord {
    /// Whether `other` decided the same for every image (ignoring when):
    /// a caller that read the previous record can skip rewriting it.
    pub fn same_outcome(&self, other: &DecisionRecord) -> bool {
        self.namespace == other.namespace
            && self.application == other.application
            && self.images == other.images
    }
}

impl StateStore {
    /// Stores `record` as the application's latest decision (last writer
    /// wins: a decision is a snapshot, and every backend supports this).
    pub async fn put_decision(&self, record: &DecisionRecord) -> Result<Version, StateError> {
        let key = keys::decision(&record.namespace, &record.application)?;
        self.overwrite(&key, record).await
    }

    /// The application's latest decision; `value: None` when there is none
    /// or it is unusable (then with a warning).
    pub async fn get_decision(
        &self,
        namespace: &str,
        application: &str,
    ) -> Result<Loaded<DecisionRecord>, StateError> {
        let key = keys::decision(namespace, application)?;
        self.read(&key).await
    }
}
