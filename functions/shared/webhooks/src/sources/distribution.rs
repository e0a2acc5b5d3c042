//! Owns CNCF Distribution notification envelopes (`events.v1+json` from 2.8,
//! `events.v2+json` from 3.x; also GitLab's bundled registry): keeps manifest
//! pushes, drops pulls, deletes, mounts and blob uploads.

use serde_json::Value;

use super::{RawPush, require_content_type};
use crate::normalize::{json_body, rfc3339_utc, str_at};
use crate::{Incoming, Push, Rejection, Source};

/// Content types a Distribution endpoint sends (plus plain JSON for tests).
const CONTENT_TYPES: [&str; 3] = [
    "application/vnd.docker.distribution.events.v1+json",
    "application/vnd.docker.distribution.events.v2+json",
    "application/json",
];

/// Media types of manifests and indexes; anything else (blobs are
/// `application/octet-stream` or layer types) is not an image push.
pub(crate) const MANIFEST_TYPES: [&str; 7] = [
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
    "application/vnd.oci.artifact.manifest.v1+json",
];

pub(crate) fn parse(incoming: &Incoming) -> Result<Vec<Push>, Rejection> {
    require_content_type(incoming, &CONTENT_TYPES, false)?;
    let body = json_body(incoming.body)?;
    let events = body
        .get("events")
        .and_then(Value::as_array)
        .ok_or_else(|| Rejection::malformed("notification has no events array"))?;
    let mut pushes = Vec::new();
    for event in events {
        if let Some(push) = parse_event(event)? {
            pushes.push(push);
        }
    }
    Ok(pushes)
}

fn parse_event(event: &Value) -> Result<Option<Push>, Rejection> {
    if str_at(event, &["action"]) != Some("push") {
        return Ok(None);
    }
    let Some(target) = event.get("target") else {
        return Ok(None);
    };
    let is_manifest = str_at(target, &["mediaType"])
        .map(crate::normalize::media_type)
        .is_some_and(|m| MANIFEST_TYPES.contains(&m.as_str()));
    let tag = str_at(target, &["tag"]);
    let digest = str_at(target, &["digest"]);
    if !is_manifest || (tag.is_none() && digest.is_none()) {
        return Ok(None);
    }
    let repository = str_at(target, &["repository"])
        .ok_or_else(|| Rejection::malformed("push event has no target.repository"))?;
    let registry = str_at(event, &["request", "host"])
        .or_else(|| str_at(target, &["url"]))
        .map(str::to_owned);
    RawPush {
        registry,
        repository,
        tag,
        digest,
        pushed_at: rfc3339_utc(str_at(event, &["timestamp"])),
    }
    .build(Source::Distribution)
    .map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::test_support::{parse_with, payload};

    const V1: &str = "application/vnd.docker.distribution.events.v1+json";

    #[test]
    fn manifest_push_is_kept() {
        let pushes = parse_with(
            Source::Distribution,
            &[("content-type", V1)],
            &[],
            &payload("distribution-push.json"),
        )
        .unwrap();
        assert_eq!(
            pushes,
            vec![Push {
                source: "distribution",
                registry: Some("127.0.0.1:5055".into()),
                repository: "team/app".into(),
                tag: Some("1.2.3".into()),
                digest: Some(
                    "sha256:793a57cec5ee88d1c38575cefc16cc65ae89457c508bc2359621099b2caf5021"
                        .into()
                ),
                pushed_at: Some("2026-11-26T12:23:34.760028828Z".into()),
            }]
        );
    }

    #[test]
    fn pulls_blobs_and_deletes_are_ignored() {
        for name in ["distribution-pull.json", "distribution-blob.json"] {
            let pushes = parse_with(
                Source::Distribution,
                &[("content-type", V1)],
                &[],
                &payload(name),
            )
            .unwrap();
            assert!(pushes.is_empty(), "{name}");
        }
        let body = r#"{"events":[{"action":"delete","target":{"digest":"sha256:aa","repository":"a/b"}}]}"#;
        assert!(
            parse_with(Source::Distribution, &[], &[], body)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn v2_media_type_and_digest_only_pushes() {
        let body = r#"{"events":[{"action":"push","target":{"mediaType":"application/vnd.oci.image.index.v1+json",
            "digest":"sha256:abcd","repository":"team/app","url":"https://Reg.Example.com/v2/team/app/manifests/sha256:abcd"}}]}"#;
        let pushes = parse_with(
            Source::Distribution,
            &[(
                "content-type",
                "application/vnd.docker.distribution.events.v2+json",
            )],
            &[],
            body,
        )
        .unwrap();
        assert_eq!(pushes.len(), 1);
        assert_eq!(pushes[0].registry.as_deref(), Some("reg.example.com"));
        assert_eq!(pushes[0].tag, None);
        assert_eq!(pushes[0].digest.as_deref(), Some("sha256:abcd"));
    }

    #[test]
    fn malformed_envelopes_are_400() {
        for body in ["not json", "{}", r#"{"events":{}}"#] {
            let err = parse_with(Source::Distribution, &[], &[], body).unwrap_err();
            assert_eq!(err.status, 400, "{body}");
        }
        let err = parse_with(
            Source::Distribution,
            &[("content-type", "text/plain")],
            &[],
            "{}",
        )
        .unwrap_err();
        assert_eq!(err.status, 400);
        let body = r#"{"events":[{"action":"push","target":{"mediaType":"application/vnd.oci.image.manifest.v1+json","tag":"1"}}]}"#;
        assert_eq!(
            parse_with(Source::Distribution, &[], &[], body)
                .unwrap_err()
                .status,
            400
        );
    }
}
