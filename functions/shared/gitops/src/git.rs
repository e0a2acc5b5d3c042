//! Owns git write-back: [`push_edits`] fetches the deployment repository into
//! a work directory, hands the caller a reader of the branch's files, commits
//! the files the caller changed and pushes the commit — never with force. When
//! the push is rejected because someone else pushed first, it fetches again,
//! asks the caller for its edits again on top of the new tip, and retries
//! with jittered backoff.
//!
//! Credentials: [`GitAuth`] (HTTPS user name and password or token, SSH key
//! with known_hosts checking). Secrets never appear in an error or a log
//! line: URLs are shown through [`redact_url`], and libgit2's messages are
//! scrubbed of every configured secret.
//!
//! The work directory is a bare repository used as a cache: objects and the
//! `refs/remotes/origin/*` tips persist between calls, so a second call only
//! fetches what is new. Nothing is checked out and no credential is written
//! to it. Calls on one work directory must not overlap (the write-back stage
//! serialises per repository, as Image Updater does).
//!
//! [`push_edits`] blocks (libgit2 does network I/O on the calling thread):
//! call it from `tokio::task::spawn_blocking` in async code.
//!
//! Differences from Image Updater: no shallow fetch (Image Updater fetches
//! depth 1 into a fresh directory each time; here the cached work directory
//! makes later fetches incremental, and libgit2 cannot fetch shallow over
//! `file://`); edits are committed from memory, not from a checkout.

mod auth;
mod error;
mod known_hosts;
mod transaction;

use std::hash::{BuildHasher, RandomState};
use std::path::Path;
use std::time::{Duration, Instant};

pub use auth::{GitAuth, Secret};
pub use error::{GitError, redact_url};

use transaction::{PushFailure, Remote};

/// Image Updater's default commit author name (`--git-commit-user`).
pub const DEFAULT_AUTHOR_NAME: &str = "argocd-image-updater";
/// Image Updater's default commit author e-mail (`--git-commit-email`).
pub const DEFAULT_AUTHOR_EMAIL: &str = "noreply@argoproj.io";
/// The default of [`PushRequest::max_attempts`].
pub const DEFAULT_MAX_ATTEMPTS: u32 = 5;

/// Backoff between push attempts: the n-th retry waits between half and all
/// of `RETRY_BASE << (n - 1)`, at most [`RETRY_MAX`].
const RETRY_BASE: Duration = Duration::from_millis(100);
const RETRY_MAX: Duration = Duration::from_secs(5);

/// Who commits (author and committer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Author {
    /// The name.
    pub name: String,
    /// The e-mail address.
    pub email: String,
}

impl Default for Author {
    /// Image Updater's defaults: `argocd-image-updater <noreply@argoproj.io>`.
    fn default() -> Self {
        Author {
            name: DEFAULT_AUTHOR_NAME.to_string(),
            email: DEFAULT_AUTHOR_EMAIL.to_string(),
        }
    }
}

/// A file to write: its path relative to the repository root (`/`-separated,
/// no leading `/`) and its complete new content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEdit {
    /// The path relative to the repository root.
    pub path: String,
    /// The new content.
    pub content: String,
}

impl FileEdit {
    /// An edit of `path` to `content`.
    pub fn new(path: impl Into<String>, content: impl Into<String>) -> Self {
        FileEdit {
            path: path.into(),
            content: content.into(),
        }
    }
}

/// What to push where. Its `Debug` shows the URL redacted.
#[derive(Clone, Copy)]
pub struct PushRequest<'a> {
    /// The repository URL: `https://…`, `http://…`, `ssh://…`,
    /// `user@host:path` or `file:///…`. May carry credentials; they are never
    /// shown.
    pub url: &'a str,
    /// The credentials.
    pub auth: &'a GitAuth,
    /// The branch to start from; `None`, `""` or `"HEAD"` = the remote's
    /// default branch. `refs/heads/` in front is accepted.
    pub base_branch: Option<&'a str>,
    /// The branch to push to; `None` = the base branch. When it exists on the
    /// remote, the commit goes on top of it (Image Updater's fix #882);
    /// otherwise it is created from the base branch.
    pub target_branch: Option<&'a str>,
    /// Author and committer.
    pub author: &'a Author,
    /// The commit message.
    pub message: &'a str,
    /// How many pushes to try in all when the branch keeps moving (0 counts
    /// as 1).
    pub max_attempts: u32,
    /// The work directory: a bare repository caching the remote (created
    /// when missing or empty, reused by fetching otherwise). Use one per
    /// repository URL.
    pub work_dir: &'a Path,
    /// Add a `Signed-off-by:` trailer for the author (`--git-commit-sign-off`).
    pub signoff: bool,
    /// Fetch and edit, but commit and push nothing: the outcome carries the
    /// unified diff that would have been committed (`updraft run
    /// --dry-run`).
    pub dry_run: bool,
}

