//! Owns the JSON events between stages. Each carries `apiVersion:
//! updraft.dev/v1alpha1` and a `kind`; the result of one stage is the input
//! of the next. [`decode`] also unwraps the async-destination envelope that
//! Function Compute and Lambda put around a previous stage's result
//! (`responsePayload`), so stages chain with no code in between.
//!
//! Candidates do not travel in the events: `poll-registry` stores them in
//! the repository caches of the checkpoint store and `resolve-strategy` reads
//! each repository once, which keeps events far below the platforms'
//! async payload limits (FC 128 KiB, Lambda 256 KiB). A hand-written
//! `ResolveRequest` may still carry `candidates` inline.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use updraft_core::{AppConfig, Candidate};
use updraft_plugin_host::Resolution;

use crate::error::PipelineError;

/// The API version of every event.
pub const API_VERSION: &str = "updraft.dev/v1alpha1";

/// An event type: its `kind`.
pub trait Event: Serialize + DeserializeOwned {
    /// The `kind` field.
    const KIND: &'static str;
    /// The function that takes this event (for messages).
    const CONSUMER: &'static str;
}

/// Reads an event of kind `T` from JSON, unwrapping a `responsePayload`
/// envelope first. Errors say what was expected.
pub fn decode<T: Event>(value: Value) -> Result<T, PipelineError> {
    let value = unwrap_envelope(value)?;
    let Value::Object(mut map) = value else {
        return Err(PipelineError::Event(format!(
            "expected a JSON object of kind {}, got {}",
            T::KIND,
            type_name(&value)
        )));
    };
    match map.remove("apiVersion") {
        Some(Value::String(v)) if v == API_VERSION => {}
        Some(other) => {
            return Err(PipelineError::Event(format!(
                "apiVersion is {other}, expected \"{API_VERSION}\""
            )));
        }
        None => {
            return Err(PipelineError::Event(format!(
                "the event has no apiVersion; add \"apiVersion\": \"{API_VERSION}\", \"kind\": \"{}\"",
                T::KIND
            )));
        }
    }
    match map.remove("kind") {
        Some(Value::String(k)) if k == T::KIND => {}
        Some(other) => {
            return Err(PipelineError::Event(format!(
                "kind is {other}, but {} takes kind \"{}\"",
                T::CONSUMER,
                T::KIND
            )));
        }
        None => {
            return Err(PipelineError::Event(format!(
                "the event has no kind; {} takes kind \"{}\"",
                T::CONSUMER,
                T::KIND
            )));
        }
    }
    serde_json::from_value(Value::Object(map))
        .map_err(|e| PipelineError::Event(format!("{}: {e}", T::KIND)))
}

/// Writes an event with its `apiVersion` and `kind`.
pub fn encode<T: Event>(event: &T) -> Value {
    let mut out = Map::new();
    out.insert("apiVersion".into(), Value::String(API_VERSION.into()));
    out.insert("kind".into(), Value::String(T::KIND.into()));
    match serde_json::to_value(event) {
        Ok(Value::Object(map)) => out.extend(map),
        Ok(other) => {
            out.insert("value".into(), other);
        }
        Err(e) => {
            // Our own types always serialise; say so loudly if not.
            out.insert("encodingError".into(), Value::String(e.to_string()));
        }
    }
    Value::Object(out)
}

fn unwrap_envelope(value: Value) -> Result<Value, PipelineError> {
    let Value::Object(mut map) = value else {
        return Ok(value);
    };
    if map.contains_key("apiVersion") || !map.contains_key("responsePayload") {
        return Ok(Value::Object(map));
    }
    if let Some(Value::Object(context)) = map.get("requestContext")
        && let Some(Value::String(condition)) = context.get("condition")
        && condition != "Success"
    {
        return Err(PipelineError::Event(format!(
            "the envelope reports the previous stage's failure (condition {condition}); nothing to do"
        )));
    }
    match map.remove("responsePayload") {
        Some(Value::String(text)) => serde_json::from_str(&text).map_err(|e| {
            PipelineError::Event(format!("responsePayload is a string but not JSON: {e}"))
        }),
        Some(payload) => Ok(payload),
        None => Ok(Value::Null),
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// What starts a poll.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PollRequest {
    /// Timer (everything) or webhook (one repository).
    #[serde(default)]
    pub trigger: Trigger,
    /// Only these applications (`name` or `namespace/name`); empty: all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub applications: Vec<String>,
}

impl Event for PollRequest {
    const KIND: &'static str = "PollRequest";
    const CONSUMER: &'static str = "poll-registry";
}

/// Why a poll runs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase", deny_unknown_fields)]
pub enum Trigger {
    /// A schedule: every application.
    #[default]
    Timer,
    /// A registry push: only applications watching this repository. The
    /// tag is a hint; the repository is listed as usual.
    Webhook {
        /// The registry host (`ghcr.io`); absent: Docker Hub or any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        registry: Option<String>,
        /// The repository path (`team/app`).
        repository: String,
        /// The pushed tag.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tag: Option<String>,
    },
}

/// A problem with one application (or one image of it); never stops the
/// others.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppError {
    /// `namespace/name`, or the manifest file when no application could be
    /// read.
    pub application: String,
    /// The image, when the problem is one image's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// The stage and step: `load`, `registry`, `plugin`, `state`, ...
    pub stage: String,
    /// What went wrong and how to fix it.
    pub message: String,
}

