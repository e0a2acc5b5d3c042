//! Owns [`GitError`] (what can go wrong talking to a deployment repository,
//! each message naming the repository and how to fix it) and keeping secrets
//! out of messages: [`redact_url`] and the scrubbing of libgit2's messages.

use std::path::PathBuf;

use thiserror::Error;

/// A git operation that failed. Every message names the repository URL
/// without its secrets ([`redact_url`]) and says how to fix the problem; no
/// message contains a password, token or passphrase.
#[derive(Debug, Error)]
pub enum GitError {
    /// The server refused the credentials, asked for credentials that are not
    /// configured, or could not be trusted (an unknown or changed SSH host
    /// key).
    #[error("authentication failed for {url}; {hint}")]
    Auth {
        /// The repository URL, redacted.
        url: String,
        /// What to check (starts with "check the git credentials" when the
        /// server refused them).
        hint: String,
    },
    /// The repository or a branch does not exist (or is not visible with
    /// these credentials).
    #[error("{url}: {what} not found; {hint}")]
    NotFound {
        /// The repository URL, redacted.
        url: String,
        /// What is missing (`repository`, `branch "main"`).
        what: String,
        /// How to fix it.
        hint: String,
    },
    /// The push was refused: the branch kept moving for `attempts` rounds of
    /// fetch, re-apply and push, or the server refused the update outright
    /// (a protected branch, a hook).
    #[error(
        "push to branch {branch:?} of {url} was rejected after {attempts} attempt(s): {reason}; {hint}"
    )]
    Rejected {
        /// The repository URL, redacted.
        url: String,
        /// The branch pushed to.
        branch: String,
        /// How many pushes were tried.
        attempts: u32,
        /// The last reason given.
        reason: String,
        /// How to fix it.
        hint: String,
    },
    /// The server could not be reached or the transfer broke off.
    #[error(
        "cannot reach {url}: {detail}; check the URL, the network and the proxy settings (http_proxy, https_proxy, no_proxy), then retry"
    )]
    Network {
        /// The repository URL, redacted.
        url: String,
        /// What failed.
        detail: String,
    },
    /// The work directory could not be created or used.
    #[error(
        "{url}: cannot {action} {}: {source}; check that the work directory is writable and the disk has room, or remove it",
        path.display()
    )]
    Io {
        /// The repository URL, redacted.
        url: String,
        /// What was being done (`create the work directory`).
        action: String,
        /// The path concerned.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The edit callback failed (a target file cannot be edited, a path is
    /// not usable). [`push_edits`](super::push_edits) fills in `url` when the
    /// callback left it empty.
    #[error("{}{message}", url_prefix(url))]
    Edit {
        /// The repository URL, redacted (empty until filled in).
        url: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// Anything else (a corrupt work directory, an invalid author).
    #[error("{url}: {detail}")]
    Other {
        /// The repository URL, redacted.
        url: String,
        /// What failed and how to fix it.
        detail: String,
    },
}

fn url_prefix(url: &str) -> String {
    if url.is_empty() {
        String::new()
    } else {
        format!("{url}: ")
    }
}

impl GitError {
    /// A failure of the edit callback, with a message saying what is wrong
    /// and how to fix it; the repository URL is added by
    /// [`push_edits`](super::push_edits).
    pub fn edit(message: impl Into<String>) -> Self {
        GitError::Edit {
            url: String::new(),
            message: message.into(),
        }
    }

    /// A stable short name of the variant (`auth`, `not-found`, `rejected`,
    /// `network`, `io`, `edit`, `other`) for event errors and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            GitError::Auth { .. } => "auth",
            GitError::NotFound { .. } => "not-found",
            GitError::Rejected { .. } => "rejected",
            GitError::Network { .. } => "network",
            GitError::Io { .. } => "io",
            GitError::Edit { .. } => "edit",
            GitError::Other { .. } => "other",
        }
    }

    /// Whether trying again later may succeed without changing anything
    /// (network trouble, a branch that kept moving).
    pub fn is_transient(&self) -> bool {
        matches!(self, GitError::Network { .. })
            || matches!(self, GitError::Rejected { reason, .. } if is_race(reason))
    }

    /// Fills in the repository URL of an [`GitError::Edit`] or
    /// [`GitError::Other`] that has none.
    pub(crate) fn with_url(mut self, redacted: &str) -> Self {
        match &mut self {
            GitError::Edit { url, .. } | GitError::Other { url, .. } if url.is_empty() => {
                *url = redacted.to_string();
            }
            _ => {}
        }
        self
    }
}

/// A message from the edit callback becomes an [`GitError::Edit`].
impl From<String> for GitError {
    fn from(message: String) -> Self {
        GitError::edit(message)
    }
}

impl From<crate::EditError> for GitError {
    fn from(e: crate::EditError) -> Self {
        GitError::edit(e.to_string())
    }
}

/// Whether a push rejection means "the branch moved" (worth a refetch and a
/// retry) rather than a refusal that will not change (a hook, a protected
/// branch).
pub(crate) fn is_race(reason: &str) -> bool {
    let r = reason.to_ascii_lowercase();
    [
        "non-fast-forward",
        "non-fastforward",
        "fetch first",
        "not present locally",
        "stale info",
        "failed to update ref",
        "cannot lock ref",
        "failed to lock",
        "incorrect old value",
        "failed to write",
    ]
    .iter()
    .any(|needle| r.contains(needle))
}

