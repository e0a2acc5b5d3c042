//! Owns receiving container-registry webhooks: which sources exist and how
//! each one authenticates ([`config`], [`auth`]), turning each source's
//! payload into [`Push`] hints ([`receive`]), per-source rate limiting and
//! replay detection ([`limits`]), and the axum endpoint that ties them
//! together ([`router()`]).
//!
//! A [`Push`] is only a hint that a repository changed. Its tag and digest
//! come from an unsigned or weakly authenticated payload, so the caller must
//! never act on them directly: it polls the registry, which decides.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod auth;
pub mod config;
pub mod limits;
pub mod router;

mod normalize;
mod sources;

use std::fmt;

use serde::Serialize;

pub use config::{
    ConfigError, DEFAULT_RATE_LIMIT, SecretRef, SecretSource, TokenSource, WebhookConfig,
};
pub use limits::{REPLAY_WINDOW, RateLimiter, ReplayGuard};
pub use router::{OnPush, Resolver, router};

/// Largest request body accepted, in bytes (1 MiB, as Image Updater).
pub const BODY_LIMIT: usize = 1024 * 1024;

/// A webhook source: one registry product's payload format and auth scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Source {
    /// CNCF Distribution notifications (also self-managed GitLab's registry).
    Distribution,
    /// Alibaba Cloud ACR repository trigger (Personal and Enterprise).
    Acr,
    /// Alibaba Cloud EventBridge CloudEvents from ACR (`source: acs.cr`).
    EventBridge,
    /// Docker Hub repository webhooks.
    DockerHub,
    /// Harbor v2 webhooks (Default payload format).
    Harbor,
    /// Quay "Repository Push" notifications.
    Quay,
    /// GitHub Packages (GHCR) `package` webhooks.
    Ghcr,
    /// Azure Container Registry webhooks.
    Azure,
    /// AWS ECR pushes delivered by Amazon EventBridge.
    Ecr,
}

impl Source {
    /// Every source, in configuration order.
    pub const ALL: [Source; 9] = [
        Source::Distribution,
        Source::Acr,
        Source::EventBridge,
        Source::DockerHub,
        Source::Harbor,
        Source::Quay,
        Source::Ghcr,
        Source::Azure,
        Source::Ecr,
    ];

