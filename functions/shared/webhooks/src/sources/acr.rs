//! Owns Alibaba Cloud ACR repository-trigger payloads (Personal and
//! Enterprise Edition): `push_data` plus `repository`, with the registry host
//! taken from `?registry_url=` (Enterprise) or derived from the region.

use super::{RawPush, registry_url_override};
use crate::normalize::{json_body, naive_local, str_at};
use crate::{Incoming, Push, Rejection, Source};

pub(crate) fn parse(incoming: &Incoming) -> Result<Vec<Push>, Rejection> {
    let body = json_body(incoming.body)?;
    let repository = match str_at(&body, &["repository", "repo_full_name"]) {
        Some(full) => full.to_owned(),
        None => match (
            str_at(&body, &["repository", "namespace"]),
            str_at(&body, &["repository", "name"]),
        ) {
            (Some(ns), Some(name)) => format!("{ns}/{name}"),
            (None, Some(name)) => name.to_owned(),
            _ => {
                return Err(Rejection::malformed(
                    "payload has no repository.repo_full_name or repository.namespace/name",
                ));
            }
        },
    };
    // The payload never names an Enterprise instance, so `registry_url=` in
    // the trigger URL wins; otherwise the Personal Edition public endpoint.
    let registry = registry_url_override(incoming).or_else(|| {
        str_at(&body, &["repository", "region"]).map(|r| format!("registry.{r}.aliyuncs.com"))
    });
    let push = RawPush {
        registry,
        repository: &repository,
        tag: str_at(&body, &["push_data", "tag"]),
        digest: str_at(&body, &["push_data", "digest"]),
        // Local time without a zone: kept as written, never given an offset.
        pushed_at: naive_local(str_at(&body, &["push_data", "pushed_at"])),
    }
    .build(Source::Acr)?;
    Ok(vec![push])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::test_support::{parse_with, payload};

    #[test]
    fn personal_edition_registry_from_region() {
        let pushes = parse_with(Source::Acr, &[], &[], &payload("acr.json")).unwrap();
        assert_eq!(
            pushes,
            vec![Push {
                source: "acr",
                registry: Some("registry.cn-hangzhou.aliyuncs.com".into()),
                repository: "namespace/repoTest".into(),
                tag: Some("latest".into()),
                digest: Some(
                    "sha256:457f4aa83fc9a6663ab9d1b0a6e2dce25a12a943ed5bf2c1747c58d48bbb4917"
                        .into()
                ),
                pushed_at: Some("2016-11-29T12:25:46".into()),
            }]
        );
    }

    #[test]
    fn enterprise_registry_from_query() {
        let pushes = parse_with(
            Source::Acr,
            &[],
            &[(
                "registry_url",
                "https://MyInst-registry.cn-hangzhou.cr.aliyuncs.com/",
            )],
            &payload("acr.json"),
        )
        .unwrap();
        assert_eq!(
            pushes[0].registry.as_deref(),
            Some("myinst-registry.cn-hangzhou.cr.aliyuncs.com")
        );
    }

    #[test]
    fn namespace_and_name_fallback() {
        let body = r#"{"push_data":{"tag":"1.0"},"repository":{"name":"app","namespace":"team","region":"cn-beijing"}}"#;
        let pushes = parse_with(Source::Acr, &[], &[], body).unwrap();
        assert_eq!(pushes[0].repository, "team/app");
        assert_eq!(
            pushes[0].registry.as_deref(),
            Some("registry.cn-beijing.aliyuncs.com")
        );
        assert_eq!(pushes[0].pushed_at, None);
    }

    #[test]
    fn missing_repository_or_bad_region_is_400() {
        let err = parse_with(Source::Acr, &[], &[], r#"{"push_data":{"tag":"1"}}"#).unwrap_err();
        assert_eq!(err.status, 400);
        let body =
            r#"{"push_data":{"tag":"1"},"repository":{"repo_full_name":"a/b","region":"x y"}}"#;
        assert_eq!(
            parse_with(Source::Acr, &[], &[], body).unwrap_err().status,
            400
        );
        assert_eq!(
            parse_with(Source::Acr, &[], &[], "[").unwrap_err().status,
            400
        );
    }
}
