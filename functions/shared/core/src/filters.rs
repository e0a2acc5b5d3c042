//! Owns the tag filters `allow-tags` ([`AllowTags`]) and `ignore-tags`
//! ([`IgnoreTags`]), and the plugin calls that run filters and strategies
//! ([`FilterCall`], [`StrategyCall`]).
//!
//! `allow-tags` is `any` (or empty: no filter) or `regexp:<RE2 expression>`,
//! matched unanchored by the `filter-regexp` plugin. Unlike Image Updater,
//! which lets an unknown function match no tag at all, any other function is
//! an error. `ignore-tags` is a list of Go `filepath.Match` globs run by the
//! `filter-glob` plugin; a tag matching any of them is dropped.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::glob::{Glob, GlobError};

/// Plugin that keeps the tags an `allow-tags` expression matches.
pub const FILTER_REGEXP_PLUGIN: &str = "filter-regexp";
/// Plugin that drops the tags an `ignore-tags` glob matches.
pub const FILTER_GLOB_PLUGIN: &str = "filter-glob";

/// An unusable `allow-tags` or `ignore-tags` value.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FilterError {
    /// `allow-tags` names a function other than `regexp`.
    #[error(
        "allow-tags '{value}' uses unknown function '{function}' (use regexp:<expression> or any)"
    )]
    UnknownFunction {
        /// The whole value.
        value: String,
        /// The function name before the `:`.
        function: String,
    },
    /// `allow-tags` has no `<function>:` prefix.
    #[error("allow-tags '{0}' names no function (use regexp:<expression> or any)")]
    NoFunction(String),
    /// An `ignore-tags` glob is malformed.
    #[error("ignore-tags: {0}")]
    BadGlob(#[from] GlobError),
}

/// Which tags may be considered at all.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum AllowTags {
    /// Every tag (`any`, or nothing configured).
    #[default]
    Any,
    /// Tags an RE2 expression matches anywhere in the tag.
    Regexp {
        /// The value as configured, `regexp:<expression>` (the function name
        /// written in lower case).
        raw: String,
    },
}

impl AllowTags {
    /// Parses `any`, an empty value, or `regexp:<expression>` (function names
    /// are case-insensitive; surrounding whitespace is ignored).
    pub fn parse(value: &str) -> Result<Self, FilterError> {
        let value = value.trim();
        if value.is_empty() || value.eq_ignore_ascii_case("any") {
            return Ok(Self::Any);
        }
        let Some((function, expression)) = value.split_once(':') else {
            return Err(FilterError::NoFunction(value.to_string()));
        };
        if function.eq_ignore_ascii_case("regexp") {
            Ok(Self::Regexp {
                raw: format!("regexp:{expression}"),
            })
        } else {
            Err(FilterError::UnknownFunction {
                value: value.to_string(),
                function: function.to_string(),
            })
        }
    }

    /// The regular expression, without the `regexp:` prefix.
    pub fn expression(&self) -> Option<&str> {
        match self {
            Self::Any => None,
            Self::Regexp { raw } => raw.strip_prefix("regexp:"),
        }
    }

    /// The `filter-regexp` call, or `None` when every tag is allowed.
    pub fn filter_call(&self) -> Option<FilterCall> {
        match self {
            Self::Any => None,
            Self::Regexp { raw } => Some(FilterCall {
                plugin: FILTER_REGEXP_PLUGIN.to_string(),
                params: vec![("expression".to_string(), raw.clone())],
            }),
        }
    }
}

impl std::fmt::Display for AllowTags {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Any => f.write_str("any"),
            Self::Regexp { raw } => f.write_str(raw),
        }
    }
}

impl TryFrom<String> for AllowTags {
    type Error = FilterError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<AllowTags> for String {
    fn from(allow: AllowTags) -> Self {
        allow.to_string()
    }
}

/// Globs of tags never to update to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(try_from = "Vec<String>", into = "Vec<String>")]
pub struct IgnoreTags(Vec<String>);

impl IgnoreTags {
    /// Parses the annotation form: a comma-separated list, each entry trimmed.
    /// Empty entries are kept (an empty glob drops only the empty tag), as
    /// Image Updater does; an empty value is therefore one empty glob.
    pub fn from_annotation(value: &str) -> Result<Self, FilterError> {
        Self::from_list(value.split(',').map(|g| g.trim().to_string()).collect())
    }

    /// Takes a list of globs as given (the `ImageUpdater` form), checking that
    /// each is well formed.
    pub fn from_list(globs: Vec<String>) -> Result<Self, FilterError> {
        for glob in &globs {
            Glob::new(glob)?;
        }
        Ok(Self(globs))
    }

    /// The globs.
    pub fn patterns(&self) -> &[String] {
        &self.0
    }

