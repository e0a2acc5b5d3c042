//! Owns Azure Container Registry webhook payloads: `action: push` with
//! `target.repository/tag/digest`, the registry host from `request.host`.

use super::RawPush;
use super::distribution::MANIFEST_TYPES;
use crate::normalize::{json_body, media_type, rfc3339_utc, str_at};
use crate::{Incoming, Push, Rejection, Source};

pub(crate) fn parse(incoming: &Incoming) -> Result<Vec<Push>, Rejection> {
    let body = json_body(incoming.body)?;
    // `ping`, `delete`, `chart_push`, `quarantine` … carry no image push.
    if str_at(&body, &["action"]) != Some("push") {
        return Ok(Vec::new());
    }
    if let Some(media) = str_at(&body, &["target", "mediaType"]).map(media_type)
        && !MANIFEST_TYPES.contains(&media.as_str())
    {
        return Ok(Vec::new());
    }
    let repository = str_at(&body, &["target", "repository"])
        .ok_or_else(|| Rejection::malformed("payload has no target.repository"))?;
    let push = RawPush {
        registry: str_at(&body, &["request", "host"]).map(str::to_owned),
        repository,
        tag: str_at(&body, &["target", "tag"]),
        digest: str_at(&body, &["target", "digest"]),
        pushed_at: rfc3339_utc(str_at(&body, &["timestamp"])),
    }
    .build(Source::Azure)?;
    Ok(vec![push])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::test_support::{parse_with, payload};

    #[test]
    fn documented_push() {
        let pushes = parse_with(Source::Azure, &[], &[], &payload("azure.json")).unwrap();
        assert_eq!(
            pushes,
            vec![Push {
                source: "azure",
                registry: Some("myregistry.azurecr.io".into()),
                repository: "hello-world".into(),
                tag: Some("v1".into()),
                digest: Some(
                    "sha256:1d5c8786bb9e621a45ece0dbc1a1cdc624ad20da9fe62e9d25490f33ea2a7d40"
                        .into()
                ),
                pushed_at: Some("2017-11-17T16:52:01.343145347Z".into()),
            }]
        );
    }

    #[test]
    fn ping_and_chart_push_are_ignored() {
        let ping = r#"{"id":"1","timestamp":"2017-11-17T16:52:01Z","action":"ping"}"#;
        assert!(
            parse_with(Source::Azure, &[], &[], ping)
                .unwrap()
                .is_empty()
        );
        let chart = r#"{"action":"push","target":{"mediaType":"application/vnd.acr.helm.chart","repository":"c"}}"#;
        assert!(
            parse_with(Source::Azure, &[], &[], chart)
                .unwrap()
                .is_empty()
        );
        let bad = r#"{"action":"push","target":{}}"#;
        assert_eq!(
            parse_with(Source::Azure, &[], &[], bad).unwrap_err().status,
            400
        );
    }
}
