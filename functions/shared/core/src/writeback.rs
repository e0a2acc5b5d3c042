//! Owns how an update is written back ([`WriteBack`]): the method
//! (`argocd` or `git[:credentials]`), and for git the target file, the branch
//! and the repository; also where a target lives in the repository
//! ([`WriteBackTarget::resolve`]).
//!
//! Grammar (Image Updater's `write-back-method`, `write-back-target`,
//! `git-branch`):
//!
//! ```text
//! method  argocd | git | git:repocreds | git:secret:<namespace>/<name> | git:secret:<name>
//! target  kustomization[:<dir>] | helmvalues[:<file>] | <file>      (default .argocd-source-<app>.yaml)
//! branch  <branch> | <base>:<write branch> | :<write branch>
//! ```
//!
//! A target path starting with `/` is relative to the repository root,
//! otherwise to the Application's source path. A custom target may not be a
//! kustomization file (`kustomization.yaml`, `kustomization.yml`,
//! `Kustomization`): use `kustomization:<dir>` for that.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// File names Kustomize reads; a custom target may not be one of them.
pub const KUSTOMIZATION_FILE_NAMES: [&str; 3] =
    ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// A write-back setting that cannot be used. Messages start with the value so
/// that the caller can prefix the key it came from.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WriteBackError {
    /// Not a write-back method.
    #[error(
        "\"{0}\" is not a write-back method (use argocd, git, git:repocreds, git:secret:<namespace>/<name> or git:secret:<name>)"
    )]
    Method(String),
    /// An unusable target.
    #[error("\"{value}\" {problem}")]
    Target {
        /// The target as given.
        value: String,
        /// What is wrong and how to fix it.
        problem: String,
    },
    /// An unusable branch specification.
    #[error(
        "\"{0}\" is not a git branch specification (use <branch>, <base>:<write branch> or :<write branch>)"
    )]
    Branch(String),
    /// An unusable pull-request configuration.
    #[error("{0}")]
    PullRequest(String),
}

/// Which setting a [`WriteBackError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteBackField {
    /// The method.
    Method,
    /// The target.
    Target,
    /// The branch.
    Branch,
    /// The repository.
    Repository,
    /// The pull-request block.
    PullRequest,
}

/// How updates are written back.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "lowercase")]
pub enum WriteBack {
    /// Update the Application spec through the Argo CD API (the default).
    #[default]
    Argocd,
    /// Commit to the deployment repository.
    Git(GitWriteBack),
}

/// Git write-back settings.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct GitWriteBack {
    /// Which credentials push.
    pub credentials: GitCredentials,
    /// Repository to commit to; `None` = the source's `repoURL`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// Branches; `None` = the source's `targetRevision`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<GitBranch>,
    /// What file to edit.
    #[serde(default)]
    pub target: WriteBackTarget,
    /// Open a pull request instead of pushing to the branch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pull_request: Option<PullRequest>,
}

/// Credentials for git write-back.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum GitCredentials {
    /// The repository credentials Argo CD (or Updraft's `git.credentials`)
    /// has for the repository (`git`, `git:repocreds`).
    #[default]
    RepoCreds,
    /// A secret with `username`/`password` or `sshPrivateKey`
    /// (`git:secret:[<namespace>/]<name>`; no namespace = the Application's).
    Secret {
        /// The secret's namespace, when written.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        namespace: Option<String>,
        /// The secret's name.
        name: String,
    },
}

/// `git-branch`: where to check out and where to push.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct GitBranch {
    /// Branch to check out; `None` = the source's `targetRevision`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    /// Branch to push to when it differs from `base` (may be a template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write: Option<String>,
}

/// What file the git write-back edits.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum WriteBackTarget {
    /// `.argocd-source-<app>.yaml` in the source path (the default).
    #[default]
    ArgocdSource,
    /// A Helm values file (`helmvalues[:<file>]`; default `values.yaml`).
    HelmValues {
        /// The file, when written.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        path: Option<String>,
    },
    /// A kustomization directory (`kustomization[:<dir>]`; default the
    /// source path).
    Kustomization {
        /// The directory, when written.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        dir: Option<String>,
    },
    /// Any other file, in `.argocd-source` format.
    File {
        /// The file.
        path: String,
    },
}

/// Pull-request mode (`gitConfig.pullRequest` of an `ImageUpdater`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullRequest {
    /// Where to open it.
    pub provider: PullRequestProvider,
    /// Labels to put on it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
}

