//! Owns running `write-back`: each commit group through git (clone or
//! fetch, edit, commit, push without force, re-apply on a rejected push),
//! credentials chosen from `updraft.yaml`, and the `SyncRequest` that says per
//! application what was written where, or why nothing was.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use tracing::{info, warn};
use updraft_core::writeback::GitCredentials;
use updraft_gitops::git::{
    Author, FileEdit, GitAuth, GitError, PushRequest, push_edits, redact_url,
};

use crate::apps::app_id;
use crate::context::Context;
use crate::events::{
    AppError, AppUpdate, AppWritten, Preview, SyncRequest, WriteBackRequest, WriteBackStats,
};
use crate::settings::{GitCredentialRule, GitSettings};
use crate::writeback::{Edited, Group, argocd_patch, commit_message, edit_group, plan};
use updraft_argocd::AppName;

/// Writes every application with changes of `request`.
pub async fn write_back(ctx: &Context, request: WriteBackRequest) -> SyncRequest {
    let started = Instant::now();
    let settings = &ctx.settings.git;
    let mut errors = request.errors;
    let mut written = Vec::new();
    let mut stats = WriteBackStats::default();
    let mut previews = Vec::new();
    let plan = plan(&request.applications, settings.commit);
    for (app, error) in plan.refused {
        written.push(not_written(&app, "git", &error.message));
        errors.push(error);
    }
    for app in plan.argocd {
        match write_argocd(ctx, &app).await {
            Ok(w) => {
                if w.written {
                    stats.applications_written += 1;
                }
                written.push(w);
            }
            Err(message) => {
                written.push(not_written(&app, "argocd", &message));
                errors.push(write_error(&app, message));
            }
        }
    }
    for group in plan.groups {
        let outcome = push_group(settings, group).await;
        previews.extend(outcome.preview);
        stats.push_attempts += outcome.attempts;
        if outcome.commit.is_some() {
            stats.commits += 1;
            stats.pushes += 1;
        }
        for AppResult { written: w, error } in outcome.apps {
            if w.written {
                stats.applications_written += 1;
            }
            written.push(w);
            errors.extend(error);
        }
    }
    stats.millis = started.elapsed().as_millis() as u64;
    info!(
        commits = stats.commits,
        pushes = stats.pushes,
        attempts = stats.push_attempts,
        written = stats.applications_written,
        errors = errors.len(),
        "write-back finished"
    );
    SyncRequest {
        cycle: request.cycle,
        applications: written,
        errors,
        stats,
        previews,
    }
}

/// The `argocd` method: the Application's spec gets the Helm parameters or
/// Kustomize images through the API (nothing in git).
async fn write_argocd(ctx: &Context, app: &AppUpdate) -> Result<AppWritten, String> {
    let patch = argocd_patch(app)?;
    if ctx.settings.git.dry_run {
        let mut w = not_written(app, "argocd", "");
        w.reason = format!("dry run: would update the Application spec with {patch:?}");
        return Ok(w);
    }
    let client = ctx.argocd()?;
    let name = match &app.config.namespace {
        Some(ns) => AppName::in_namespace(app.config.name.clone(), ns.clone()),
        None => AppName::new(app.config.name.clone()),
    };
    let changed = client
        .update_application_spec(name, &patch)
        .await
        .map_err(|e| e.to_string())?;
    let mut w = not_written(app, "argocd", "");
    w.written = changed;
    w.reason = if changed {
        format!("updated the Application spec through {}", client.server())
    } else {
        "the Application spec already has these tags".into()
    };
    Ok(w)
}

fn not_written(app: &AppUpdate, method: &str, reason: &str) -> AppWritten {
    AppWritten {
        config: app.config.clone(),
        method: method.into(),
        repository: None,
        branch: None,
        commit: None,
        files: Vec::new(),
        changes: app.changes.clone(),
        written: false,
        reason: reason.into(),
    }
}

/// One application's part of a group: what it says, and its error.
struct AppResult {
    written: AppWritten,
    error: Option<AppError>,
}

fn write_error(app: &AppUpdate, message: String) -> AppError {
    AppError {
        application: app_id(&app.config),
        image: None,
        stage: "write-back".into(),
        message,
    }
}

struct GroupOutcome {
    commit: Option<String>,
    attempts: u32,
    apps: Vec<AppResult>,
    preview: Option<Preview>,
}

