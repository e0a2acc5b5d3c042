//! Owns the `webhooks:` section of `updraft.yaml`: which sources are enabled,
//! the reference to each one's secret, and the per-source rate limit.
//!
//! ```yaml
//! webhooks:
//!   distribution: {token: env:DIST_TOKEN}
//!   acr: {secret: env:ACR_SECRET}
//!   eventbridge: {token: file:/run/secrets/eventbridge}
//!   dockerhub: {secret: env:DOCKERHUB_SECRET}
//!   harbor: {secret: env:HARBOR_SECRET}
//!   quay: {secret: env:QUAY_SECRET}
//!   ghcr: {secret: env:GHCR_SECRET}
//!   azure: {secret: env:AZURE_SECRET}
//!   ecr: {secret: env:ECR_SECRET}
//!   rate_limit: 60
//! ```
//!
//! A source that is absent is disabled. Secrets are never written in the file
//! itself, only referenced; the caller resolves references.

use std::fmt;

use serde::{Deserialize, Deserializer};

use crate::Source;

/// Requests per minute per source when `rate_limit` is not given.
pub const DEFAULT_RATE_LIMIT: u32 = 60;

/// The `webhooks:` section.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// CNCF Distribution notifications: the token the registry sends in its
    /// endpoint's `Authorization` header (`Bearer <token>` or `<token>`).
    #[serde(default)]
    pub distribution: Option<TokenSource>,
    /// Alibaba ACR trigger: secret in the path or `?secret=`.
    #[serde(default)]
    pub acr: Option<SecretSource>,
    /// Alibaba EventBridge (`acs.cr`) CloudEvents: token in the path,
    /// `?secret=`, `X-Webhook-Secret` or `Authorization`.
    #[serde(default)]
    pub eventbridge: Option<TokenSource>,
    /// Docker Hub: secret in the path or `?secret=`.
    #[serde(default)]
    pub dockerhub: Option<SecretSource>,
    /// Harbor: the policy's "Auth Header", sent as `Authorization`.
    #[serde(default)]
    pub harbor: Option<SecretSource>,
    /// Quay: secret in the path or `?secret=`.
    #[serde(default)]
    pub quay: Option<SecretSource>,
    /// GHCR: the GitHub webhook secret behind `X-Hub-Signature-256`.
    #[serde(default)]
    pub ghcr: Option<SecretSource>,
    /// Azure ACR: a custom `Authorization` header on the ACR webhook.
    #[serde(default)]
    pub azure: Option<SecretSource>,
    /// AWS ECR through EventBridge: secret in the path, `?secret=`,
    /// `X-Webhook-Secret` or `Authorization` (API destination connection).
    #[serde(default)]
    pub ecr: Option<SecretSource>,
    /// Requests per minute per source (token bucket; burst of the same size).
    #[serde(default = "default_rate_limit", deserialize_with = "rate_limit")]
    pub rate_limit: u32,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        WebhookConfig {
            distribution: None,
            acr: None,
            eventbridge: None,
            dockerhub: None,
            harbor: None,
            quay: None,
            ghcr: None,
            azure: None,
            ecr: None,
            rate_limit: DEFAULT_RATE_LIMIT,
        }
    }
}

impl WebhookConfig {
    /// The secret reference of `source`, or `None` when it is disabled.
    pub fn secret_ref(&self, source: Source) -> Option<&SecretRef> {
        match source {
            Source::Distribution => self.distribution.as_ref().map(|t| &t.token),
            Source::EventBridge => self.eventbridge.as_ref().map(|t| &t.token),
            Source::Acr => self.acr.as_ref().map(|s| &s.secret),
            Source::DockerHub => self.dockerhub.as_ref().map(|s| &s.secret),
            Source::Harbor => self.harbor.as_ref().map(|s| &s.secret),
            Source::Quay => self.quay.as_ref().map(|s| &s.secret),
            Source::Ghcr => self.ghcr.as_ref().map(|s| &s.secret),
            Source::Azure => self.azure.as_ref().map(|s| &s.secret),
            Source::Ecr => self.ecr.as_ref().map(|s| &s.secret),
        }
    }

