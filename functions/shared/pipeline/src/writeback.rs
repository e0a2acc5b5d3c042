//! Owns `write-back`'s decisions that need no git: which applications share
//! a commit (one per repository and branch, or one per application), what
//! each application's target file becomes (through `updraft-gitops`'
//! editors), and the commit message. The git side lives in
//! `write_back` (below); a rejected push re-runs [`edit_group`] on the
//! new remote tip, so it must be a pure function of what it reads.

use std::collections::BTreeMap;

use updraft_argocd::SpecPatch;
use updraft_core::config::SourceKind;
use updraft_core::writeback::{GitCredentials, GitWriteBack, KUSTOMIZATION_FILE_NAMES};
use updraft_core::{UpdateStrategy, WriteBack, WriteBackTarget};
use updraft_gitops::targets::{argocd_source, helm_values, kustomization};
use updraft_gitops::template::{self, ChangeEntry, Template, render_branch};

use crate::apps::app_id;
use crate::events::{AppError, AppUpdate};
use crate::settings::CommitBatching;

/// Applications that go into one commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// The repository URL.
    pub url: String,
    /// The branch to check out; `None`: the remote's default branch.
    pub base: Option<String>,
    /// The branch to push to, when it differs from `base`.
    pub write: Option<String>,
    /// Which credentials push.
    pub credentials: GitCredentials,
    /// The applications, in request order.
    pub apps: Vec<AppUpdate>,
}

/// The applications of a request, split by write-back method.
#[derive(Debug, Default)]
pub struct Plan {
    /// Git commits to make.
    pub groups: Vec<Group>,
    /// Applications written through the Argo CD API.
    pub argocd: Vec<AppUpdate>,
    /// Applications that cannot be written, with why.
    pub refused: Vec<(AppUpdate, AppError)>,
}

/// Groups the applications of `apps` into commits.
pub fn plan(apps: &[AppUpdate], batching: CommitBatching) -> Plan {
    let mut plan = Plan::default();
    for app in apps {
        let git = match &app.config.write_back {
            WriteBack::Argocd => {
                plan.argocd.push(app.clone());
                continue;
            }
            WriteBack::Git(git) => git,
        };
        match git_target(app, git) {
            Ok((url, base, write)) => {
                let same = |g: &Group| {
                    batching == CommitBatching::PerRepository
                        && g.url == url
                        && g.base == base
                        && g.write == write
                        && g.credentials == git.credentials
                };
                match plan.groups.iter_mut().find(|g| same(g)) {
                    Some(group) => group.apps.push(app.clone()),
                    None => plan.groups.push(Group {
                        url,
                        base,
                        write,
                        credentials: git.credentials.clone(),
                        apps: vec![app.clone()],
                    }),
                }
            }
            Err(message) => plan.refused.push((
                app.clone(),
                AppError {
                    application: app_id(&app.config),
                    image: None,
                    stage: "write-back".into(),
                    message,
                },
            )),
        }
    }
    plan
}

type Branches = (String, Option<String>, Option<String>);

fn git_target(app: &AppUpdate, git: &GitWriteBack) -> Result<Branches, String> {
    if git.pull_request.is_some() {
        return Err(
            "pull-request write-back is not supported yet; remove gitConfig.pullRequest to push to the branch"
                .into(),
        );
    }
    let url = git
        .repository
        .clone()
        .unwrap_or_else(|| app.config.source.repo_url.clone());
    if url.trim().is_empty() {
        return Err("the application has no repository to write to (set git-repository)".into());
    }
    let revision = app
        .config
        .source
        .target_revision
        .clone()
        .filter(|r| !r.is_empty() && r != "HEAD");
    let branch = git.branch.clone().unwrap_or_default();
    let base = branch.base.or(revision);
    let write = match branch.write {
        Some(w) if w.contains("{{") => Some(branch_name(app, &w)?),
        other => other,
    };
    Ok((url, base, write))
}

/// What one application's edit did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppEdit {
    /// Files this application changed.
    pub files: Vec<String>,
    /// Why it could not be edited.
    pub error: Option<String>,
}

/// The files of one commit and what each application contributed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Edited {
    /// (repository path, new content) of every changed file.
    pub files: Vec<(String, String)>,
    /// One entry per application of the group, same order.
    pub apps: Vec<AppEdit>,
}