async fn push_group(settings: &GitSettings, group: Group) -> GroupOutcome {
    let auth = match git_auth(settings, &group) {
        Ok(auth) => auth,
        Err(message) => return failed_group(&group, &message),
    };
    let settings_dry_run = settings.dry_run;
    let settings = settings.clone();
    let group = Arc::new(group);
    let task_group = group.clone();
    // git2 blocks: run the whole transaction off the async threads.
    let joined = tokio::task::spawn_blocking(move || run_git(&settings, &task_group, &auth)).await;
    match joined {
        Ok(Ok((outcome, edited))) => {
            let branch = outcome.branch.clone();
            let apps = group
                .apps
                .iter()
                .zip(edited.apps)
                .map(|(app, edit)| {
                    let mut w = not_written(app, "git", "");
                    w.repository = Some(redact_url(&group.url));
                    w.branch = Some(branch.clone());
                    match edit.error {
                        Some(message) => {
                            w.reason = message.clone();
                            AppResult {
                                written: w,
                                error: Some(write_error(app, message)),
                            }
                        }
                        None if edit.files.is_empty() => {
                            w.reason =
                                "the repository already has these tags; nothing to commit".into();
                            AppResult {
                                written: w,
                                error: None,
                            }
                        }
                        None if settings_dry_run => {
                            w.files = edit.files;
                            w.reason =
                                format!("dry run: would commit {} to {branch}", w.files.join(", "));
                            AppResult {
                                written: w,
                                error: None,
                            }
                        }
                        None => {
                            w.written = outcome.commit.is_some();
                            w.commit = outcome.commit.clone();
                            w.files = edit.files;
                            w.reason = format!(
                                "committed {} and pushed to {}",
                                outcome
                                    .commit
                                    .as_deref()
                                    .map(crate::sync::short)
                                    .unwrap_or("nothing"),
                                branch
                            );
                            AppResult {
                                written: w,
                                error: None,
                            }
                        }
                    }
                })
                .collect();
            let preview = (settings_dry_run && !outcome.diff.is_empty()).then(|| Preview {
                repository: redact_url(&group.url),
                branch: outcome.branch.clone(),
                files: outcome.files.clone(),
                diff: outcome.diff.clone(),
            });
            GroupOutcome {
                commit: outcome.commit,
                attempts: outcome.attempts,
                apps,
                preview,
            }
        }
        Ok(Err(e)) => failed_group(&group, &e.to_string()),
        Err(join) => failed_group(&group, &format!("the git task failed: {join}")),
    }
}

fn failed_group(group: &Group, message: &str) -> GroupOutcome {
    warn!(repository = %redact_url(&group.url), %message, "write-back failed");
    GroupOutcome {
        commit: None,
        attempts: 0,
        preview: None,
        apps: group
            .apps
            .iter()
            .map(|app| {
                let mut w = not_written(app, "git", message);
                w.repository = Some(redact_url(&group.url));
                AppResult {
                    written: w,
                    error: Some(write_error(app, message.to_string())),
                }
            })
            .collect(),
    }
}

fn run_git(
    settings: &GitSettings,
    group: &Group,
    auth: &GitAuth,
) -> Result<(updraft_gitops::git::PushOutcome, Edited), GitError> {
    let author = Author {
        name: settings.user.clone(),
        email: settings.email.clone(),
    };
    let last: Mutex<Edited> = Mutex::new(Edited::default());
    let work_dir = work_dir(settings, group);
    // One transaction at a time per work directory in this process (the
    // local runtime may run overlapping cycles).
    let lock = work_dir_lock(&work_dir);
    let _guard = lock.lock().unwrap_or_else(|e| e.into_inner());
    let message = {
        let apps: Vec<&AppUpdate> = group.apps.iter().collect();
        commit_message(&apps, settings.message_template.as_deref())
    };
    let request = PushRequest {
        url: &group.url,
        auth,
        base_branch: group.base.as_deref(),
        target_branch: group.write.as_deref(),
        author: &author,
        message: &message,
        max_attempts: settings.max_attempts,
        work_dir: &work_dir,
        signoff: settings.signoff,
        dry_run: settings.dry_run,
    };
    let outcome = push_edits(&request, |read| {
        let reader = |path: &str| read(path).map_err(|e| e.to_string());
        let edited = edit_group(group, &reader).map_err(GitError::edit)?;
        let files = edited
            .files
            .iter()
            .map(|(path, content)| FileEdit {
                path: path.clone(),
                content: content.clone(),
            })
            .collect();
        *last.lock().unwrap_or_else(|e| e.into_inner()) = edited;
        Ok(files)
    })?;
    let edited = last.into_inner().unwrap_or_else(|e| e.into_inner());
    Ok((outcome, edited))
}

fn work_dir_lock(path: &Path) -> Arc<Mutex<()>> {
    static LOCKS: OnceLock<Mutex<HashMap<PathBuf, Arc<Mutex<()>>>>> = OnceLock::new();
    let mut locks = LOCKS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    locks.entry(path.to_path_buf()).or_default().clone()
}

