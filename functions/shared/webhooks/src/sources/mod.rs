//! Owns the per-source rules: how each source authenticates (dispatch over
//! [`crate::auth`]) and which module parses its payload.

mod acr;
mod azure;
mod distribution;
mod dockerhub;
mod ecr;
mod eventbridge;
mod ghcr;
mod harbor;
mod quay;

use crate::auth::{authorization_matches, constant_time_eq, github_signature_matches};
use crate::normalize;
use crate::{Incoming, Push, Rejection, Source};

/// How a source proves a request is genuine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AuthKind {
    /// A static `Authorization` header (`<secret>` or `Bearer <secret>`).
    Authorization,
    /// No mechanism of its own: the secret rides in the path or `?secret=`.
    UrlSecret,
    /// Path, `?secret=`, `X-Webhook-Secret`, or `Authorization` (EventBridge
    /// API destinations and HTTP targets can set headers or query).
    UrlOrHeader,
    /// `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>`.
    GithubSignature,
}

fn auth_kind(source: Source) -> AuthKind {
    match source {
        Source::Distribution | Source::Harbor | Source::Azure => AuthKind::Authorization,
        Source::Acr | Source::DockerHub | Source::Quay => AuthKind::UrlSecret,
        Source::EventBridge | Source::Ecr => AuthKind::UrlOrHeader,
        Source::Ghcr => AuthKind::GithubSignature,
    }
}

/// The secret carried in the URL: the path segment first, then `?secret=`.
fn url_secret<'a>(incoming: &Incoming<'a>) -> Option<&'a str> {
    incoming
        .path_secret
        .filter(|s| !s.is_empty())
        .or_else(|| incoming.query_param("secret").filter(|s| !s.is_empty()))
}

/// Checks `incoming` against `secret` the way `source` authenticates.
pub(crate) fn authenticate(
    source: Source,
    secret: &str,
    incoming: &Incoming,
) -> Result<(), Rejection> {
    match auth_kind(source) {
        AuthKind::Authorization => {
            let header = incoming
                .header("authorization")
                .ok_or_else(|| Rejection::unauthorized("missing Authorization header"))?;
            if authorization_matches(secret, header) {
                Ok(())
            } else {
                Err(Rejection::unauthorized("invalid Authorization header"))
            }
        }
        AuthKind::UrlSecret => {
            let given = url_secret(incoming).ok_or_else(|| {
                Rejection::unauthorized(format!(
                    "missing webhook secret: use /webhook/{source}/<secret> or ?secret="
                ))
            })?;
            if constant_time_eq(given.as_bytes(), secret.as_bytes()) {
                Ok(())
            } else {
                Err(Rejection::unauthorized("invalid webhook secret"))
            }
        }
        AuthKind::UrlOrHeader => {
            let given = url_secret(incoming).or_else(|| {
                incoming
                    .header("x-webhook-secret")
                    .filter(|s| !s.trim().is_empty())
            });
            if let Some(given) = given {
                if constant_time_eq(given.trim().as_bytes(), secret.as_bytes()) {
                    return Ok(());
                }
                return Err(Rejection::unauthorized("invalid webhook secret"));
            }
            match incoming.header("authorization") {
                Some(header) if authorization_matches(secret, header) => Ok(()),
                Some(_) => Err(Rejection::unauthorized("invalid Authorization header")),
                None => Err(Rejection::unauthorized(format!(
                    "missing webhook secret: use /webhook/{source}/<secret>, ?secret=, \
                     X-Webhook-Secret or Authorization"
                ))),
            }
        }
        AuthKind::GithubSignature => {
            let header = incoming
                .header("x-hub-signature-256")
                .ok_or_else(|| Rejection::unauthorized("missing X-Hub-Signature-256 header"))?;
            if github_signature_matches(secret.as_bytes(), incoming.body, header) {
                Ok(())
            } else {
                Err(Rejection::unauthorized(
                    "invalid X-Hub-Signature-256 signature",
                ))
            }
        }
    }
}

/// Parses an authenticated request's payload.
pub(crate) fn parse(source: Source, incoming: &Incoming) -> Result<Vec<Push>, Rejection> {
    match source {
        Source::Distribution => distribution::parse(incoming),
        Source::Acr => acr::parse(incoming),
        Source::EventBridge => eventbridge::parse(incoming),
        Source::DockerHub => dockerhub::parse(incoming),
        Source::Harbor => harbor::parse(incoming),
        Source::Quay => quay::parse(incoming),
        Source::Ghcr => ghcr::parse(incoming),
        Source::Azure => azure::parse(incoming),
        Source::Ecr => ecr::parse(incoming),
    }
}

/// A push as read from a payload, before normalisation.
#[derive(Debug, Default)]
struct RawPush<'a> {
    /// Anything [`normalize::registry_host`] accepts: host, URL, reference.
    registry: Option<String>,
    repository: &'a str,
    tag: Option<&'a str>,
    digest: Option<&'a str>,
    pushed_at: Option<String>,
}

impl RawPush<'_> {
    fn build(self, source: Source) -> Result<Push, Rejection> {
        Ok(Push {
            source: source.name(),
            registry: self
                .registry
                .as_deref()
                .map(normalize::registry_host)
                .transpose()?,
            repository: normalize::repository(self.repository)?,
            tag: normalize::tag(self.tag)?,
            digest: normalize::digest(self.digest)?,
            pushed_at: self.pushed_at,
        })
    }
}

