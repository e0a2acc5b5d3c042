//! `push_edits` against real git: a lighttpd + git-http-backend server with
//! Basic auth (infra/local/git.sh, one per test) and `file://` repositories.
//! The git CLI seeds the repositories, plays the other writer, and checks
//! what landed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::cell::Cell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use updraft_gitops::git::{
    Author, FileEdit, FileReader, GitAuth, GitError, PushOutcome, PushRequest, Secret, push_edits,
};
use updraft_gitops::targets::helm_values;

const VALUES: &str =
    "# the app\nimage:\n  repository: ghcr.io/example/app\n  tag: 1.0.0 # pinned by Updraft\n";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../..")
}

/// A git server started by `infra/local/git.sh`, stopped on drop.
struct GitServer {
    dir: tempfile::TempDir,
    env: HashMap<String, String>,
}

impl GitServer {
    fn start(repos: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let script = repo_root().join("infra/local/git.sh");
        let output = Command::new(&script)
            .arg("start")
            .arg(dir.path())
            .args(repos)
            // A safety net should this test process die without dropping.
            .env("UPDRAFT_SERVICE_TTL", "300")
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
        assert!(
            output.status.success(),
            "{} start failed ({}):\n{}",
            script.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        let env = std::fs::read_to_string(dir.path().join("git.env"))
            .unwrap()
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        GitServer { dir, env }
    }

    fn get(&self, key: &str) -> &str {
        self.env
            .get(key)
            .unwrap_or_else(|| panic!("git.env has no {key}"))
    }

    /// The repository's URL, without credentials.
    fn url(&self, repo: &str) -> String {
        format!("{}/{repo}.git", self.get("GIT_REPOS_URL"))
    }

    /// The repository's URL with the test user's credentials, for the CLI.
    fn cli_url(&self, repo: &str) -> String {
        let url = self.url(repo);
        let rest = url.strip_prefix("http://").unwrap();
        format!(
            "http://{}:{}@{rest}",
            self.get("GIT_USER"),
            self.get("GIT_PASSWORD")
        )
    }

    fn bare(&self, repo: &str) -> PathBuf {
        Path::new(self.get("GIT_REPOS_DIR")).join(format!("{repo}.git"))
    }

    fn auth(&self) -> GitAuth {
        GitAuth::UserPassword {
            username: self.get("GIT_USER").to_string(),
            password: Secret::new(self.get("GIT_PASSWORD")),
        }
    }
}

impl Drop for GitServer {
    fn drop(&mut self) {
        let _ = Command::new(repo_root().join("infra/local/git.sh"))
            .arg("stop")
            .arg(self.dir.path())
            .status();
    }
}

/// Runs the git CLI in `dir` with no user or system configuration and
/// returns its standard output; panics with its error output on failure.
fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .current_dir(dir)
        .args([
            "-c",
            "user.name=Other Writer",
            "-c",
            "user.email=other@example.com",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .unwrap_or_else(|e| panic!("cannot run git: {e}"));
    assert!(
        output.status.success(),
        "git {args:?} in {} failed:\n{}",
        dir.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Gives the bare repository `bare` a first commit on `main` holding `files`.
fn seed(bare: &Path, files: &[(&str, &str)]) {
    let work = tempfile::tempdir().unwrap();
    git(work.path(), &["init", "-q"]);
    for (path, content) in files {
        let file = work.path().join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, content).unwrap();
    }
    git(work.path(), &["add", "-A"]);
    git(work.path(), &["commit", "-q", "-m", "initial"]);
    git(
        work.path(),
        &["push", "-q", bare.to_str().unwrap(), "HEAD:refs/heads/main"],
    );
}

/// `git show <rev>:<path>` in a bare repository.
fn show(bare: &Path, rev: &str, path: &str) -> String {
    git(bare, &["show", &format!("{rev}:{path}")])
}

fn count(bare: &Path, rev: &str) -> usize {
    git(bare, &["rev-list", "--count", rev])
        .trim()
        .parse()
        .unwrap()
}

/// An edit callback setting `image.tag` in `values.yaml` with the Helm
/// values editor.
fn set_tag(tag: &str) -> impl FnMut(&FileReader<'_>) -> Result<Vec<FileEdit>, GitError> + '_ {
    move |read| {
        let values = read("values.yaml")?.unwrap_or_default();
        let text = helm_values::set("values.yaml", &values, &[("image.tag", tag)])?;
        Ok(vec![FileEdit::new("values.yaml", text)])
    }
}

#[test]
fn http_push_with_basic_auth_commits_once_and_skips_unchanged() {
    let server = GitServer::start(&["deploy"]);
    let bare = server.bare("deploy");
    seed(
        &bare,
        &[("values.yaml", VALUES), ("README.md", "# deploy\n")],
    );
    let work = tempfile::tempdir().unwrap();
    let (url, auth, author) = (server.url("deploy"), server.auth(), Author::default());
    let message =
        "build: automatic update of app\n\nupdates image example/app tag '1.0.0' to '1.4.2'\n";
    let req = PushRequest::new(&url, &auth, &author, message, work.path());

    let mut calls = 0;
    let outcome = push_edits(&req, |read| {
        calls += 1;
        assert_eq!(read("README.md")?.as_deref(), Some("# deploy\n"));
        assert_eq!(read("missing.yaml")?, None);
        assert_eq!(read("nested/missing.yaml")?, None);
        let values = read("values.yaml")?.unwrap();
        let text = helm_values::set("values.yaml", &values, &[("image.tag", "1.4.2")])?;
        Ok(vec![
            FileEdit::new("values.yaml", text),
            // Unchanged: not part of the commit.
            FileEdit::new("README.md", "# deploy\n"),
            FileEdit::new("envs/dev/.argocd-source-app.yaml", "helm: {}\n"),
        ])
    })
    .unwrap();
    assert_eq!(calls, 1);
    let commit = outcome.commit.clone().expect("a commit");
    assert_eq!(
        outcome,
        PushOutcome {
            commit: Some(commit.clone()),
            branch: "main".into(),
            attempts: 1,
            files: vec![
                "envs/dev/.argocd-source-app.yaml".into(),
                "values.yaml".into()
            ],
            diff: String::new(),
        }
    );

    // What a fresh clone over HTTP sees.
    let check = tempfile::tempdir().unwrap();
    git(
        check.path(),
        &["clone", "-q", &server.cli_url("deploy"), "c"],
    );
    let clone = check.path().join("c");
    assert_eq!(git(&clone, &["rev-parse", "HEAD"]).trim(), commit);
    assert_eq!(
        std::fs::read_to_string(clone.join("values.yaml")).unwrap(),
        VALUES.replace("tag: 1.0.0", "tag: 1.4.2")
    );
    assert_eq!(
        std::fs::read_to_string(clone.join("envs/dev/.argocd-source-app.yaml")).unwrap(),
        "helm: {}\n"
    );
    assert_eq!(count(&clone, "HEAD"), 2);
    assert_eq!(
        git(&clone, &["log", "-1", "--format=%an <%ae>|%cn <%ce>|%B"]),
        format!(
            "argocd-image-updater <noreply@argoproj.io>|argocd-image-updater <noreply@argoproj.io>|{message}\n"
        )
    );
    assert_eq!(
        git(
            &clone,
            &["diff", "--stat", "HEAD~1", "HEAD", "--", "values.yaml"]
        )
        .trim(),
        "values.yaml | 2 +-\n 1 file changed, 1 insertion(+), 1 deletion(-)"
    );

    // Same tag again, reusing the work directory: nothing to commit or push.
    let again = push_edits(&req, set_tag("1.4.2")).unwrap();
    assert_eq!(
        again,
        PushOutcome {
            commit: None,
            branch: "main".into(),
            attempts: 1,
            files: vec![],
            diff: String::new(),
        }
    );
    assert_eq!(count(&bare, "main"), 2);
    assert_eq!(git(&bare, &["rev-parse", "main"]).trim(), commit);

    // A dry run: the diff of what would be committed, nothing pushed.
    let dry = PushRequest {
        dry_run: true,
        ..req
    };
    let preview = push_edits(&dry, set_tag("1.5.0")).unwrap();
    assert_eq!(preview.commit, None);
    assert_eq!(preview.files, ["values.yaml"]);
    assert!(preview.diff.contains("-  tag: 1.4.2"), "{}", preview.diff);
    assert!(preview.diff.contains("+  tag: 1.5.0"), "{}", preview.diff);
    assert!(
        preview
            .diff
            .starts_with("diff --git a/values.yaml b/values.yaml"),
        "{}",
        preview.diff
    );
    assert_eq!(count(&bare, "main"), 2);
}

#[test]
fn wrong_or_missing_credentials_are_auth_errors_without_secrets() {
    let server = GitServer::start(&["deploy"]);
    seed(&server.bare("deploy"), &[("values.yaml", VALUES)]);
    let url = server.url("deploy");
    let author = Author::default();
    let password = "not-the-password-4711";
    let wrong = GitAuth::UserPassword {
        username: server.get("GIT_USER").to_string(),
        password: Secret::new(password),
    };
    let url_with_secret = url.replacen("http://", "http://gituser:url-secret-0815@", 1);
    let cases: [(&str, &GitAuth); 3] = [
        (&url, &wrong),
        (&url, &GitAuth::None),
        (&url_with_secret, &GitAuth::None),
    ];
    for (url, auth) in cases {
        let work = tempfile::tempdir().unwrap();
        let mut req = PushRequest::new(url, auth, &author, "m", work.path());
        req.base_branch = Some("main");
        let err = push_edits(&req, |_| panic!("must not be called")).unwrap_err();
        let shown = err.to_string();
        assert!(matches!(err, GitError::Auth { .. }), "{err:?}");
        assert!(
            shown.starts_with(&format!(
                "authentication failed for {}",
                server.url("deploy")
            )) || shown.starts_with("authentication failed for http://***@127.0.0.1"),
            "{shown}"
        );
        assert!(shown.contains("check the git credentials"), "{shown}");
        for secret in [password, "url-secret-0815"] {
            assert!(!shown.contains(secret), "{shown}");
            assert!(!format!("{err:?}").contains(secret), "{err:?}");
        }
        assert_eq!(err.code(), "auth");
        assert!(!err.is_transient());
    }
}

#[test]
fn missing_repository_or_branch_is_not_found() {
    let server = GitServer::start(&["deploy"]);
    seed(&server.bare("deploy"), &[("values.yaml", VALUES)]);
    let (auth, author) = (server.auth(), Author::default());
    let work = tempfile::tempdir().unwrap();

    let url = server.url("no-such-repo");
    let req = PushRequest::new(&url, &auth, &author, "m", work.path());
    let err = push_edits(&req, set_tag("2.0.0")).unwrap_err();
    assert!(
        matches!(&err, GitError::NotFound { what, .. } if what == "repository"),
        "{err:?}"
    );
    assert!(err.to_string().contains(&url), "{err}");

    let url = server.url("deploy");
    let mut req = PushRequest::new(&url, &auth, &author, "m", work.path());
    req.base_branch = Some("release");
    let err = push_edits(&req, set_tag("2.0.0")).unwrap_err();
    assert!(
        matches!(&err, GitError::NotFound { what, .. } if what == "branch \"release\""),
        "{err:?}"
    );
    assert!(err.to_string().contains("git-branch"), "{err}");
}

#[test]
fn base_and_target_branches() {
    let server = GitServer::start(&["deploy"]);
    let bare = server.bare("deploy");
    seed(&bare, &[("values.yaml", VALUES)]);
    let main_tip = git(&bare, &["rev-parse", "main"]).trim().to_string();
    let (url, auth, author) = (server.url("deploy"), server.auth(), Author::default());
    let work = tempfile::tempdir().unwrap();
    let mut req = PushRequest::new(&url, &auth, &author, "update dev", work.path());
    req.base_branch = Some("main");
    req.target_branch = Some("refs/heads/updraft/dev");
    req.signoff = true;

    // The target is created from the base.
    let first = push_edits(&req, set_tag("1.1.0")).unwrap();
    assert_eq!(first.branch, "updraft/dev");
    let first_commit = first.commit.unwrap();
    assert_eq!(
        git(&bare, &["rev-parse", "updraft/dev"]).trim(),
        first_commit
    );
    assert_eq!(git(&bare, &["rev-parse", "updraft/dev~1"]).trim(), main_tip);
    assert_eq!(
        git(&bare, &["rev-parse", "main"]).trim(),
        main_tip,
        "the base is untouched"
    );
    assert!(show(&bare, "updraft/dev", "values.yaml").contains("tag: 1.1.0"));
    assert_eq!(
        git(&bare, &["log", "-1", "--format=%B", "updraft/dev"]),
        "update dev\n\nSigned-off-by: argocd-image-updater <noreply@argoproj.io>\n\n"
    );

    // Once it exists, the target is built on, not the base.
    let second = push_edits(&req, set_tag("1.2.0")).unwrap();
    let second_commit = second.commit.unwrap();
    assert_eq!(
        git(&bare, &["rev-parse", "updraft/dev~1"]).trim(),
        first_commit
    );
    assert_eq!(
        git(&bare, &["rev-parse", "updraft/dev"]).trim(),
        second_commit
    );
    assert_eq!(git(&bare, &["rev-parse", "main"]).trim(), main_tip);

    // No base given: the remote's default branch (HEAD → main).
    let mut req = PushRequest::new(&url, &auth, &author, "update main", work.path());
    req.base_branch = Some("HEAD");
    let third = push_edits(&req, set_tag("1.3.0")).unwrap();
    assert_eq!(third.branch, "main");
    assert_eq!(git(&bare, &["rev-parse", "main~1"]).trim(), main_tip);
}

#[test]
fn file_urls_work_and_edit_errors_name_the_repository() {
    let dir = tempfile::tempdir().unwrap();
    let bare = dir.path().join("deploy.git");
    git(dir.path(), &["init", "-q", "--bare", "deploy.git"]);
    seed(
        &bare,
        &[("values.yaml", VALUES), ("chart/values.yaml", "a: 1\n")],
    );
    let url = format!("file://{}", bare.display());
    let (auth, author) = (GitAuth::None, Author::default());
    let work = dir.path().join("cache/deploy");
    let req = PushRequest::new(&url, &auth, &author, "file push", &work);

    let outcome = push_edits(&req, set_tag("3.0.0")).unwrap();
    assert_eq!(outcome.files, ["values.yaml"]);
    assert_eq!(
        git(&bare, &["rev-parse", "main"]).trim(),
        outcome.commit.unwrap()
    );
    assert!(show(&bare, "main", "values.yaml").contains("tag: 3.0.0"));
    assert!(
        work.join("HEAD").exists(),
        "the work directory is a bare cache"
    );

    // An error of the editor comes back as an Edit error naming the URL.
    let err = push_edits(&req, |read| {
        let text = read("chart/values.yaml")?.unwrap();
        let text = helm_values::set("chart/values.yaml", &text, &[("a.b", "x")])?;
        Ok(vec![FileEdit::new("chart/values.yaml", text)])
    })
    .unwrap_err();
    assert!(matches!(err, GitError::Edit { .. }), "{err:?}");
    assert!(
        err.to_string()
            .starts_with(&format!("{url}: chart/values.yaml: ")),
        "{err}"
    );

    // Paths that are not plain files of the repository are refused.
    for (path, problem) in [
        ("/etc/passwd", "absolute"),
        ("../x", ".."),
        ("chart", "directory"),
        ("values.yaml/x", "is a file"),
        (".git/config", ".git"),
    ] {
        let err = push_edits(&req, |_| Ok(vec![FileEdit::new(path, "x")])).unwrap_err();
        assert!(matches!(err, GitError::Edit { .. }), "{path}: {err:?}");
        assert!(err.to_string().contains(problem), "{path}: {err}");
    }
    assert_eq!(count(&bare, "main"), 2, "nothing was pushed");

    // A path that holds no repository.
    let missing = format!("file://{}/nothing-here.git", dir.path().display());
    let mut req = PushRequest::new(&missing, &auth, &author, "m", &work);
    req.base_branch = Some("main");
    let err = push_edits(&req, set_tag("3.1.0")).unwrap_err();
    assert!(matches!(err, GitError::NotFound { .. }), "{err:?}");
    assert!(err.to_string().starts_with(&missing), "{err}");
}

#[test]
fn a_hook_refusal_is_rejected_without_retrying() {
    let server = GitServer::start(&["deploy"]);
    let bare = server.bare("deploy");
    seed(&bare, &[("values.yaml", VALUES)]);
    let hook = bare.join("hooks/pre-receive");
    std::fs::write(
        &hook,
        "#!/bin/sh\necho 'branch main is protected' >&2\nexit 1\n",
    )
    .unwrap();
    let mut perms = std::fs::metadata(&hook).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&hook, perms).unwrap();
    let (url, auth, author) = (server.url("deploy"), server.auth(), Author::default());
    let work = tempfile::tempdir().unwrap();
    let req = PushRequest::new(&url, &auth, &author, "m", work.path());
    let mut calls = 0;
    let err = push_edits(&req, |read| {
        calls += 1;
        set_tag("9.9.9")(read)
    })
    .unwrap_err();
    assert_eq!(calls, 1);
    match &err {
        GitError::Rejected {
            attempts, reason, ..
        } => {
            assert_eq!(*attempts, 1);
            assert!(reason.contains("hook declined"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert!(
        err.to_string().contains("protected branch or a hook"),
        "{err}"
    );
    assert!(!err.is_transient());
    assert_eq!(count(&bare, "main"), 1);
}

#[test]
fn unreachable_server_is_a_network_error_without_secrets() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = format!("http://someone:closed-port-secret@127.0.0.1:{port}/x.git");
    let (auth, author) = (GitAuth::None, Author::default());
    let work = tempfile::tempdir().unwrap();
    let mut req = PushRequest::new(&url, &auth, &author, "m", work.path());
    req.base_branch = Some("main");
    let err = push_edits(&req, |_| panic!("must not be called")).unwrap_err();
    assert!(matches!(err, GitError::Network { .. }), "{err:?}");
    let shown = err.to_string();
    assert!(
        shown.starts_with(&format!("cannot reach http://***@127.0.0.1:{port}/x.git")),
        "{shown}"
    );
    assert!(!shown.contains("closed-port-secret"), "{shown}");
    assert!(err.is_transient());

    // The same over SSH (libssh2 is built in; no server needed to fail).
    let url = format!("ssh://git@127.0.0.1:{port}/x.git");
    let auth = GitAuth::SshKey {
        private_key_path: work.path().join("id_ed25519"),
        passphrase: Some(Secret::new("ssh-passphrase-secret")),
        known_hosts_path: None,
        accept_unknown_hosts: false,
    };
    let mut req = PushRequest::new(&url, &auth, &author, "m", work.path());
    req.base_branch = Some("main");
    let err = push_edits(&req, |_| panic!("must not be called")).unwrap_err();
    assert!(matches!(err, GitError::Network { .. }), "{err:?}");
    assert!(
        err.to_string().starts_with(&format!("cannot reach {url}")),
        "{err}"
    );
    assert!(!format!("{err} {err:?} {req:?}").contains("ssh-passphrase-secret"));
}

/// A clone that plays another writer: it pushes a commit of its own.
struct OtherWriter {
    _dir: tempfile::TempDir,
    clone: PathBuf,
}

impl OtherWriter {
    fn clone(url: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        git(dir.path(), &["clone", "-q", url, "other"]);
        let clone = dir.path().join("other");
        OtherWriter { _dir: dir, clone }
    }

    /// Pulls, commits `external/<name>.txt`, pushes; returns the commit.
    fn push_file(&self, name: &str) -> String {
        git(&self.clone, &["pull", "-q", "--ff-only"]);
        let file = self.clone.join(format!("external/{name}.txt"));
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, format!("{name}\n")).unwrap();
        git(&self.clone, &["add", "-A"]);
        git(
            &self.clone,
            &["commit", "-q", "-m", &format!("external {name}")],
        );
        git(&self.clone, &["push", "-q", "origin", "HEAD:main"]);
        git(&self.clone, &["rev-parse", "HEAD"]).trim().to_string()
    }
}

#[test]
fn race_with_another_writer_50_rounds_never_loses_a_commit() {
    const ROUNDS: usize = 50;
    let started = Instant::now();
    let server = GitServer::start(&["deploy"]);
    let bare = server.bare("deploy");
    seed(&bare, &[("values.yaml", VALUES)]);
    let other = OtherWriter::clone(&server.cli_url("deploy"));
    let (url, auth, author) = (server.url("deploy"), server.auth(), Author::default());
    let work = tempfile::tempdir().unwrap();

    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    for round in 1..=ROUNDS {
        let message = format!("updraft {round}");
        let mut req = PushRequest::new(&url, &auth, &author, &message, work.path());
        req.max_attempts = 3;
        let tag = format!("1.{round}.0");
        let calls = Cell::new(0);
        let outcome = push_edits(&req, |read| {
            calls.set(calls.get() + 1);
            if calls.get() == 1 {
                // After our fetch, before our push: someone else pushes.
                theirs.push(other.push_file(&format!("round-{round}")));
                assert_eq!(read(&format!("external/round-{round}.txt"))?, None);
            } else {
                // Re-applied on top of what the other writer pushed.
                assert_eq!(
                    read(&format!("external/round-{round}.txt"))?.as_deref(),
                    Some(format!("round-{round}\n").as_str())
                );
            }
            set_tag(&tag)(read)
        })
        .unwrap_or_else(|e| panic!("round {round}: {e}"));
        assert_eq!(
            calls.get(),
            2,
            "round {round}: edit re-run once after the rejection"
        );
        assert_eq!(outcome.attempts, 2, "round {round}");
        let commit = outcome.commit.unwrap();
        assert_eq!(
            git(&bare, &["rev-parse", "main~1"]).trim(),
            theirs[round - 1],
            "round {round}: our commit sits on the other writer's"
        );
        ours.push(commit);
    }
    let elapsed = started.elapsed();
    eprintln!("race: {ROUNDS} rounds in {elapsed:?}");

    // Linear history: seed + 50 theirs + 50 ours, no merges, nothing lost.
    assert_eq!(count(&bare, "main"), 1 + 2 * ROUNDS);
    assert_eq!(git(&bare, &["rev-list", "--merges", "main"]), "");
    let history: Vec<String> = git(&bare, &["rev-list", "--first-parent", "main"])
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(history.len(), 1 + 2 * ROUNDS);
    let position: HashMap<&str, usize> = history
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i))
        .collect();
    for commit in ours.iter().chain(&theirs) {
        assert!(position.contains_key(commit.as_str()), "{commit} was lost");
    }
    let subjects = git(&bare, &["log", "--format=%s", "main"]);
    for round in 1..=ROUNDS {
        assert!(
            subjects.contains(&format!("updraft {round}\n")),
            "updraft {round}"
        );
        assert!(
            subjects.contains(&format!("external round-{round}\n")),
            "external {round}"
        );
    }
    assert!(show(&bare, "main", "values.yaml").contains(&format!("tag: 1.{ROUNDS}.0")));
    let externals = git(
        &bare,
        &["ls-tree", "-r", "--name-only", "main", "external/"],
    );
    assert_eq!(externals.lines().count(), ROUNDS);

    // The server's reflog: every update of main moved it forward (each old
    // value is an ancestor of the new one), so nothing was ever forced.
    let reflog = std::fs::read_to_string(bare.join("logs/refs/heads/main")).unwrap();
    let updates: Vec<(&str, &str)> = reflog
        .lines()
        .map(|l| {
            let mut f = l.split(' ');
            (f.next().unwrap(), f.next().unwrap())
        })
        .collect();
    assert_eq!(updates.len(), 1 + 2 * ROUNDS, "one update per push");
    for (old, new) in updates {
        if old.bytes().all(|b| b == b'0') {
            continue;
        }
        assert!(
            position[old] > position[new],
            "{old} -> {new} is not a fast-forward"
        );
    }
}

#[test]
fn a_branch_that_keeps_moving_is_rejected_after_max_attempts() {
    let server = GitServer::start(&["deploy"]);
    let bare = server.bare("deploy");
    seed(&bare, &[("values.yaml", VALUES)]);
    let other = OtherWriter::clone(&server.cli_url("deploy"));
    let (url, auth, author) = (server.url("deploy"), server.auth(), Author::default());
    let work = tempfile::tempdir().unwrap();
    let mut req = PushRequest::new(&url, &auth, &author, "m", work.path());
    req.max_attempts = 3;
    let mut calls = 0;
    let err = push_edits(&req, |read| {
        calls += 1;
        other.push_file(&format!("busy-{calls}"));
        set_tag("5.0.0")(read)
    })
    .unwrap_err();
    assert_eq!(calls, 3);
    assert!(
        matches!(&err, GitError::Rejected { attempts: 3, branch, .. } if branch == "main"),
        "{err:?}"
    );
    assert!(err.is_transient(), "{err}");
    assert!(err.to_string().contains("kept moving"), "{err}");
    assert_eq!(
        count(&bare, "main"),
        4,
        "the other writer's three commits, none of ours"
    );
}
