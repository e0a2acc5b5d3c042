//! Owns Harbor v2 webhook payloads in the "Default" format: `PUSH_ARTIFACT`
//! events, one push per `event_data.resources[]`, the registry host taken from
//! each `resource_url` (which may lack a scheme).

use serde_json::Value;

use super::{RawPush, require_content_type};
use crate::normalize::{json_body, str_at, unix_utc};
use crate::{Incoming, Push, Rejection, Source};

pub(crate) fn parse(incoming: &Incoming) -> Result<Vec<Push>, Rejection> {
    // Harbor always posts `application/json` (Image Updater insists on it).
    require_content_type(incoming, &["application/json"], true)?;
    let body = json_body(incoming.body)?;
    if body.get("specversion").is_some() {
        return Err(Rejection::malformed(
            "Harbor's CloudEvents payload format is not supported; set the webhook policy's \
             payload format to Default",
        ));
    }
    let kind =
        str_at(&body, &["type"]).ok_or_else(|| Rejection::malformed("payload has no type"))?;
    if kind != "PUSH_ARTIFACT" {
        return Ok(Vec::new());
    }
    let repository = match str_at(&body, &["event_data", "repository", "repo_full_name"]) {
        Some(full) => full.to_owned(),
        None => match (
            str_at(&body, &["event_data", "repository", "namespace"]),
            str_at(&body, &["event_data", "repository", "name"]),
        ) {
            (Some(ns), Some(name)) => format!("{ns}/{name}"),
            (None, Some(name)) => name.to_owned(),
            _ => {
                return Err(Rejection::malformed(
                    "payload has no event_data.repository.repo_full_name",
                ));
            }
        },
    };
    let resources = body
        .get("event_data")
        .and_then(|d| d.get("resources"))
        .and_then(Value::as_array)
        .filter(|r| !r.is_empty())
        .ok_or_else(|| Rejection::malformed("payload has no event_data.resources"))?;
    let pushed_at = unix_utc(body.get("occur_at"));
    resources
        .iter()
        .map(|resource| {
            RawPush {
                registry: str_at(resource, &["resource_url"]).map(str::to_owned),
                repository: &repository,
                tag: str_at(resource, &["tag"]),
                digest: str_at(resource, &["digest"]),
                pushed_at: pushed_at.clone(),
            }
            .build(Source::Harbor)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::test_support::{parse_with, payload};

    const JSON: (&str, &str) = ("content-type", "application/json");

    #[test]
    fn push_artifact() {
        let pushes = parse_with(Source::Harbor, &[JSON], &[], &payload("harbor.json")).unwrap();
        assert_eq!(
            pushes,
            vec![Push {
                source: "harbor",
                registry: Some("harbor.example.com".into()),
                repository: "library/app".into(),
                tag: Some("1.2.4".into()),
                digest: Some(
                    "sha256:3b5d6e1a0f0a1c1e0b8c9f7e6d5c4b3a29181706f5e4d3c2b1a0f9e8d7c6b5a4"
                        .into()
                ),
                pushed_at: Some("2023-04-03T06:04:53Z".into()),
            }]
        );
    }

    #[test]
    fn other_event_types_are_ignored() {
        let body = r#"{"type":"PULL_ARTIFACT","event_data":{"resources":[{"tag":"1"}],"repository":{"repo_full_name":"a/b"}}}"#;
        assert!(
            parse_with(Source::Harbor, &[JSON], &[], body)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn wrong_content_type_cloudevents_and_empty_resources_are_400() {
        let harbor = payload("harbor.json");
        assert_eq!(
            parse_with(Source::Harbor, &[], &[], &harbor)
                .unwrap_err()
                .status,
            400
        );
        let ce = r#"{"specversion":"1.0","type":"harbor.artifact.pushed","data":{}}"#;
        assert_eq!(
            parse_with(Source::Harbor, &[JSON], &[], ce)
                .unwrap_err()
                .status,
            400
        );
        let empty = r#"{"type":"PUSH_ARTIFACT","event_data":{"resources":[],"repository":{"repo_full_name":"a/b"}}}"#;
        assert_eq!(
            parse_with(Source::Harbor, &[JSON], &[], empty)
                .unwrap_err()
                .status,
            400
        );
    }
}
