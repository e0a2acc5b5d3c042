//! Owns [`RegistryError`], the one error type of this crate, and [`Target`],
//! the "registry, repository, tag" context every message starts with.
//!
//! Messages never contain a secret: credentials and tokens live in
//! [`crate::Secret`], response bodies are cut to a short single line, and
//! transport errors are printed without their URL's query.

use thiserror::Error;

/// What a request was about: every error names it. (Boxed, so errors stay
/// small.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target(Box<TargetParts>);

/// The parts of a [`Target`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetParts {
    /// The registry's API URL.
    pub registry: String,
    /// The repository inside the registry, e.g. `library/nginx`.
    pub repository: Option<String>,
    /// The tag or digest, or the config blob, when the request was about one.
    pub reference: Option<Reference>,
}

/// The object inside a repository an error is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    /// A manifest by tag.
    Tag(String),
    /// A manifest by digest (an index child, or a digest reference).
    Digest(String),
    /// A config blob.
    Blob(String),
}

impl Target {
    /// A registry-wide target (ping, credentials).
    pub fn registry(registry: impl Into<String>) -> Self {
        Self(Box::new(TargetParts {
            registry: registry.into(),
            repository: None,
            reference: None,
        }))
    }

    /// A repository of a registry.
    pub fn repository(registry: impl Into<String>, repository: impl Into<String>) -> Self {
        Self(Box::new(TargetParts {
            registry: registry.into(),
            repository: Some(repository.into()),
            reference: None,
        }))
    }

    /// The parts.
    pub fn parts(&self) -> &TargetParts {
        &self.0
    }

    /// The same target narrowed to a manifest reference: a digest when it
    /// looks like `algorithm:hex`, a tag otherwise.
    pub fn with_manifest(&self, reference: &str) -> Self {
        let reference = if reference.contains(':') {
            Reference::Digest(reference.to_string())
        } else {
            Reference::Tag(reference.to_string())
        };
        self.with_reference(reference)
    }

    /// The same target narrowed to a blob.
    pub fn with_blob(&self, digest: &str) -> Self {
        self.with_reference(Reference::Blob(digest.to_string()))
    }

    fn with_reference(&self, reference: Reference) -> Self {
        Self(Box::new(TargetParts {
            reference: Some(reference),
            ..(*self.0).clone()
        }))
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts = &self.0;
        write!(f, "registry {}", parts.registry)?;
        if let Some(repository) = &parts.repository {
            write!(f, ", repository '{repository}'")?;
        }
        match &parts.reference {
            Some(Reference::Tag(tag)) => write!(f, ", tag '{tag}'"),
            Some(Reference::Digest(digest)) => write!(f, ", manifest {digest}"),
            Some(Reference::Blob(digest)) => write!(f, ", config blob {digest}"),
            None => Ok(()),
        }
    }
}

