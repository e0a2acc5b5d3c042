//! Owns the steps of one write-back against the work directory (a bare
//! repository that caches the remote's objects between runs): finding the
//! default branch, fetching the branches, reading files of a commit,
//! building a commit from file edits, and pushing it without force. Each step
//! maps libgit2's errors to [`GitError`] with the repository URL redacted and
//! secrets scrubbed.

use std::collections::BTreeMap;
use std::path::Path;

use git2::{
    AutotagOption, Direction, ErrorClass, ErrorCode, FetchOptions, Index, IndexEntry, IndexTime,
    Oid, ProxyOptions, PushOptions, Repository, Signature, Tree,
};

use super::auth::{self, AuthState, GitAuth};
use super::error::{self, GitError};
use super::{Author, FileEdit};

/// The remote of one push: its URL, credentials, and what to scrub from
/// messages.
pub(crate) struct Remote<'a> {
    /// The URL as given (may hold credentials: never shown).
    pub url: &'a str,
    /// The URL for messages.
    pub redacted: String,
    /// The credentials.
    pub auth: &'a GitAuth,
    secrets: Vec<String>,
}

/// Why a push did not land.
pub(crate) enum PushFailure {
    /// The branch moved (or the server could not lock it): refetch and retry.
    Race(String),
    /// The server refused the update for good (a hook, a protected branch).
    Refused(String),
    /// Anything else.
    Error(GitError),
}

impl<'a> Remote<'a> {
    pub(crate) fn new(url: &'a str, auth: &'a GitAuth) -> Self {
        let mut secrets = auth.secrets();
        secrets.extend(error::url_secrets(url));
        Remote {
            url,
            redacted: error::redact_url(url),
            auth,
            secrets,
        }
    }

    fn scrub(&self, message: &str) -> String {
        error::scrub(message, self.url, &self.redacted, &self.secrets)
    }

    /// Maps a libgit2 error of a network operation (`doing`: `fetch`,
    /// `push`, …), using what the auth callbacks recorded.
    fn network_error(&self, e: &git2::Error, state: &AuthState, doing: &str) -> GitError {
        let url = self.redacted.clone();
        if let Some(failure) = state.failure() {
            return GitError::Auth {
                url,
                hint: failure.hint(),
            };
        }
        let message = self.scrub(e.message());
        let lower = message.to_ascii_lowercase();
        match (e.code(), e.class()) {
            (ErrorCode::Auth, _) => GitError::Auth {
                url,
                hint: format!("check the git credentials ({message})"),
            },
            _ if lower.contains("status code: 401") || lower.contains("status code: 403") => {
                GitError::Auth {
                    url,
                    hint: format!(
                        "check the git credentials and that they may {doing} this repository ({message})"
                    ),
                }
            }
            _ if lower.contains("status code: 404")
                || lower.contains("repository not found")
                || lower.contains("does not appear to be a git repository")
                || (e.code() == ErrorCode::NotFound && e.class() != ErrorClass::Reference) =>
            {
                GitError::NotFound {
                    url,
                    what: "repository".to_string(),
                    hint: format!(
                        "check the repository URL, and that the credentials may see it ({message})"
                    ),
                }
            }
            _ if self.is_local() => {
                if lower.contains("no such file")
                    || lower.contains("could not find repository")
                    || lower.contains("not a git repository")
                {
                    GitError::NotFound {
                        url,
                        what: "repository".to_string(),
                        hint: format!("check the path ({message})"),
                    }
                } else {
                    GitError::Other {
                        url,
                        detail: format!("{doing} failed: {message}"),
                    }
                }
            }
            (ErrorCode::Certificate, _) => GitError::Network {
                url,
                detail: format!(
                    "the server's TLS certificate is not trusted ({message}); install its CA certificate in the system trust store (or SSL_CERT_FILE)"
                ),
            },
            (
                _,
                ErrorClass::Net
                | ErrorClass::Http
                | ErrorClass::Ssl
                | ErrorClass::Ssh
                | ErrorClass::Os
                | ErrorClass::Zlib,
            ) => GitError::Network {
                url,
                detail: format!("{doing} failed: {message}"),
            },
            _ => GitError::Other {
                url,
                detail: format!("{doing} failed: {message}"),
            },
        }
    }

    fn is_local(&self) -> bool {
        self.url.starts_with("file://") || self.url.starts_with('/')
    }

    /// A libgit2 error of a local operation on the work directory.
    pub(crate) fn local_error(&self, e: &git2::Error, doing: &str) -> GitError {
        GitError::Other {
            url: self.redacted.clone(),
            detail: format!(
                "cannot {doing} in the work directory: {}; if the work directory is corrupt, remove it (it is only a cache)",
                self.scrub(e.message())
            ),
        }
    }
}

