//! The `digest` strategy: follow one mutable tag (the constraint, e.g. `latest`) by its manifest digest.
//!
//! As Image Updater's `digest` strategy: the constraint names the tag to
//! watch and is required; the selection is that tag, and the host writes it
//! back as `tag@sha256:…`. Decisions are never cached, because the tag moves.

use updraft_plugin_sdk::{
    Params, PluginError, Rejection, SelectRequest, Selection, Strategy, StrategyInfo,
    invalid_config,
};

struct Digest;

impl Strategy for Digest {
    fn describe() -> StrategyInfo {
        StrategyInfo {
            needs_digest: true,
            needs_constraint: true,
            cacheable: false,
            ..StrategyInfo::new("digest")
        }
    }

    fn select(request: SelectRequest) -> Result<Selection, PluginError> {
        Params::new(&request.params, &[])?;
        let watched = match request.constraint.as_deref().map(str::trim) {
            Some(tag) if !tag.is_empty() => tag,
            _ => {
                return Err(invalid_config(
                    "the digest strategy needs a constraint: the tag to follow (e.g. 'nginx:latest')",
                ));
            }
        };
        let mut rejected = Vec::new();
        for candidate in request.candidates.iter().filter(|c| c.name == watched) {
            match &candidate.digest {
                Some(digest) => {
                    return Ok(Selection::chosen(
                        watched,
                        format!("tag '{watched}' currently points to {digest}"),
                        rejected,
                    ));
                }
                None => rejected.push(Rejection::new(watched, "digest unknown")),
            }
        }
        let reason = if rejected.is_empty() {
            format!("tag '{watched}' is not among the candidates")
        } else {
            format!("the digest of tag '{watched}' is unknown")
        };
        Ok(Selection::none(reason, rejected))
    }
}

updraft_plugin_sdk::export_strategy!(Digest);

#[cfg(test)]
mod tests {
    use super::*;
    use updraft_plugin_sdk::TagInfo;

    fn tag(name: &str, digest: Option<&str>) -> TagInfo {
        TagInfo {
            name: name.to_owned(),
            digest: digest.map(str::to_owned),
            created: Some(6_000_000_000),
            platforms: Vec::new(),
        }
    }

    fn request(constraint: Option<&str>, candidates: Vec<TagInfo>) -> SelectRequest {
        SelectRequest {
            current: Some("latest".to_owned()),
            constraint: constraint.map(str::to_owned),
            params: Vec::new(),
            candidates,
        }
    }

    #[test]
    fn follows_the_watched_tag() -> Result<(), PluginError> {
        let candidates = vec![
            tag("1.0", Some("sha256:old")),
            tag("latest", Some("sha256:abcdefg")),
        ];
        let selection = Digest::select(request(Some("latest"), candidates))?;
        assert_eq!(selection.tag.as_deref(), Some("latest"));
        assert_eq!(
            selection.reason,
            "tag 'latest' currently points to sha256:abcdefg"
        );
        Ok(())
    }

    #[test]
    fn requires_a_constraint() {
        for constraint in [None, Some(""), Some("  ")] {
            assert!(matches!(
                Digest::select(request(constraint, vec![tag("latest", Some("sha256:a"))])),
                Err(PluginError::InvalidConfig(_))
            ));
        }
    }

    #[test]
    fn missing_tag_or_digest_selects_nothing() -> Result<(), PluginError> {
        let absent = Digest::select(request(Some("latest"), vec![tag("1.0", Some("sha256:a"))]))?;
        assert_eq!(absent.tag, None);
        assert_eq!(absent.reason, "tag 'latest' is not among the candidates");
        let unknown = Digest::select(request(Some("latest"), vec![tag("latest", None)]))?;
        assert_eq!(unknown.tag, None);
        assert_eq!(unknown.rejected[0].reason, "digest unknown");
        Ok(())
    }

    #[test]
    fn describe_matches_image_updater_predicates() {
        let info = Digest::describe();
        assert!(info.needs_digest && info.needs_constraint && !info.cacheable);
        assert!(!info.needs_created);
    }
}
