//! Owns Quay "Repository Push" notification payloads: `repository` and
//! `updated_tags` (a list today, a `{tag: image_id}` map in old Quay), the
//! registry host taken from `docker_url`.

use serde_json::Value;

use super::RawPush;
use crate::normalize::{json_body, str_at};
use crate::{Incoming, Push, Rejection, Source};

pub(crate) fn parse(incoming: &Incoming) -> Result<Vec<Push>, Rejection> {
    let body = json_body(incoming.body)?;
    let repository = match str_at(&body, &["repository"]) {
        Some(full) => full.to_owned(),
        None => match (str_at(&body, &["namespace"]), str_at(&body, &["name"])) {
            (Some(ns), Some(name)) => format!("{ns}/{name}"),
            _ => return Err(Rejection::malformed("payload has no repository")),
        },
    };
    let tags: Vec<&str> = match body.get("updated_tags") {
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_str)
            .filter(|t| !t.trim().is_empty())
            .collect(),
        Some(Value::Object(map)) => {
            let mut keys: Vec<&str> = map.keys().map(String::as_str).collect();
            keys.sort_unstable();
            keys
        }
        Some(Value::Null) | None => Vec::new(),
        Some(_) => {
            return Err(Rejection::malformed(
                "updated_tags is neither a list nor a map",
            ));
        }
    };
    let registry = Some(
        str_at(&body, &["docker_url"])
            .unwrap_or("quay.io")
            .to_owned(),
    );
    let raw = |tag: Option<&str>| {
        RawPush {
            registry: registry.clone(),
            repository: &repository,
            tag: tag.map(|t| t.trim()),
            digest: None,
            pushed_at: None,
        }
        .build(Source::Quay)
    };
    if tags.is_empty() {
        return Ok(vec![raw(None)?]);
    }
    tags.into_iter().map(|t| raw(Some(t))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::test_support::{parse_with, payload};

    #[test]
    fn list_of_tags() {
        let pushes = parse_with(Source::Quay, &[], &[], &payload("quay.json")).unwrap();
        let tags: Vec<_> = pushes.iter().map(|p| p.tag.as_deref()).collect();
        assert_eq!(tags, vec![Some("1.2.4"), Some("latest")]);
        assert_eq!(pushes[0].registry.as_deref(), Some("quay.io"));
        assert_eq!(pushes[0].repository, "team/app");
        assert_eq!(pushes[0].source, "quay");
    }

    #[test]
    fn legacy_map_and_self_hosted_registry() {
        let body = r#"{"repository":"team/app","docker_url":"Quay.Apps.Example.com/team/app",
            "updated_tags":{"v2":"abc","v1":"def"}}"#;
        let pushes = parse_with(Source::Quay, &[], &[], body).unwrap();
        let tags: Vec<_> = pushes.iter().map(|p| p.tag.as_deref()).collect();
        assert_eq!(tags, vec![Some("v1"), Some("v2")]);
        assert_eq!(pushes[0].registry.as_deref(), Some("quay.apps.example.com"));
    }

    #[test]
    fn no_tags_still_names_the_repository() {
        let pushes = parse_with(Source::Quay, &[], &[], r#"{"repository":"team/app"}"#).unwrap();
        assert_eq!(pushes.len(), 1);
        assert_eq!(pushes[0].tag, None);
        assert_eq!(
            parse_with(Source::Quay, &[], &[], "{}").unwrap_err().status,
            400
        );
        let bad = r#"{"repository":"a/b","updated_tags":"x"}"#;
        assert_eq!(
            parse_with(Source::Quay, &[], &[], bad).unwrap_err().status,
            400
        );
    }
}
