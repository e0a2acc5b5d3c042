//! Owns [`UpdateStrategy`]: the name of the strategy that picks a tag, and
//! the plugin that implements it.
//!
//! Names are matched case-insensitively. The deprecated names `latest`
//! (→ `newest-build`) and `name` (→ `alphabetical`) still work; the parse
//! result records that one was used so the caller can warn. Any other name is
//! taken as a third-party strategy plugin and must be resolved against the
//! configured plugins ([`UpdateStrategy::resolve`]); Image Updater instead
//! falls back to `semver` with a warning.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Plugin name of the built-in `semver` strategy.
pub const SEMVER_PLUGIN: &str = "strategy-semver";
/// Plugin name of the built-in `newest-build` strategy.
pub const NEWEST_BUILD_PLUGIN: &str = "strategy-newest-build";
/// Plugin name of the built-in `alphabetical` strategy.
pub const ALPHABETICAL_PLUGIN: &str = "strategy-alphabetical";
/// Plugin name of the built-in `digest` strategy.
pub const DIGEST_PLUGIN: &str = "strategy-digest";

/// How the tag to update to is chosen.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum UpdateStrategy {
    /// Highest semantic version within the constraint (the default).
    #[default]
    Semver,
    /// Most recently built image (config `created`).
    NewestBuild,
    /// Lexically last tag.
    Alphabetical,
    /// Newest digest of one mutable tag (the constraint).
    Digest,
    /// A third-party strategy plugin, by its configured name.
    Plugin(String),
}

/// A strategy name that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StrategyError {
    /// The name is empty.
    #[error(
        "update strategy is empty (use semver, newest-build, alphabetical, digest or a plugin name)"
    )]
    Empty,
    /// The name is not a plausible plugin name.
    #[error(
        "update strategy '{0}' is not a valid name (use semver, newest-build, alphabetical, digest or a plugin name made of letters, digits, '.', '_' and '-')"
    )]
    InvalidName(String),
    /// No configured plugin has this name.
    #[error("update strategy '{name}' is neither built in (semver, newest-build, alphabetical, digest) nor a configured plugin ({})", configured_list(.configured))]
    UnknownPlugin {
        /// The strategy name.
        name: String,
        /// The names of the configured plugins.
        configured: Vec<String>,
    },
}

fn configured_list(configured: &[String]) -> String {
    if configured.is_empty() {
        "no plugins are configured; add one under plugins: in updraft.yaml".to_string()
    } else {
        format!("configured: {}", configured.join(", "))
    }
}

/// The result of parsing a strategy name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedStrategy {
    /// The strategy.
    pub strategy: UpdateStrategy,
    /// Whether a deprecated name (`latest` or `name`) was written.
    pub deprecated: bool,
}

impl ParsedStrategy {
    /// A warning to log when a deprecated name was used.
    pub fn warning(&self) -> Option<String> {
        let old = match self.strategy {
            UpdateStrategy::NewestBuild => "latest",
            UpdateStrategy::Alphabetical => "name",
            _ => return None,
        };
        self.deprecated.then(|| {
            format!(
                "update strategy '{old}' is deprecated: write '{}' instead",
                self.strategy
            )
        })
    }
}

impl UpdateStrategy {
    /// Parses a strategy name (case-insensitive for the built-ins; surrounding
    /// whitespace ignored).
    pub fn parse(name: &str) -> Result<ParsedStrategy, StrategyError> {
        let trimmed = name.trim();
        let (strategy, deprecated) = match trimmed.to_ascii_lowercase().as_str() {
            "" => return Err(StrategyError::Empty),
            "semver" => (Self::Semver, false),
            "newest-build" => (Self::NewestBuild, false),
            "latest" => (Self::NewestBuild, true),
            "alphabetical" => (Self::Alphabetical, false),
            "name" => (Self::Alphabetical, true),
            "digest" => (Self::Digest, false),
            _ => {
                let valid = trimmed
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphanumeric())
                    && trimmed
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
                if !valid {
                    return Err(StrategyError::InvalidName(trimmed.to_string()));
                }
                (Self::Plugin(trimmed.to_string()), false)
            }
        };
        Ok(ParsedStrategy {
            strategy,
            deprecated,
        })
    }

    /// The canonical name (`semver`, `newest-build`, `alphabetical`,
    /// `digest`, or the plugin's name).
    pub fn name(&self) -> &str {
        match self {
            Self::Semver => "semver",
            Self::NewestBuild => "newest-build",
            Self::Alphabetical => "alphabetical",
            Self::Digest => "digest",
            Self::Plugin(name) => name,
        }
    }

    /// The plugin that implements the strategy: `strategy-semver`,
    /// `strategy-newest-build`, `strategy-alphabetical`, `strategy-digest`,
    /// or the third-party plugin's name (check that one with
    /// [`UpdateStrategy::resolve`]).
    pub fn plugin_name(&self) -> &str {
        match self {
            Self::Semver => SEMVER_PLUGIN,
            Self::NewestBuild => NEWEST_BUILD_PLUGIN,
            Self::Alphabetical => ALPHABETICAL_PLUGIN,
            Self::Digest => DIGEST_PLUGIN,
            Self::Plugin(name) => name,
        }
    }

    /// Whether this is one of the four built-in strategies.
    pub fn is_builtin(&self) -> bool {
        !matches!(self, Self::Plugin(_))
    }

    /// Checks a third-party strategy against the configured plugin names and
    /// returns the plugin to call.
    pub fn resolve<'a, I>(&self, configured: I) -> Result<&str, StrategyError>
    where
        I: IntoIterator<Item = &'a str>,
    {
        match self {
            Self::Plugin(name) => {
                let configured: Vec<String> = configured.into_iter().map(str::to_string).collect();
                if configured.iter().any(|c| c == name) {
                    Ok(name)
                } else {
                    Err(StrategyError::UnknownPlugin {
                        name: name.clone(),
                        configured,
                    })
                }
            }
            builtin => Ok(builtin.plugin_name()),
        }
    }
}

