//! Owns git credentials ([`GitAuth`], [`Secret`]) and the libgit2 callbacks
//! that use them: user name and password (or token) for HTTPS, a private key
//! for SSH, and the SSH host-key check against known_hosts. What went wrong
//! is recorded in an [`AuthState`] so that the error names the cause without
//! quoting a secret.

use std::cell::{Cell, RefCell};
use std::path::{Path, PathBuf};

use git2::{
    CertificateCheckStatus, Cred, CredentialType, Error, ErrorClass, ErrorCode, RemoteCallbacks,
};

use super::known_hosts::{self, Verdict};

pub use updraft_core::Secret;

/// How to authenticate to the git server.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum GitAuth {
    /// No credentials (a public repository, `file://`, or credentials in the
    /// URL itself).
    #[default]
    None,
    /// HTTP(S) user name and password, or a token as the password (GitHub:
    /// any user name, GitLab: `oauth2`, Bitbucket: `x-token-auth`).
    UserPassword {
        /// The user name.
        username: String,
        /// The password or token.
        password: Secret,
    },
    /// An SSH private key (OpenSSH or PEM format). The user name comes from
    /// the URL (`git@host:…`, `ssh://user@host/…`), `git` when it has none.
    SshKey {
        /// The private key file.
        private_key_path: PathBuf,
        /// The key's passphrase, when it is encrypted.
        passphrase: Option<Secret>,
        /// The known_hosts file the server's host key must be in; `None` =
        /// `~/.ssh/known_hosts` and `/etc/ssh/ssh_known_hosts`.
        known_hosts_path: Option<PathBuf>,
        /// Accept a host that no known_hosts line names (OpenSSH's
        /// `StrictHostKeyChecking=accept-new`, without writing the key
        /// anywhere). A host listed with a *different* key is refused
        /// regardless.
        accept_unknown_hosts: bool,
    },
}

impl GitAuth {
    /// The secret values, for scrubbing messages.
    pub(crate) fn secrets(&self) -> Vec<String> {
        match self {
            GitAuth::None => Vec::new(),
            GitAuth::UserPassword { password, .. } => vec![password.expose().to_string()],
            GitAuth::SshKey { passphrase, .. } => {
                passphrase.iter().map(|p| p.expose().to_string()).collect()
            }
        }
    }
}

/// Why authentication failed, recorded by the callbacks of one connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AuthFailure {
    /// The server refused the credentials it was given.
    Refused,
    /// The server asked for credentials and none are configured.
    NoCredentials {
        /// The URL carried a user name or password of its own.
        url_had_userinfo: bool,
    },
    /// The server asked for a kind of credential that is not configured.
    WrongKind(String),
    /// The private key file is missing.
    KeyMissing(PathBuf),
    /// The SSH host key is not trusted; says why and what to do.
    HostKey(String),
}

impl AuthFailure {
    /// The hint of the [`GitError::Auth`](super::GitError::Auth) message.
    pub(crate) fn hint(&self) -> String {
        match self {
            AuthFailure::Refused => {
                "check the git credentials (the server refused them: a wrong user name, password or token, an expired token, or a key the server does not know)".to_string()
            }
            AuthFailure::NoCredentials { url_had_userinfo: true } => {
                "check the git credentials (the server refused the user name and password in the URL; configure credentials for the repository instead)".to_string()
            }
            AuthFailure::NoCredentials { url_had_userinfo: false } => {
                "check the git credentials (the server asks for credentials and none are configured for this repository)".to_string()
            }
            AuthFailure::WrongKind(what) => format!("check the git credentials ({what})"),
            AuthFailure::KeyMissing(path) => format!(
                "check the git credentials (the SSH private key {} does not exist)",
                path.display()
            ),
            AuthFailure::HostKey(why) => why.clone(),
        }
    }
}

/// What the callbacks of one connection saw.
#[derive(Debug, Default)]
pub(crate) struct AuthState {
    password_tries: Cell<u32>,
    key_tries: Cell<u32>,
    failure: RefCell<Option<AuthFailure>>,
}

impl AuthState {
    /// Why authentication failed, if it did.
    pub(crate) fn failure(&self) -> Option<AuthFailure> {
        self.failure.borrow().clone()
    }

    fn fail(&self, failure: AuthFailure) -> Error {
        *self.failure.borrow_mut() = Some(failure);
        // The message is replaced by the caller, which knows the URL.
        Error::new(
            ErrorCode::Auth,
            ErrorClass::Callback,
            "authentication failed",
        )
    }
}

