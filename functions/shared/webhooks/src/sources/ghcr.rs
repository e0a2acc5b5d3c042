//! Owns GitHub Packages (GHCR) webhook payloads: `package` events (and the
//! older `registry_package`) with `action: published` for container packages;
//! repository `lower(owner.login/name)` on `ghcr.io`.

use serde_json::Value;

use super::RawPush;
use crate::normalize::{is_digest, json_body, rfc3339_utc, str_at};
use crate::{Incoming, Push, Rejection, Source};

pub(crate) fn parse(incoming: &Incoming) -> Result<Vec<Push>, Rejection> {
    let event = incoming
        .header("x-github-event")
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .ok_or_else(|| Rejection::malformed("missing X-GitHub-Event header"))?;
    // `ping` (sent when the hook is created) and any other event the hook was
    // subscribed to are genuine but carry no push.
    let key = match event {
        "package" => "package",
        "registry_package" => "registry_package",
        _ => return Ok(Vec::new()),
    };
    let body = json_body(incoming.body)?;
    let package = body
        .get(key)
        .or_else(|| body.get("package"))
        .or_else(|| body.get("registry_package"))
        .filter(|p| p.is_object())
        .ok_or_else(|| Rejection::malformed(format!("payload has no {key} object")))?;
    if str_at(&body, &["action"]) != Some("published") {
        return Ok(Vec::new());
    }
    let is_container =
        str_at(package, &["package_type"]).is_some_and(|t| t.eq_ignore_ascii_case("container"));
    if !is_container {
        return Ok(Vec::new());
    }
    let name = str_at(package, &["name"])
        .ok_or_else(|| Rejection::malformed("payload has no package name"))?;
    let owner = str_at(package, &["owner", "login"])
        .ok_or_else(|| Rejection::malformed("payload has no package owner"))?;
    let repository = format!("{owner}/{name}").to_lowercase();

    let version = package.get("package_version").unwrap_or(&Value::Null);
    let tag_digest = str_at(version, &["container_metadata", "tag", "digest"]);
    // The tag, with Image Updater's fallbacks; a version or name that is a
    // digest marks an untagged push, which is not an image anyone deploys.
    let candidates = [
        str_at(version, &["container_metadata", "tag", "name"]),
        str_at(version, &["name"]),
        str_at(version, &["version"]),
    ];
    let Some(tag) = candidates.into_iter().flatten().find(|t| !is_digest(t)) else {
        return Ok(Vec::new());
    };
    let digest = tag_digest.or_else(|| {
        [str_at(version, &["version"]), str_at(version, &["name"])]
            .into_iter()
            .flatten()
            .find(|d| is_digest(d))
    });
    let pushed_at = rfc3339_utc(str_at(version, &["created_at"]))
        .or_else(|| rfc3339_utc(str_at(version, &["updated_at"])));
    let push = RawPush {
        registry: Some("ghcr.io".to_owned()),
        repository: &repository,
        tag: Some(tag),
        digest,
        pushed_at,
    }
    .build(Source::Ghcr)?;
    Ok(vec![push])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::test_support::{parse_with, payload};

    const EVENT: (&str, &str) = ("x-github-event", "package");

    #[test]
    fn published_container() {
        let pushes = parse_with(Source::Ghcr, &[EVENT], &[], &payload("ghcr.json")).unwrap();
        assert_eq!(
            pushes,
            vec![Push {
                source: "ghcr",
                registry: Some("ghcr.io".into()),
                repository: "team/app".into(),
                tag: Some("1.2.4".into()),
                digest: Some(
                    "sha256:9f6b5d1c2e3a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e"
                        .into()
                ),
                pushed_at: Some("2026-03-02T10:15:30Z".into()),
            }]
        );
    }

    #[test]
    fn registry_package_event_and_fallback_tag() {
        let body = r#"{"action":"published","registry_package":{"name":"App","package_type":"CONTAINER",
            "owner":{"login":"Team"},"package_version":{"version":"v2","name":"sha256:aa"}}}"#;
        let pushes = parse_with(
            Source::Ghcr,
            &[("x-github-event", "registry_package")],
            &[],
            body,
        )
        .unwrap();
        assert_eq!(pushes[0].repository, "team/app");
        assert_eq!(pushes[0].tag.as_deref(), Some("v2"));
        assert_eq!(pushes[0].digest.as_deref(), Some("sha256:aa"));
    }

    #[test]
    fn ignored_cases() {
        let untagged = r#"{"action":"published","package":{"name":"app","package_type":"container",
            "owner":{"login":"team"},"package_version":{"version":"sha256:aa","name":"sha256:aa",
            "container_metadata":{"tag":{"name":"","digest":"sha256:aa"}}}}}"#;
        let updated = r#"{"action":"updated","package":{"name":"app","package_type":"container","owner":{"login":"t"}}}"#;
        let npm = r#"{"action":"published","package":{"name":"app","package_type":"npm","owner":{"login":"t"}}}"#;
        for body in [untagged, updated, npm] {
            assert!(
                parse_with(Source::Ghcr, &[EVENT], &[], body)
                    .unwrap()
                    .is_empty(),
                "{body}"
            );
        }
        let ping = r#"{"zen":"Keep it logically awesome.","hook_id":1}"#;
        assert!(
            parse_with(Source::Ghcr, &[("x-github-event", "ping")], &[], ping)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn malformed() {
        let ghcr = payload("ghcr.json");
        assert_eq!(
            parse_with(Source::Ghcr, &[], &[], &ghcr)
                .unwrap_err()
                .status,
            400
        );
        let no_owner =
            r#"{"action":"published","package":{"name":"app","package_type":"container"}}"#;
        assert_eq!(
            parse_with(Source::Ghcr, &[EVENT], &[], no_owner)
                .unwrap_err()
                .status,
            400
        );
        assert_eq!(
            parse_with(Source::Ghcr, &[EVENT], &[], "{}")
                .unwrap_err()
                .status,
            400
        );
    }
}