/// Applies every application of `group` to the tree `read` shows
/// (repository path → content, `None` when absent). Applications writing
/// the same file see each other's edits; a failing application leaves the
/// others' edits intact.
pub fn edit_group(
    group: &Group,
    read: &dyn Fn(&str) -> Result<Option<String>, String>,
) -> Result<Edited, String> {
    let mut originals: BTreeMap<String, Option<String>> = BTreeMap::new();
    let mut current: BTreeMap<String, String> = BTreeMap::new();
    let mut apps = Vec::with_capacity(group.apps.len());
    for app in &group.apps {
        match edit_app(app, read, &mut originals, &mut current) {
            Ok(files) => apps.push(AppEdit { files, error: None }),
            Err(message) => apps.push(AppEdit {
                files: Vec::new(),
                error: Some(message),
            }),
        }
    }
    let files = current
        .into_iter()
        .filter(|(path, text)| originals.get(path).and_then(Option::as_ref) != Some(text))
        .collect();
    Ok(Edited { files, apps })
}

fn edit_app(
    app: &AppUpdate,
    read: &dyn Fn(&str) -> Result<Option<String>, String>,
    originals: &mut BTreeMap<String, Option<String>>,
    current: &mut BTreeMap<String, String>,
) -> Result<Vec<String>, String> {
    let WriteBack::Git(git) = &app.config.write_back else {
        return Ok(Vec::new());
    };
    let changes = image_changes(app)?;
    let source_path = app.config.source.path.clone().unwrap_or_default();
    let target = git
        .target
        .resolve(&source_path, &app.config.name)
        .map_err(|e| e.to_string())?;
    let mut load = |path: &str| -> Result<Option<String>, String> {
        if let Some(text) = current.get(path) {
            return Ok(Some(text.clone()));
        }
        if let Some(original) = originals.get(path) {
            return Ok(original.clone());
        }
        let text = read(path)?;
        originals.insert(path.to_string(), text.clone());
        Ok(text)
    };
    let (file, new) = match &git.target {
        WriteBackTarget::ArgocdSource | WriteBackTarget::File { .. } => {
            let existing = load(&target)?;
            let kind = override_kind(app, &changes);
            let new = argocd_source::apply(&target, existing.as_deref(), kind, &changes)
                .map_err(|e| e.to_string())?;
            (target, new)
        }
        WriteBackTarget::HelmValues { .. } => {
            let Some(existing) = load(&target)? else {
                return Err(format!(
                    "{target} does not exist in the repository; fix write-back-target helmvalues:<path>"
                ));
            };
            let new =
                helm_values::apply(&target, &existing, &changes).map_err(|e| e.to_string())?;
            (target, new)
        }
        WriteBackTarget::Kustomization { .. } => {
            let dir = target.trim_end_matches('/').trim_end_matches("/.");
            let dir = if dir == "." { "" } else { dir };
            let mut found = None;
            for name in KUSTOMIZATION_FILE_NAMES {
                let path = if dir.is_empty() {
                    name.to_string()
                } else {
                    format!("{dir}/{name}")
                };
                if let Some(text) = load(&path)? {
                    found = Some((path, text));
                    break;
                }
            }
            let Some((path, existing)) = found else {
                return Err(format!(
                    "no kustomization.yaml, kustomization.yml or Kustomization in '{}'; fix write-back-target kustomization:<dir>",
                    if dir.is_empty() { "." } else { dir }
                ));
            };
            let new =
                kustomization::set_images(&path, &existing, &changes).map_err(|e| e.to_string())?;
            (path, new)
        }
    };
    let before = match current.get(&file) {
        Some(text) => Some(text.clone()),
        None => originals.get(&file).cloned().flatten(),
    };
    if before.as_deref() == Some(new.as_str()) {
        return Ok(Vec::new());
    }
    current.insert(file.clone(), new);
    Ok(vec![file])
}

/// The editors' view of an application's changes (digest values only for
/// the digest strategy, as Image Updater writes them).
fn image_changes(app: &AppUpdate) -> Result<Vec<updraft_gitops::ImageChange>, String> {
    let mut changes = Vec::with_capacity(app.changes.len());
    for change in &app.changes {
        let Some(config) = app.config.images.get(change.index) else {
            return Err(format!("image index {} is out of range", change.index));
        };
        let digest = (config.strategy == UpdateStrategy::Digest)
            .then(|| change.digest.clone())
            .flatten();
        changes.push(updraft_gitops::ImageChange::new(
            config,
            change.to.clone(),
            digest,
        ));
    }
    Ok(changes)
}

/// Helm parameters or Kustomize images: the source's kind, else (a plain
/// directory source) what the images' settings suggest, as Image Updater
/// decides.
fn override_kind(app: &AppUpdate, changes: &[updraft_gitops::ImageChange]) -> SourceKind {
    match app.config.source.kind {
        SourceKind::Helm | SourceKind::Kustomize => app.config.source.kind,
        _ if changes.iter().any(|c| c.kustomize_image_name.is_some()) => SourceKind::Kustomize,
        _ => SourceKind::Helm,
    }
}

