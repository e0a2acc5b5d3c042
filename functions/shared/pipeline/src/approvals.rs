//! Owns the release manager's operations on promotion state: list what
//! waits (`pending`), approve (sync the reviewed revision, promote the
//! canary), reject, roll back (write the old tag through write-back, hold
//! the application) and release a hold. Every decision goes to the audit
//! log. The CLI and the HTTP approval endpoints both call these.

use serde::{Deserialize, Serialize};
use updraft_core::promotion::{
    AuditAction, AuditEntry, AuditResult, ChangeState, Hold, PinnedTag, SyncDecision, decide,
    format_duration,
};

use crate::context::Context;
use crate::events::{AppSynced, AppUpdate, ImageChange, SyncRequest, WriteBackRequest};
use crate::sync::{
    Ledger, advance, all_ledgers, audit, audit_entry, gate_facts, load_hold, load_ledger, now,
    remove_hold, save_hold, save_ledger, short,
};

/// Why an operation did not happen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApprovalError {
    /// The request does not fit what is stored: nothing waits, no such
    /// application or image, nothing held, a decision already taken.
    #[error("{0}")]
    Conflict(String),
    /// The store, git or Argo CD failed.
    #[error("{0}")]
    Failed(String),
}

impl From<String> for ApprovalError {
    fn from(message: String) -> Self {
        ApprovalError::Failed(message)
    }
}

fn conflict(e: impl std::fmt::Display) -> ApprovalError {
    ApprovalError::Conflict(e.to_string())
}

/// One change that waits, as `updraft pending` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingView {
    /// `namespace/name`.
    pub application: String,
    /// Its environment, if configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// The commit to sync.
    pub commit: String,
    /// Repository and branch.
    pub repository: String,
    /// The branch.
    pub branch: String,
    /// `image old → new` per change.
    pub changes: Vec<String>,
    /// `pending`, `gated` or `approved`.
    pub state: String,
    /// How long it has waited (`2h5m`).
    pub age: String,
    /// What it waits for: approval, gates with their reasons, a hold.
    pub waiting_for: Vec<String>,
    /// The approver, when approved and waiting for a gate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
}

/// Every open change, gates re-evaluated now, oldest first.
pub async fn pending(ctx: &Context) -> Result<Vec<PendingView>, ApprovalError> {
    let now = now(ctx);
    let mut out = Vec::new();
    for ledger in all_ledgers(ctx).await? {
        let gates = ctx.settings.promotion.environment_of(&ledger.application);
        let hold = load_hold(ctx, &ledger.application).await?;
        for change in ledger.changes.iter().filter(|c| c.state.is_open()) {
            let facts = gate_facts(ctx, change, gates).await;
            let waiting_for =
                match decide(change, gates, hold.as_ref(), &facts, !ledger.automated, now) {
                    SyncDecision::AwaitApproval => {
                        vec![format!("approval: updraft approve {}", change.application)]
                    }
                    SyncDecision::Wait {
                        mut reasons,
                        awaiting_approval,
                        ..
                    } => {
                        if awaiting_approval {
                            reasons
                                .push(format!("approval: updraft approve {}", change.application));
                        }
                        reasons
                    }
                    SyncDecision::Held { reason } => vec![reason],
                    SyncDecision::Sync => vec!["nothing: it syncs on the next sync-trigger".into()],
                    SyncDecision::Done => Vec::new(),
                };
            out.push(PendingView {
                application: change.application.clone(),
                environment: gates.map(|g| g.name.clone()),
                commit: change.commit.clone(),
                repository: change.repo_url.clone(),
                branch: change.branch.clone(),
                changes: change
                    .changes
                    .iter()
                    .map(|c| {
                        format!(
                            "{} {} → {}",
                            c.image,
                            c.old_tag.as_deref().unwrap_or("(none)"),
                            c.new_tag
                        )
                    })
                    .collect(),
                state: change.state.name().to_string(),
                age: format_duration(now - change.created_at),
                waiting_for,
                approved_by: change.state.approval().map(|a| a.by),
            });
        }
    }
    out.sort_by(|a, b| a.application.cmp(&b.application));
    Ok(out)
}

/// The open change of `application` (the one with `commit`, or the newest).
fn open_change(ledger: &Ledger, commit: Option<&str>) -> Result<usize, ApprovalError> {
    let found = ledger
        .changes
        .iter()
        .enumerate()
        .rev()
        .find(|(_, c)| c.state.is_open() && commit.is_none_or(|p| c.commit.starts_with(p)));
    match found {
        Some((i, _)) => Ok(i),
        None => Err(ApprovalError::Conflict(format!(
            "no change of {} waits{}; `updraft pending` lists what does",
            ledger.application,
            commit
                .map(|c| format!(" with commit {c}"))
                .unwrap_or_default()
        ))),
    }
}