    /// Whether there is no glob.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The `filter-glob` call (one `pattern` parameter per glob), or `None`
    /// when there is no glob.
    pub fn filter_call(&self) -> Option<FilterCall> {
        (!self.0.is_empty()).then(|| FilterCall {
            plugin: FILTER_GLOB_PLUGIN.to_string(),
            params: self
                .0
                .iter()
                .map(|g| ("pattern".to_string(), g.clone()))
                .collect(),
        })
    }
}

impl TryFrom<Vec<String>> for IgnoreTags {
    type Error = FilterError;
    fn try_from(globs: Vec<String>) -> Result<Self, Self::Error> {
        Self::from_list(globs)
    }
}

impl From<IgnoreTags> for Vec<String> {
    fn from(ignore: IgnoreTags) -> Self {
        ignore.0
    }
}

/// One call of a tag-filter plugin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilterCall {
    /// The plugin's name (`filter-regexp`, `filter-glob`, or a third-party
    /// filter).
    pub plugin: String,
    /// Its parameters, in order; a key may repeat.
    pub params: Vec<(String, String)>,
}

/// One call of a strategy plugin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StrategyCall {
    /// The plugin's name (`strategy-semver`, …, or a third-party strategy).
    pub plugin: String,
    /// The constraint from the image reference (`nginx:~1.26` → `~1.26`).
    pub constraint: Option<String>,
    /// Its parameters, in order; a key may repeat.
    pub params: Vec<(String, String)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_tags_any() {
        assert_eq!(AllowTags::parse("").unwrap(), AllowTags::Any);
        assert_eq!(AllowTags::parse("  ").unwrap(), AllowTags::Any);
        assert_eq!(AllowTags::parse("any").unwrap(), AllowTags::Any);
        assert_eq!(AllowTags::parse("ANY").unwrap(), AllowTags::Any);
        assert_eq!(AllowTags::Any.filter_call(), None);
        assert_eq!(AllowTags::Any.expression(), None);
        assert_eq!(AllowTags::Any.to_string(), "any");
    }

    #[test]
    fn allow_tags_regexp_keeps_raw_value() {
        let allow = AllowTags::parse(r"regexp:^v1\.").unwrap();
        assert_eq!(allow.expression(), Some(r"^v1\."));
        assert_eq!(
            allow.filter_call().unwrap(),
            FilterCall {
                plugin: "filter-regexp".into(),
                params: vec![("expression".into(), r"regexp:^v1\.".into())],
            }
        );
        // the function name is case-insensitive and normalised
        let allow = AllowTags::parse("RegExp:^v[1-9].*").unwrap();
        assert_eq!(allow.to_string(), "regexp:^v[1-9].*");
        // a colon inside the expression stays
        let allow = AllowTags::parse("regexp:^a:b$").unwrap();
        assert_eq!(allow.expression(), Some("^a:b$"));
    }

    #[test]
    fn allow_tags_errors() {
        let err = AllowTags::parse("glob:x").unwrap_err();
        assert_eq!(
            err.to_string(),
            "allow-tags 'glob:x' uses unknown function 'glob' (use regexp:<expression> or any)"
        );
        let err = AllowTags::parse("^v1").unwrap_err();
        assert_eq!(
            err.to_string(),
            "allow-tags '^v1' names no function (use regexp:<expression> or any)"
        );
    }

    #[test]
    fn ignore_tags_annotation_form() {
        let ignore = IgnoreTags::from_annotation(" tag1, tag2 ,").unwrap();
        assert_eq!(ignore.patterns(), ["tag1", "tag2", ""]);
        let ignore = IgnoreTags::from_annotation("").unwrap();
        assert_eq!(ignore.patterns(), [""]);
        let ignore = IgnoreTags::from_annotation("tag?,foo").unwrap();
        assert_eq!(
            ignore.filter_call().unwrap(),
            FilterCall {
                plugin: "filter-glob".into(),
                params: vec![
                    ("pattern".into(), "tag?".into()),
                    ("pattern".into(), "foo".into())
                ],
            }
        );
    }

    #[test]
    fn ignore_tags_rejects_malformed_globs() {
        let err = IgnoreTags::from_annotation("ok,v1.[")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("ignore-tags: glob pattern 'v1.['"), "{err}");
        assert!(IgnoreTags::from_list(vec!["[]".into()]).is_err());
    }

    #[test]
    fn ignore_tags_empty_list_has_no_call() {
        let ignore = IgnoreTags::from_list(vec![]).unwrap();
        assert!(ignore.is_empty());
        assert_eq!(ignore.filter_call(), None);
    }

    #[test]
    fn serde_forms() {
        let allow: AllowTags = serde_json::from_str("\"regexp:^v\"").unwrap();
        assert_eq!(serde_json::to_string(&allow).unwrap(), "\"regexp:^v\"");
        let ignore: IgnoreTags = serde_json::from_str("[\"a*\",\"b\"]").unwrap();
        assert_eq!(serde_json::to_string(&ignore).unwrap(), "[\"a*\",\"b\"]");
        assert!(serde_json::from_str::<IgnoreTags>("[\"[\"]").is_err());
    }
}
