//! Owns [`CredentialRef`]: the grammar of credential references (pull
//! secrets and registry credentials). It only parses and validates; nothing
//! here resolves a reference, and the type holds no secret value, so `Debug`
//! and `Display` are safe to log.
//!
//! Grammar, as Image Updater's `ParseCredentialSource`, plus Updraft's
//! `file:`:
//!
//! ```text
//! [<registry>=]pullsecret:<namespace>/<name>
//! [<registry>=]secret:<namespace>/<name>#<field>
//! [<registry>=]env:<VARIABLE>
//! [<registry>=]ext:<absolute path of a script>
//! [<registry>=]file:<path>
//! ```
//!
//! The source type is case-insensitive. The part after the type may not hold
//! another `:`. Image Updater only notices a relative `ext:` path when it runs
//! the script; here it is rejected up front.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// A credential reference that cannot be parsed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error(
    "credential reference \"{value}\" is invalid: {problem} (use pullsecret:<namespace>/<name>, secret:<namespace>/<name>#<field>, env:<VARIABLE>, ext:</absolute/script> or file:<path>, optionally after <registry>=)"
)]
pub struct CredentialError {
    /// The reference as given.
    pub value: String,
    /// What is wrong.
    pub problem: String,
}

/// Where credentials come from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CredentialSource {
    /// A `kubernetes.io/dockerconfigjson` secret (`pullsecret:ns/name`).
    PullSecret {
        /// The secret's namespace.
        namespace: String,
        /// The secret's name.
        name: String,
    },
    /// One field of a secret holding `user:password` (`secret:ns/name#field`).
    Secret {
        /// The secret's namespace.
        namespace: String,
        /// The secret's name.
        name: String,
        /// The field holding `user:password`.
        field: String,
    },
    /// An environment variable holding `user:password` (`env:NAME`).
    Env {
        /// The variable's name.
        variable: String,
    },
    /// A script printing `user:password` (`ext:/path`).
    Ext {
        /// Absolute path of the script.
        path: String,
    },
    /// A file holding `user:password` (`file:path`, Updraft only).
    File {
        /// Path of the file.
        path: String,
    },
}

/// A parsed credential reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CredentialRef {
    /// The registry the credentials are for (`gcr.io=` prefix), if given.
    pub registry: Option<String>,
    /// Where the credentials come from.
    pub source: CredentialSource,
}

impl CredentialRef {
    /// Parses a reference; the `<registry>=` prefix is optional.
    pub fn parse(value: &str) -> Result<Self, CredentialError> {
        parse(value, false)
    }

    /// Parses a reference that must start with `<registry>=`.
    pub fn parse_with_registry(value: &str) -> Result<Self, CredentialError> {
        parse(value, true)
    }
}

fn parse(value: &str, require_registry: bool) -> Result<CredentialRef, CredentialError> {
    let trimmed = value.trim();
    let bad = |problem: &str| CredentialError {
        value: trimmed.to_string(),
        problem: problem.to_string(),
    };
    if trimmed.is_empty() {
        return Err(bad("it is empty"));
    }
    let (registry, definition) = match trimmed.split_once('=') {
        Some(("", _)) => return Err(bad("the registry before '=' is empty")),
        Some((_, "")) => return Err(bad("nothing follows '='")),
        Some((registry, definition)) => (Some(registry.to_string()), definition),
        None if require_registry => return Err(bad("it must start with <registry>=")),
        None => (None, trimmed),
    };
    let mut tokens = definition.split(':');
    let (kind, rest) = match (tokens.next(), tokens.next(), tokens.next()) {
        (Some(kind), Some(rest), None) if !kind.is_empty() && !rest.is_empty() => (kind, rest),
        (_, _, Some(_)) => return Err(bad("it has more than one ':' after the registry")),
        _ => return Err(bad("it is not <type>:<value>")),
    };
    let source = match kind.to_ascii_lowercase().as_str() {
        "pullsecret" => {
            let (namespace, name) = namespace_name(rest)
                .ok_or_else(|| bad("a pull secret must be pullsecret:<namespace>/<name>"))?;
            CredentialSource::PullSecret { namespace, name }
        }
        "secret" => {
            let mut parts = rest.split('#');
            let (secret, field) = match (parts.next(), parts.next(), parts.next()) {
                (Some(secret), Some(field), None) if !secret.is_empty() && !field.is_empty() => {
                    (secret, field)
                }
                _ => return Err(bad("a secret must be secret:<namespace>/<name>#<field>")),
            };
            let (namespace, name) = namespace_name(secret)
                .ok_or_else(|| bad("a secret must be secret:<namespace>/<name>#<field>"))?;
            CredentialSource::Secret {
                namespace,
                name,
                field: field.to_string(),
            }
        }
        "env" => CredentialSource::Env {
            variable: rest.to_string(),
        },
        "ext" => {
            if !rest.starts_with('/') {
                return Err(bad("the ext: script path must be absolute"));
            }
            CredentialSource::Ext {
                path: rest.to_string(),
            }
        }
        "file" => CredentialSource::File {
            path: rest.to_string(),
        },
        _ => return Err(bad(&format!("unknown credential type '{kind}'"))),
    };
    Ok(CredentialRef { registry, source })
}