    /// Whether `source` is configured.
    pub fn is_enabled(&self, source: Source) -> bool {
        self.secret_ref(source).is_some()
    }

    /// The configured sources, in [`Source::ALL`] order.
    pub fn enabled_sources(&self) -> Vec<Source> {
        Source::ALL
            .into_iter()
            .filter(|s| self.is_enabled(*s))
            .collect()
    }

    /// Checks what deserialisation cannot: a hand-built config's rate limit.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.rate_limit == 0 {
            return Err(ConfigError::ZeroRateLimit);
        }
        Ok(())
    }

    /// Resolves every configured secret once (at start-up), so a missing or
    /// empty one is reported before the first webhook arrives. Errors name
    /// the source and the reference, never a value.
    pub fn check_secrets(
        &self,
        resolve: &dyn Fn(&str) -> Result<String, String>,
    ) -> Result<(), ConfigError> {
        self.validate()?;
        for source in self.enabled_sources() {
            let Some(reference) = self.secret_ref(source) else {
                continue;
            };
            match resolve(reference.as_str()) {
                Ok(value) if !value.trim_end_matches(['\r', '\n']).is_empty() => {}
                Ok(_) => {
                    return Err(ConfigError::EmptySecret {
                        name: source.name(),
                        reference: reference.clone(),
                    });
                }
                Err(_) => {
                    return Err(ConfigError::UnresolvedSecret {
                        name: source.name(),
                        reference: reference.clone(),
                    });
                }
            }
        }
        Ok(())
    }
}

fn default_rate_limit() -> u32 {
    DEFAULT_RATE_LIMIT
}

fn rate_limit<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let n = u32::deserialize(d)?;
    if n == 0 {
        return Err(serde::de::Error::custom(ConfigError::ZeroRateLimit));
    }
    Ok(n)
}

/// A source authenticated by a shared secret: `{secret: env:NAME}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretSource {
    /// Where the secret lives.
    pub secret: SecretRef,
}

/// A source authenticated by a bearer-style token: `{token: env:NAME}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenSource {
    /// Where the token lives.
    pub token: SecretRef,
}

/// A reference to a secret: `env:NAME` or `file:PATH`. It holds the
/// reference, not the secret, so it may be displayed and logged.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SecretRef(String);

impl SecretRef {
    /// Parses `env:NAME` (NAME matching `[A-Za-z_][A-Za-z0-9_]*`) or
    /// `file:PATH` (non-empty). The error never repeats the text, which may
    /// be a secret pasted by mistake.
    pub fn parse(text: &str) -> Result<SecretRef, ConfigError> {
        if let Some(name) = text.strip_prefix("env:") {
            let mut chars = name.chars();
            let first_ok = chars
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
            if first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Ok(SecretRef(text.to_owned()));
            }
            return Err(ConfigError::BadReference);
        }
        if let Some(path) = text.strip_prefix("file:") {
            if !path.trim().is_empty() && !path.contains('\0') {
                return Ok(SecretRef(text.to_owned()));
            }
            return Err(ConfigError::BadReference);
        }
        Err(ConfigError::BadReference)
    }

    /// The reference as written, e.g. `env:DIST_TOKEN`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretRef({})", self.0)
    }
}

