//! Owns Alibaba Cloud EventBridge CloudEvents from Container Registry
//! (`source: acs.cr`): `cr:Artifact:PushCompleted` and successful
//! `cr:Artifact:BuildCompleted`, the Enterprise host derived from
//! `InstanceName` and `RegionId`. One event or a batch (JSON array).

use serde_json::Value;

use super::{RawPush, registry_url_override};
use crate::normalize::{json_body, rfc3339_utc, str_at};
use crate::{Incoming, Push, Rejection, Source};

pub(crate) fn parse(incoming: &Incoming) -> Result<Vec<Push>, Rejection> {
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
    let override_host = registry_url_override(incoming);
    let mut pushes = Vec::new();
    for event in events {
        if let Some(push) = parse_event(event, override_host.as_deref())? {
            pushes.push(push);
        }
    }
    Ok(pushes)
}

fn parse_event(event: &Value, override_host: Option<&str>) -> Result<Option<Push>, Rejection> {
    if str_at(event, &["specversion"]).is_none() {
        return Err(Rejection::malformed("event has no CloudEvents specversion"));
    }
    let kind = str_at(event, &["type"])
        .ok_or_else(|| Rejection::malformed("event has no CloudEvents type"))?;
    if str_at(event, &["source"]) != Some("acs.cr") {
        return Ok(None);
    }
    let data = event.get("data").unwrap_or(&Value::Null);
    let pushed = match kind {
        "cr:Artifact:PushCompleted" => true,
        "cr:Artifact:BuildCompleted" => str_at(data, &["BuildStatus"]) == Some("SUCCESS"),
        _ => false,
    };
    if !pushed {
        return Ok(None);
    }
    let repository = match (
        str_at(data, &["RepoNamespaceName"]),
        str_at(data, &["RepoName"]),
    ) {
        (Some(ns), Some(name)) => format!("{ns}/{name}"),
        _ => {
            return Err(Rejection::malformed(
                "event has no data.RepoNamespaceName/RepoName",
            ));
        }
    };
    let region = str_at(data, &["RegionId"]).or_else(|| str_at(event, &["aliyunregionid"]));
    let registry = override_host.map(str::to_owned).or_else(|| {
        let instance = str_at(data, &["InstanceName"])?;
        Some(format!("{instance}-registry.{}.cr.aliyuncs.com", region?))
    });
    RawPush {
        registry,
        repository: &repository,
        tag: str_at(data, &["Tag"]),
        digest: str_at(data, &["Digest"]),
        // EventBridge's `time` carries its offset (+08:00): authoritative.
        pushed_at: rfc3339_utc(str_at(event, &["time"])),
    }
    .build(Source::EventBridge)
    .map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::test_support::{parse_with, payload};

    #[test]
    fn push_completed() {
        let pushes = parse_with(
            Source::EventBridge,
            &[],
            &[],
            &payload("eventbridge-push.json"),
        )
        .unwrap();
        assert_eq!(
            pushes,
            vec![Push {
                source: "eventbridge",
                registry: Some("myinst-registry.cn-hangzhou.cr.aliyuncs.com".into()),
                repository: "team/app".into(),
                tag: Some("1.2.4".into()),
                digest: Some(
                    "sha256:457f4aa83fc9a6663ab9d1b0a6e2dce25a12a943ed5bf2c1747c58d48bbb4917"
                        .into()
                ),
                pushed_at: Some("2026-03-02T02:15:30Z".into()),
            }]
        );
    }

    #[test]
    fn build_completed_success_only_and_batches() {
        let build = payload("eventbridge-build.json");
        let pushes = parse_with(Source::EventBridge, &[], &[], &build).unwrap();
        assert_eq!(pushes.len(), 1);
        assert_eq!(pushes[0].repository, "scan/mix-vuls");
        assert_eq!(
            pushes[0].registry.as_deref(),
            Some("sirong-tongbu-hangzhou-registry.cn-hangzhou.cr.aliyuncs.com")
        );
        let failed = build.replace("\"SUCCESS\"", "\"FAILED\"");
        assert!(
            parse_with(Source::EventBridge, &[], &[], &failed)
                .unwrap()
                .is_empty()
        );
        let batch = format!("[{build},{failed}]");
        assert_eq!(
            parse_with(Source::EventBridge, &[], &[], &batch)
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn other_types_ignored_and_override_wins() {
        let scan = r#"{"specversion":"1.0","source":"acs.cr","type":"cr:Artifact:ScanCompleted","data":{}}"#;
        assert!(
            parse_with(Source::EventBridge, &[], &[], scan)
                .unwrap()
                .is_empty()
        );
        let pushes = parse_with(
            Source::EventBridge,
            &[],
            &[(
                "registry_url",
                "myinst-registry-vpc.cn-hangzhou.cr.aliyuncs.com",
            )],
            &payload("eventbridge-push.json"),
        )
        .unwrap();
        assert_eq!(
            pushes[0].registry.as_deref(),
            Some("myinst-registry-vpc.cn-hangzhou.cr.aliyuncs.com")
        );
    }

    #[test]
    fn malformed() {
        for body in ["1", "{}", r#"{"specversion":"1.0"}"#] {
            assert_eq!(
                parse_with(Source::EventBridge, &[], &[], body)
                    .unwrap_err()
                    .status,
                400
            );
        }
        let no_repo = r#"{"specversion":"1.0","source":"acs.cr","type":"cr:Artifact:PushCompleted","data":{"Tag":"1"}}"#;
        assert_eq!(
            parse_with(Source::EventBridge, &[], &[], no_repo)
                .unwrap_err()
                .status,
            400
        );
    }
}