impl<'a> PushRequest<'a> {
    /// A request with the default branch as base and target,
    /// [`DEFAULT_MAX_ATTEMPTS`] and no sign-off.
    pub fn new(
        url: &'a str,
        auth: &'a GitAuth,
        author: &'a Author,
        message: &'a str,
        work_dir: &'a Path,
    ) -> Self {
        PushRequest {
            url,
            auth,
            base_branch: None,
            target_branch: None,
            author,
            message,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            work_dir,
            signoff: false,
            dry_run: false,
        }
    }
}

impl std::fmt::Debug for PushRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushRequest")
            .field("url", &redact_url(self.url))
            .field("auth", self.auth)
            .field("base_branch", &self.base_branch)
            .field("target_branch", &self.target_branch)
            .field("author", self.author)
            .field("message", &self.message)
            .field("max_attempts", &self.max_attempts)
            .field("work_dir", &self.work_dir)
            .field("signoff", &self.signoff)
            .field("dry_run", &self.dry_run)
            .finish()
    }
}

/// What [`push_edits`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushOutcome {
    /// The pushed commit (hex); `None` when no file changed, so nothing was
    /// committed or pushed.
    pub commit: Option<String>,
    /// The branch pushed to (or that would have been).
    pub branch: String,
    /// Rounds of fetch, edit and push (1 when nobody else pushed meanwhile).
    pub attempts: u32,
    /// The files the commit changed, in path order (empty when nothing
    /// changed).
    pub files: Vec<String>,
    /// A dry run's unified diff of what would have been committed (empty
    /// otherwise).
    pub diff: String,
}

/// Reads a file of the commit being edited: repository-relative path → its
/// text, `None` when absent. A directory, symbolic link, submodule or
/// non-UTF-8 file is an error.
pub type FileReader<'r> = dyn Fn(&str) -> Result<Option<String>, GitError> + 'r;

