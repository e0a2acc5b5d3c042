//! Owns the authentication protocol pieces: parsing `WWW-Authenticate`
//! challenges ([`Challenge`]), the Bearer token scope for a repository, and
//! the token server's answer. The client (`client.rs`) decides when to use
//! them.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

/// What a registry asked for in a `401`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    /// `Basic realm="…"`.
    Basic,
    /// `Bearer realm="…",service="…",scope="…"`.
    Bearer {
        /// The token endpoint URL.
        realm: String,
        /// The `service` parameter to send back.
        service: Option<String>,
        /// The scope the registry named, if any.
        scope: Option<String>,
        /// The `error` parameter (`invalid_token`, `insufficient_scope`).
        error: Option<String>,
    },
}

/// Parses every challenge of one or more `WWW-Authenticate` values
/// (`Bearer realm="a",service="b", Basic realm="c"`). Unknown schemes are
/// skipped; a Bearer challenge without a realm is skipped.
pub fn parse_challenges<'a>(values: impl IntoIterator<Item = &'a str>) -> Vec<Challenge> {
    let mut out = Vec::new();
    for value in values {
        for (scheme, params) in split_challenges(value) {
            match scheme.to_ascii_lowercase().as_str() {
                "basic" => out.push(Challenge::Basic),
                "bearer" => {
                    if let Some(realm) = params.get("realm").filter(|r| !r.is_empty()) {
                        out.push(Challenge::Bearer {
                            realm: realm.clone(),
                            service: params.get("service").cloned(),
                            scope: params.get("scope").cloned(),
                            error: params.get("error").cloned(),
                        });
                    }
                }
                _ => {}
            }
        }
    }
    out
}

/// Splits a header value into `(scheme, params)`; parameter names are
/// lower-cased, quoted values unescaped.
fn split_challenges(value: &str) -> Vec<(String, BTreeMap<String, String>)> {
    let chars: Vec<char> = value.chars().collect();
    let mut i = 0;
    let mut out: Vec<(String, BTreeMap<String, String>)> = Vec::new();
    let skip_ws = |i: &mut usize| {
        while *i < chars.len() && (chars[*i].is_whitespace() || chars[*i] == ',') {
            *i += 1;
        }
    };
    let read_token = |i: &mut usize| {
        let start = *i;
        while *i < chars.len() && !chars[*i].is_whitespace() && !matches!(chars[*i], ',' | '=') {
            *i += 1;
        }
        chars[start..*i].iter().collect::<String>()
    };
    loop {
        skip_ws(&mut i);
        if i >= chars.len() {
            break;
        }
        let token = read_token(&mut i);
        if token.is_empty() {
            i += 1;
            continue;
        }
        // Look past spaces: `=` means a parameter of the current challenge.
        let mut j = i;
        while j < chars.len() && chars[j] == ' ' {
            j += 1;
        }
        if j < chars.len() && chars[j] == '=' && !out.is_empty() {
            i = j + 1;
            while i < chars.len() && chars[i] == ' ' {
                i += 1;
            }
            let value = if i < chars.len() && chars[i] == '"' {
                i += 1;
                let mut v = String::new();
                while i < chars.len() && chars[i] != '"' {
                    if chars[i] == '\\' && i + 1 < chars.len() {
                        i += 1;
                    }
                    v.push(chars[i]);
                    i += 1;
                }
                i += 1; // closing quote
                v
            } else {
                let start = i;
                while i < chars.len() && chars[i] != ',' && !chars[i].is_whitespace() {
                    i += 1;
                }
                chars[start..i].iter().collect()
            };
            if let Some((_, params)) = out.last_mut() {
                params.insert(token.to_ascii_lowercase(), value);
            }
        } else {
            out.push((token, BTreeMap::new()));
        }
    }
    out
}

/// The pull scope for a repository. Azure Container Registry needs
/// `metadata_read` and `content_read` as well (Image Updater #1515).
pub fn pull_scope(repository: &str, azure: bool) -> String {
    if azure {
        format!("repository:{repository}:pull,metadata_read,content_read")
    } else {
        format!("repository:{repository}:pull")
    }
}

