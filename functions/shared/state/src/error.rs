//! Owns the store's errors, and the warnings it reports instead of failing
//! when a stored document is unusable.

use std::fmt;
use std::time::Duration;

/// What went wrong talking to the checkpoint store. Every variant names the
/// store (its URL, which never carries a secret) and, for document
/// operations, the key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// The store URL cannot be used.
    #[error(
        "state store URL `{url}`: {reason} (expected file://PATH, memory://[NAME], \
         s3://BUCKET[/PREFIX][?endpoint=URL&region=R&allow_http=true] or \
         oss://BUCKET[/PREFIX][?endpoint=URL&region=R])"
    )]
    InvalidUrl {
        /// The URL, or its redacted form.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The URL carries something that looks like a credential.
    #[error(
        "state store URL `{url}` carries `{what}`, which looks like a credential; URLs end up \
         in logs and configuration files, so credentials are read only from the environment \
         ({env}) — remove it from the URL"
    )]
    SecretInUrl {
        /// The URL without its query and user information.
        url: String,
        /// The query key (or `user information`) that was refused; never its value.
        what: String,
        /// Where the credential belongs instead.
        env: &'static str,
    },
    /// Credentials the backend needs are missing from the environment.
    #[error("state store {url}: {missing} not set in the environment")]
    MissingCredentials {
        /// The store URL.
        url: String,
        /// The variables that are missing.
        missing: String,
    },
    /// The backend could not be set up (bad endpoint, unusable directory…).
    #[error("cannot open state store {url}")]
    Open {
        /// The store URL.
        url: String,
        /// The cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A key part is not usable (empty, `.`/`..`, a control character).
    #[error("invalid state key part `{part}`: {reason}")]
    InvalidKey {
        /// The offending part, escaped.
        part: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// Reading a document failed for a reason other than its absence.
    #[error("cannot read {key} from state store {url}")]
    Read {
        /// The store URL.
        url: String,
        /// The document key.
        key: String,
        /// The cause.
        #[source]
        source: object_store::Error,
    },
    /// Writing a document failed.
    #[error("cannot write {key} to state store {url}")]
    Write {
        /// The store URL.
        url: String,
        /// The document key.
        key: String,
        /// The cause.
        #[source]
        source: object_store::Error,
    },
    /// A document could not be encoded (a bug, not a store problem).
    #[error("cannot encode {key} for state store {url}")]
    Encode {
        /// The store URL.
        url: String,
        /// The document key.
        key: String,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
    /// Concurrent writers kept changing the document faster than this writer
    /// could merge into it.
    #[error(
        "gave up writing {key} to state store {url} after {attempts} attempts: other writers \
         kept changing it; nothing is lost that the next run cannot rebuild"
    )]
    Contended {
        /// The store URL.
        url: String,
        /// The document key.
        key: String,
        /// How many writes were tried.
        attempts: u32,
    },
    /// Another writer held the document's lock for too long.
    #[error(
        "{key} in state store {url} is locked by another writer ({lock} held for more than \
         {waited:?}); if no updraft process is running, delete {lock}"
    )]
    Locked {
        /// The store URL.
        url: String,
        /// The document key.
        key: String,
        /// The lock object's key.
        lock: String,
        /// How long this writer waited.
        waited: Duration,
    },
    /// The backend does not offer a conditional write that was asked for.
    #[error(
        "state store {url} does not support {operation} (writing {key}); check \
         `StateStore::capabilities` first"
    )]
    Unsupported {
        /// The store URL.
        url: String,
        /// The document key.
        key: String,
        /// `create-only writes` or `compare-and-swap updates`.
        operation: &'static str,
    },
}

/// A stored document that could not be used and was treated as empty: the
/// caller rebuilds it (from the registry) and the next save replaces it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateWarning {
    /// The store URL.
    pub url: String,
    /// The document key.
    pub key: String,
    /// What is wrong with it: bad JSON, truncated, unknown schema version…
    pub problem: String,
}

impl fmt::Display for StateWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "state document {} in {} is unusable ({}); treating it as empty: it is rebuilt \
             and replaced by the next save",
            self.key, self.url, self.problem
        )
    }
}
