//! The `regexp` tag filter: Image Updater's `allow-tags` (`any` or `regexp:<RE2>`).
//!
//! Parameter `expression` holds the raw allow-tags value:
//!
//! - absent, empty or `any` (any case): every tag is kept;
//! - `regexp:<RE>` (function name in any case): a tag is kept when `RE`
//!   matches anywhere in it (unanchored; write `^…$` to anchor). `RE` uses
//!   RE2 syntax through `regex-automata` (the engine of the `regex` crate,
//!   which shares RE2's syntax: no look-around, no back-references) and runs in
//!   time linear in the tag length.
//!
//! Deliberate difference: Image Updater silently keeps nothing when the
//! function is unknown or the expression does not compile; this plugin answers
//! `invalid-config` with the compiler's message instead.

use updraft_plugin_sdk::regex::{Regex, compile};
use updraft_plugin_sdk::{FilterInfo, Params, PluginError, TagFilter, Verdict, invalid_config};

struct AllowTags;

/// What the `expression` parameter asks for.
enum Rule {
    Any,
    Regexp { source: String, regex: Regex },
}

fn parse_rule(expression: Option<&str>) -> Result<Rule, PluginError> {
    let expression = expression.unwrap_or("");
    if expression.is_empty() || expression.eq_ignore_ascii_case("any") {
        return Ok(Rule::Any);
    }
    let Some((function, source)) = expression.split_once(':') else {
        return Err(invalid_config(format!(
            "parameter 'expression': '{expression}' is neither 'any' nor 'regexp:<expression>'"
        )));
    };
    if !function.eq_ignore_ascii_case("regexp") {
        return Err(invalid_config(format!(
            "parameter 'expression': unknown match function '{function}' (expected 'regexp' or 'any')"
        )));
    }
    let regex = compile(source).map_err(|e| {
        invalid_config(format!(
            "parameter 'expression': invalid regular expression '{source}': {e}"
        ))
    })?;
    Ok(Rule::Regexp {
        source: source.to_owned(),
        regex,
    })
}

impl TagFilter for AllowTags {
    fn describe() -> FilterInfo {
        FilterInfo::new("regexp")
    }

    fn filter(
        params: Vec<(String, String)>,
        tags: Vec<String>,
    ) -> Result<Vec<Verdict>, PluginError> {
        let params = Params::new(&params, &["expression"])?;
        // Compiled once per call, then applied to every tag.
        Ok(match parse_rule(params.get("expression")?)? {
            Rule::Any => tags.iter().map(|_| Verdict::Keep).collect(),
            Rule::Regexp { source, regex } => tags
                .iter()
                .map(|tag| {
                    if regex.is_match(tag) {
                        Verdict::Keep
                    } else {
                        Verdict::Reject(format!("does not match allow-tags regexp '{source}'"))
                    }
                })
                .collect(),
        })
    }
}

updraft_plugin_sdk::export_filter!(AllowTags);

#[cfg(test)]
mod tests {
    use super::*;

    fn run(expression: Option<&str>, tags: &[&str]) -> Result<Vec<bool>, PluginError> {
        let params = expression
            .map(|e| vec![("expression".to_owned(), e.to_owned())])
            .unwrap_or_default();
        let tags = tags.iter().map(|t| (*t).to_owned()).collect();
        let verdicts = AllowTags::filter(params, tags)?;
        Ok(verdicts
            .iter()
            .map(|v| matches!(v, Verdict::Keep))
            .collect())
    }

    #[test]
    fn any_keeps_everything() -> Result<(), PluginError> {
        for expression in [None, Some(""), Some("any"), Some("ANY")] {
            assert_eq!(run(expression, &["a", "1.0"])?, [true, true]);
        }
        Ok(())
    }

    #[test]
    fn regexp_is_unanchored() -> Result<(), PluginError> {
        let tags = ["v1.2.3", "1.2.3-alpine", "release-1.2", "latest"];
        assert_eq!(
            run(Some(r"regexp:^v?\d+\.\d+\.\d+$"), &tags)?,
            [true, false, false, false]
        );
        assert_eq!(run(Some("regexp:1.2"), &tags)?, [true, true, true, false]);
        assert_eq!(
            run(Some("RegExp:alpine"), &tags)?,
            [false, true, false, false]
        );
        // The expression itself may contain colons.
        assert_eq!(run(Some("regexp:^a:b$"), &["a:b", "ab"])?, [true, false]);
        Ok(())
    }

    #[test]
    fn rejections_say_why() -> Result<(), PluginError> {
        let verdicts = AllowTags::filter(
            vec![("expression".to_owned(), "regexp:^v".to_owned())],
            vec!["latest".to_owned()],
        )?;
        assert!(
            matches!(&verdicts[0], Verdict::Reject(r) if r == "does not match allow-tags regexp '^v'")
        );
        Ok(())
    }

    #[test]
    fn bad_configuration_is_reported() {
        for expression in [
            "regexp:(",
            "glob:*",
            "foo",
            "regexp:(?<=a)b",
            r"regexp:(a)\1",
            "regexp:a{1000}{1000}",
        ] {
            match run(Some(expression), &["a"]) {
                Err(PluginError::InvalidConfig(message)) => {
                    assert!(message.contains("'expression'"), "{message}");
                }
                other => panic!("{expression}: {other:?}"),
            }
        }
        match run(Some("regexp:("), &["a"]) {
            Err(PluginError::InvalidConfig(message)) => {
                assert!(message.contains("unclosed group"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            AllowTags::filter(vec![("pattern".to_owned(), "x".to_owned())], Vec::new()),
            Err(PluginError::InvalidConfig(m)) if m.contains("'pattern'")
        ));
    }
}