/// The forge that receives pull requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PullRequestProvider {
    /// GitHub pull request.
    GitHub,
    /// GitLab merge request.
    GitLab,
}

/// Parses a write-back method: `None` for `argocd`, else the git credentials.
pub fn parse_method(value: &str) -> Result<Option<GitCredentials>, WriteBackError> {
    let value = value.trim();
    let bad = || WriteBackError::Method(value.to_string());
    match value {
        "argocd" => return Ok(None),
        "git" | "git:repocreds" => return Ok(Some(GitCredentials::RepoCreds)),
        _ => {}
    }
    let secret = value.strip_prefix("git:secret:").ok_or_else(bad)?;
    let valid_part = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
    };
    match secret.split_once('/') {
        None if valid_part(secret) => Ok(Some(GitCredentials::Secret {
            namespace: None,
            name: secret.to_string(),
        })),
        Some((namespace, name)) if valid_part(namespace) && valid_part(name) => {
            Ok(Some(GitCredentials::Secret {
                namespace: Some(namespace.to_string()),
                name: name.to_string(),
            }))
        }
        _ => Err(bad()),
    }
}

impl WriteBackTarget {
    /// Parses `kustomization[:<dir>]`, `helmvalues[:<file>]` or a file path.
    pub fn parse(value: &str) -> Result<Self, WriteBackError> {
        let value = value.trim();
        let bad = |problem: &str| WriteBackError::Target {
            value: value.to_string(),
            problem: problem.to_string(),
        };
        let optional = |rest: &str| (!rest.is_empty()).then(|| rest.to_string());
        let target = if value == "kustomization" {
            Self::Kustomization { dir: None }
        } else if let Some(dir) = value.strip_prefix("kustomization:") {
            if is_kustomization_file(dir) {
                return Err(bad(
                    "names a kustomization file; kustomization: takes its directory (write kustomization:<dir>)",
                ));
            }
            Self::Kustomization { dir: optional(dir) }
        } else if value == "helmvalues" {
            Self::HelmValues { path: None }
        } else if let Some(path) = value.strip_prefix("helmvalues:") {
            Self::HelmValues {
                path: optional(path),
            }
        } else if value.is_empty() {
            return Err(bad(
                "is empty (use kustomization[:<dir>], helmvalues[:<file>] or a file path)",
            ));
        } else if is_kustomization_file(value) {
            return Err(bad(
                "is a kustomization file, which write-back cannot overwrite (write kustomization:<dir> to edit it)",
            ));
        } else {
            Self::File {
                path: value.to_string(),
            }
        };
        Ok(target)
    }

    /// The path, relative to the repository root, of the file (or, for
    /// `kustomization`, the directory) to edit, given the Application's
    /// source path and name. Paths are cleaned (`a/../b` → `b`); a path that
    /// leads outside the repository is an error.
    pub fn resolve(&self, source_path: &str, app_name: &str) -> Result<String, WriteBackError> {
        let (written, resolved) = match self {
            Self::ArgocdSource => (
                String::new(),
                join(source_path, &argocd_source_file_name(app_name)),
            ),
            Self::HelmValues { path } => match path {
                None => ("helmvalues".to_string(), join(source_path, "values.yaml")),
                Some(p) => (format!("helmvalues:{p}"), relative(source_path, p)),
            },
            Self::Kustomization { dir } => match dir {
                None => ("kustomization".to_string(), join(source_path, ".")),
                Some(d) => (format!("kustomization:{d}"), relative(source_path, d)),
            },
            Self::File { path } => (path.clone(), relative("", path)),
        };
        if resolved == ".." || resolved.starts_with("../") {
            return Err(WriteBackError::Target {
                value: written,
                problem: format!(
                    "leads outside the repository ({resolved}) from source path '{source_path}'"
                ),
            });
        }
        Ok(resolved)
    }
}

/// `.argocd-source-<app>.yaml`, the file Argo CD reads parameter overrides
/// from.
pub fn argocd_source_file_name(app_name: &str) -> String {
    format!(".argocd-source-{app_name}.yaml")
}

fn is_kustomization_file(path: &str) -> bool {
    let base = path
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default();
    KUSTOMIZATION_FILE_NAMES.contains(&base)
}