/// Approves the open change of `application` as `by`: syncs it now when
/// every gate is open (and promotes the canary), else keeps the approval
/// until they open.
pub async fn approve(
    ctx: &Context,
    application: &str,
    commit: Option<&str>,
    by: &str,
) -> Result<AppSynced, ApprovalError> {
    let mut ledger = load_ledger(ctx, application).await?;
    let index = open_change(&ledger, commit)?;
    let now = now(ctx);
    // The approval is stored before the sync: a crash in between leaves an
    // approved change that a sweep or a second approve syncs.
    if let Some(change) = ledger.changes.get_mut(index)
        && change.state.approval().is_none()
    {
        change.approve(by, now).map_err(conflict)?;
        let snapshot = change.clone();
        save_ledger(ctx, &mut ledger).await?;
        let entry = audit_entry(
            now,
            by,
            AuditAction::Approve,
            &snapshot,
            format!("approved {}", short(&snapshot.commit)),
            &Ok(()),
        );
        audit(ctx, entry).await?;
    }
    let result = advance(ctx, &mut ledger, index, Some(by)).await;
    if let Some(change) = ledger.changes.get(index) {
        let out = match &result {
            Ok(out) => out.clone(),
            Err(message) => crate::sync::failed_outcome(change, message),
        };
        let mut announced = out.clone();
        if announced.outcome == "gated" {
            announced.outcome = "approved".into();
            announced.message = format!("approved by {by}; {}", out.message);
        }
        crate::sync::notify(ctx, change, &announced).await;
    }
    Ok(result?)
}

/// Rejects the open change of `application`: it is never synced.
pub async fn reject(
    ctx: &Context,
    application: &str,
    commit: Option<&str>,
    by: &str,
    reason: &str,
) -> Result<String, ApprovalError> {
    let mut ledger = load_ledger(ctx, application).await?;
    let index = open_change(&ledger, commit)?;
    let now = now(ctx);
    let change = ledger
        .changes
        .get_mut(index)
        .ok_or_else(|| conflict("the change vanished"))?;
    change.reject(by, reason, now).map_err(conflict)?;
    let snapshot = change.clone();
    save_ledger(ctx, &mut ledger).await?;
    audit(
        ctx,
        audit_entry(
            now,
            by,
            AuditAction::Reject,
            &snapshot,
            format!("rejected {}: {reason}", short(&snapshot.commit)),
            &Ok(()),
        ),
    )
    .await?;
    let message = format!(
        "rejected {application} {} by {by} ({reason}); it will not be synced. The commit stays in git: revert it or wait for a newer tag",
        short(&snapshot.commit)
    );
    let out = AppSynced {
        application: application.to_string(),
        environment: snapshot.environment.clone(),
        commit: Some(snapshot.commit.clone()),
        outcome: "rejected".into(),
        health: None,
        message: message.clone(),
    };
    crate::sync::notify(ctx, &snapshot, &out).await;
    Ok(message)
}

/// What a rollback did.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RollbackOutcome {
    /// The hold placed.
    pub hold: Hold,
    /// The write-back result.
    pub written: crate::events::SyncRequest,
    /// The sync of the rollback commit.
    pub synced: Option<AppSynced>,
}