/// Fetches the branch, calls `edit` with a reader of its files, commits the
/// returned files whose content differs, and pushes the commit without
/// force. When nothing differs, nothing is committed or pushed
/// ([`PushOutcome::commit`] is `None`).
///
/// When the push is rejected because the branch moved, it fetches again
/// and calls `edit` again, on the new tip, up to
/// [`PushRequest::max_attempts`] pushes in all, waiting a jittered, growing
/// delay in between; then fails with [`GitError::Rejected`]. A refusal that
/// retrying cannot cure (a hook, a protected branch) fails at once.
///
/// An error returned by `edit` is returned as it is (an [`GitError::Edit`]
/// or [`GitError::Other`] without a URL gets the repository's).
pub fn push_edits<F>(req: &PushRequest, mut edit: F) -> Result<PushOutcome, GitError>
where
    F: FnMut(&dyn Fn(&str) -> Result<Option<String>, GitError>) -> Result<Vec<FileEdit>, GitError>,
{
    let remote = Remote::new(req.url, req.auth);
    let message = commit_message(&remote, req)?;
    let repo = transaction::open_work_dir(&remote, req.work_dir)?;
    let base = match req.base_branch.map(str::trim) {
        None | Some("" | "HEAD") => transaction::default_branch(&repo, &remote)?,
        Some(b) => branch_name(&remote, b)?,
    };
    let target = match req.target_branch.map(str::trim) {
        None | Some("") => base.clone(),
        Some(b) => branch_name(&remote, b)?,
    };
    let max_attempts = req.max_attempts.max(1);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let tips = transaction::fetch(&repo, &remote, &[&base, &target])?;
        let parent_id = match (tips.get(&target), tips.get(&base)) {
            (Some(tip), _) | (None, Some(tip)) => *tip,
            (None, None) => {
                return Err(GitError::NotFound {
                    url: remote.redacted.clone(),
                    what: format!("branch {base:?}"),
                    hint: "check the branch to write to (git-branch, or the Application's targetRevision)".to_string(),
                });
            }
        };
        let parent = repo
            .find_commit(parent_id)
            .map_err(|e| remote.local_error(&e, "read the branch's commit"))?;
        let tree = parent
            .tree()
            .map_err(|e| remote.local_error(&e, "read the branch's files"))?;
        let reader = |path: &str| transaction::read_file(&repo, &tree, &remote, path);
        let edits = edit(&reader).map_err(|e| e.with_url(&remote.redacted))?;
        let changed = transaction::changed_files(&repo, &tree, &remote, edits)?;
        if changed.is_empty() {
            tracing::info!(url = %remote.redacted, branch = %target, "write-back: nothing changed, nothing pushed");
            return Ok(PushOutcome {
                commit: None,
                branch: target,
                attempts: attempt,
                files: Vec::new(),
                diff: String::new(),
            });
        }
        if req.dry_run {
            let mut diff = String::new();
            for edit in &changed {
                let old = transaction::read_file(&repo, &tree, &remote, &edit.path)?;
                let path = Path::new(&edit.path);
                let mut patch = git2::Patch::from_buffers(
                    old.as_deref().unwrap_or("").as_bytes(),
                    Some(path),
                    edit.content.as_bytes(),
                    Some(path),
                    None,
                )
                .map_err(|e| remote.local_error(&e, "diff the edits"))?;
                let text = patch
                    .to_buf()
                    .map_err(|e| remote.local_error(&e, "diff the edits"))?;
                diff.push_str(&String::from_utf8_lossy(&text));
            }
            return Ok(PushOutcome {
                commit: None,
                branch: target,
                attempts: attempt,
                files: changed.into_iter().map(|e| e.path).collect(),
                diff,
            });
        }
        let commit = transaction::commit(&repo, &remote, &parent, &changed, req.author, &message)?;
        match transaction::push(&repo, &remote, commit, &target) {
            Ok(()) => {
                let files: Vec<String> = changed.into_iter().map(|e| e.path).collect();
                tracing::info!(url = %remote.redacted, branch = %target, %commit, attempts = attempt, ?files, "write-back: pushed");
                return Ok(PushOutcome {
                    commit: Some(commit.to_string()),
                    branch: target,
                    attempts: attempt,
                    files,
                    diff: String::new(),
                });
            }
            Err(PushFailure::Race(reason)) if attempt < max_attempts => {
                let delay = retry_delay(attempt);
                tracing::warn!(url = %remote.redacted, branch = %target, attempt, %reason, ?delay, "write-back: push rejected, the branch moved; fetching and retrying");
                std::thread::sleep(delay);
            }
            Err(PushFailure::Race(reason)) => {
                return Err(GitError::Rejected {
                    url: remote.redacted.clone(),
                    branch: target,
                    attempts: attempt,
                    reason,
                    hint: "the branch kept moving while Updraft pushed; the next cycle retries (raise max_attempts if this persists)".to_string(),
                });
            }
            Err(PushFailure::Refused(reason)) => {
                return Err(GitError::Rejected {
                    url: remote.redacted.clone(),
                    branch: target,
                    attempts: attempt,
                    reason,
                    hint: "the server refuses this update (a protected branch or a hook?); allow the credentials to push to the branch, or write to another branch (git-branch base:target)".to_string(),
                });
            }
            Err(PushFailure::Error(e)) => return Err(e),
        }
    }
}

/// A branch name without `refs/heads/`, checked against git's rules.
fn branch_name(remote: &Remote<'_>, branch: &str) -> Result<String, GitError> {
    let name = branch.strip_prefix("refs/heads/").unwrap_or(branch);
    if git2::Reference::is_valid_name(&format!("refs/heads/{name}")) {
        Ok(name.to_string())
    } else {
        Err(GitError::Other {
            url: remote.redacted.clone(),
            detail: format!(
                "{branch:?} is not a valid branch name; correct the configured branch (git-branch or targetRevision)"
            ),
        })
    }
}