/// A path written by the user: `/x` is relative to the repository root,
/// anything else to the source path.
fn relative(source_path: &str, path: &str) -> String {
    if path.starts_with('/') {
        // Cleaned as a rooted path, so `..` cannot climb above the root.
        let cleaned = clean(path);
        match cleaned.trim_start_matches('/') {
            "" => ".".to_string(),
            rest => rest.to_string(),
        }
    } else {
        join(source_path, path)
    }
}

/// The trimmed value, `None` when absent or empty.
fn given(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

/// Go's `filepath.Join` of two elements: empty elements are skipped, the
/// result cleaned; all empty gives "".
fn join(a: &str, b: &str) -> String {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => String::new(),
        (true, false) => clean(b),
        (false, true) => clean(a),
        (false, false) => clean(&format!("{a}/{b}")),
    }
}

/// Go's `path.Clean` for relative paths.
fn clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => match parts.last() {
                Some(last) if *last != ".." => {
                    parts.pop();
                }
                _ if rooted => {}
                _ => parts.push(".."),
            },
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

impl GitBranch {
    /// Parses `<branch>`, `<base>:<write branch>` or `:<write branch>`.
    pub fn parse(value: &str) -> Result<Self, WriteBackError> {
        let value = value.trim();
        let parts: Vec<&str> = value.split(':').collect();
        let optional = |s: &str| {
            let s = s.trim();
            (!s.is_empty()).then(|| s.to_string())
        };
        match parts.as_slice() {
            [branch] if !branch.is_empty() => Ok(Self {
                base: Some(branch.to_string()),
                write: None,
            }),
            [base, write] if !(base.trim().is_empty() && write.trim().is_empty()) => Ok(Self {
                base: optional(base),
                write: optional(write),
            }),
            _ => Err(WriteBackError::Branch(value.to_string())),
        }
    }
}

impl WriteBack {
    /// Assembles write-back settings from their textual parts (each `None`
    /// or empty when not configured). Returns the settings and warnings about
    /// settings that have no effect.
    pub fn from_parts(
        method: Option<&str>,
        target: Option<&str>,
        branch: Option<&str>,
        repository: Option<&str>,
        pull_request: Option<PullRequest>,
    ) -> Result<(Self, Vec<String>), (WriteBackField, WriteBackError)> {
        let method = given(method);
        let credentials = match method {
            None => None,
            Some(m) => parse_method(m).map_err(|e| (WriteBackField::Method, e))?,
        };
        let (target, branch, repository) = (given(target), given(branch), given(repository));
        let Some(credentials) = credentials else {
            if pull_request.is_some() {
                return Err((
                    WriteBackField::PullRequest,
                    WriteBackError::PullRequest(
                        "pull requests need the git write-back method (set method: git)"
                            .to_string(),
                    ),
                ));
            }
            let mut warnings = Vec::new();
            if target.is_some() || branch.is_some() || repository.is_some() {
                warnings.push(
                    "the git target, branch and repository settings are ignored because the write-back method is argocd (set it to git to use them)"
                        .to_string(),
                );
            }
            return Ok((Self::Argocd, warnings));
        };
        let target = match target {
            None => WriteBackTarget::ArgocdSource,
            Some(t) => WriteBackTarget::parse(t).map_err(|e| (WriteBackField::Target, e))?,
        };
        let branch = branch
            .map(GitBranch::parse)
            .transpose()
            .map_err(|e| (WriteBackField::Branch, e))?;
        if let Some(pr) = &pull_request {
            if let Some(GitBranch {
                base: Some(base),
                write: Some(write),
            }) = &branch
            {
                return Err((
                    WriteBackField::Branch,
                    WriteBackError::PullRequest(format!(
                        "branch \"{base}:{write}\" uses base:target syntax, which pull requests do not support (write the base branch only)"
                    )),
                ));
            }
            if pr.labels.len() > 100 {
                return Err((
                    WriteBackField::PullRequest,
                    WriteBackError::PullRequest(format!(
                        "{} pull-request labels given; at most 100 are allowed",
                        pr.labels.len()
                    )),
                ));
            }
        }
        Ok((
            Self::Git(GitWriteBack {
                credentials,
                repository: repository.map(str::to_string),
                branch,
                target,
                pull_request,
            }),
            Vec::new(),
        ))
    }

