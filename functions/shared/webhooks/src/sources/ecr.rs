//! Owns AWS ECR push events delivered by Amazon EventBridge, either as the
//! CloudEvents 1.0 shape Image Updater documents (`type: com.amazon.ecr.*`,
//! `data.repositoryName/imageTag/imageDigest/registryId`) or as EventBridge's
//! native `ECR Image Action` event. One event or a batch (JSON array).

use serde_json::Value;

use super::{RawPush, require_content_type};
use crate::normalize::{json_body, rfc3339_utc, str_at};
use crate::{Incoming, Push, Rejection, Source};

/// Content types Image Updater accepts for CloudEvents.
const CONTENT_TYPES: [&str; 2] = ["application/json", "application/cloudevents+json"];

pub(crate) fn parse(incoming: &Incoming) -> Result<Vec<Push>, Rejection> {
    require_content_type(incoming, &CONTENT_TYPES, true)?;
    let body = json_body(incoming.body)?;
    let events: Vec<&Value> = match &body {
        Value::Array(list) => list.iter().collect(),
        Value::Object(_) => vec![&body],
        _ => {
            return Err(Rejection::malformed(
                "payload is neither an event nor a batch",
            ));
        }
    };
    let mut pushes = Vec::new();
    for event in events {
        let push = if event.get("specversion").is_some() {
            cloudevent(event)?
        } else if event.get("detail-type").is_some() {
            native(event)?
        } else {
            return Err(Rejection::malformed(
                "event is neither a CloudEvent nor an EventBridge event",
            ));
        };
        pushes.extend(push);
    }
    Ok(pushes)
}

/// `<account>.dkr.ecr.<region>.amazonaws.com` (`.com.cn` in China regions).
fn ecr_host(account: &str, region: &str) -> String {
    let suffix = if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    };
    format!("{account}.dkr.ecr.{region}.{suffix}")
}

/// Image Updater's CloudEvents mapping (`pkg/webhook/cloudevents.go`).
fn cloudevent(event: &Value) -> Result<Option<Push>, Rejection> {
    let kind = str_at(event, &["type"])
        .ok_or_else(|| Rejection::malformed("event has no CloudEvents type"))?;
    if !kind.starts_with("com.amazon.ecr.") {
        return Ok(None);
    }
    let data = event.get("data").unwrap_or(&Value::Null);
    // `subject` is `repo:tag`; `data` overrides it field by field.
    let (subject_repo, subject_tag) =
        match str_at(event, &["subject"]).and_then(|s| s.split_once(':')) {
            Some((repo, tag)) => (Some(repo), Some(tag)),
            None => (None, None),
        };
    let repository = str_at(data, &["repositoryName"])
        .or(subject_repo)
        .ok_or_else(|| Rejection::malformed("event has no data.repositoryName"))?;
    let tag = str_at(data, &["imageTag"]).or(subject_tag);
    // `source` is `urn:aws:ecr:<region>:<account>:repository/<repo>` (or arn:).
    let registry = str_at(event, &["source"]).and_then(|source| {
        let rest = source
            .strip_prefix("urn:aws:ecr:")
            .or_else(|| source.strip_prefix("arn:aws:ecr:"))?;
        let mut parts = rest.split(':');
        let region = parts.next().filter(|r| !r.is_empty())?;
        let account =
            str_at(data, &["registryId"]).or_else(|| parts.next().filter(|a| !a.is_empty()))?;
        Some(ecr_host(account, region))
    });
    RawPush {
        registry,
        repository,
        tag,
        digest: str_at(data, &["imageDigest"]),
        pushed_at: rfc3339_utc(str_at(event, &["time"])),
    }
    .build(Source::Ecr)
    .map(Some)
}