/// `url` with its secrets replaced by `***`: the user-info of `http(s)://`
/// URLs (a token is often the user name), any password, and the query.
/// `ssh://git@host/…` and `git@host:…` keep their (non-secret) user name.
///
/// ```
/// use updraft_gitops::git::redact_url;
/// assert_eq!(redact_url("https://u:p@example.com/org/repo.git"), "https://***@example.com/org/repo.git");
/// assert_eq!(redact_url("ssh://git@example.com:2222/repo.git"), "ssh://git@example.com:2222/repo.git");
/// ```
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        // scp-like `user@host:path` or a local path: no place for a password.
        return url.to_string();
    };
    let scheme = &url[..scheme_end];
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rfind('@') {
        Some(at) => {
            let userinfo = &authority[..at];
            let host = &authority[at + 1..];
            let keep_user = !userinfo.contains(':')
                && !scheme.eq_ignore_ascii_case("http")
                && !scheme.eq_ignore_ascii_case("https");
            if keep_user {
                format!("{userinfo}@{host}")
            } else {
                format!("***@{host}")
            }
        }
        None => authority.to_string(),
    };
    let tail = match tail.find('?') {
        Some(q) => format!("{}?***", &tail[..q]),
        None => tail.to_string(),
    };
    format!("{scheme}://{authority}{tail}")
}

/// The secret parts of a URL: its user-info (user name and password) for
/// http(s), its password for other schemes.
pub(crate) fn url_secrets(url: &str) -> Vec<String> {
    let Some(scheme_end) = url.find("://") else {
        return Vec::new();
    };
    let scheme = &url[..scheme_end];
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let mut secrets = Vec::new();
    if let Some(at) = authority.rfind('@') {
        let userinfo = &authority[..at];
        match userinfo.split_once(':') {
            Some((user, password)) => {
                secrets.push(password.to_string());
                if scheme.starts_with("http") {
                    secrets.push(user.to_string());
                }
            }
            None if scheme.starts_with("http") => secrets.push(userinfo.to_string()),
            None => {}
        }
    }
    if let Some(q) = rest.find('?') {
        secrets.push(rest[q + 1..].to_string());
    }
    secrets.retain(|s| !s.is_empty());
    secrets
}

/// Replaces every secret (and the raw URL) in a message from libgit2 or the
/// server.
pub(crate) fn scrub(
    message: &str,
    raw_url: &str,
    redacted_url: &str,
    secrets: &[String],
) -> String {
    let mut out = message.replace(raw_url, redacted_url);
    for s in secrets {
        // Short values (a user name "git") would mangle ordinary words.
        if s.len() >= 4 {
            out = out.replace(s.as_str(), "***");
        }
    }
    out.trim().trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_userinfo_and_query() {
        assert_eq!(
            redact_url("https://user:pa55@example.com/a.git"),
            "https://***@example.com/a.git"
        );
        assert_eq!(
            redact_url("https://ghp_token@example.com/a.git"),
            "https://***@example.com/a.git"
        );
        assert_eq!(
            redact_url("http://example.com/a.git?private_token=x"),
            "http://example.com/a.git?***"
        );
        assert_eq!(
            redact_url("ssh://git:pw@example.com/a"),
            "ssh://***@example.com/a"
        );
        assert_eq!(
            redact_url("ssh://git@example.com/a"),
            "ssh://git@example.com/a"
        );
        assert_eq!(
            redact_url("git@example.com:org/a.git"),
            "git@example.com:org/a.git"
        );
        assert_eq!(redact_url("file:///srv/git/a.git"), "file:///srv/git/a.git");
        assert_eq!(redact_url("https://u:p@h:8443"), "https://***@h:8443");
    }

    #[test]
    fn secrets_of_a_url() {
        assert_eq!(
            url_secrets("https://user:pa55word@example.com/a.git"),
            ["pa55word", "user"]
        );
        assert_eq!(url_secrets("https://tok3n@h/a"), ["tok3n"]);
        assert!(url_secrets("ssh://git@h/a").is_empty());
        assert!(url_secrets("/srv/a.git").is_empty());
    }

    #[test]
    fn scrub_removes_secrets() {
        let m = scrub(
            "failed for https://u:secret123@h/a: secret123 is wrong.",
            "https://u:secret123@h/a",
            "https://***@h/a",
            &["secret123".to_string()],
        );
        assert_eq!(m, "failed for https://***@h/a: *** is wrong");
    }

    #[test]
    fn race_reasons() {
        assert!(is_race("cannot push non-fastforwardable reference"));
        assert!(is_race("failed to update ref"));
        assert!(is_race(
            "cannot push because a reference that you are trying to update on the remote contains commits that are not present locally."
        ));
        assert!(!is_race("pre-receive hook declined"));
        assert!(!is_race("protected branch hook declined"));
    }

    #[test]
    fn edit_errors_get_the_url() {
        let e = GitError::edit("values.yaml: bad").with_url("https://h/a");
        assert_eq!(e.to_string(), "https://h/a: values.yaml: bad");
        assert_eq!(GitError::edit("x").to_string(), "x");
        assert!(matches!(
            GitError::from("bad".to_string()),
            GitError::Edit { .. }
        ));
    }
}
