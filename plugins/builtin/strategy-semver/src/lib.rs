//! The `semver` strategy: the highest tag satisfying the constraint, as Image Updater's default strategy.
//!
//! Tags are read leniently (`v1.2`, `1.2` → `1.2.0`); the constraint uses
//! Masterminds/semver v3 syntax (`^1.2`, `~1.26`, `>=1.0 <2 || 3.x`, `2.x-0`);
//! an absent or empty constraint is `*`, which admits every release but no
//! pre-release. The tag currently deployed plays no part.

use updraft_plugin_sdk::{
    Params, PluginError, Rejection, SelectRequest, Selection, Strategy, StrategyInfo,
    invalid_config, version,
};

struct Semver;

impl Strategy for Semver {
    fn describe() -> StrategyInfo {
        StrategyInfo::new("semver")
    }

    fn select(request: SelectRequest) -> Result<Selection, PluginError> {
        Params::new(&request.params, &[])?;
        let outcome = version::select(
            request.constraint.as_deref(),
            request.candidates.iter().map(|c| c.name.as_str()),
        )
        .map_err(|e| invalid_config(e.to_string()))?;
        let rejected = outcome
            .rejected
            .iter()
            .map(|r| Rejection::new(r.tag, outcome.reason(r)))
            .collect();
        Ok(match outcome.tag {
            Some(tag) => Selection::chosen(tag, outcome.summary(), rejected),
            None => Selection::none(outcome.summary(), rejected),
        })
    }
}

updraft_plugin_sdk::export_strategy!(Semver);

#[cfg(test)]
mod tests {
    use super::*;
    use updraft_plugin_sdk::TagInfo;

    fn request(constraint: Option<&str>, tags: &[&str]) -> SelectRequest {
        SelectRequest {
            current: Some("latest".to_owned()),
            constraint: constraint.map(str::to_owned),
            params: Vec::new(),
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

    fn pick(constraint: Option<&str>, tags: &[&str]) -> Result<Option<String>, PluginError> {
        Semver::select(request(constraint, tags)).map(|s| s.tag)
    }

    const TAGS: [&str; 7] = ["0.1", "0.5.1", "0.9", "1.0", "1.0.1", "1.1.2", "2.0.3"];

    #[test]
    fn image_updater_cases() -> Result<(), PluginError> {
        assert_eq!(pick(None, &TAGS)?.as_deref(), Some("2.0.3"));
        assert_eq!(pick(Some(""), &TAGS)?.as_deref(), Some("2.0.3"));
        assert_eq!(pick(Some("^1.0"), &TAGS)?.as_deref(), Some("1.1.2"));
        assert_eq!(pick(Some("~1.0"), &TAGS)?.as_deref(), Some("1.0.1"));
        assert_eq!(pick(Some("~1.0"), &["0.1", "0.5.1", "0.9", "2.0.3"])?, None);
        assert_eq!(
            pick(None, &["v2.2.0", "v2.3.0-rc.0.18.g1abb7b5dd-ppc64le"])?.as_deref(),
            Some("v2.2.0")
        );
        assert_eq!(
            pick(None, &["zz", "bb", "yy", "cc", "yy", "aa", "ll"])?,
            None
        );
        Ok(())
    }

    #[test]
    fn invalid_constraint_is_invalid_config() {
        match pick(Some("latest"), &TAGS) {
            Err(PluginError::InvalidConfig(message)) => assert!(message.contains("'latest'")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn parameters_are_refused() {
        let mut req = request(None, &TAGS);
        req.params.push(("pattern".to_owned(), "x".to_owned()));
        assert!(matches!(
            Semver::select(req),
            Err(PluginError::InvalidConfig(m)) if m.contains("'pattern'")
        ));
    }

    #[test]
    fn reasons_explain_the_choice() -> Result<(), PluginError> {
        let selection = Semver::select(request(Some("^1.0"), &["1.0.0", "latest", "2.0.0"]))?;
        assert_eq!(selection.tag.as_deref(), Some("1.0.0"));
        assert_eq!(selection.reason, "highest version satisfying '^1.0'");
        let reasons: Vec<_> = selection
            .rejected
            .iter()
            .map(|r| (r.tag.as_str(), r.reason.as_str()))
            .collect();
        assert_eq!(
            reasons,
            [
                ("latest", "not a semantic version"),
                ("2.0.0", "does not satisfy constraint '^1.0'")
            ]
        );
        Ok(())
    }
}