/// Where an SSH URL points, for the host-key check (libgit2 passes the host
/// but not the port).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SshTarget {
    /// The port, 22 when the URL has none.
    pub port: u16,
}

/// The port of an `ssh://` or scp-like URL; `None` for other URLs.
pub(crate) fn ssh_target(url: &str) -> Option<SshTarget> {
    if let Some(rest) = url
        .strip_prefix("ssh://")
        .or_else(|| url.strip_prefix("git+ssh://"))
        .or_else(|| url.strip_prefix("ssh+git://"))
    {
        let authority = &rest[..rest.find('/').unwrap_or(rest.len())];
        let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        // `[::1]:2222`, `host:2222`, `host`
        let port = if let Some(end) = host_port.rfind(']') {
            host_port[end + 1..]
                .strip_prefix(':')
                .and_then(|p| p.parse().ok())
        } else {
            host_port.rsplit_once(':').and_then(|(_, p)| p.parse().ok())
        };
        return Some(SshTarget {
            port: port.unwrap_or(22),
        });
    }
    if url.contains("://") {
        return None;
    }
    // scp-like `[user@]host:path` (a colon before any slash); a plain local
    // path has none.
    let colon = url.find(':')?;
    if url[..colon].contains('/') {
        return None;
    }
    Some(SshTarget { port: 22 })
}

/// Whether a URL carries a user name or password of its own.
pub(crate) fn url_has_userinfo(url: &str) -> bool {
    url.split_once("://").is_some_and(|(_, rest)| {
        let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
        authority.contains('@')
    })
}

/// Callbacks that authenticate with `auth` and check SSH host keys,
/// recording failures in `state`. `url` is the repository URL as given.
pub(crate) fn callbacks<'a>(
    auth: &'a GitAuth,
    url: &str,
    state: &'a AuthState,
) -> RemoteCallbacks<'a> {
    let mut cb = RemoteCallbacks::new();
    let had_userinfo = url_has_userinfo(url);
    cb.credentials(move |_url, username_from_url, allowed| {
        credential(auth, state, had_userinfo, username_from_url, allowed)
    });
    let port = ssh_target(url).map_or(22, |t| t.port);
    cb.certificate_check(move |cert, host| {
        let Some(hostkey) = cert.as_hostkey() else {
            // TLS: libgit2's (OpenSSL's) verification decides.
            return Ok(CertificateCheckStatus::CertificatePassthrough);
        };
        let (known_hosts_path, accept_unknown) = match auth {
            GitAuth::SshKey {
                known_hosts_path,
                accept_unknown_hosts,
                ..
            } => (known_hosts_path.as_deref(), *accept_unknown_hosts),
            _ => (None, false),
        };
        let key = hostkey.hostkey().unwrap_or_default();
        let key_type = hostkey.hostkey_type().map_or("unknown", |t| t.name());
        let sha256 = hostkey
            .hash_sha256()
            .map(|h| h.as_slice())
            .unwrap_or_default();
        match check_host_key(
            known_hosts_path,
            accept_unknown,
            host,
            port,
            key_type,
            key,
            sha256,
        ) {
            Ok(()) => Ok(CertificateCheckStatus::CertificateOk),
            Err(why) => {
                *state.failure.borrow_mut() = Some(AuthFailure::HostKey(why));
                Err(Error::new(
                    ErrorCode::Certificate,
                    ErrorClass::Ssh,
                    "host key not trusted",
                ))
            }
        }
    });
    cb
}