fn proxy<'a>() -> ProxyOptions<'a> {
    let mut p = ProxyOptions::new();
    p.auto();
    p
}

/// Opens the work directory, or creates a bare repository there when it is
/// missing or empty.
pub(crate) fn open_work_dir(remote: &Remote<'_>, dir: &Path) -> Result<Repository, GitError> {
    let io = |action: &str, source| GitError::Io {
        url: remote.redacted.clone(),
        action: action.to_string(),
        path: dir.to_path_buf(),
        source,
    };
    let empty = match std::fs::read_dir(dir) {
        Ok(mut entries) => entries.next().is_none(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir).map_err(|e| io("create the work directory", e))?;
            true
        }
        Err(e) => return Err(io("read the work directory", e)),
    };
    if empty {
        tracing::debug!(dir = %dir.display(), "creating the work repository");
        return Repository::init_bare(dir)
            .map_err(|e| remote.local_error(&e, "create a repository"));
    }
    Repository::open_bare(dir)
        .or_else(|_| Repository::open(dir))
        .map_err(|e| GitError::Other {
            url: remote.redacted.clone(),
            detail: format!(
                "the work directory {} is not empty and not a git repository ({}); remove it or choose another",
                dir.display(),
                remote.scrub(e.message())
            ),
        })
}

/// The remote's default branch (what its `HEAD` points to), without
/// `refs/heads/`.
pub(crate) fn default_branch(repo: &Repository, remote: &Remote<'_>) -> Result<String, GitError> {
    let state = AuthState::default();
    let mut anon = repo
        .remote_anonymous(remote.url)
        .map_err(|e| invalid_url(remote, &e))?;
    let connection = anon
        .connect_auth(
            Direction::Fetch,
            Some(auth::callbacks(remote.auth, remote.url, &state)),
            Some(proxy()),
        )
        .map_err(|e| remote.network_error(&e, &state, "fetch"))?;
    let head = connection.default_branch().map_err(|e| GitError::NotFound {
        url: remote.redacted.clone(),
        what: "default branch".to_string(),
        hint: format!(
            "the repository has no HEAD branch (is it empty?); push an initial commit, or configure the branch to write to ({})",
            remote.scrub(e.message())
        ),
    })?;
    let head = head.as_str().unwrap_or_default();
    head.strip_prefix("refs/heads/")
        .map(str::to_string)
        .ok_or_else(|| GitError::NotFound {
            url: remote.redacted.clone(),
            what: "default branch".to_string(),
            hint: format!(
                "the repository's HEAD points to {head:?}, not a branch; configure the branch to write to"
            ),
        })
}

fn invalid_url(remote: &Remote<'_>, e: &git2::Error) -> GitError {
    GitError::Other {
        url: remote.redacted.clone(),
        detail: format!(
            "not a usable git URL ({}); use https://host/path, ssh://user@host/path, user@host:path or file:///path",
            remote.scrub(e.message())
        ),
    }
}

/// Fetches `branches` into `refs/remotes/origin/<branch>` and returns the
/// remote's tip of each branch that exists there.
pub(crate) fn fetch(
    repo: &Repository,
    remote: &Remote<'_>,
    branches: &[&str],
) -> Result<BTreeMap<String, Oid>, GitError> {
    let state = AuthState::default();
    let mut anon = repo
        .remote_anonymous(remote.url)
        .map_err(|e| invalid_url(remote, &e))?;
    let mut options = FetchOptions::new();
    options
        .remote_callbacks(auth::callbacks(remote.auth, remote.url, &state))
        .proxy_options(proxy())
        .download_tags(AutotagOption::None)
        .update_fetchhead(false);
    let mut specs: Vec<String> = branches
        .iter()
        .map(|b| format!("+refs/heads/{b}:{}", tracking_ref(b)))
        .collect();
    specs.dedup();
    anon.fetch(&specs, Some(&mut options), None)
        .map_err(|e| remote.network_error(&e, &state, "fetch"))?;
    let heads = anon
        .list()
        .map_err(|e| remote.network_error(&e, &state, "fetch"))?;
    let mut tips = BTreeMap::new();
    for head in heads {
        if let Some(branch) = head.name().strip_prefix("refs/heads/")
            && branches.contains(&branch)
        {
            tips.insert(branch.to_string(), head.oid());
        }
    }
    tracing::debug!(url = %remote.redacted, ?tips, "fetched");
    Ok(tips)
}

/// Where the remote's `branch` is kept in the work directory.
pub(crate) fn tracking_ref(branch: &str) -> String {
    format!("refs/remotes/origin/{branch}")
}