    /// The name used in `updraft.yaml` and in `/webhook/<name>`.
    pub fn name(self) -> &'static str {
        match self {
            Source::Distribution => "distribution",
            Source::Acr => "acr",
            Source::EventBridge => "eventbridge",
            Source::DockerHub => "dockerhub",
            Source::Harbor => "harbor",
            Source::Quay => "quay",
            Source::Ghcr => "ghcr",
            Source::Azure => "azure",
            Source::Ecr => "ecr",
        }
    }

    /// The source called `name` (exact, lower-case), if any.
    pub fn from_name(name: &str) -> Option<Source> {
        Source::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Maps an Argo CD Image Updater `?type=` value (`docker.io`, `ghcr.io`,
    /// `harbor`, `quay.io`, `aliyun-acr`, `acr`, `cloudevents`) to a source.
    /// Note that Image Updater's `acr` is Azure, while ours is Alibaba.
    pub fn from_image_updater_type(kind: &str) -> Option<Source> {
        match kind {
            "docker.io" => Some(Source::DockerHub),
            "ghcr.io" => Some(Source::Ghcr),
            "harbor" => Some(Source::Harbor),
            "quay.io" => Some(Source::Quay),
            "aliyun-acr" => Some(Source::Acr),
            "acr" => Some(Source::Azure),
            "cloudevents" => Some(Source::Ecr),
            _ => None,
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One pushed image, as a hint: re-check `repository` on `registry`.
///
/// `tag` and `digest` are what the payload claimed; they are not verified
/// and must not be trusted for anything but logging and narrowing a poll.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Push {
    /// The source's name ([`Source::name`]).
    pub source: &'static str,
    /// Registry host, lower-case, with port if any, never a scheme or path.
    pub registry: Option<String>,
    /// Repository path inside the registry, e.g. `team/app`.
    pub repository: String,
    /// The tag the payload says was pushed.
    pub tag: Option<String>,
    /// The manifest digest the payload says was pushed.
    pub digest: Option<String>,
    /// When the payload says the push happened; informational only. RFC 3339
    /// in UTC when the payload carries a zone or a Unix time, otherwise the
    /// payload's local time as `YYYY-MM-DDTHH:MM:SS` without an offset (ACR).
    pub pushed_at: Option<String>,
}

/// One webhook request, already taken apart by the transport.
#[derive(Debug, Clone, Copy)]
pub struct Incoming<'a> {
    /// The source name from the URL (`/webhook/<source>`).
    pub source: &'a str,
    /// The secret from the URL path (`/webhook/<source>/<secret>`), decoded.
    pub path_secret: Option<&'a str>,
    /// Decoded query parameters, in order.
    pub query: &'a [(String, String)],
    /// Request headers; names in lower case.
    pub headers: &'a [(String, String)],
    /// The raw request body.
    pub body: &'a [u8],
}

impl<'a> Incoming<'a> {
    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The first query parameter called `name` (case-sensitive).
    pub fn query_param(&self, name: &str) -> Option<&'a str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Why a request was refused, as an HTTP status and a message that is safe
/// to return to the caller (it never contains a secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// 400 malformed, 401 bad or missing secret or signature, 404 unknown or
    /// disabled source, 413 too large, 429 rate limited, 500 secret missing
    /// on our side.
    pub status: u16,
    /// What went wrong.
    pub message: String,
}

impl Rejection {
    pub(crate) fn new(status: u16, message: impl Into<String>) -> Self {
        Rejection {
            status,
            message: message.into(),
        }
    }

    pub(crate) fn malformed(message: impl Into<String>) -> Self {
        Rejection::new(400, message)
    }

    pub(crate) fn unauthorized(message: impl Into<String>) -> Self {
        Rejection::new(401, message)
    }

    pub(crate) fn too_large() -> Self {
        Rejection::new(413, format!("request body exceeds {BODY_LIMIT} bytes"))
    }

    pub(crate) fn unknown_source(name: &str) -> Self {
        Rejection::new(404, format!("unknown webhook source {}", quoted(name)))
    }

    pub(crate) fn not_configured(source: Source) -> Self {
        Rejection::new(404, format!("webhook source {source} is not configured"))
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status, self.message)
    }
}

impl std::error::Error for Rejection {}

/// Quotes caller-supplied text for a message: escaped and cut to 64 chars.
pub(crate) fn quoted(text: &str) -> String {
    let cut: String = text.chars().take(64).collect();
    let mut out = format!("{cut:?}");
    if cut.len() < text.len() {
        out.push('…');
    }
    out
}

/// Authenticates `incoming` against its source's configured secret and parses
/// its payload into push hints.
///
/// `resolve` turns a secret reference (`env:NAME`, `file:PATH`) into the
/// secret. `Ok(vec![])` means the request was genuine but there is nothing to
/// do (a pull, a blob upload, a ping, an untagged push, another event type).
pub fn receive(
    config: &WebhookConfig,
    incoming: &Incoming,
    resolve: &dyn Fn(&str) -> Result<String, String>,
) -> Result<Vec<Push>, Rejection> {
    let source = Source::from_name(incoming.source)
        .ok_or_else(|| Rejection::unknown_source(incoming.source))?;
    let reference = config
        .secret_ref(source)
        .ok_or_else(|| Rejection::not_configured(source))?;
    if incoming.body.len() > BODY_LIMIT {
        return Err(Rejection::too_large());
    }
    let secret = resolve_secret(source, reference, resolve)?;
    sources::authenticate(source, &secret, incoming)?;
    let mut pushes = sources::parse(source, incoming)?;
    dedup(&mut pushes);
    Ok(pushes)
}

/// Resolves a source's secret; a failure is our misconfiguration (500).
fn resolve_secret(
    source: Source,
    reference: &SecretRef,
    resolve: &dyn Fn(&str) -> Result<String, String>,
) -> Result<String, Rejection> {
    match resolve(reference.as_str()) {
        Ok(secret) => {
            let secret = secret.trim_end_matches(['\r', '\n']).to_owned();
            if secret.is_empty() {
                tracing::error!(source = source.name(), reference = %reference, "webhook secret is empty");
                Err(Rejection::new(
                    500,
                    format!("the secret of webhook source {source} is empty"),
                ))
            } else {
                Ok(secret)
            }
        }
        Err(_) => {
            // The resolver's message is not echoed: it is the caller's text.
            tracing::error!(source = source.name(), reference = %reference, "webhook secret could not be resolved");
            Err(Rejection::new(
                500,
                format!("the secret of webhook source {source} could not be resolved"),
            ))
        }
    }
}

/// Drops repeated pushes, keeping the first of each.
fn dedup(pushes: &mut Vec<Push>) {
    let mut seen = std::collections::HashSet::new();
    pushes.retain(|p| seen.insert(p.clone()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_names_round_trip() {
        for s in Source::ALL {
            assert_eq!(Source::from_name(s.name()), Some(s));
        }
        assert_eq!(Source::from_name("Docker"), None);
        assert_eq!(Source::from_image_updater_type("acr"), Some(Source::Azure));
        assert_eq!(
            Source::from_image_updater_type("aliyun-acr"),
            Some(Source::Acr)
        );
    }

    #[test]
    fn quoted_escapes_and_cuts() {
        assert_eq!(quoted("a\nb"), "\"a\\nb\"");
        assert!(quoted(&"x".repeat(100)).ends_with('…'));
    }

    fn cfg(yaml: &str) -> WebhookConfig {
        serde_saphyr::from_str(yaml).unwrap_or_else(|e| panic!("{e}"))
    }

    fn resolver(reference: &str) -> Result<String, String> {
        match reference {
            "env:GOOD" => Ok("s3cret\n".into()),
            "env:EMPTY" => Ok(String::new()),
            _ => Err(format!("{reference} not set")),
        }
    }

    fn incoming<'a>(
        source: &'a str,
        query: &'a [(String, String)],
        body: &'a [u8],
    ) -> Incoming<'a> {
        Incoming {
            source,
            path_secret: None,
            query,
            headers: &[],
            body,
        }
    }

    #[test]
    fn unknown_and_disabled_sources_are_404() {
        let config = cfg("dockerhub: {secret: env:GOOD}");
        let err = receive(&config, &incoming("nope", &[], b"{}"), &resolver).err();
        assert_eq!(err.map(|e| e.status), Some(404));
        let err = receive(&config, &incoming("quay", &[], b"{}"), &resolver).err();
        assert_eq!(
            err.map(|e| e.message),
            Some("webhook source quay is not configured".into())
        );
    }

    #[test]
    fn unresolvable_or_empty_secret_is_500_without_detail() {
        let config = cfg("dockerhub: {secret: env:MISSING}\nquay: {secret: env:EMPTY}");
        let q = [("secret".to_owned(), String::new())];
        let err = receive(&config, &incoming("dockerhub", &q, b"{}"), &resolver).err();
        let err = err.unwrap_or_else(|| panic!("expected a rejection"));
        assert_eq!(err.status, 500);
        assert!(!err.message.contains("MISSING"));
        let err = receive(&config, &incoming("quay", &q, b"{}"), &resolver).err();
        assert_eq!(err.map(|e| e.status), Some(500));
    }

    #[test]
    fn oversize_body_is_413_before_auth() {
        let config = cfg("dockerhub: {secret: env:GOOD}");
        let body = vec![b' '; BODY_LIMIT + 1];
        let err = receive(&config, &incoming("dockerhub", &[], &body), &resolver).err();
        assert_eq!(err.map(|e| e.status), Some(413));
    }

    #[test]
    fn resolved_secret_loses_trailing_newline() {
        let config = cfg("dockerhub: {secret: env:GOOD}");
        let q = [("secret".to_owned(), "s3cret".to_owned())];
        let body = br#"{"push_data":{"tag":"1.0"},"repository":{"repo_name":"a/b"}}"#;
        let pushes = receive(&config, &incoming("dockerhub", &q, body), &resolver);
        assert_eq!(pushes.map(|p| p.len()), Ok(1));
    }
}