impl<'de> Deserialize<'de> for SecretRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        SecretRef::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A problem with the `webhooks:` section.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A secret was not written as a reference.
    #[error(
        "a webhook secret must be a reference, `env:NAME` or `file:PATH`, never the secret itself"
    )]
    BadReference,
    /// `rate_limit: 0`.
    #[error("webhooks.rate_limit must be at least 1 request per minute")]
    ZeroRateLimit,
    /// The reference could not be resolved.
    #[error("webhooks.{name}: secret {reference} could not be resolved")]
    UnresolvedSecret {
        /// Source name.
        name: &'static str,
        /// The reference (not the secret).
        reference: SecretRef,
    },
    /// The reference resolved to an empty value.
    #[error("webhooks.{name}: secret {reference} is empty")]
    EmptySecret {
        /// Source name.
        name: &'static str,
        /// The reference (not the secret).
        reference: SecretRef,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> Result<WebhookConfig, String> {
        serde_saphyr::from_str(yaml).map_err(|e| e.to_string())
    }

    #[test]
    fn full_shape_parses() {
        let config = parse(
            "distribution: {token: env:DIST_TOKEN}\n\
             acr: {secret: env:ACR_SECRET}\n\
             eventbridge: {token: file:/run/secrets/eb}\n\
             dockerhub: {secret: env:A}\n\
             harbor: {secret: env:B}\n\
             quay: {secret: env:C}\n\
             ghcr: {secret: env:D}\n\
             azure: {secret: env:E}\n\
             ecr: {secret: env:F}\n\
             rate_limit: 10\n",
        )
        .unwrap();
        assert_eq!(config.enabled_sources(), Source::ALL.to_vec());
        assert_eq!(config.rate_limit, 10);
        assert_eq!(
            config
                .secret_ref(Source::EventBridge)
                .map(SecretRef::as_str),
            Some("file:/run/secrets/eb")
        );
        config.validate().unwrap();
    }

    #[test]
    fn empty_section_disables_everything() {
        let config = parse("{}").unwrap();
        assert!(config.enabled_sources().is_empty());
        assert_eq!(config.rate_limit, DEFAULT_RATE_LIMIT);
        assert_eq!(config, WebhookConfig::default());
    }

    #[test]
    fn unknown_fields_are_refused() {
        assert!(parse("gitlab: {secret: env:X}").is_err());
        assert!(parse("ghcr: {token: env:X}").is_err());
        assert!(parse("distribution: {secret: env:X}").is_err());
        assert!(parse("ghcr: {secret: env:X, extra: 1}").is_err());
    }

    #[test]
    fn literal_secrets_are_refused_without_echo() {
        assert!(parse("ghcr: {secret: hunter2}").is_err());
        // Our message never repeats the value (the YAML parser's snippet of
        // the offending line is the settings loader's concern).
        let err = SecretRef::parse("hunter2").unwrap_err().to_string();
        assert!(!err.contains("hunter2"), "{err}");
        assert!(parse("ghcr: {secret: 'env:'}").is_err());
        assert!(parse("ghcr: {secret: 'env:1X'}").is_err());
        assert!(parse("ghcr: {secret: 'file:'}").is_err());
    }

    #[test]
    fn zero_rate_limit_is_refused() {
        assert!(parse("rate_limit: 0").is_err());
        let config = WebhookConfig {
            rate_limit: 0,
            ..WebhookConfig::default()
        };
        assert_eq!(config.validate(), Err(ConfigError::ZeroRateLimit));
    }

    #[test]
    fn check_secrets_names_reference_only() {
        let config = parse("ghcr: {secret: env:GHCR}\nquay: {secret: env:QUAY}").unwrap();
        let ok = |r: &str| -> Result<String, String> { Ok(format!("value-of-{r}")) };
        config.check_secrets(&ok).unwrap();
        let missing = |r: &str| -> Result<String, String> {
            if r == "env:QUAY" {
                Err("not set".into())
            } else {
                Ok("x".into())
            }
        };
        let err = config.check_secrets(&missing).unwrap_err().to_string();
        assert_eq!(err, "webhooks.quay: secret env:QUAY could not be resolved");
        let empty = |_: &str| -> Result<String, String> { Ok("\n".into()) };
        assert!(matches!(
            config.check_secrets(&empty),
            Err(ConfigError::EmptySecret { .. })
        ));
    }
}