/// The `?registry_url=` override (Image Updater's, for ACR Enterprise hosts).
fn registry_url_override(incoming: &Incoming) -> Option<String> {
    incoming
        .query_param("registry_url")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Requires a JSON content type when one of `allowed` media types is expected.
fn require_content_type(
    incoming: &Incoming,
    allowed: &[&str],
    required: bool,
) -> Result<(), Rejection> {
    match incoming.header("content-type") {
        Some(ct) => {
            let media = normalize::media_type(ct);
            if allowed.contains(&media.as_str()) {
                Ok(())
            } else {
                Err(Rejection::malformed(format!(
                    "unsupported content type {}; expected {}",
                    crate::quoted(ct),
                    allowed.join(" or ")
                )))
            }
        }
        None if required => Err(Rejection::malformed(format!(
            "missing content type; expected {}",
            allowed.join(" or ")
        ))),
        None => Ok(()),
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    use crate::{Incoming, Push, Rejection, Source};

    /// Parses `body` for `source` with the given headers and query.
    pub(crate) fn parse_with(
        source: Source,
        headers: &[(&str, &str)],
        query: &[(&str, &str)],
        body: &str,
    ) -> Result<Vec<Push>, Rejection> {
        let headers: Vec<(String, String)> = headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let query: Vec<(String, String)> = query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let incoming = Incoming {
            source: source.name(),
            path_secret: None,
            query: &query,
            headers: &headers,
            body: body.as_bytes(),
        };
        super::parse(source, &incoming)
    }

    /// Reads a recorded payload from `tests/payloads/`.
    pub(crate) fn payload(name: &str) -> String {
        let path = format!("{}/tests/payloads/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(
        source: Source,
        path: Option<&str>,
        query: &[(&str, &str)],
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<(), u16> {
        let query: Vec<(String, String)> = query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let headers: Vec<(String, String)> = headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let incoming = Incoming {
            source: source.name(),
            path_secret: path,
            query: &query,
            headers: &headers,
            body,
        };
        authenticate(source, "s3cret", &incoming).map_err(|r| r.status)
    }

    #[test]
    fn url_secret_sources() {
        for s in [Source::Acr, Source::DockerHub, Source::Quay] {
            assert_eq!(auth(s, Some("s3cret"), &[], &[], b""), Ok(()));
            assert_eq!(auth(s, None, &[("secret", "s3cret")], &[], b""), Ok(()));
            assert_eq!(auth(s, None, &[("secret", "nope")], &[], b""), Err(401));
            assert_eq!(auth(s, None, &[], &[], b""), Err(401));
            assert_eq!(auth(s, Some(""), &[("secret", "")], &[], b""), Err(401));
            // Headers do not count for sources that cannot send them.
            assert_eq!(
                auth(s, None, &[], &[("authorization", "s3cret")], b""),
                Err(401)
            );
            // The path wins over the query.
            assert_eq!(
                auth(s, Some("bad"), &[("secret", "s3cret")], &[], b""),
                Err(401)
            );
        }
    }

    #[test]
    fn authorization_sources_ignore_url_secrets() {
        for s in [Source::Distribution, Source::Harbor, Source::Azure] {
            assert_eq!(
                auth(s, None, &[], &[("authorization", "s3cret")], b""),
                Ok(())
            );
            assert_eq!(
                auth(s, None, &[], &[("authorization", "Bearer s3cret")], b""),
                Ok(())
            );
            assert_eq!(
                auth(s, Some("s3cret"), &[("secret", "s3cret")], &[], b""),
                Err(401)
            );
            assert_eq!(
                auth(s, None, &[], &[("authorization", "Bearer x")], b""),
                Err(401)
            );
        }
    }

    #[test]
    fn eventbridge_style_sources_accept_any_channel() {
        for s in [Source::EventBridge, Source::Ecr] {
            assert_eq!(auth(s, Some("s3cret"), &[], &[], b""), Ok(()));
            assert_eq!(auth(s, None, &[("secret", "s3cret")], &[], b""), Ok(()));
            assert_eq!(
                auth(s, None, &[], &[("x-webhook-secret", "s3cret")], b""),
                Ok(())
            );
            assert_eq!(
                auth(s, None, &[], &[("authorization", "Bearer s3cret")], b""),
                Ok(())
            );
            assert_eq!(
                auth(s, None, &[], &[("x-webhook-secret", "no")], b""),
                Err(401)
            );
            assert_eq!(
                auth(s, None, &[], &[("authorization", "no")], b""),
                Err(401)
            );
            assert_eq!(auth(s, None, &[], &[], b""), Err(401));
        }
    }

    #[test]
    fn ghcr_needs_a_valid_signature() {
        let body = b"{}";
        let sig = format!(
            "sha256={}",
            hex::encode(crate::auth::hmac_sha256(b"s3cret", body))
        );
        let s = Source::Ghcr;
        assert_eq!(
            auth(s, None, &[], &[("x-hub-signature-256", &sig)], body),
            Ok(())
        );
        assert_eq!(
            auth(s, None, &[], &[("x-hub-signature-256", &sig)], b"{ }"),
            Err(401)
        );
        assert_eq!(auth(s, None, &[], &[], body), Err(401));
        assert_eq!(
            auth(s, Some("s3cret"), &[("secret", "s3cret")], &[], body),
            Err(401)
        );
    }
}