/// Writes `tag` for `image` (an alias, or the image name; may be omitted
/// when the application has one image) through write-back, holds the
/// application so polling does not move it forward again, and syncs the
/// rollback commit at once (the rollback is the operator's approval).
pub async fn rollback(
    ctx: &Context,
    application: &str,
    image: Option<&str>,
    tag: &str,
    by: &str,
) -> Result<RollbackOutcome, ApprovalError> {
    let loaded = crate::apps::load(&ctx.settings).await;
    let Some(app) = loaded.apps.into_iter().find(|a| a.id() == application) else {
        return Err(conflict(format!(
            "no application {application} in the configured sources; check the name (namespace/name) and applications: in updraft.yaml"
        )));
    };
    let index = match image {
        None if app.config.images.len() == 1 => 0,
        None => {
            return Err(conflict(format!(
                "{application} has {} images; say which with --image ({})",
                app.config.images.len(),
                aliases(&app.config)
            )));
        }
        Some(wanted) => app
            .config
            .images
            .iter()
            .position(|i| i.alias.as_deref() == Some(wanted) || i.image.to_string() == wanted)
            .ok_or_else(|| {
                conflict(format!(
                    "{application} has no image '{wanted}'; its images: {}",
                    aliases(&app.config)
                ))
            })?,
    };
    let config_image = &app.config.images[index];
    let image_name = config_image.image.full_name();
    let current = app.deployed.get(index).and_then(|d| d.tag.clone());
    let now = now(ctx);
    let hold = Hold::rollback(
        application,
        vec![PinnedTag {
            image: image_name.clone(),
            tag: tag.to_string(),
        }],
        by,
        now,
    );
    // Hold first: a poll running meanwhile must not move it forward.
    save_hold(ctx, &hold).await?;
    let request = WriteBackRequest {
        cycle: format!("rollback-{}", now.timestamp()),
        applications: vec![AppUpdate {
            changes: vec![ImageChange {
                index,
                alias: config_image.alias.clone(),
                image: image_name.clone(),
                from: current,
                to: tag.to_string(),
                digest: None,
                reason: format!("rollback by {by}"),
            }],
            config: app.config.clone(),
        }],
        ..WriteBackRequest::default()
    };
    let written = crate::writeback_run::write_back(ctx, request).await;
    let write_error = written.errors.first().map(|e| e.message.clone());
    let entry = AuditEntry {
        at: now,
        actor: by.to_string(),
        action: AuditAction::Rollback,
        application: application.to_string(),
        commit: written.applications.first().and_then(|a| a.commit.clone()),
        detail: format!("rollback of {image_name} to {tag}; hold placed"),
        result: match &write_error {
            None => AuditResult::Ok,
            Some(message) => AuditResult::Error {
                message: message.clone(),
            },
        },
    };
    audit(ctx, entry).await?;
    if let Some(message) = write_error {
        return Err(ApprovalError::Failed(format!(
            "the hold on {application} is in place, but writing {tag} failed: {message}"
        )));
    }
    // Sync the rollback now: the operator's command is its approval, and
    // gates do not stand in the way back to a known-good version.
    // The git method names the change by its commit, the argocd method by
    // the spec it set.
    let mut synced = None;
    let commit = written
        .applications
        .first()
        .filter(|a| a.written)
        .map(crate::sync::change_key);
    if let Some(commit) = commit
        && ctx.settings.argocd.is_some()
    {
        crate::sync::sync_trigger(
            ctx,
            SyncRequest {
                errors: Vec::new(),
                ..written.clone()
            },
        )
        .await;
        let mut ledger = load_ledger(ctx, application).await?;
        if let Some(index) = ledger
            .changes
            .iter()
            .position(|c| c.commit == commit && c.state.is_open())
        {
            synced =
                Some(crate::sync::advance_with(ctx, &mut ledger, index, Some(by), true).await?);
        } else if let Some(done) = ledger.changes.iter().find(|c| c.commit == commit) {
            synced = Some(AppSynced {
                application: application.to_string(),
                environment: done.environment.clone(),
                commit: Some(commit.clone()),
                outcome: done.state.name().to_string(),
                health: None,
                message: format!(
                    "{application} rollback commit {} is {}",
                    short(&commit),
                    done.state.name()
                ),
            });
        }
    }
    Ok(RollbackOutcome {
        hold,
        written,
        synced,
    })
}

fn aliases(config: &updraft_core::AppConfig) -> String {
    config
        .images
        .iter()
        .map(|i| i.alias.clone().unwrap_or_else(|| i.image.to_string()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Lifts the hold on `application`.
pub async fn release(ctx: &Context, application: &str, by: &str) -> Result<String, ApprovalError> {
    let hold = load_hold(ctx, application).await?;
    let Some(hold) = hold else {
        return Err(conflict(format!(
            "{application} is not held; nothing to release"
        )));
    };
    remove_hold(ctx, application).await?;
    let now = now(ctx);
    audit(
        ctx,
        AuditEntry {
            at: now,
            actor: by.to_string(),
            action: AuditAction::Release,
            application: application.to_string(),
            commit: hold.commit.clone(),
            detail: format!("released the hold ({})", hold.reason),
            result: AuditResult::Ok,
        },
    )
    .await?;
    // Changes the hold kept waiting go back to waiting for approval.
    let mut ledger = load_ledger(ctx, application).await?;
    let mut reopened = 0;
    for change in &mut ledger.changes {
        if let ChangeState::Gated {
            reasons, approval, ..
        } = &change.state
            && reasons.iter().any(|r| r.contains("is held"))
        {
            // An approval given while held still stands.
            change.state = match approval {
                Some(a) => ChangeState::Approved {
                    by: a.by.clone(),
                    at: a.at,
                },
                None => ChangeState::Pending,
            };
            reopened += 1;
        }
    }
    if reopened > 0 {
        save_ledger(ctx, &mut ledger).await?;
    }
    Ok(format!(
        "released {application} (held since {} for: {}); the next poll may move it forward again",
        hold.at.to_rfc3339(),
        hold.reason
    ))
}

/// The id of an application given as `name` or `namespace/name`.
pub fn application_id(text: &str) -> String {
    if text.contains('/') {
        text.to_string()
    } else {
        format!("{}/{text}", crate::apps::DEFAULT_NAMESPACE)
    }
}