/// A token server's answer (Docker token spec; OAuth2 servers send
/// `access_token`). `Debug` shows whether a token came, never the token.
#[derive(Deserialize)]
pub struct TokenResponse {
    /// The token (Docker).
    #[serde(default)]
    pub token: Option<String>,
    /// The token (OAuth2).
    #[serde(default)]
    pub access_token: Option<String>,
    /// Lifetime in seconds.
    #[serde(default)]
    pub expires_in: Option<i64>,
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = |t: &Option<String>| t.as_ref().map(|_| "<redacted>");
        f.debug_struct("TokenResponse")
            .field("token", &shown(&self.token))
            .field("access_token", &shown(&self.access_token))
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// The spec's minimum token lifetime, also the default.
pub const MIN_TOKEN_LIFETIME: Duration = Duration::from_secs(60);

/// The longest lifetime a token is trusted for, whatever the server says:
/// a day (a larger `expires_in` would only delay a refresh, and an absurd
/// one would overflow the clock).
pub const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);

impl TokenResponse {
    /// The token, whichever field carried it.
    pub fn into_token(self) -> Option<(String, Duration)> {
        let lifetime = self
            .expires_in
            .and_then(|s| u64::try_from(s).ok())
            .map(Duration::from_secs)
            .unwrap_or(MIN_TOKEN_LIFETIME)
            .clamp(MIN_TOKEN_LIFETIME, MAX_TOKEN_LIFETIME);
        self.token
            .filter(|t| !t.is_empty())
            .or(self.access_token.filter(|t| !t.is_empty()))
            .map(|t| (t, lifetime))
    }
}

/// How long before its expiry a token is replaced: 5 % of its lifetime, at
/// most 30 s, so a request never starts with a token about to lapse.
pub fn refresh_margin(lifetime: Duration) -> Duration {
    (lifetime / 20).min(Duration::from_secs(30))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_and_basic_challenges() {
        let c = parse_challenges([
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push""#,
        ]);
        assert_eq!(
            c,
            vec![Challenge::Bearer {
                realm: "https://auth.docker.io/token".into(),
                service: Some("registry.docker.io".into()),
                scope: Some("repository:samalba/my-app:pull,push".into()),
                error: None,
            }]
        );
        let c = parse_challenges([r#"Basic realm="test-registry""#]);
        assert_eq!(c, vec![Challenge::Basic]);
        let c = parse_challenges([
            r#"Bearer realm="http://a/t", service=svc ,error="insufficient_scope", Basic realm="x\"y""#,
        ]);
        assert_eq!(c.len(), 2);
        assert!(
            matches!(&c[0], Challenge::Bearer { service: Some(s), error: Some(e), .. } if s == "svc" && e == "insufficient_scope")
        );
        assert_eq!(c[1], Challenge::Basic);
        assert!(parse_challenges(["Negotiate", "Bearer service=x"]).is_empty());
        assert!(parse_challenges([""]).is_empty());
    }

    #[test]
    fn scopes_and_tokens() {
        assert_eq!(pull_scope("team/app", false), "repository:team/app:pull");
        assert_eq!(
            pull_scope("team/app", true),
            "repository:team/app:pull,metadata_read,content_read"
        );
        let t: TokenResponse =
            serde_json::from_str(r#"{"access_token":"a","expires_in":10}"#).unwrap();
        assert_eq!(t.into_token(), Some(("a".into(), MIN_TOKEN_LIFETIME)));
        let t: TokenResponse =
            serde_json::from_str(r#"{"token":"t","access_token":"a","expires_in":300}"#).unwrap();
        assert_eq!(t.into_token(), Some(("t".into(), Duration::from_secs(300))));
        let t: TokenResponse = serde_json::from_str(r#"{"expires_in":300}"#).unwrap();
        assert_eq!(t.into_token(), None);
        // An absurd lifetime is capped (no clock overflow), and Debug hides
        // the token.
        let t: TokenResponse =
            serde_json::from_str(r#"{"token":"sekrit","expires_in":9223372036854775807}"#).unwrap();
        assert!(!format!("{t:?}").contains("sekrit"));
        assert_eq!(t.into_token(), Some(("sekrit".into(), MAX_TOKEN_LIFETIME)));
        assert_eq!(
            refresh_margin(Duration::from_secs(300)),
            Duration::from_secs(15)
        );
        assert_eq!(
            refresh_margin(Duration::from_secs(3600)),
            Duration::from_secs(30)
        );
    }
}