    /// The git settings, when writing back to git.
    pub fn git(&self) -> Option<&GitWriteBack> {
        match self {
            Self::Argocd => None,
            Self::Git(git) => Some(git),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods() {
        assert_eq!(parse_method("argocd").unwrap(), None);
        assert_eq!(
            parse_method(" git ").unwrap(),
            Some(GitCredentials::RepoCreds)
        );
        assert_eq!(
            parse_method("git:repocreds").unwrap(),
            Some(GitCredentials::RepoCreds)
        );
        assert_eq!(
            parse_method("git:secret:argocd/git-creds").unwrap(),
            Some(GitCredentials::Secret {
                namespace: Some("argocd".into()),
                name: "git-creds".into()
            })
        );
        assert_eq!(
            parse_method("git:secret:git-creds").unwrap(),
            Some(GitCredentials::Secret {
                namespace: None,
                name: "git-creds".into()
            })
        );
        for bad in [
            "svn",
            "Git",
            "git:",
            "git:secret:",
            "git:secret:a/",
            "git:secret:a/b/c",
            "git:ssh",
        ] {
            let err = parse_method(bad).unwrap_err().to_string();
            assert!(
                err.starts_with(&format!("\"{bad}\" is not a write-back method")),
                "{err}"
            );
        }
    }

    #[test]
    fn targets() {
        assert_eq!(
            WriteBackTarget::parse("kustomization").unwrap(),
            WriteBackTarget::Kustomization { dir: None }
        );
        assert_eq!(
            WriteBackTarget::parse("kustomization:../base").unwrap(),
            WriteBackTarget::Kustomization {
                dir: Some("../base".into())
            }
        );
        assert_eq!(
            WriteBackTarget::parse("helmvalues").unwrap(),
            WriteBackTarget::HelmValues { path: None }
        );
        assert_eq!(
            WriteBackTarget::parse("helmvalues:/env/values-dev.yaml").unwrap(),
            WriteBackTarget::HelmValues {
                path: Some("/env/values-dev.yaml".into())
            }
        );
        assert_eq!(
            WriteBackTarget::parse("overrides/app.yaml").unwrap(),
            WriteBackTarget::File {
                path: "overrides/app.yaml".into()
            }
        );
    }

    #[test]
    fn kustomization_files_are_rejected() {
        for bad in [
            "kustomization.yaml",
            "overlays/dev/kustomization.yml",
            "/a/Kustomization",
            "kustomization:overlays/kustomization.yaml",
        ] {
            let err = WriteBackTarget::parse(bad).unwrap_err().to_string();
            assert!(err.contains("kustomization:<dir>"), "{bad}: {err}");
        }
        assert!(WriteBackTarget::parse("").is_err());
    }

    #[test]
    fn path_resolution_table() {
        let t = |s: &str| WriteBackTarget::parse(s).unwrap();
        let cases = [
            ("helmvalues", "", "values.yaml"),
            ("helmvalues", "foo/bar", "foo/bar/values.yaml"),
            (
                "helmvalues:/foo/app-values.yaml",
                "bar",
                "foo/app-values.yaml",
            ),
            (
                "helmvalues:foo/app-values.yaml",
                "bar",
                "bar/foo/app-values.yaml",
            ),
            (
                "helmvalues:../baz/app-values.yaml",
                "bar/foo",
                "bar/baz/app-values.yaml",
            ),
            ("kustomization", "foo/bar", "foo/bar"),
            ("kustomization:/foo", "bar", "foo"),
            ("kustomization:../baz", "bar/foo", "bar/baz"),
            ("kustomization", "", "."),
            ("custom/file.yaml", "ignored", "custom/file.yaml"),
            ("/custom/file.yaml", "ignored", "custom/file.yaml"),
        ];
        for (target, source, want) in cases {
            assert_eq!(
                t(target).resolve(source, "app").unwrap(),
                want,
                "{target} in {source}"
            );
        }
        assert_eq!(
            WriteBackTarget::ArgocdSource
                .resolve("manifests/helm/echo-server", "app-helm-dev")
                .unwrap(),
            "manifests/helm/echo-server/.argocd-source-app-helm-dev.yaml"
        );
        assert_eq!(
            WriteBackTarget::ArgocdSource.resolve("", "a").unwrap(),
            ".argocd-source-a.yaml"
        );
    }

    #[test]
    fn paths_may_not_leave_the_repository() {
        let err = WriteBackTarget::parse("helmvalues:../../x.yaml")
            .unwrap()
            .resolve("bar", "a")
            .unwrap_err()
            .to_string();
        assert!(err.contains("leads outside the repository"), "{err}");
        assert!(
            WriteBackTarget::parse("/../x")
                .unwrap()
                .resolve("", "a")
                .is_ok_and(|p| p == "x")
        );
    }

    #[test]
    fn clean_like_go() {
        assert_eq!(clean("a/./b/../c"), "a/c");
        assert_eq!(clean(""), ".");
        assert_eq!(clean("../a"), "../a");
        assert_eq!(clean("/../a"), "/a");
        assert_eq!(clean("a//b/"), "a/b");
    }

    #[test]
    fn branches() {
        assert_eq!(
            GitBranch::parse("main").unwrap(),
            GitBranch {
                base: Some("main".into()),
                write: None
            }
        );
        assert_eq!(
            GitBranch::parse("main:image-updates").unwrap(),
            GitBranch {
                base: Some("main".into()),
                write: Some("image-updates".into())
            }
        );
        assert_eq!(
            GitBranch::parse(":image-updater{{range .Images}}-{{.Name}}{{end}}").unwrap(),
            GitBranch {
                base: None,
                write: Some("image-updater{{range .Images}}-{{.Name}}{{end}}".into())
            }
        );
        for bad in ["a:b:c", ":", ""] {
            let err = GitBranch::parse(bad).unwrap_err().to_string();
            assert!(err.contains("is not a git branch specification"), "{err}");
        }
    }

    #[test]
    fn from_parts_defaults_and_warnings() {
        let (wb, warnings) = WriteBack::from_parts(None, None, None, None, None).unwrap();
        assert_eq!(wb, WriteBack::Argocd);
        assert!(warnings.is_empty());
        let (wb, warnings) =
            WriteBack::from_parts(Some("argocd"), Some("helmvalues"), None, None, None).unwrap();
        assert_eq!(wb, WriteBack::Argocd);
        assert_eq!(warnings.len(), 1);
        let (wb, _) =
            WriteBack::from_parts(Some("git"), None, Some("main"), Some(" "), None).unwrap();
        let git = wb.git().unwrap();
        assert_eq!(git.target, WriteBackTarget::ArgocdSource);
        assert_eq!(git.repository, None);
        assert_eq!(git.branch.as_ref().unwrap().base.as_deref(), Some("main"));
    }

    #[test]
    fn from_parts_errors_name_the_field() {
        let (field, _) = WriteBack::from_parts(Some("svn"), None, None, None, None).unwrap_err();
        assert_eq!(field, WriteBackField::Method);
        let (field, _) =
            WriteBack::from_parts(Some("git"), Some("kustomization.yaml"), None, None, None)
                .unwrap_err();
        assert_eq!(field, WriteBackField::Target);
        let (field, _) =
            WriteBack::from_parts(Some("git"), None, Some("a:b:c"), None, None).unwrap_err();
        assert_eq!(field, WriteBackField::Branch);
        let pr = PullRequest {
            provider: PullRequestProvider::GitHub,
            labels: vec![],
        };
        let (field, _) =
            WriteBack::from_parts(None, None, None, None, Some(pr.clone())).unwrap_err();
        assert_eq!(field, WriteBackField::PullRequest);
        let (field, err) =
            WriteBack::from_parts(Some("git"), None, Some("a:b"), None, Some(pr.clone()))
                .unwrap_err();
        assert_eq!(field, WriteBackField::Branch);
        assert!(err.to_string().contains("base:target"));
        let many = PullRequest {
            labels: (0..101).map(|i| i.to_string()).collect(),
            ..pr
        };
        let (field, _) =
            WriteBack::from_parts(Some("git"), None, None, None, Some(many)).unwrap_err();
        assert_eq!(field, WriteBackField::PullRequest);
    }

    #[test]
    fn serde_shape() {
        let (wb, _) = WriteBack::from_parts(
            Some("git:secret:argocd/git-creds"),
            Some("helmvalues:values-dev.yaml"),
            None,
            None,
            None,
        )
        .unwrap();
        let json = serde_json::to_value(&wb).unwrap();
        assert_eq!(json["method"], "git");
        assert_eq!(json["credentials"]["type"], "secret");
        assert_eq!(json["target"]["type"], "helmvalues");
        let back: WriteBack = serde_json::from_value(json).unwrap();
        assert_eq!(back, wb);
        assert_eq!(
            serde_json::to_value(WriteBack::Argocd).unwrap(),
            serde_json::json!({"method": "argocd"})
        );
    }
}