fn credential(
    auth: &GitAuth,
    state: &AuthState,
    url_had_userinfo: bool,
    username_from_url: Option<&str>,
    allowed: CredentialType,
) -> Result<Cred, Error> {
    match auth {
        GitAuth::None => Err(state.fail(AuthFailure::NoCredentials { url_had_userinfo })),
        GitAuth::UserPassword { username, password } => {
            if !allowed.contains(CredentialType::USER_PASS_PLAINTEXT) {
                return Err(state.fail(AuthFailure::WrongKind(
                    "the server asks for an SSH key, and a user name and password are configured; use an https:// URL or an SSH key".to_string(),
                )));
            }
            let tries = state.password_tries.get() + 1;
            state.password_tries.set(tries);
            if tries > 1 {
                // libgit2 asks again after a 401: the first answer was wrong.
                return Err(state.fail(AuthFailure::Refused));
            }
            Cred::userpass_plaintext(username, password.expose())
        }
        GitAuth::SshKey {
            private_key_path,
            passphrase,
            ..
        } => {
            let user = username_from_url.unwrap_or("git");
            if allowed.contains(CredentialType::USERNAME) {
                return Cred::username(user);
            }
            if !allowed.contains(CredentialType::SSH_KEY) {
                return Err(state.fail(AuthFailure::WrongKind(
                    "the server asks for a user name and password, and an SSH key is configured; use an ssh:// URL or a user name and password".to_string(),
                )));
            }
            let tries = state.key_tries.get() + 1;
            state.key_tries.set(tries);
            if tries > 1 {
                return Err(state.fail(AuthFailure::Refused));
            }
            if !private_key_path.is_file() {
                return Err(state.fail(AuthFailure::KeyMissing(private_key_path.clone())));
            }
            Cred::ssh_key(
                user,
                None,
                private_key_path,
                passphrase.as_ref().map(Secret::expose),
            )
        }
    }
}