/// Checks a repository-relative file path: `/`-separated, no `.`, `..`,
/// `.git` or empty parts, no backslash or NUL.
pub(crate) fn check_path(path: &str) -> Result<(), String> {
    let problem = if path.is_empty() {
        Some("is empty")
    } else if path.starts_with('/') {
        Some("is absolute; give it relative to the repository root, without a leading /")
    } else if path.contains('\\') || path.contains('\0') {
        Some("contains a backslash or NUL; use / between directories")
    } else if path
        .split('/')
        .any(|p| p.is_empty() || p == "." || p == "..")
    {
        Some("has an empty, . or .. part; remove them")
    } else if path.split('/').any(|p| p.eq_ignore_ascii_case(".git")) {
        Some("is inside .git; write-back edits tracked files only")
    } else {
        None
    };
    match problem {
        Some(p) => Err(format!("file path {path:?} {p}")),
        None => Ok(()),
    }
}

/// The text of `path` in `tree`; `None` when there is no such file.
pub(crate) fn read_file(
    repo: &Repository,
    tree: &Tree<'_>,
    remote: &Remote<'_>,
    path: &str,
) -> Result<Option<String>, GitError> {
    check_path(path).map_err(|p| GitError::Edit {
        url: remote.redacted.clone(),
        message: p,
    })?;
    if let Some(parent) = blocking_parent(tree, path) {
        return Err(GitError::Edit {
            url: remote.redacted.clone(),
            message: format!(
                "{path}: {parent} is a file, not a directory; correct the write-back target"
            ),
        });
    }
    let entry = match tree.get_path(Path::new(path)) {
        Ok(entry) => entry,
        Err(e) if e.code() == ErrorCode::NotFound => return Ok(None),
        Err(e) => return Err(remote.local_error(&e, &format!("look up {path}"))),
    };
    match (entry.kind(), entry.filemode()) {
        (Some(git2::ObjectType::Blob), 0o120000) => Err(GitError::Edit {
            url: remote.redacted.clone(),
            message: format!(
                "{path} is a symbolic link; write-back does not follow links (point the target at the file itself)"
            ),
        }),
        (Some(git2::ObjectType::Blob), _) => {
            let blob = repo
                .find_blob(entry.id())
                .map_err(|e| remote.local_error(&e, &format!("read {path}")))?;
            String::from_utf8(blob.content().to_vec())
                .map(Some)
                .map_err(|_| GitError::Edit {
                    url: remote.redacted.clone(),
                    message: format!(
                        "{path} is not UTF-8 text; write-back edits only UTF-8 YAML files"
                    ),
                })
        }
        (Some(git2::ObjectType::Tree), _) => Err(GitError::Edit {
            url: remote.redacted.clone(),
            message: format!("{path} is a directory, not a file; correct the write-back target"),
        }),
        _ => Err(GitError::Edit {
            url: remote.redacted.clone(),
            message: format!(
                "{path} is a submodule, not a file; write-back edits files of this repository only"
            ),
        }),
    }
}

/// The first proper prefix of `path` that is a file (or anything but a
/// directory) in `tree`.
fn blocking_parent(tree: &Tree<'_>, path: &str) -> Option<String> {
    let mut prefix = String::new();
    let parts: Vec<&str> = path.split('/').collect();
    for part in &parts[..parts.len().saturating_sub(1)] {
        if !prefix.is_empty() {
            prefix.push('/');
        }
        prefix.push_str(part);
        match tree.get_path(Path::new(&prefix)) {
            Ok(entry) if entry.kind() != Some(git2::ObjectType::Tree) => return Some(prefix),
            Ok(_) => {}
            Err(_) => return None,
        }
    }
    None
}

/// The edits whose content differs from `tree`, in path order. Two edits of
/// one path must agree.
pub(crate) fn changed_files(
    repo: &Repository,
    tree: &Tree<'_>,
    remote: &Remote<'_>,
    edits: Vec<FileEdit>,
) -> Result<Vec<FileEdit>, GitError> {
    let mut by_path: BTreeMap<String, FileEdit> = BTreeMap::new();
    for edit in edits {
        if let Some(previous) = by_path.get(&edit.path) {
            if previous.content != edit.content {
                return Err(GitError::Edit {
                    url: remote.redacted.clone(),
                    message: format!(
                        "{} is edited twice with different contents in one commit; merge the changes into one edit",
                        edit.path
                    ),
                });
            }
            continue;
        }
        by_path.insert(edit.path.clone(), edit);
    }
    let mut changed = Vec::new();
    for (path, edit) in by_path {
        let current = read_file(repo, tree, remote, &path)?;
        if current.as_deref() != Some(edit.content.as_str()) {
            changed.push(edit);
        }
    }
    Ok(changed)
}