/// The repository an image's candidates are cached under.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RepoRef {
    /// The registry host, as the cache keys it.
    pub registry: String,
    /// The repository on it (with `defaultns` applied).
    pub repository: String,
}

/// One image of an application, ready to decide.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageInput {
    /// Position in the application's `images`.
    pub index: usize,
    /// Where its candidates are cached.
    pub repository: RepoRef,
    /// The tag deployed now, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<String>,
    /// The digest deployed now, when known (the `digest` strategy compares
    /// it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_digest: Option<String>,
    /// Whether the application reports the image as deployed: `false` when
    /// its status lists images and this one is not among them (Image
    /// Updater then skips it unless `force-update`); absent when unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployed: Option<bool>,
    /// Candidates given inline instead of read from the store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub candidates: Option<Vec<Candidate>>,
}

/// One application and its images.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppInput {
    /// The application's configuration.
    pub config: AppConfig,
    /// Its images that were polled successfully.
    pub images: Vec<ImageInput>,
}

/// Counters of a poll.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PollStats {
    /// Applications considered.
    pub applications: usize,
    /// Images considered.
    pub images: usize,
    /// Distinct repositories listed.
    pub repositories: usize,
    /// Tags newly seen this cycle (first-seen recorded).
    pub new_tags: usize,
    /// Tags whose metadata was fetched from the registry.
    pub metadata_fetched: usize,
    /// Tags whose metadata came from the cache.
    pub metadata_cached: usize,
    /// Registry requests sent (pings, tokens, lists, manifests, blobs).
    pub registry_requests: u64,
    /// Checkpoint-store reads.
    pub store_reads: u64,
    /// Checkpoint-store writes.
    pub store_writes: u64,
}

/// `poll-registry`'s result and `resolve-strategy`'s input.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResolveRequest {
    /// The cycle's id (UTC time of the poll), carried through every stage.
    #[serde(default)]
    pub cycle: String,
    /// Applications with at least one image to decide.
    #[serde(default)]
    pub applications: Vec<AppInput>,
    /// Per-application problems so far.
    #[serde(default)]
    pub errors: Vec<AppError>,
    /// Counters of the poll.
    #[serde(default)]
    pub stats: PollStats,
}

impl Event for ResolveRequest {
    const KIND: &'static str = "ResolveRequest";
    const CONSUMER: &'static str = "resolve-strategy";
}

/// One image to change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageChange {
    /// Position in the application's `images`.
    pub index: usize,
    /// The image alias, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    /// The image, without tag (`registry/name`).
    pub image: String,
    /// The tag deployed now, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// The tag to deploy.
    pub to: String,
    /// The new tag's digest, when known (written for `digest`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// The strategy's reason.
    pub reason: String,
}

/// An application with real changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppUpdate {
    /// The application's configuration (write-back settings, source).
    pub config: AppConfig,
    /// Its changes.
    pub changes: Vec<ImageChange>,
}

/// The decision for one image, changed or not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageOutcome {
    /// `namespace/name`.
    pub application: String,
    /// The image as configured.
    pub image: String,
    /// Whether a write-back is requested.
    pub update: bool,
    /// The full decision, with every rejected tag's reason.
    pub resolution: Resolution,
}

/// Counters of a resolve.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResolveStats {
    /// Images decided.
    pub images: usize,
    /// Images to change.
    pub changes: usize,
    /// Fuel used by every plugin call.
    pub fuel: u64,
    /// Checkpoint-store reads.
    pub store_reads: u64,
    /// Checkpoint-store writes.
    pub store_writes: u64,
}

/// `resolve-strategy`'s result and `write-back`'s input.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WriteBackRequest {
    /// The cycle's id.
    #[serde(default)]
    pub cycle: String,
    /// Applications with real changes.
    #[serde(default)]
    pub applications: Vec<AppUpdate>,
    /// Every image decided, with its reasons.
    #[serde(default)]
    pub decisions: Vec<ImageOutcome>,
    /// Per-application problems of this and earlier stages.
    #[serde(default)]
    pub errors: Vec<AppError>,
    /// Counters.
    #[serde(default)]
    pub stats: ResolveStats,
}

impl Event for WriteBackRequest {
    const KIND: &'static str = "WriteBackRequest";
    const CONSUMER: &'static str = "write-back";
}

/// What write-back did for one application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppWritten {
    /// The application's configuration (sync policy, source).
    pub config: AppConfig,
    /// `git` or `argocd`.
    pub method: String,
    /// The repository written to (git).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// The branch pushed to (git).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// The commit that carries the change; `None` when nothing was written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// Files changed for this application.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
    /// The changes, old → new.
    pub changes: Vec<ImageChange>,
    /// Whether anything was written.
    pub written: bool,
    /// What happened, in words (also why nothing was written).
    pub reason: String,
}