/// Checks an SSH host key (raw wire bytes `key` of type `key_type`, SHA-256
/// `sha256`) of `host`:`port` against known_hosts. `Err` says why the host
/// is not trusted and how to fix it.
pub(crate) fn check_host_key(
    known_hosts_path: Option<&Path>,
    accept_unknown: bool,
    host: &str,
    port: u16,
    key_type: &str,
    key: &[u8],
    sha256: &[u8],
) -> Result<(), String> {
    let shown = known_hosts::lookup_name(host, port);
    let fingerprint = known_hosts::fingerprint(sha256);
    if key.is_empty() {
        return if accept_unknown {
            tracing::warn!(host = %shown, %fingerprint, "SSH host key accepted unchecked (accept_unknown_hosts): libssh2 did not expose the raw key");
            Ok(())
        } else {
            Err(format!(
                "the SSH host key of {shown} ({fingerprint}) cannot be checked against known_hosts (libssh2 did not expose the raw key); set accept_unknown_hosts to trust it"
            ))
        };
    }
    let files = known_hosts::load(known_hosts_path)?;
    let where_ = match known_hosts_path {
        Some(p) => p.display().to_string(),
        None => "~/.ssh/known_hosts or /etc/ssh/ssh_known_hosts".to_string(),
    };
    match known_hosts::check(&files, host, port, key_type, key) {
        Verdict::Known => Ok(()),
        Verdict::Revoked { at } => Err(format!(
            "the SSH host key of {shown} ({key_type} {fingerprint}) is marked @revoked at {at}; the server must get a new host key"
        )),
        Verdict::Changed { at } => Err(format!(
            "the SSH host key of {shown} ({key_type} {fingerprint}) differs from the one at {at}: the server's key changed, or someone is intercepting the connection; verify the new key with the server's operator, then replace that line"
        )),
        Verdict::Unknown if accept_unknown => {
            tracing::warn!(host = %shown, key_type, %fingerprint, "unknown SSH host key accepted (accept_unknown_hosts)");
            Ok(())
        }
        Verdict::Unknown => Err(format!(
            "the SSH host key of {shown} ({key_type} {fingerprint}) is not in {where_}; after verifying the fingerprint with the server's operator, add the line `{}` there (or set accept_unknown_hosts)",
            known_hosts::line_for(host, port, key_type, key)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    #[test]
    fn secret_debug_is_masked() {
        let auth = GitAuth::UserPassword {
            username: "u".into(),
            password: Secret::new("hunter22"),
        };
        let shown = format!("{auth:?}");
        assert!(!shown.contains("hunter22"), "{shown}");
        assert!(shown.contains("***"));
        let ssh = GitAuth::SshKey {
            private_key_path: "/k".into(),
            passphrase: Some("open sesame".into()),
            known_hosts_path: None,
            accept_unknown_hosts: false,
        };
        assert!(!format!("{ssh:?}").contains("sesame"));
    }

    #[test]
    fn ssh_ports() {
        assert_eq!(
            ssh_target("ssh://git@h:2222/r.git"),
            Some(SshTarget { port: 2222 })
        );
        assert_eq!(ssh_target("ssh://h/r.git"), Some(SshTarget { port: 22 }));
        assert_eq!(
            ssh_target("ssh://git@[::1]:2200/r"),
            Some(SshTarget { port: 2200 })
        );
        assert_eq!(
            ssh_target("git@github.com:org/r.git"),
            Some(SshTarget { port: 22 })
        );
        assert_eq!(ssh_target("https://h/r.git"), None);
        assert_eq!(ssh_target("/srv/git/r.git"), None);
        assert_eq!(ssh_target("./a:b"), None);
    }

    #[test]
    fn userinfo_detection() {
        assert!(url_has_userinfo("https://u:p@h/r"));
        assert!(!url_has_userinfo("https://h/r@x"));
        assert!(!url_has_userinfo("git@h:r"));
    }

    fn state_after(auth: &GitAuth, calls: &[CredentialType]) -> (Vec<bool>, Option<AuthFailure>) {
        let state = AuthState::default();
        let results = calls
            .iter()
            .map(|allowed| credential(auth, &state, false, Some("git"), *allowed).is_ok())
            .collect();
        (results, state.failure())
    }

    #[test]
    fn password_is_offered_once() {
        let auth = GitAuth::UserPassword {
            username: "u".into(),
            password: Secret::new("p"),
        };
        let plain = CredentialType::USER_PASS_PLAINTEXT;
        let (ok, failure) = state_after(&auth, &[plain, plain]);
        assert_eq!(ok, [true, false]);
        assert_eq!(failure, Some(AuthFailure::Refused));
        let (ok, failure) = state_after(&auth, &[CredentialType::SSH_KEY]);
        assert_eq!(ok, [false]);
        assert!(matches!(failure, Some(AuthFailure::WrongKind(_))));
        let (ok, failure) = state_after(&GitAuth::None, &[plain]);
        assert_eq!(ok, [false]);
        assert_eq!(
            failure,
            Some(AuthFailure::NoCredentials {
                url_had_userinfo: false
            })
        );
    }

    #[test]
    fn ssh_key_credentials() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("id_ed25519");
        let auth = |path: &Path| GitAuth::SshKey {
            private_key_path: path.to_path_buf(),
            passphrase: None,
            known_hosts_path: None,
            accept_unknown_hosts: false,
        };
        let (ok, failure) = state_after(
            &auth(&key),
            &[CredentialType::USERNAME, CredentialType::SSH_KEY],
        );
        assert_eq!(ok, [true, false]);
        assert_eq!(failure, Some(AuthFailure::KeyMissing(key.clone())));
        std::fs::write(&key, "not really a key").unwrap();
        let (ok, failure) = state_after(
            &auth(&key),
            &[CredentialType::SSH_KEY, CredentialType::SSH_KEY],
        );
        assert_eq!(ok, [true, false]);
        assert_eq!(failure, Some(AuthFailure::Refused));
        let (ok, _) = state_after(&auth(&key), &[CredentialType::USER_PASS_PLAINTEXT]);
        assert_eq!(ok, [false]);
    }

    #[test]
    fn host_key_policy() {
        let dir = tempfile::tempdir().unwrap();
        let kh = dir.path().join("known_hosts");
        let key = b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20KKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKK";
        let other = b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20OOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOO";
        let b64 = base64::engine::general_purpose::STANDARD.encode(key);
        std::fs::write(&kh, format!("[git.example.com]:2222 ssh-ed25519 {b64}\n")).unwrap();
        let sha = [7u8; 32];
        let ed = "ssh-ed25519";
        let check = |host, port, key: &[u8], accept| {
            check_host_key(Some(&kh), accept, host, port, ed, key, &sha)
        };
        assert_eq!(check("git.example.com", 2222, key, false), Ok(()));
        let unknown = check("git.example.com", 22, key, false).unwrap_err();
        assert!(unknown.contains("is not in"), "{unknown}");
        assert!(
            unknown.contains(&format!("git.example.com ssh-ed25519 {b64}")),
            "{unknown}"
        );
        assert_eq!(check("git.example.com", 22, key, true), Ok(()));
        let changed = check("git.example.com", 2222, other, true).unwrap_err();
        assert!(changed.contains("differs"), "{changed}");
        let missing = check_host_key(
            Some(&dir.path().join("nope")),
            false,
            "h",
            22,
            ed,
            key,
            &sha,
        )
        .unwrap_err();
        assert!(
            missing.contains("cannot read the known_hosts file"),
            "{missing}"
        );
        assert!(check("h", 22, &[], false).is_err());
        assert_eq!(check("h", 22, &[], true), Ok(()));
    }
}
