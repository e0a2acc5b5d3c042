//! Example third-party strategy: order tags by a version extracted with a regular expression.
//!
//! Image Updater's `semver` strategy ignores tags such as `release-1.2.3`.
//! This plugin extracts the version from each tag with a regular expression
//! (parameter `pattern`), then picks the highest version exactly as the
//! `semver` strategy would: Masterminds/semver rules for parsing, ordering and
//! the optional constraint; pre-releases only when the constraint names one;
//! equal versions broken by the lexically greatest tag.
//!
//! The version is the capture group named `version`, else group 1, else the
//! whole match. The default pattern, [`DEFAULT_PATTERN`], accepts an optional
//! prefix ending in `-` or `_` and an optional `v`:
//! `1.2.3`, `v1.2`, `release-1.2.3`, `app_v2.0.0-rc1`, `my-app-3`.

use updraft_plugin_sdk::regex::automata::util::primitives::PatternID;
use updraft_plugin_sdk::regex::{Regex, compile};
use updraft_plugin_sdk::version::{Constraint, RejectionKind, RejectionReason, Version};
use updraft_plugin_sdk::{
    Params, PluginError, Rejection, SelectRequest, Selection, Strategy, StrategyInfo,
    invalid_config,
};

/// Optional prefix up to a `-` or `_` (tried last, so `2.0.0-1` stays a
/// version), optional `v`, then `N[.N[.N]][-pre.release]`.
pub const DEFAULT_PATTERN: &str =
    r"^(?:.*?[-_])??v?(?P<version>\d+(?:\.\d+){0,2}(?:-[0-9A-Za-z.-]+)?)$";

struct ReleaseVersion;

impl Strategy for ReleaseVersion {
    fn describe() -> StrategyInfo {
        StrategyInfo::new("release-version")
    }

    fn select(request: SelectRequest) -> Result<Selection, PluginError> {
        let params = Params::new(&request.params, &["pattern"])?;
        let source = params.get("pattern")?.unwrap_or(DEFAULT_PATTERN);
        let pattern = compile(source).map_err(|e| {
            invalid_config(format!(
                "parameter 'pattern': invalid regular expression '{source}': {e}"
            ))
        })?;
        let group = version_group(&pattern);
        let constraint_text = match request.constraint.as_deref() {
            Some(c) if !c.trim().is_empty() => c,
            _ => "*",
        };
        let constraint =
            Constraint::parse(constraint_text).map_err(|e| invalid_config(e.to_string()))?;

        let mut rejected = Vec::new();
        let mut best: Option<(Version<'_>, &str)> = None;
        let mut captures = pattern.create_captures();
        for candidate in &request.candidates {
            let tag = candidate.name.as_str();
            pattern.captures(tag, &mut captures);
            let Some(text) = captures
                .get_group(group)
                .and_then(|span| tag.get(span.range()))
            else {
                let reason = if source == DEFAULT_PATTERN {
                    "no version found in the tag".to_owned()
                } else {
                    format!("does not match pattern '{source}'")
                };
                rejected.push(Rejection::new(tag, reason));
                continue;
            };
            let Ok(version) = Version::parse(text) else {
                rejected.push(Rejection::new(
                    tag,
                    format!("extracted '{text}', which is not a semantic version"),
                ));
                continue;
            };
            if !constraint.matches(&version) {
                let kind = if version.is_prerelease()
                    && constraint.matches_including_prereleases(&version)
                {
                    RejectionKind::Prerelease
                } else {
                    RejectionKind::Unsatisfied
                };
                let reason = RejectionReason {
                    kind,
                    constraint: constraint_text,
                };
                rejected.push(Rejection::new(tag, reason.to_string()));
                continue;
            }
            if best.is_none_or(|b| (version, tag) > b) {
                best = Some((version, tag));
            }
        }
        Ok(match best {
            Some((version, tag)) => Selection::chosen(
                tag,
                format!("highest extracted version ({version}) satisfying '{constraint_text}'"),
                rejected,
            ),
            None => Selection::none(
                format!("no tag carries a version satisfying '{constraint_text}'"),
                rejected,
            ),
        })
    }
}

/// The capture group holding the version: `version`, else 1, else 0.
fn version_group(pattern: &Regex) -> usize {
    let groups = pattern.group_info();
    groups.to_index(PatternID::ZERO, "version").unwrap_or(
        if groups.group_len(PatternID::ZERO) > 1 {
            1
        } else {
            0
        },
    )
}

updraft_plugin_sdk::export_strategy!(ReleaseVersion);

#[cfg(test)]
mod tests {
    use super::*;
    use updraft_plugin_sdk::TagInfo;