/// The message with a trailing newline and, when asked, a `Signed-off-by:`
/// trailer for the author.
fn commit_message(remote: &Remote<'_>, req: &PushRequest) -> Result<String, GitError> {
    let mut message = req.message.trim_end().to_string();
    if message.trim().is_empty() {
        return Err(GitError::Other {
            url: remote.redacted.clone(),
            detail: "the commit message is empty; configure a commit message (template)"
                .to_string(),
        });
    }
    if req.signoff {
        let trailer = format!("Signed-off-by: {} <{}>", req.author.name, req.author.email);
        if !message.lines().any(|l| l.trim_end() == trailer) {
            let last_is_trailer = message
                .lines()
                .last()
                .is_some_and(|l| l.starts_with("Signed-off-by:"));
            message.push_str(if last_is_trailer { "\n" } else { "\n\n" });
            message.push_str(&trailer);
        }
    }
    message.push('\n');
    Ok(message)
}

/// Half of the cap plus a random part of the other half; the cap doubles
/// with each attempt.
fn retry_delay(attempt: u32) -> Duration {
    let cap = RETRY_BASE
        .saturating_mul(1 << attempt.saturating_sub(1).min(10))
        .min(RETRY_MAX);
    let half = cap / 2;
    let random = RandomState::new().hash_one(Instant::now());
    let jitter_ms = u64::try_from(half.as_millis()).unwrap_or(0);
    half + Duration::from_millis(random % (jitter_ms + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request<'a>(auth: &'a GitAuth, author: &'a Author, message: &'a str) -> PushRequest<'a> {
        PushRequest::new(
            "https://u:urlpass@h/r.git",
            auth,
            author,
            message,
            Path::new("/tmp"),
        )
    }

    #[test]
    fn default_author_is_image_updaters() {
        let a = Author::default();
        assert_eq!(
            (a.name.as_str(), a.email.as_str()),
            ("argocd-image-updater", "noreply@argoproj.io")
        );
    }

    #[test]
    fn messages_and_signoff() {
        let (auth, author) = (GitAuth::None, Author::default());
        let remote = Remote::new("https://h/r", &auth);
        let mut req = request(&auth, &author, "build: update\n\nupdates image a\n\n");
        assert_eq!(
            commit_message(&remote, &req).unwrap(),
            "build: update\n\nupdates image a\n"
        );
        req.signoff = true;
        assert_eq!(
            commit_message(&remote, &req).unwrap(),
            "build: update\n\nupdates image a\n\nSigned-off-by: argocd-image-updater <noreply@argoproj.io>\n"
        );
        let signed = "x\n\nSigned-off-by: argocd-image-updater <noreply@argoproj.io>";
        req.message = signed;
        assert_eq!(
            commit_message(&remote, &req).unwrap(),
            format!("{signed}\n")
        );
        req.message = "x\n\nSigned-off-by: Someone <s@e>";
        assert_eq!(
            commit_message(&remote, &req).unwrap(),
            "x\n\nSigned-off-by: Someone <s@e>\nSigned-off-by: argocd-image-updater <noreply@argoproj.io>\n"
        );
        req.message = "  \n";
        assert!(
            commit_message(&remote, &req)
                .unwrap_err()
                .to_string()
                .contains("empty")
        );
    }

    #[test]
    fn branch_names() {
        let auth = GitAuth::None;
        let remote = Remote::new("https://h/r", &auth);
        assert_eq!(branch_name(&remote, "main").unwrap(), "main");
        assert_eq!(
            branch_name(&remote, "refs/heads/release/1.x").unwrap(),
            "release/1.x"
        );
        for bad in ["a..b", "a b", "-x/..", "x.lock", "a~1"] {
            assert!(branch_name(&remote, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn delays_grow_with_jitter() {
        for attempt in 1..=12 {
            let d = retry_delay(attempt);
            let cap = RETRY_BASE
                .saturating_mul(1 << (attempt - 1).min(10))
                .min(RETRY_MAX);
            assert!(d >= cap / 2 && d <= cap, "{attempt}: {d:?}");
        }
    }

    #[test]
    fn request_debug_shows_no_secret() {
        let auth = GitAuth::UserPassword {
            username: "u".into(),
            password: Secret::new("s3cr3t-token"),
        };
        let author = Author::default();
        let shown = format!("{:?}", request(&auth, &author, "m"));
        assert!(!shown.contains("s3cr3t-token"), "{shown}");
        assert!(!shown.contains("urlpass"), "{shown}");
    }
}