/// Counters of a write-back.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WriteBackStats {
    /// Commits created.
    pub commits: usize,
    /// Pushes that landed.
    pub pushes: usize,
    /// Push attempts, including rejected ones.
    pub push_attempts: u32,
    /// Applications written.
    pub applications_written: usize,
    /// Wall time in milliseconds.
    pub millis: u64,
}

/// `write-back`'s result and `sync-trigger`'s input.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SyncRequest {
    /// The cycle's id.
    #[serde(default)]
    pub cycle: String,
    /// Every application that had changes, written or not.
    #[serde(default)]
    pub applications: Vec<AppWritten>,
    /// Per-application problems of this and earlier stages.
    #[serde(default)]
    pub errors: Vec<AppError>,
    /// Counters.
    #[serde(default)]
    pub stats: WriteBackStats,
    /// A dry run's diffs, one per commit that would have been made.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub previews: Vec<Preview>,
}

/// What a dry run would have committed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Preview {
    /// The repository (or `argocd` for the API method).
    pub repository: String,
    /// The branch (or the Application).
    pub branch: String,
    /// The files.
    pub files: Vec<String>,
    /// The unified diff (or the spec change, for the API method).
    pub diff: String,
}

impl Event for SyncRequest {
    const KIND: &'static str = "SyncRequest";
    const CONSUMER: &'static str = "sync-trigger";
}

/// What `sync-trigger` did for one application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppSynced {
    /// `namespace/name`.
    pub application: String,
    /// Its environment (from `promotion.environments`), if configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// The write-back commit (or `argocd-spec:…` for the argocd method).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// `synced`, `pending` (awaits approval), `gated` (a gate is closed),
    /// `held`, `failed`, `unchanged` (nothing was written) or `recorded`
    /// (already handled by an earlier delivery).
    pub outcome: String,
    /// The application's health after a sync.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<String>,
    /// What happened, in words.
    pub message: String,
}

/// `sync-trigger`'s result: the end of the pipeline.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SyncReport {
    /// The cycle's id.
    #[serde(default)]
    pub cycle: String,
    /// One entry per application of the request (or, for a sweep, per
    /// open change re-evaluated).
    #[serde(default)]
    pub applications: Vec<AppSynced>,
    /// Per-application problems of this and earlier stages.
    #[serde(default)]
    pub errors: Vec<AppError>,
}

impl Event for SyncReport {
    const KIND: &'static str = "SyncReport";
    const CONSUMER: &'static str = "no function (the end of the pipeline)";
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trip_with_api_version_and_kind() {
        let req = PollRequest {
            trigger: Trigger::Webhook {
                registry: Some("ghcr.io".into()),
                repository: "team/app".into(),
                tag: Some("1.2.3".into()),
            },
            applications: vec![],
        };
        let value = encode(&req);
        assert_eq!(value["apiVersion"], API_VERSION);
        assert_eq!(value["kind"], "PollRequest");
        assert_eq!(value["trigger"]["type"], "webhook");
        assert_eq!(decode::<PollRequest>(value).unwrap(), req);
    }

    #[test]
    fn envelope_is_unwrapped() {
        let inner = encode(&ResolveRequest::default());
        let wrapped = json!({
            "version": "1.0",
            "requestContext": {"condition": "Success", "functionArn": "arn:x"},
            "requestPayload": {"apiVersion": API_VERSION, "kind": "PollRequest"},
            "responsePayload": inner,
        });
        assert_eq!(
            decode::<ResolveRequest>(wrapped).unwrap(),
            ResolveRequest::default()
        );
        let as_string = json!({"responsePayload": inner.to_string()});
        assert!(decode::<ResolveRequest>(as_string).is_ok());
        let failed =
            json!({"requestContext": {"condition": "RetriesExhausted"}, "responsePayload": {}});
        assert!(
            decode::<ResolveRequest>(failed)
                .unwrap_err()
                .to_string()
                .contains("RetriesExhausted")
        );
    }

    #[test]
    fn wrong_kind_and_version_say_what_to_do() {
        let err =
            decode::<PollRequest>(json!({"apiVersion": API_VERSION, "kind": "ResolveRequest"}))
                .unwrap_err()
                .to_string();
        assert!(
            err.contains("poll-registry takes kind \"PollRequest\""),
            "{err}"
        );
        let err = decode::<PollRequest>(json!({"kind": "PollRequest"}))
            .unwrap_err()
            .to_string();
        assert!(err.contains("no apiVersion"), "{err}");
        let err = decode::<PollRequest>(json!({"apiVersion": "v2", "kind": "PollRequest"}))
            .unwrap_err()
            .to_string();
        assert!(err.contains("expected \"updraft.dev/v1alpha1\""), "{err}");
        let err = decode::<PollRequest>(
            json!({"apiVersion": API_VERSION, "kind": "PollRequest", "trigerr": {}}),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("trigerr"), "{err}");
        assert!(decode::<PollRequest>(json!([1])).is_err());
    }
}