/// Everything that can go wrong talking to a registry or reading its
/// configuration. [`RegistryError::code`] gives a stable short name.
#[derive(Debug, Error)]
pub enum RegistryError {
    /// `registries.conf` (or the `registries` section of updraft.yaml) is
    /// invalid.
    #[error("registry configuration {origin}: {problem}")]
    Config {
        /// Where the configuration came from (a path, or `updraft.yaml`).
        origin: String,
        /// What is wrong and how to fix it.
        problem: String,
    },
    /// A credential reference could not be resolved to a user and password.
    #[error("{target}: credentials {reference}: {problem}")]
    Credentials {
        /// The registry the credentials are for.
        target: Target,
        /// The reference as configured (`env:VAR`, `file:/path`, …; never a
        /// value).
        reference: String,
        /// What is wrong and how to fix it.
        problem: String,
    },
    /// The HTTP client could not be built (TLS setup, CA bundle).
    #[error("{target}: cannot set up the HTTP client: {problem}")]
    Client {
        /// The registry.
        target: Target,
        /// What failed.
        problem: String,
    },
    /// No answer: connection refused, DNS, TLS or a timeout, after every
    /// retry.
    #[error(
        "{target}: {operation} failed after {attempts} attempt(s): {cause}{}",
        if *timed_out { " (timed out: the registry is slow or unreachable; raise the request timeout if it is just slow)" } else { " (check the registry's api_url, the network and TLS settings)" }
    )]
    Transport {
        /// The request's target.
        target: Target,
        /// What was being done, e.g. `listing tags`.
        operation: &'static str,
        /// How many times it was tried.
        attempts: u32,
        /// The transport error (without URL query or secrets).
        cause: String,
        /// Whether the last failure was a timeout.
        timed_out: bool,
    },
    /// The registry (or its token server) refused the credentials, or there
    /// were none and it wants some.
    #[error("{target}: access denied (HTTP {status}){detail}: {hint}")]
    Unauthorized {
        /// The request's target.
        target: Target,
        /// 401 or 403.
        status: u16,
        /// The registry's error code and message, if any (`: …`).
        detail: String,
        /// How to fix it.
        hint: String,
    },
    /// The repository, tag or blob does not exist.
    #[error(
        "{target}: not found (HTTP 404){detail}: check the image name, the tag and the registry's api_url"
    )]
    NotFound {
        /// The request's target.
        target: Target,
        /// The registry's error code and message, if any.
        detail: String,
    },
    /// An HTTP status the client does not expect, or a retryable one (429,
    /// 5xx) that persisted through every retry.
    #[error("{target}: {operation}: HTTP {status}{detail} after {attempts} attempt(s){}", hint_for_status(*status))]
    Status {
        /// The request's target.
        target: Target,
        /// What was being done.
        operation: &'static str,
        /// The last HTTP status.
        status: u16,
        /// The registry's error code and message, if any.
        detail: String,
        /// How many times it was tried.
        attempts: u32,
    },
    /// The registry asked (with `Retry-After`) for a pause longer than the
    /// client is allowed to wait.
    #[error(
        "{target}: {operation}: the registry answered HTTP {status} and asked to retry after {wait_secs} s, more than the {max_secs} s this client waits; try again later or raise RetryPolicy::max_retry_after"
    )]
    RetryAfterTooLong {
        /// The request's target.
        target: Target,
        /// What was being done.
        operation: &'static str,
        /// 429 or 503.
        status: u16,
        /// What the registry asked for.
        wait_secs: u64,
        /// The configured maximum.
        max_secs: u64,
    },
    /// The registry answered something that is not what the API promises
    /// (bad JSON, a truncated body, a missing header, a bad `Link`).
    #[error("{target}: invalid {what} from the registry: {problem}")]
    InvalidResponse {
        /// The request's target.
        target: Target,
        /// Which part, e.g. `tag list`, `manifest`, `config blob`.
        what: &'static str,
        /// What is wrong.
        problem: String,
    },
    /// The content does not hash to the digest it was requested by.
    #[error(
        "{target}: digest mismatch: expected {expected}, the content received hashes to {actual} (a proxy or the registry altered it)"
    )]
    DigestMismatch {
        /// The request's target.
        target: Target,
        /// The requested digest.
        expected: String,
        /// The digest of what arrived.
        actual: String,
    },
    /// The tag list's `Link` pagination points back to a page already read.
    #[error(
        "{target}: tag list pagination loops: the next page {url} was already read (the registry's Link header is broken; report it to the registry operator)"
    )]
    PaginationLoop {
        /// The repository.
        target: Target,
        /// The repeated URL (path and query).
        url: String,
    },
    /// The tag list is larger than the configured cap.
    #[error(
        "{target}: the tag list has more than {limit} {what}; if the repository really is that large, raise ClientOptions::{option}"
    )]
    TagLimit {
        /// The repository.
        target: Target,
        /// `tags` or `pages`.
        what: &'static str,
        /// The cap.
        limit: usize,
        /// The option that sets the cap.
        option: &'static str,
    },
    /// A response body is larger than the cap for its kind.
    #[error("{target}: the {what} is larger than {limit} bytes; refusing to read it")]
    TooLarge {
        /// The request's target.
        target: Target,
        /// Which body.
        what: &'static str,
        /// The cap in bytes.
        limit: usize,
    },
    /// A manifest of a kind this client does not read (schema 1, unknown).
    #[error(
        "{target}: unsupported manifest media type '{media_type}' (supported: OCI image manifest and index, Docker schema 2 manifest and manifest list)"
    )]
    UnsupportedManifest {
        /// The manifest.
        target: Target,
        /// Its media type.
        media_type: String,
    },
    /// The token server failed to issue a Bearer token.
    #[error("{target}: token server {realm}: {problem}")]
    Token {
        /// The request the token was for.
        target: Target,
        /// The token endpoint (realm URL without query).
        realm: String,
        /// What is wrong and how to fix it.
        problem: String,
    },
    /// A repository name, tag or digest that cannot be put in a request.
    #[error("{target}: {problem}")]
    InvalidName {
        /// What was asked for.
        target: Target,
        /// What is wrong with the name.
        problem: String,
    },
    /// The registry's authentication challenge cannot be answered.
    #[error("{target}: {problem}")]
    Challenge {
        /// The request's target.
        target: Target,
        /// What is wrong.
        problem: String,
    },
}

