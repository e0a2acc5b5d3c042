//! Owns Docker Hub repository-webhook payloads: `repository.repo_name` and
//! `push_data.tag` on registry `docker.io`; Docker Hub sends no digest.

use super::RawPush;
use crate::normalize::{json_body, str_at, unix_utc};
use crate::{Incoming, Push, Rejection, Source};

pub(crate) fn parse(incoming: &Incoming) -> Result<Vec<Push>, Rejection> {
    let body = json_body(incoming.body)?;
    let repository = match str_at(&body, &["repository", "repo_name"]) {
        Some(full) => full.to_owned(),
        None => match (
            str_at(&body, &["repository", "namespace"]),
            str_at(&body, &["repository", "name"]),
        ) {
            (Some(ns), Some(name)) => format!("{ns}/{name}"),
            (None, Some(name)) => name.to_owned(),
            _ => {
                return Err(Rejection::malformed(
                    "payload has no repository.repo_name or repository.namespace/name",
                ));
            }
        },
    };
    let push = RawPush {
        registry: Some("docker.io".to_owned()),
        repository: &repository,
        tag: str_at(&body, &["push_data", "tag"]),
        digest: None,
        pushed_at: unix_utc(body.get("push_data").and_then(|p| p.get("pushed_at"))),
    }
    .build(Source::DockerHub)?;
    Ok(vec![push])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::test_support::{parse_with, payload};

    #[test]
    fn documented_payload() {
        let pushes = parse_with(Source::DockerHub, &[], &[], &payload("dockerhub.json")).unwrap();
        assert_eq!(
            pushes,
            vec![Push {
                source: "dockerhub",
                registry: Some("docker.io".into()),
                repository: "svendowideit/testhook".into(),
                tag: Some("latest".into()),
                digest: None,
                pushed_at: Some("2014-12-03T00:22:41Z".into()),
            }]
        );
    }

    #[test]
    fn namespace_name_fallback_and_errors() {
        let body = r#"{"push_data":{"tag":"v1"},"repository":{"name":"app","namespace":"team"}}"#;
        let pushes = parse_with(Source::DockerHub, &[], &[], body).unwrap();
        assert_eq!(pushes[0].repository, "team/app");
        assert_eq!(
            parse_with(Source::DockerHub, &[], &[], r#"{"push_data":{}}"#)
                .unwrap_err()
                .status,
            400
        );
    }
}