    fn request(constraint: Option<&str>, pattern: Option<&str>, tags: &[&str]) -> SelectRequest {
        SelectRequest {
            current: None,
            constraint: constraint.map(str::to_owned),
            params: pattern
                .map(|p| vec![("pattern".to_owned(), p.to_owned())])
                .unwrap_or_default(),
            candidates: tags
                .iter()
                .map(|t| TagInfo {
                    name: (*t).to_owned(),
                    digest: None,
                    created: None,
                    platforms: Vec::new(),
                })
                .collect(),
        }
    }

    fn pick(
        constraint: Option<&str>,
        pattern: Option<&str>,
        tags: &[&str],
    ) -> Result<Option<String>, PluginError> {
        ReleaseVersion::select(request(constraint, pattern, tags)).map(|s| s.tag)
    }

    const RELEASES: [&str; 4] = [
        "release-1.9.0",
        "release-1.10.0",
        "release-2.0.0-rc1",
        "latest",
    ];

    #[test]
    fn orders_by_the_extracted_version() -> Result<(), PluginError> {
        assert_eq!(
            pick(None, None, &RELEASES)?.as_deref(),
            Some("release-1.10.0")
        );
        assert_eq!(
            pick(Some(">=2.0.0-0"), None, &RELEASES)?.as_deref(),
            Some("release-2.0.0-rc1")
        );
        assert_eq!(
            pick(Some("~1.9"), None, &RELEASES)?.as_deref(),
            Some("release-1.9.0")
        );
        assert_eq!(pick(Some("^3"), None, &RELEASES)?, None);
        Ok(())
    }

    #[test]
    fn default_pattern_shapes() -> Result<(), PluginError> {
        let tags = [
            "1.2.3",
            "v1.2.4",
            "app_v1.2.5",
            "my-app-1.2.6",
            "2.0.0-1",
            "1.2.7x",
        ];
        let selection = ReleaseVersion::select(request(Some("^1"), None, &tags))?;
        assert_eq!(selection.tag.as_deref(), Some("my-app-1.2.6"));
        let reasons: Vec<_> = selection
            .rejected
            .iter()
            .map(|r| (r.tag.as_str(), r.reason.as_str()))
            .collect();
        assert_eq!(reasons[0], ("2.0.0-1", "does not satisfy constraint '^1'"));
        assert_eq!(reasons[1], ("1.2.7x", "no version found in the tag"));
        // `2.0.0-1` is the pre-release 2.0.0-1, not "1" after a prefix.
        assert_eq!(
            pick(None, None, &["2.0.0-1", "1.5.0"])?.as_deref(),
            Some("1.5.0")
        );
        assert_eq!(
            pick(Some(">=0.0.0-0"), None, &["2.0.0-1", "1.5.0"])?.as_deref(),
            Some("2.0.0-1")
        );
        Ok(())
    }

    #[test]
    fn custom_patterns_use_the_right_group() -> Result<(), PluginError> {
        let selection = ReleaseVersion::select(request(
            None,
            Some(r"^build-(\d+)$"),
            &["build-9", "build-10", "x"],
        ))?;
        assert_eq!(selection.tag.as_deref(), Some("build-10"));
        assert_eq!(
            selection.rejected[0].reason,
            r"does not match pattern '^build-(\d+)$'"
        );
        assert_eq!(
            pick(
                None,
                Some(r"^(\w+)-(?P<version>[\d.]+)$"),
                &["a-1.0", "zz-0.9"]
            )?
            .as_deref(),
            Some("a-1.0")
        );
        assert_eq!(
            pick(None, Some(r"\d+\.\d+"), &["x1.5y", "x1.10y"])?.as_deref(),
            Some("x1.10y")
        );
        Ok(())
    }

    #[test]
    fn ties_go_to_the_lexically_greatest_tag() -> Result<(), PluginError> {
        assert_eq!(
            pick(None, None, &["a-1.0", "b-1.0.0", "v1.0"])?.as_deref(),
            Some("v1.0")
        );
        Ok(())
    }

    #[test]
    fn bad_configuration() {
        assert!(
            matches!(pick(None, Some("("), &RELEASES), Err(PluginError::InvalidConfig(m)) if m.contains("'pattern'"))
        );
        assert!(
            matches!(pick(Some("latest"), None, &RELEASES), Err(PluginError::InvalidConfig(m)) if m.contains("'latest'"))
        );
    }
}