/// `<namespace>/<name>`, both non-empty, exactly one `/`.
fn namespace_name(text: &str) -> Option<(String, String)> {
    let mut parts = text.split('/');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(ns), Some(name), None) if !ns.is_empty() && !name.is_empty() => {
            Some((ns.to_string(), name.to_string()))
        }
        _ => None,
    }
}

impl std::fmt::Display for CredentialRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(registry) = &self.registry {
            write!(f, "{registry}=")?;
        }
        match &self.source {
            CredentialSource::PullSecret { namespace, name } => {
                write!(f, "pullsecret:{namespace}/{name}")
            }
            CredentialSource::Secret {
                namespace,
                name,
                field,
            } => write!(f, "secret:{namespace}/{name}#{field}"),
            CredentialSource::Env { variable } => write!(f, "env:{variable}"),
            CredentialSource::Ext { path } => write!(f, "ext:{path}"),
            CredentialSource::File { path } => write!(f, "file:{path}"),
        }
    }
}

impl std::str::FromStr for CredentialRef {
    type Err = CredentialError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for CredentialRef {
    type Error = CredentialError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<CredentialRef> for String {
    fn from(reference: CredentialRef) -> Self {
        reference.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_references_from_image_updater() {
        let r = CredentialRef::parse("gcr.io=secret:mynamespace/mysecret#anyfield").unwrap();
        assert_eq!(r.registry.as_deref(), Some("gcr.io"));
        assert_eq!(
            r.source,
            CredentialSource::Secret {
                namespace: "mynamespace".into(),
                name: "mysecret".into(),
                field: "anyfield".into()
            }
        );
        let r = CredentialRef::parse("gcr.io=pullsecret:mynamespace/mysecret").unwrap();
        assert_eq!(
            r.source,
            CredentialSource::PullSecret {
                namespace: "mynamespace".into(),
                name: "mysecret".into()
            }
        );
        let r = CredentialRef::parse("env:DUMMY_SECRET").unwrap();
        assert_eq!(r.registry, None);
        assert_eq!(
            r.source,
            CredentialSource::Env {
                variable: "DUMMY_SECRET".into()
            }
        );
        let r = CredentialRef::parse("ext:/usr/local/bin/ecr-login.sh").unwrap();
        assert_eq!(
            r.source,
            CredentialSource::Ext {
                path: "/usr/local/bin/ecr-login.sh".into()
            }
        );
        let r = CredentialRef::parse("secret:ns/s#f").unwrap();
        assert_eq!(r.registry, None);
        let r = CredentialRef::parse("SECRET:ns/s#f").unwrap();
        assert!(matches!(r.source, CredentialSource::Secret { .. }));
    }

    #[test]
    fn file_references() {
        let r = CredentialRef::parse("acr=file:/run/secrets/acr").unwrap();
        assert_eq!(r.registry.as_deref(), Some("acr"));
        assert_eq!(
            r.source,
            CredentialSource::File {
                path: "/run/secrets/acr".into()
            }
        );
        assert!(CredentialRef::parse("file:relative/creds").is_ok());
    }

    #[test]
    fn invalid_references_from_image_updater() {
        for (input, needle) in [
            ("secret:ns/s#", "secret:<namespace>/<name>#<field>"),
            ("secret:/s#f", "secret:<namespace>/<name>#<field>"),
            ("secret:ns/#f", "secret:<namespace>/<name>#<field>"),
            ("secret:", "not <type>:<value>"),
            ("pullsecret:/s", "pullsecret:<namespace>/<name>"),
            ("pullsecret:ns", "pullsecret:<namespace>/<name>"),
            ("secrets:ns/s#f", "unknown credential type 'secrets'"),
            ("=secret:ns/s#f", "registry before '=' is empty"),
            ("gcr.io=", "nothing follows '='"),
            ("", "it is empty"),
            ("env", "not <type>:<value>"),
            ("ext:relative.sh", "must be absolute"),
            ("ext:/a:b", "more than one ':'"),
            ("secret:ns/s#f#g", "secret:<namespace>/<name>#<field>"),
            ("pullsecret:a/b/c", "pullsecret:<namespace>/<name>"),
        ] {
            let err = CredentialRef::parse(input).unwrap_err().to_string();
            assert!(err.contains(needle), "{input}: {err}");
            assert!(err.contains(&format!("\"{input}\"")), "{input}: {err}");
        }
    }

    #[test]
    fn registry_prefix_can_be_required() {
        assert!(CredentialRef::parse_with_registry("gcr.io=env:X").is_ok());
        let err = CredentialRef::parse_with_registry("env:X").unwrap_err();
        assert!(err.to_string().contains("must start with <registry>="));
    }

    #[test]
    fn display_round_trips_and_serde() {
        for input in [
            "gcr.io=secret:ns/s#f",
            "pullsecret:argocd/acr",
            "env:ACR_CREDS",
            "ext:/bin/x",
            "file:/x",
        ] {
            let r = CredentialRef::parse(input).unwrap();
            assert_eq!(r.to_string(), input);
        }
        let r: CredentialRef = serde_json::from_str("\"env:X\"").unwrap();
        assert_eq!(serde_json::to_string(&r).unwrap(), "\"env:X\"");
        assert!(format!("{r:?}").contains("Env"));
    }
}