fn hint_for_status(status: u16) -> &'static str {
    match status {
        429 => {
            " (rate limited: lower the registry's `limit` in registries.conf or poll less often)"
        }
        500..=599 => " (the registry is failing; try again later)",
        _ => "",
    }
}

impl RegistryError {
    /// A stable short name for the kind of error (for reports and metrics).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Config { .. } => "config",
            Self::Credentials { .. } => "credentials",
            Self::Client { .. } => "client",
            Self::Transport {
                timed_out: true, ..
            } => "timeout",
            Self::Transport { .. } => "transport",
            Self::Unauthorized { .. } => "unauthorized",
            Self::NotFound { .. } => "not-found",
            Self::Status { .. } => "http-status",
            Self::RetryAfterTooLong { .. } => "retry-after-too-long",
            Self::InvalidResponse { .. } => "invalid-response",
            Self::DigestMismatch { .. } => "digest-mismatch",
            Self::PaginationLoop { .. } => "pagination-loop",
            Self::TagLimit { .. } => "tag-limit",
            Self::TooLarge { .. } => "too-large",
            Self::UnsupportedManifest { .. } => "unsupported-manifest",
            Self::Token { .. } => "token",
            Self::Challenge { .. } => "challenge",
            Self::InvalidName { .. } => "invalid-name",
        }
    }

    /// The target of the failed request, when there is one.
    pub fn target(&self) -> Option<&Target> {
        match self {
            Self::Config { .. } => None,
            Self::Credentials { target, .. }
            | Self::Client { target, .. }
            | Self::Transport { target, .. }
            | Self::Unauthorized { target, .. }
            | Self::NotFound { target, .. }
            | Self::Status { target, .. }
            | Self::RetryAfterTooLong { target, .. }
            | Self::InvalidResponse { target, .. }
            | Self::DigestMismatch { target, .. }
            | Self::PaginationLoop { target, .. }
            | Self::TagLimit { target, .. }
            | Self::TooLarge { target, .. }
            | Self::UnsupportedManifest { target, .. }
            | Self::Token { target, .. }
            | Self::Challenge { target, .. }
            | Self::InvalidName { target, .. } => Some(target),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_display() {
        let t = Target::repository("https://r.example", "team/app");
        assert_eq!(
            t.to_string(),
            "registry https://r.example, repository 'team/app'"
        );
        assert_eq!(
            t.with_manifest("v1").to_string(),
            "registry https://r.example, repository 'team/app', tag 'v1'"
        );
        assert!(
            t.with_manifest("sha256:ab")
                .to_string()
                .ends_with("manifest sha256:ab")
        );
        assert!(
            t.with_blob("sha256:cd")
                .to_string()
                .ends_with("config blob sha256:cd")
        );
    }

    #[test]
    fn messages_name_the_target() {
        let err = RegistryError::PaginationLoop {
            target: Target::repository("http://127.0.0.1:1", "loop/app"),
            url: "/v2/loop/app/tags/list?n=2".into(),
        };
        let text = err.to_string();
        assert!(text.contains("loop/app"), "{text}");
        assert_eq!(err.code(), "pagination-loop");
    }
}
