//! Owns [`Credentials`]: a registry user name and password that must never
//! be printed ([`Secret`], shared with the other crates, comes from
//! `updraft-core`). Its `Debug` shows `***` for the password and it has no
//! `Display`, so a secret cannot reach a log line or an error message by
//! accident.

use base64::Engine as _;

pub use updraft_core::Secret;

/// A user name and password for a registry (also used for tokens passed as
/// passwords, e.g. ACR's `00000000-0000-0000-0000-000000000000` user).
///
/// The user name is not treated as secret: it shows in `Debug` to help find
/// which account is used; the password never does.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Credentials {
    /// The user name.
    pub username: String,
    /// The password or token.
    pub password: Secret,
}

impl Credentials {
    /// Credentials from a user name and a password.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        Self {
            username: username.into(),
            password: Secret::new(password),
        }
    }

    /// Parses `user:password` (split at the first `:`; both parts must be
    /// non-empty, as Image Updater requires for `env:`). Returns `None`
    /// otherwise — the caller words the error, since only it knows where the
    /// text came from, and the text itself must not be echoed.
    pub fn parse_user_pass(text: &str) -> Option<Self> {
        let (user, pass) = text.split_once(':')?;
        if user.is_empty() || pass.is_empty() {
            return None;
        }
        Some(Self::new(user, pass))
    }

    /// The `Authorization: Basic …` value.
    pub(crate) fn basic_authorization(&self) -> Secret {
        let raw = format!("{}:{}", self.username, self.password.expose());
        Secret::new(format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_secret() {
        let creds = Credentials::new("robot", "hunter2");
        let shown = format!("{creds:?}");
        assert!(shown.contains("robot"), "{shown}");
        assert!(shown.contains("***"), "{shown}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert_eq!(format!("{:?}", creds.basic_authorization()), "***");
    }

    #[test]
    fn user_pass_parsing() {
        let c = Credentials::parse_user_pass("u:p:with:colons").unwrap();
        assert_eq!(c.username, "u");
        assert_eq!(c.password.expose(), "p:with:colons");
        assert!(Credentials::parse_user_pass("nocolon").is_none());
        assert!(Credentials::parse_user_pass(":p").is_none());
        assert!(Credentials::parse_user_pass("u:").is_none());
        assert_eq!(
            Credentials::new("user", "pass")
                .basic_authorization()
                .expose(),
            "Basic dXNlcjpwYXNz"
        );
    }
}
