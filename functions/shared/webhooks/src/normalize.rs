//! Owns turning payload strings into the canonical forms a [`crate::Push`]
//! carries: registry hosts, repository paths, tags, digests and timestamps,
//! and reading fields out of an untyped JSON payload.

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use serde_json::Value;

use crate::{Rejection, quoted};

/// The string at `path` inside `v`, if it is a non-empty string.
pub(crate) fn str_at<'v>(v: &'v Value, path: &[&str]) -> Option<&'v str> {
    let mut cur = v;
    for key in path {
        cur = cur.get(key)?;
    }
    cur.as_str().map(str::trim).filter(|s| !s.is_empty())
}

/// Parses a body as JSON, or rejects it as malformed.
pub(crate) fn json_body(body: &[u8]) -> Result<Value, Rejection> {
    serde_json::from_slice(body)
        .map_err(|e| Rejection::malformed(format!("body is not valid JSON: {e}")))
}

/// The media type of a `Content-Type` value: lower case, parameters dropped.
pub(crate) fn media_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// Normalises a registry reference (`https://Host:5000/path`, `host/ns/repo:tag`)
/// to its host: lower case, port kept, no scheme, path, user or trailing dot.
pub(crate) fn registry_host(raw: &str) -> Result<String, Rejection> {
    let mut s = raw.trim();
    for scheme in ["https://", "http://"] {
        if s.get(..scheme.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(scheme))
        {
            s = s.get(scheme.len()..).unwrap_or_default();
        }
    }
    let end = s.find(['/', '?', '#']).unwrap_or(s.len());
    let host = s[..end].trim_end_matches('.').to_ascii_lowercase();
    let valid = !host.is_empty()
        && host.len() <= 255
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        && !host.starts_with(['.', '-', ':']);
    if valid {
        Ok(host)
    } else {
        Err(Rejection::malformed(format!(
            "registry host {} is not valid",
            quoted(raw)
        )))
    }
}

/// Checks a repository path (`team/app`): components of `[A-Za-z0-9._-]`
/// separated by single slashes, at most 255 characters. Case is kept.
pub(crate) fn repository(raw: &str) -> Result<String, Rejection> {
    let repo = raw.trim().trim_matches('/');
    let valid = !repo.is_empty()
        && repo.len() <= 255
        && repo.split('/').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        });
    if valid {
        Ok(repo.to_owned())
    } else {
        Err(Rejection::malformed(format!(
            "repository {} is not valid",
            quoted(raw)
        )))
    }
}

/// Checks an OCI tag (`[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`); empty is `None`.
pub(crate) fn tag(raw: Option<&str>) -> Result<Option<String>, Rejection> {
    let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let mut chars = raw.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    let valid = first_ok
        && raw.len() <= 128
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if valid {
        Ok(Some(raw.to_owned()))
    } else {
        Err(Rejection::malformed(format!(
            "tag {} is not valid",
            quoted(raw)
        )))
    }
}

/// Whether `s` looks like an OCI digest (`algorithm:encoded`).
pub(crate) fn is_digest(s: &str) -> bool {
    let Some((alg, enc)) = s.split_once(':') else {
        return false;
    };
    !alg.is_empty()
        && alg.chars().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '+' | '.' | '_' | '-')
        })
        && !enc.is_empty()
        && s.len() <= 256
        && enc
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '=' | '_' | '-'))
}

/// Checks a digest; empty is `None`.
pub(crate) fn digest(raw: Option<&str>) -> Result<Option<String>, Rejection> {
    let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    if is_digest(raw) {
        Ok(Some(raw.to_owned()))
    } else {
        Err(Rejection::malformed(format!(
            "digest {} is not valid",
            quoted(raw)
        )))
    }
}

/// An RFC 3339 time with any offset, re-expressed in UTC.
pub(crate) fn rfc3339_utc(raw: Option<&str>) -> Option<String> {
    let t = DateTime::parse_from_rfc3339(raw?.trim()).ok()?;
    Some(
        t.with_timezone(&Utc)
            .to_rfc3339_opts(SecondsFormat::AutoSi, true),
    )
}

/// A Unix time in seconds (integer or float JSON number), in UTC.
pub(crate) fn unix_utc(v: Option<&Value>) -> Option<String> {
    let v = v?;
    let secs = v.as_i64().or_else(|| v.as_f64().map(|f| f as i64))?;
    let t = DateTime::<Utc>::from_timestamp(secs, 0)?;
    Some(t.to_rfc3339_opts(SecondsFormat::Secs, true))
}

/// A zone-less local time (`2016-11-29 12:25:46`, ACR) as ISO 8601 without
/// an offset; the zone is unknown, so none is invented.
pub(crate) fn naive_local(raw: Option<&str>) -> Option<String> {
    let raw = raw?.trim();
    let t = NaiveDateTime::parse_from_str(raw, "%Y-%m-%d %H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S"))
        .ok()?;
    Some(t.format("%Y-%m-%dT%H:%M:%S").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_normalised() {
        assert_eq!(
            registry_host("Harbor.Example.COM/library/app:1.2").unwrap(),
            "harbor.example.com"
        );
        assert_eq!(registry_host("https://ghcr.io/team").unwrap(), "ghcr.io");
        assert_eq!(
            registry_host("HTTP://127.0.0.1:5055/v2/").unwrap(),
            "127.0.0.1:5055"
        );
        assert_eq!(registry_host("quay.io:8443").unwrap(), "quay.io:8443");
        assert!(registry_host("hé/x").is_err());
        assert_eq!(
            registry_host("registry.example.com.").unwrap(),
            "registry.example.com"
        );
        assert!(registry_host("user@evil.com").is_err());
        assert!(registry_host("").is_err());
        assert!(registry_host("a b").is_err());
    }

    #[test]
    fn repositories_tags_digests() {
        assert_eq!(repository("/team/app/").unwrap(), "team/app");
        assert!(repository("team//app").is_err());
        assert!(repository("team/app:1").is_err());
        assert_eq!(tag(Some("v1.2.3")).unwrap(), Some("v1.2.3".into()));
        assert_eq!(tag(Some("")).unwrap(), None);
        assert!(tag(Some(".bad")).is_err());
        assert!(tag(Some(&"a".repeat(129))).is_err());
        assert!(is_digest("sha256:abc123"));
        assert!(!is_digest("1.2.3"));
        assert!(digest(Some("nope")).is_err());
    }

    #[test]
    fn times() {
        assert_eq!(
            rfc3339_utc(Some("2020-11-19T21:04:41+08:00")).as_deref(),
            Some("2020-11-19T13:04:41Z")
        );
        assert_eq!(
            unix_utc(Some(&serde_json::json!(1417566161))).as_deref(),
            Some("2014-12-03T00:22:41Z")
        );
        assert_eq!(
            unix_utc(Some(&serde_json::json!(1417566161.5))).as_deref(),
            Some("2014-12-03T00:22:41Z")
        );
        assert_eq!(
            naive_local(Some("2016-11-29 12:25:46")).as_deref(),
            Some("2016-11-29T12:25:46")
        );
        assert_eq!(naive_local(Some("yesterday")), None);
    }
}