/// One cache per repository URL, reused by a warm process: a readable
/// name (credentials removed) and a hash of the URL so that two URLs never
/// share a directory.
fn work_dir(settings: &GitSettings, group: &Group) -> PathBuf {
    use sha2::{Digest, Sha256};
    let readable: String = redact_url(&group.url)
        .rsplit('/')
        .find(|s| !s.is_empty())
        .unwrap_or("repository")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .take(60)
        .collect();
    let hash = hex::encode(Sha256::digest(group.url.as_bytes()));
    settings
        .work_dir
        .join(format!("{readable}-{}", &hash[..16]))
}

/// The credentials for a group: the rule of the Image Updater secret the
/// applications name, else the longest matching URL prefix, else none.
fn git_auth(settings: &GitSettings, group: &Group) -> Result<GitAuth, String> {
    let rule: Option<&GitCredentialRule> = match &group.credentials {
        GitCredentials::Secret { namespace, name } => {
            let wanted = format!("{}/{name}", namespace.as_deref().unwrap_or("argocd"));
            let found = settings
                .credentials
                .iter()
                .find(|r| r.secret.as_deref() == Some(wanted.as_str()));
            if found.is_none() {
                return Err(format!(
                    "write-back-method names secret {wanted}, which Updraft cannot read from Kubernetes; add git.credentials: [{{secret: {wanted}, username: …, password: env:…}}] to updraft.yaml"
                ));
            }
            found
        }
        GitCredentials::RepoCreds => settings.credentials.iter().find(|r| {
            r.match_prefix
                .as_deref()
                .is_some_and(|p| group.url.starts_with(p))
        }),
    };
    let Some(rule) = rule else {
        return Ok(GitAuth::None);
    };
    if let Some(key) = &rule.ssh_key {
        let Some(path) = key.path() else {
            return Err("git ssh_key must be a file: reference".into());
        };
        let passphrase = rule
            .ssh_key_passphrase
            .as_ref()
            .map(|p| {
                p.resolve()
                    .map_err(|m| format!("git ssh_key_passphrase: {m}"))
            })
            .transpose()?;
        return Ok(GitAuth::SshKey {
            private_key_path: path,
            passphrase: passphrase.map(Into::into),
            known_hosts_path: rule.known_hosts.clone(),
            accept_unknown_hosts: rule.accept_unknown_hosts,
        });
    }
    let username = match &rule.username {
        Some(u) if u.starts_with("env:") || u.starts_with("file:") => {
            crate::settings::SecretRef::parse(u, std::path::Path::new("."))
                .and_then(|r| r.resolve())
                .map_err(|m| format!("git username: {m}"))?
        }
        Some(u) => u.clone(),
        None => String::new(),
    };
    let password = match &rule.password {
        Some(p) => p.resolve().map_err(|m| format!("git password: {m}"))?,
        None => String::new(),
    };
    Ok(GitAuth::UserPassword {
        username,
        password: password.into(),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn group(url: &str) -> Group {
        Group {
            url: url.into(),
            base: None,
            write: None,
            credentials: GitCredentials::RepoCreds,
            apps: Vec::new(),
        }
    }

    #[test]
    fn ssh_key_passphrase_is_resolved_and_redacted() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("pass"), "correct horse\n").unwrap();
        let text = "git:\n  credentials:\n    - {match: \"git@git.example:\", ssh_key: file:key, ssh_key_passphrase: file:pass, known_hosts: kh}\n";
        let settings = crate::Settings::parse(text, "updraft.yaml", dir.path()).unwrap();
        let auth = git_auth(&settings.git, &group("git@git.example:team/deploy.git")).unwrap();
        let GitAuth::SshKey {
            private_key_path,
            passphrase,
            ..
        } = &auth
        else {
            panic!("{auth:?}");
        };
        assert_eq!(private_key_path, &dir.path().join("key"));
        assert_eq!(
            passphrase.as_ref().map(|p| p.expose()),
            Some("correct horse")
        );
        assert!(!format!("{auth:?}").contains("correct horse"));

        // A passphrase reference that cannot be read names the setting.
        std::fs::remove_file(dir.path().join("pass")).unwrap();
        let err = git_auth(&settings.git, &group("git@git.example:team/deploy.git")).unwrap_err();
        assert!(err.contains("ssh_key_passphrase"), "{err}");

        let err = crate::Settings::parse(
            "git:\n  credentials:\n    - {match: x, username: u, password: env:P, ssh_key_passphrase: env:Q}\n",
            "updraft.yaml",
            dir.path(),
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("ssh_key_passphrase goes with ssh_key"),
            "{err}"
        );
    }
}