/// Commits `changed` on top of `parent` (not moving any branch) and returns
/// the new commit.
pub(crate) fn commit(
    repo: &Repository,
    remote: &Remote<'_>,
    parent: &git2::Commit<'_>,
    changed: &[FileEdit],
    author: &Author,
    message: &str,
) -> Result<Oid, GitError> {
    let local = |e: git2::Error, doing: &str| remote.local_error(&e, doing);
    let tree = parent
        .tree()
        .map_err(|e| local(e, "read the parent commit"))?;
    let mut index = Index::new().map_err(|e| local(e, "create an index"))?;
    index
        .read_tree(&tree)
        .map_err(|e| local(e, "read the parent tree"))?;
    for edit in changed {
        let blob = repo
            .blob(edit.content.as_bytes())
            .map_err(|e| local(e, &format!("store {}", edit.path)))?;
        let mode = match tree.get_path(Path::new(&edit.path)) {
            Ok(entry) if entry.filemode() == 0o100755 => 0o100755,
            _ => 0o100644,
        };
        let path = edit.path.as_bytes().to_vec();
        let entry = IndexEntry {
            ctime: IndexTime::new(0, 0),
            mtime: IndexTime::new(0, 0),
            dev: 0,
            ino: 0,
            mode,
            uid: 0,
            gid: 0,
            file_size: u32::try_from(edit.content.len()).unwrap_or(u32::MAX),
            id: blob,
            flags: u16::try_from(path.len()).unwrap_or(0xfff).min(0xfff),
            flags_extended: 0,
            path,
        };
        index
            .add(&entry)
            .map_err(|e| local(e, &format!("stage {}", edit.path)))?;
    }
    let tree_id = index
        .write_tree_to(repo)
        .map_err(|e| local(e, "write the tree"))?;
    let tree = repo
        .find_tree(tree_id)
        .map_err(|e| local(e, "read the new tree"))?;
    let signature = Signature::now(&author.name, &author.email).map_err(|e| GitError::Other {
        url: remote.redacted.clone(),
        detail: format!(
            "the commit author {:?} <{}> is not usable ({}); set a non-empty name and e-mail without < or >",
            author.name,
            author.email,
            e.message()
        ),
    })?;
    repo.commit(None, &signature, &signature, message, &tree, &[parent])
        .map_err(|e| local(e, "create the commit"))
}

/// Pushes `commit` to `branch` without force: the server only takes it when
/// it descends from the branch's tip (libgit2 checks before sending, the
/// server's compare-and-swap of the old value catches a push in between).
pub(crate) fn push(
    repo: &Repository,
    remote: &Remote<'_>,
    commit: Oid,
    branch: &str,
) -> Result<(), PushFailure> {
    let state = AuthState::default();
    let mut anon = repo
        .remote_anonymous(remote.url)
        .map_err(|e| PushFailure::Error(invalid_url(remote, &e)))?;
    let rejection = std::cell::RefCell::new(None::<String>);
    let mut callbacks = auth::callbacks(remote.auth, remote.url, &state);
    callbacks.push_update_reference(|refname, status| {
        if let Some(status) = status {
            tracing::debug!(refname, status, "push rejected by the server");
            *rejection.borrow_mut() = Some(status.to_string());
        }
        Ok(())
    });
    let mut options = PushOptions::new();
    options.remote_callbacks(callbacks).proxy_options(proxy());
    // Never force: no leading `+`.
    let spec = format!("{commit}:refs/heads/{branch}");
    let result = anon.push(&[spec.as_str()], Some(&mut options));
    drop(options);
    match result {
        Ok(()) => match rejection.into_inner() {
            None => Ok(()),
            Some(reason) => {
                let reason = remote.scrub(&reason);
                if error::is_race(&reason) {
                    Err(PushFailure::Race(reason))
                } else {
                    Err(PushFailure::Refused(reason))
                }
            }
        },
        Err(e) if e.code() == ErrorCode::NotFastForward => {
            Err(PushFailure::Race(remote.scrub(e.message())))
        }
        Err(e) => {
            let mapped = remote.network_error(&e, &state, "push");
            // A ref lock held by a concurrent local (file://) push.
            if matches!(mapped, GitError::Other { .. }) && error::is_race(e.message()) {
                Err(PushFailure::Race(remote.scrub(e.message())))
            } else {
                Err(PushFailure::Error(mapped))
            }
        }
    }
    .inspect(|()| {
        // Keep the tracking ref current so the next fetch negotiates from it.
        if let Err(e) = repo.reference(&tracking_ref(branch), commit, true, "updraft: pushed") {
            tracing::debug!(error = %e.message(), "cannot update the tracking ref");
        }
    })
}