/// The `argocd` write-back method's change to the Application spec: the
/// same Helm parameters or Kustomize images the `.argocd-source` file would
/// carry.
pub fn argocd_patch(app: &AppUpdate) -> Result<SpecPatch, String> {
    let changes = image_changes(app)?;
    let mut patch = SpecPatch::new();
    match override_kind(app, &changes) {
        SourceKind::Kustomize => {
            for change in &changes {
                patch = patch.kustomize_image(change.kustomize_override());
            }
        }
        _ => {
            for change in &changes {
                for (name, value) in change.helm_parameters() {
                    patch = patch.helm_parameter(name, value);
                }
            }
        }
    }
    Ok(patch)
}

/// The template view of an application's changes: `.Images` of a branch
/// template, `.AppChanges` of a commit message template.
fn template_changes(app: &AppUpdate) -> Vec<ChangeEntry> {
    app.changes
        .iter()
        .map(|c| ChangeEntry {
            name: image_path(&c.image).to_string(),
            alias: c.alias.clone().unwrap_or_default(),
            old_tag: c.from.clone().unwrap_or_default(),
            new_tag: c.to.clone(),
            labels: Default::default(),
        })
        .collect()
}

/// Renders a `git-branch` write-branch template (Image Updater's
/// variables; `.AppName` and `.AppNamespace` filled in as its documentation
/// says, `.TargetKey` empty outside pull-request mode).
fn branch_name(app: &AppUpdate, template: &str) -> Result<String, String> {
    let parsed =
        Template::parse(template).map_err(|e| format!("git-branch template '{template}': {e}"))?;
    let name = render_branch(
        &parsed,
        &template_changes(app),
        "",
        app.config
            .namespace
            .as_deref()
            .unwrap_or(crate::apps::DEFAULT_NAMESPACE),
        &app.config.name,
    )
    .map_err(|e| format!("git-branch template '{template}': {e}"))?;
    if name.trim().is_empty() {
        return Err(format!(
            "git-branch template '{template}' renders an empty branch name"
        ));
    }
    Ok(name)
}

/// The commit message of one application: the template of
/// `git.commit_message` (Image Updater's `git.commit-message-template`) or
/// Image Updater's default; a template that fails falls back to
/// `build: update of application <app>`, as Image Updater does, and the
/// error is logged.
fn app_message(app: &AppUpdate, template: Option<&str>) -> String {
    let rendered = template::commit_message(template, &app.config.name, &template_changes(app));
    if let Some(error) = rendered.error {
        tracing::warn!(application = %app.config.name, %error, "the commit message template failed; using the fallback message");
    }
    rendered.message
}

/// The commit message of a group: one application's message as Image
/// Updater writes it; for a batch, a summary line and each application's
/// message.
pub fn commit_message(apps: &[&AppUpdate], template: Option<&str>) -> String {
    match apps {
        [one] => app_message(one, template),
        many => {
            let names: Vec<&str> = many.iter().map(|a| a.config.name.as_str()).collect();
            let mut text = format!(
                "build: automatic update of {} applications\n\n",
                names.len()
            );
            for app in many {
                text.push_str(app_message(app, template).trim_end());
                text.push_str("\n\n");
            }
            text.push_str(&format!("Applications: {}\n", names.join(", ")));
            text
        }
    }
}