/// EventBridge's own ECR event: `detail-type: ECR Image Action`, `source:
/// aws.ecr`, `detail.action-type: PUSH`, `detail.result: SUCCESS`.
fn native(event: &Value) -> Result<Option<Push>, Rejection> {
    let relevant = str_at(event, &["source"]) == Some("aws.ecr")
        && str_at(event, &["detail-type"]) == Some("ECR Image Action")
        && str_at(event, &["detail", "action-type"]) == Some("PUSH")
        && str_at(event, &["detail", "result"]) == Some("SUCCESS");
    if !relevant {
        return Ok(None);
    }
    let repository = str_at(event, &["detail", "repository-name"])
        .ok_or_else(|| Rejection::malformed("event has no detail.repository-name"))?;
    let registry = match (str_at(event, &["account"]), str_at(event, &["region"])) {
        (Some(account), Some(region)) => Some(ecr_host(account, region)),
        _ => None,
    };
    RawPush {
        registry,
        repository,
        tag: str_at(event, &["detail", "image-tag"]),
        digest: str_at(event, &["detail", "image-digest"]),
        pushed_at: rfc3339_utc(str_at(event, &["time"])),
    }
    .build(Source::Ecr)
    .map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::test_support::{parse_with, payload};

    const JSON: (&str, &str) = ("content-type", "application/json; charset=utf-8");

    #[test]
    fn cloudevents_shape() {
        let pushes =
            parse_with(Source::Ecr, &[JSON], &[], &payload("ecr-cloudevent.json")).unwrap();
        assert_eq!(
            pushes,
            vec![Push {
                source: "ecr",
                registry: Some("123456789012.dkr.ecr.us-east-1.amazonaws.com".into()),
                repository: "team/my-app".into(),
                tag: Some("v1.0.0".into()),
                digest: Some(
                    "sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd12345678"
                        .into()
                ),
                pushed_at: Some("2025-11-27T10:00:00Z".into()),
            }]
        );
    }

    #[test]
    fn native_eventbridge_shape() {
        let pushes = parse_with(Source::Ecr, &[JSON], &[], &payload("ecr-native.json")).unwrap();
        assert_eq!(pushes.len(), 1);
        assert_eq!(
            pushes[0].registry.as_deref(),
            Some("123456789012.dkr.ecr.us-west-2.amazonaws.com")
        );
        assert_eq!(pushes[0].repository, "my-repository-name");
        assert_eq!(pushes[0].tag.as_deref(), Some("latest"));
    }

    #[test]
    fn subject_fallback_and_china_region() {
        let body = r#"{"specversion":"1.0","type":"com.amazon.ecr.image.push","subject":"myrepo:v2.1.0",
            "source":"arn:aws:ecr:cn-north-1:111111111111:repository/myrepo","data":{"imageDigest":"sha256:fe"}}"#;
        let pushes = parse_with(Source::Ecr, &[JSON], &[], body).unwrap();
        assert_eq!(pushes[0].repository, "myrepo");
        assert_eq!(pushes[0].tag.as_deref(), Some("v2.1.0"));
        assert_eq!(
            pushes[0].registry.as_deref(),
            Some("111111111111.dkr.ecr.cn-north-1.amazonaws.com.cn")
        );
    }

    #[test]
    fn ignored_and_malformed() {
        let delete = payload("ecr-native.json").replace("\"PUSH\"", "\"DELETE\"");
        assert!(
            parse_with(Source::Ecr, &[JSON], &[], &delete)
                .unwrap()
                .is_empty()
        );
        let other = r#"{"specversion":"1.0","type":"com.example.db.updated","data":{}}"#;
        assert!(
            parse_with(Source::Ecr, &[JSON], &[], other)
                .unwrap()
                .is_empty()
        );
        let ce = payload("ecr-cloudevent.json");
        assert_eq!(
            parse_with(Source::Ecr, &[], &[], &ce).unwrap_err().status,
            400
        );
        assert_eq!(
            parse_with(Source::Ecr, &[JSON], &[], "{}")
                .unwrap_err()
                .status,
            400
        );
        let no_repo = r#"{"specversion":"1.0","type":"com.amazon.ecr.image.push","data":{}}"#;
        assert_eq!(
            parse_with(Source::Ecr, &[JSON], &[], no_repo)
                .unwrap_err()
                .status,
            400
        );
    }
}
