//! Conveniences over the generated types: parameter access, errors and constructors.

use crate::{FilterInfo, PluginError, Rejection, Selection, StrategyInfo};

/// `invalid-config`: a parameter or the constraint is wrong; name it in `message`.
pub fn invalid_config(message: impl Into<String>) -> PluginError {
    PluginError::InvalidConfig(message.into())
}

/// `unsupported`: the plugin cannot handle this input (e.g. missing metadata).
pub fn unsupported(message: impl Into<String>) -> PluginError {
    PluginError::Unsupported(message.into())
}

/// `internal`: anything else that went wrong inside the plugin.
pub fn internal(message: impl Into<String>) -> PluginError {
    PluginError::Internal(message.into())
}

/// A checked, read-only view of the request's parameters.
///
/// [`Params::new`] refuses any key the plugin does not know, so a typo in a
/// user's configuration is reported instead of silently ignored.
#[derive(Debug, Clone, Copy)]
pub struct Params<'a> {
    pairs: &'a [(String, String)],
}

impl<'a> Params<'a> {
    /// Wraps `pairs`, answering `invalid-config` for the first key not in `known`.
    pub fn new(pairs: &'a [(String, String)], known: &[&str]) -> Result<Params<'a>, PluginError> {
        if let Some((key, _)) = pairs.iter().find(|(key, _)| !known.contains(&key.as_str())) {
            let accepted = if known.is_empty() {
                "this plugin takes no parameters".to_owned()
            } else {
                format!("known parameters: {}", known.join(", "))
            };
            return Err(invalid_config(format!(
                "unknown parameter '{key}' ({accepted})"
            )));
        }
        Ok(Params { pairs })
    }

    /// The value of a key that may be given at most once.
    pub fn get(&self, key: &str) -> Result<Option<&'a str>, PluginError> {
        let mut values = self.all(key);
        let first = values.next();
        if first.is_some() && values.next().is_some() {
            return Err(invalid_config(format!(
                "parameter '{key}' is given more than once; it takes one value"
            )));
        }
        Ok(first)
    }

    /// The value of a key that must be given exactly once.
    pub fn require(&self, key: &str) -> Result<&'a str, PluginError> {
        self.get(key)?
            .ok_or_else(|| invalid_config(format!("parameter '{key}' is required")))
    }

    /// Every value of a repeatable key, in the order the user gave them.
    pub fn all<'k>(&self, key: &'k str) -> impl Iterator<Item = &'a str> + use<'a, 'k> {
        let pairs = self.pairs;
        pairs
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Whether no parameter was given.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }
}

impl StrategyInfo {
    /// A strategy named `name` that needs no metadata or constraint and whose
    /// decisions may be cached. Adjust with struct update syntax:
    /// `StrategyInfo { needs_created: true, ..StrategyInfo::new("newest-build") }`.
    pub fn new(name: impl Into<String>) -> StrategyInfo {
        StrategyInfo {
            name: name.into(),
            needs_created: false,
            needs_digest: false,
            needs_platforms: false,
            needs_constraint: false,
            cacheable: true,
        }
    }
}

impl FilterInfo {
    /// A filter named `name`.
    pub fn new(name: impl Into<String>) -> FilterInfo {
        FilterInfo { name: name.into() }
    }
}

impl Rejection {
    /// A candidate refused for `reason` (one short sentence).
    pub fn new(tag: impl Into<String>, reason: impl Into<String>) -> Rejection {
        Rejection {
            tag: tag.into(),
            reason: reason.into(),
        }
    }
}

impl Selection {
    /// `tag` won, for `reason`.
    pub fn chosen(
        tag: impl Into<String>,
        reason: impl Into<String>,
        rejected: Vec<Rejection>,
    ) -> Selection {
        Selection {
            tag: Some(tag.into()),
            reason: reason.into(),
            rejected,
        }
    }

    /// No candidate qualified, for `reason`.
    pub fn none(reason: impl Into<String>, rejected: Vec<Rejection>) -> Selection {
        Selection {
            tag: None,
            reason: reason.into(),
            rejected,
        }
    }
}

/// Puts a library's error text on one line, for messages that end up in a
/// one-line error: a multi-line parser diagnostic (source line, caret, then
/// `error: ...`) is reduced to its `error:` line, anything else is joined.
pub fn one_line(text: impl std::fmt::Display) -> String {
    let text = text.to_string();
    if let Some(reason) = text
        .lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("error:"))
    {
        return reason.trim().to_string();
    }
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_line_keeps_the_diagnosis() {
        assert_eq!(
            super::one_line("regex parse error:\n    (\n    ^\nerror: unclosed group"),
            "unclosed group"
        );
        assert_eq!(super::one_line("a\n  b\n"), "a b");
    }

    use super::*;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn message(error: PluginError) -> String {
        match error {
            PluginError::InvalidConfig(m)
            | PluginError::Unsupported(m)
            | PluginError::Internal(m) => m,
        }
    }

    #[test]
    fn unknown_keys_are_named() {
        let raw = pairs(&[("pattern", "a*"), ("patern", "b*")]);
        let err = Params::new(&raw, &["pattern"]).err().map(message);
        assert_eq!(
            err.as_deref(),
            Some("unknown parameter 'patern' (known parameters: pattern)")
        );
        let err = Params::new(&raw, &[]).err().map(message);
        assert_eq!(
            err.as_deref(),
            Some("unknown parameter 'pattern' (this plugin takes no parameters)")
        );
    }

    #[test]
    fn single_and_repeated_values() -> Result<(), String> {
        let raw = pairs(&[("pattern", "a*"), ("mode", "x"), ("pattern", "b*")]);
        let params = Params::new(&raw, &["pattern", "mode", "other"]).map_err(message)?;
        assert_eq!(params.all("pattern").collect::<Vec<_>>(), ["a*", "b*"]);
        assert_eq!(params.get("mode").map_err(message)?, Some("x"));
        assert_eq!(params.get("other").map_err(message)?, None);
        assert!(params.get("pattern").is_err());
        assert!(params.require("other").is_err());
        assert_eq!(params.require("mode").map_err(message)?, "x");
        Ok(())
    }
}