/// The repository path without registry (`.Image` of Image Updater's
/// template).
fn image_path(image: &str) -> &str {
    match image.split_once('/') {
        Some((first, rest))
            if first.contains('.') || first.contains(':') || first == "localhost" =>
        {
            rest
        }
        _ => image,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::ImageChange;

    const TUTORIAL: &str = include_str!("../../../../infra/local/demo/tutorial-apps.yaml");

    fn updates() -> Vec<AppUpdate> {
        let loaded = crate::apps::from_documents(&[("apps.yaml".into(), TUTORIAL.into())]);
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        loaded
            .apps
            .into_iter()
            .map(|app| AppUpdate {
                changes: vec![ImageChange {
                    index: 0,
                    alias: Some("echoserver".into()),
                    image: "demo-test-registry.cn-hangzhou.cr.aliyuncs.com/cidemo/echo-server"
                        .into(),
                    from: Some("v1.0.0".into()),
                    to: "v1.1.0".into(),
                    digest: None,
                    reason: "most recently built".into(),
                }],
                config: app.config,
            })
            .collect()
    }

    #[test]
    fn one_commit_per_repository_and_branch() {
        let apps = updates();
        let plan = plan(&apps, CommitBatching::PerRepository);
        assert!(plan.refused.is_empty() && plan.argocd.is_empty());
        let shape: Vec<(Option<&str>, usize)> = plan
            .groups
            .iter()
            .map(|g| (g.base.as_deref(), g.apps.len()))
            .collect();
        // dev and staging track stable-example, production test2.
        assert_eq!(shape, [(Some("stable-example"), 2), (Some("test2"), 1)]);
        assert_eq!(
            super::plan(&apps, CommitBatching::PerApplication)
                .groups
                .len(),
            3
        );
    }

    #[test]
    fn argocd_source_files_per_application() {
        let apps = updates();
        let plan = plan(&apps, CommitBatching::PerRepository);
        let edited = edit_group(&plan.groups[0], &|_| Ok(None)).unwrap();
        let paths: Vec<&str> = edited.files.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            [
                "manifests/helm/echo-server/.argocd-source-app-helm-dev.yaml",
                "manifests/helm/echo-server/.argocd-source-app-helm-staging.yaml"
            ]
        );
        assert!(
            edited.files[0].1.contains("image.echoServer.tag"),
            "{}",
            edited.files[0].1
        );
        assert!(edited.files[0].1.contains("v1.1.0"));
        // Re-running on the result changes nothing: no commit.
        let written: BTreeMap<String, String> = edited.files.into_iter().collect();
        let again = edit_group(&plan.groups[0], &|p| Ok(written.get(p).cloned())).unwrap();
        assert!(again.files.is_empty());
        assert!(
            again
                .apps
                .iter()
                .all(|a| a.error.is_none() && a.files.is_empty())
        );
    }

    #[test]
    fn a_failing_application_leaves_the_others() {
        let mut apps = updates();
        if let WriteBack::Git(git) = &mut apps[0].config.write_back {
            git.target = WriteBackTarget::HelmValues {
                path: Some("missing.yaml".into()),
            };
        }
        let plan = plan(&apps, CommitBatching::PerRepository);
        let edited = edit_group(&plan.groups[0], &|_| Ok(None)).unwrap();
        assert!(
            edited.apps[0]
                .error
                .as_deref()
                .unwrap()
                .contains("does not exist")
        );
        assert_eq!(edited.files.len(), 1);
    }

    #[test]
    fn commit_messages_follow_image_updater() {
        let apps = updates();
        assert_eq!(
            commit_message(&[&apps[0]], None),
            "build: automatic update of app-helm-dev\n\nupdates image cidemo/echo-server tag 'v1.0.0' to 'v1.1.0'\n"
        );
        let batch = commit_message(&[&apps[0], &apps[1]], None);
        assert!(batch.starts_with("build: automatic update of 2 applications\n\n"));
        assert!(batch.contains(
            "build: automatic update of app-helm-staging\n\nupdates image cidemo/echo-server"
        ));
        assert!(batch.ends_with("Applications: app-helm-dev, app-helm-staging\n"));
        // A custom template, and the fallback when it fails.
        let custom =
            "chore({{ .AppName }}): {{ range .AppChanges }}{{ .Image }}={{ .NewTag }}{{ end }}";
        assert_eq!(
            commit_message(&[&apps[0]], Some(custom)),
            "chore(app-helm-dev): cidemo/echo-server=v1.1.0"
        );
        assert_eq!(
            commit_message(&[&apps[0]], Some("{{ .Nope }}")),
            "build: update of application app-helm-dev"
        );
    }

    #[test]
    fn branch_templates_render_per_application() {
        let mut apps = updates();
        for app in &mut apps {
            if let WriteBack::Git(git) = &mut app.config.write_back {
                git.branch = Some(updraft_core::writeback::GitBranch {
                    base: None,
                    write: Some(
                        "image-updater-{{ .AppName }}{{ range .Images }}-{{ .NewTag }}{{ end }}"
                            .into(),
                    ),
                });
            }
        }
        let plan = plan(&apps, CommitBatching::PerRepository);
        let writes: Vec<Option<&str>> = plan.groups.iter().map(|g| g.write.as_deref()).collect();
        assert_eq!(
            writes,
            [
                Some("image-updater-app-helm-dev-v1.1.0"),
                Some("image-updater-app-helm-staging-v1.1.0"),
                Some("image-updater-app-helm-production-v1.1.0"),
            ]
        );
        // A broken template refuses the application with the reason.
        if let WriteBack::Git(git) = &mut apps[0].config.write_back {
            git.branch = Some(updraft_core::writeback::GitBranch {
                base: None,
                write: Some("x-{{ .Nope }}".into()),
            });
        }
        let plan = super::plan(&apps[..1], CommitBatching::PerRepository);
        assert!(
            plan.refused[0].1.message.contains("Nope"),
            "{}",
            plan.refused[0].1.message
        );
    }
}