impl std::fmt::Display for UpdateStrategy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl TryFrom<String> for UpdateStrategy {
    type Error = StrategyError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Ok(Self::parse(&s)?.strategy)
    }
}

impl From<UpdateStrategy> for String {
    fn from(strategy: UpdateStrategy) -> Self {
        strategy.name().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_case_insensitive() {
        for (input, want) in [
            ("semver", UpdateStrategy::Semver),
            ("SemVer", UpdateStrategy::Semver),
            (" newest-build ", UpdateStrategy::NewestBuild),
            ("Newest-Build", UpdateStrategy::NewestBuild),
            ("alphabetical", UpdateStrategy::Alphabetical),
            ("DIGEST", UpdateStrategy::Digest),
        ] {
            let parsed = UpdateStrategy::parse(input).unwrap();
            assert_eq!(parsed.strategy, want, "{input}");
            assert!(!parsed.deprecated);
            assert_eq!(parsed.warning(), None);
        }
    }

    #[test]
    fn deprecated_names_are_recorded() {
        let parsed = UpdateStrategy::parse("latest").unwrap();
        assert_eq!(parsed.strategy, UpdateStrategy::NewestBuild);
        assert!(parsed.deprecated);
        assert_eq!(
            parsed.warning().unwrap(),
            "update strategy 'latest' is deprecated: write 'newest-build' instead"
        );
        let parsed = UpdateStrategy::parse("Name").unwrap();
        assert_eq!(parsed.strategy, UpdateStrategy::Alphabetical);
        assert!(parsed.deprecated);
        assert_eq!(
            parsed.warning().unwrap(),
            "update strategy 'name' is deprecated: write 'alphabetical' instead"
        );
    }

    #[test]
    fn unknown_names_are_plugins() {
        let parsed = UpdateStrategy::parse("release-semver").unwrap();
        assert_eq!(
            parsed.strategy,
            UpdateStrategy::Plugin("release-semver".into())
        );
        assert!(!parsed.strategy.is_builtin());
        assert_eq!(parsed.strategy.plugin_name(), "release-semver");
        assert_eq!(parsed.strategy.name(), "release-semver");
    }

    #[test]
    fn invalid_names() {
        assert_eq!(
            UpdateStrategy::parse("  ").unwrap_err(),
            StrategyError::Empty
        );
        let err = UpdateStrategy::parse("semver 2").unwrap_err();
        assert!(
            err.to_string().contains("'semver 2' is not a valid name"),
            "{err}"
        );
        assert!(UpdateStrategy::parse("-x").is_err());
    }

    #[test]
    fn plugin_names_of_builtins() {
        assert_eq!(UpdateStrategy::Semver.plugin_name(), "strategy-semver");
        assert_eq!(
            UpdateStrategy::NewestBuild.plugin_name(),
            "strategy-newest-build"
        );
        assert_eq!(
            UpdateStrategy::Alphabetical.plugin_name(),
            "strategy-alphabetical"
        );
        assert_eq!(UpdateStrategy::Digest.plugin_name(), "strategy-digest");
        assert_eq!(UpdateStrategy::default(), UpdateStrategy::Semver);
    }

    #[test]
    fn resolve_against_configured_plugins() {
        let plugin = UpdateStrategy::Plugin("release-semver".into());
        assert_eq!(
            plugin.resolve(["a", "release-semver"]).unwrap(),
            "release-semver"
        );
        let err = plugin.resolve(["a", "b"]).unwrap_err().to_string();
        assert!(
            err.contains("'release-semver'") && err.contains("configured: a, b"),
            "{err}"
        );
        let err = plugin.resolve([]).unwrap_err().to_string();
        assert!(err.contains("no plugins are configured"), "{err}");
        assert_eq!(
            UpdateStrategy::Digest.resolve([]).unwrap(),
            "strategy-digest"
        );
    }

    #[test]
    fn display_and_serde() {
        assert_eq!(UpdateStrategy::NewestBuild.to_string(), "newest-build");
        let s: UpdateStrategy = serde_json::from_str("\"latest\"").unwrap();
        assert_eq!(s, UpdateStrategy::NewestBuild);
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"newest-build\"");
    }
}
