//! Owns `sync-trigger` and the promotion records it shares with the
//! approval commands: the per-application promotion ledger, holds and the
//! audit log in the checkpoint store; syncing an Application through the
//! Argo CD API (refresh, sync the written revision, wait, promote the
//! canary); and deciding, per written application, between an immediate
//! sync (automated sync policy, gates open), a pending approval (manual
//! policy) and a wait (a gate or a hold is closed).

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use tracing::{info, warn};
use updraft_argocd::{AppName, HealthStatusCode, ResourceRef, SyncOptions};
use updraft_core::promotion::{
    AppPattern, AuditAction, AuditEntry, AuditResult, CanaryConfig, ChangeState, EnvironmentGates,
    GateFacts, Hold, ImageChange as PromotionChange, PendingChange, RecordOutcome, SyncDecision,
    UPDRAFT_ACTOR, WrittenTag, decide, record,
};
use updraft_state::{Conditional, Document, keys};

use crate::context::Context;
use crate::events::{AppError, AppSynced, AppWritten, SyncReport, SyncRequest};

/// Changes kept per application (the newest), so the ledger stays small.
const KEEP_CHANGES: usize = 50;
/// Tags written kept per application.
const KEEP_WRITTEN: usize = 100;

/// One application's promotion ledger
/// (`v1/apps/<namespace>/<application>/promotion.json`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ledger {
    /// `namespace/name`.
    pub application: String,
    /// Whether the Application syncs automatically (its sync policy when
    /// last written), so that a timer sweep knows who needs approval.
    #[serde(default)]
    pub automated: bool,
    /// Write-back commits awaiting or past approval and sync, oldest first.
    #[serde(default)]
    pub changes: Vec<PendingChange>,
    /// Tags Updraft wrote, oldest first (for revert detection).
    #[serde(default)]
    pub written: Vec<WrittenTag>,
}

impl Document for Ledger {
    const KIND: &'static str = "Promotion";
}

/// A hold as stored (`v1/apps/<namespace>/<application>/hold.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct HoldDocument(pub Hold);

impl Document for HoldDocument {
    const KIND: &'static str = "Hold";
}

/// An audit event as stored (`v1/audit/<day>/<id>.json`, write-once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AuditDocument(pub AuditEntry);

impl Document for AuditDocument {
    const KIND: &'static str = "AuditEvent";
}

/// `namespace/name` → (namespace, name); no `/` → the `argocd` namespace.
pub fn split_id(application: &str) -> (&str, &str) {
    application
        .split_once('/')
        .unwrap_or((crate::apps::DEFAULT_NAMESPACE, application))
}

/// The Argo CD name of an application id.
pub fn argo_name(application: &str) -> AppName {
    let (namespace, name) = split_id(application);
    AppName::in_namespace(name, namespace)
}

/// Now, from the context's clock.
pub fn now(ctx: &Context) -> DateTime<Utc> {
    Utc.timestamp_nanos(ctx.now())
}

fn state_error(e: impl std::fmt::Display) -> String {
    format!("the checkpoint store failed: {e}")
}

/// Loads an application's ledger (empty when absent or unusable; an
/// unusable one is reported in the log and replaced on the next save).
pub async fn load_ledger(ctx: &Context, application: &str) -> Result<Ledger, String> {
    let (namespace, name) = split_id(application);
    let key = keys::promotion(namespace, name).map_err(state_error)?;
    let loaded = ctx.store.read::<Ledger>(&key).await.map_err(state_error)?;
    Ok(loaded.value.unwrap_or_else(|| Ledger {
        application: application.to_string(),
        ..Ledger::default()
    }))
}

/// Saves a ledger, trimmed to the newest entries.
pub async fn save_ledger(ctx: &Context, ledger: &mut Ledger) -> Result<(), String> {
    if ledger.changes.len() > KEEP_CHANGES {
        let drop = ledger.changes.len() - KEEP_CHANGES;
        // Never drop an open change.
        let mut dropped = 0;
        ledger.changes.retain(|c| {
            if dropped < drop && !c.state.is_open() {
                dropped += 1;
                false
            } else {
                true
            }
        });
    }
    if ledger.written.len() > KEEP_WRITTEN {
        let drop = ledger.written.len() - KEEP_WRITTEN;
        ledger.written.drain(..drop);
    }
    let (namespace, name) = split_id(&ledger.application);
    let key = keys::promotion(namespace, name).map_err(state_error)?;
    ctx.store
        .overwrite(&key, ledger)
        .await
        .map(|_| ())
        .map_err(state_error)
}

/// Every stored ledger (for `updraft pending` and timer sweeps).
pub async fn all_ledgers(ctx: &Context) -> Result<Vec<Ledger>, String> {
    let objects = ctx
        .store
        .list_objects(&[keys::LAYOUT, "apps"], &["/promotion.json"])
        .await
        .map_err(state_error)?;
    let mut out = Vec::with_capacity(objects.len());
    for (name, bytes) in objects {
        match updraft_state::decode_document::<Ledger>(&bytes) {
            Ok(ledger) => out.push(ledger),
            Err(problem) => warn!(key = %name, %problem, "skipping an unusable promotion ledger"),
        }
    }
    Ok(out)
}

/// The application's hold, if any.
pub async fn load_hold(ctx: &Context, application: &str) -> Result<Option<Hold>, String> {
    let (namespace, name) = split_id(application);
    let key = keys::hold(namespace, name).map_err(state_error)?;
    let loaded = ctx
        .store
        .read::<HoldDocument>(&key)
        .await
        .map_err(state_error)?;
    Ok(loaded.value.map(|h| h.0))
}

/// Places (or replaces) a hold.
pub async fn save_hold(ctx: &Context, hold: &Hold) -> Result<(), String> {
    let (namespace, name) = split_id(&hold.application);
    let key = keys::hold(namespace, name).map_err(state_error)?;
    ctx.store
        .overwrite(&key, &HoldDocument(hold.clone()))
        .await
        .map(|_| ())
        .map_err(state_error)
}

/// Lifts a hold (absent is fine).
pub async fn remove_hold(ctx: &Context, application: &str) -> Result<(), String> {
    let (namespace, name) = split_id(application);
    let key = keys::hold(namespace, name).map_err(state_error)?;
    ctx.store.delete(&key).await.map_err(state_error)
}

/// Writes one audit event (write-once; a fresh id per event).
pub async fn audit(ctx: &Context, entry: AuditEntry) -> Result<(), String> {
    let id = format!(
        "{:020}-{}",
        entry.at.timestamp_nanos_opt().unwrap_or_default(),
        random_suffix()
    );
    let key = keys::audit_event(&entry.day(), &id).map_err(state_error)?;
    let doc = AuditDocument(entry);
    match ctx.store.create(&key, &doc).await {
        Ok(Conditional::Written(_)) => Ok(()),
        Ok(Conditional::Conflict) => Err(format!("audit event {id} already exists")),
        // OSS and plain files have no create-only write; the id is unique.
        Err(updraft_state::StateError::Unsupported { .. }) => ctx
            .store
            .overwrite(&key, &doc)
            .await
            .map(|_| ())
            .map_err(state_error),
        Err(e) => Err(state_error(e)),
    }
}

/// Every audit event, oldest first.
pub async fn audit_log(ctx: &Context) -> Result<Vec<AuditEntry>, String> {
    let objects = ctx
        .store
        .list_objects(&[keys::LAYOUT, "audit"], &[".json"])
        .await
        .map_err(state_error)?;
    let mut out: Vec<AuditEntry> = objects
        .into_iter()
        .filter_map(|(_, bytes)| updraft_state::decode_document::<AuditDocument>(&bytes).ok())
        .map(|d| d.0)
        .collect();
    out.sort_by_key(|e| e.at);
    Ok(out)
}

fn random_suffix() -> String {
    use std::hash::{BuildHasher, RandomState};
    format!(
        "{:016x}",
        RandomState::new().hash_one(std::time::SystemTime::now())
    )
}

/// An audit entry of `actor`.
pub fn audit_entry(
    now: DateTime<Utc>,
    actor: &str,
    action: AuditAction,
    change: &PendingChange,
    detail: String,
    result: &Result<(), String>,
) -> AuditEntry {
    AuditEntry {
        at: now,
        actor: actor.to_string(),
        action,
        application: change.application.clone(),
        commit: Some(change.commit.clone()),
        detail,
        result: match result {
            Ok(()) => AuditResult::Ok,
            Err(message) => AuditResult::Error {
                message: message.clone(),
            },
        },
    }
}

/// What the gates need to know: when each new tag was first seen (the
/// registry cache's first-seen ledger) and since when each ran Synced and
/// Healthy in the `after` environment (that environment's ledgers).
pub async fn gate_facts(
    ctx: &Context,
    change: &PendingChange,
    gates: Option<&EnvironmentGates>,
) -> GateFacts {
    let mut facts = GateFacts::default();
    let Some(gates) = gates else {
        return facts;
    };
    if gates.min_release_age.is_some() {
        for c in &change.changes {
            let Ok(image) = updraft_core::ImageRef::parse(&c.image) else {
                continue;
            };
            let Ok(resolved) = ctx.registries.resolve_image(&image) else {
                continue;
            };
            let host = resolved.client.endpoint().host();
            if let Ok(cache) = ctx.store.load_repository(&host, &resolved.repository).await
                && let Some(tag) = cache.tag(&c.new_tag)
            {
                facts = facts.with_first_seen(
                    &c.image,
                    &c.new_tag,
                    Utc.timestamp_nanos(tag.first_seen),
                );
            }
        }
    }
    if let Some(after) = gates.after.as_deref()
        && let Some(before) = ctx.settings.promotion.environment(after)
        && let Ok(ledgers) = environment_ledgers(ctx, before).await
    {
        for ledger in ledgers.iter().filter(|l| before.contains(&l.application)) {
            for past in &ledger.changes {
                if let ChangeState::Synced {
                    healthy_at: Some(at),
                    ..
                } = past.state
                {
                    for c in &past.changes {
                        facts = facts.with_healthy_since(&c.image, &c.new_tag, at);
                    }
                }
            }
        }
    }
    facts
}

/// The ledgers of an environment's applications: read one by one when the
/// environment names them exactly (the usual case), else every ledger.
async fn environment_ledgers(
    ctx: &Context,
    environment: &EnvironmentGates,
) -> Result<Vec<Ledger>, String> {
    let exact: Option<Vec<&str>> = environment
        .applications
        .iter()
        .map(|p| match p {
            AppPattern::Exact(name) => Some(name.as_str()),
            AppPattern::Prefix(_) => None,
        })
        .collect();
    match exact {
        Some(names) => {
            let mut out = Vec::with_capacity(names.len());
            for name in names {
                out.push(load_ledger(ctx, name).await?);
            }
            Ok(out)
        }
        None => all_ledgers(ctx).await,
    }
}

/// How long a sync may take before it is reported as failed.
fn sync_timeout(ctx: &Context) -> Duration {
    ctx.settings
        .argocd
        .as_ref()
        .map(|a| a.sync_timeout)
        .unwrap_or(Duration::from_secs(300))
}

/// What a sync did.
#[derive(Debug, Clone)]
pub struct Synced {
    /// Health after the operation.
    pub health: HealthStatusCode,
    /// The canary action run, if any.
    pub canary: Option<String>,
}

/// Refreshes the Application, syncs `revision` (the write-back commit),
/// waits for the operation, then promotes the canary when one is
/// configured.
pub async fn sync_application(
    ctx: &Context,
    application: &str,
    revision: Option<&str>,
    canary: Option<&CanaryConfig>,
) -> Result<Synced, String> {
    let client = ctx.argocd()?;
    let name = argo_name(application);
    let timeout = sync_timeout(ctx);
    let refresh_timeout = ctx
        .settings
        .argocd
        .as_ref()
        .map(|a| a.refresh_timeout)
        .unwrap_or(Duration::from_secs(60));
    let live = client
        .refresh(name.clone(), false, refresh_timeout)
        .await
        .map_err(|e| e.to_string())?;
    // An automated Application may have started syncing on the refresh:
    // wait for that operation instead of asking for a second one.
    if live.operation.is_none() {
        let options = SyncOptions {
            revision: revision.map(str::to_string),
            ..SyncOptions::default()
        };
        client
            .sync(name.clone(), &options)
            .await
            .map_err(|e| e.to_string())?;
    }
    client
        .wait_for_operation(name.clone(), timeout)
        .await
        .map_err(|e| e.to_string())?;
    let mut canary_done = None;
    if let Some(canary) = canary {
        let (group, kind, version) = canary.resource();
        let resource = ResourceRef {
            group: group.to_string(),
            kind: kind.to_string(),
            namespace: canary.namespace.clone(),
            name: canary.name.clone(),
            version: version.to_string(),
        };
        client
            .run_resource_action(name.clone(), &resource, canary.action())
            .await
            .map_err(|e| format!("synced, but the canary action failed: {e}"))?;
        canary_done = Some(format!("{} on {resource}", canary.action()));
    }
    let live = client
        .get_application(name)
        .await
        .map_err(|e| e.to_string())?;
    Ok(Synced {
        health: live.health_status(),
        canary: canary_done,
    })
}

/// What names a written application's change in its ledger: the commit,
/// or for the argocd method (no commit) `argocd-spec:` and a hash of the
/// images and tags it set.
pub fn change_key(app: &AppWritten) -> String {
    app.commit.clone().unwrap_or_else(|| {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for c in &app.changes {
            h.update(format!("{}:{};", c.image, c.to).as_bytes());
        }
        format!("argocd-spec:{}", &hex::encode(h.finalize())[..16])
    })
}

/// The change a written application asks for.
fn pending_change(app: &AppWritten, application: &str, now: DateTime<Utc>) -> PendingChange {
    let commit = change_key(app);
    let changes = app
        .changes
        .iter()
        .map(|c| PromotionChange {
            image: c.image.clone(),
            old_tag: c.from.clone(),
            new_tag: c.to.clone(),
        })
        .collect();
    // Stored and shown: never with credentials a URL may carry.
    let repository = updraft_gitops::git::redact_url(app.repository.as_deref().unwrap_or(""));
    PendingChange::new(
        application,
        &repository,
        app.branch.as_deref().unwrap_or(""),
        &commit,
        changes,
        now,
    )
}

fn tags_text(change: &PendingChange) -> String {
    change
        .changes
        .iter()
        .map(|c| {
            let image = c.image.rsplit('/').next().unwrap_or(&c.image);
            format!(
                "{image} {} → {}",
                c.old_tag.as_deref().unwrap_or("(none)"),
                c.new_tag
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Announces `out` for `change` to every `notify:` target; returns the
/// failures (already logged), never fails the caller.
pub async fn notify(ctx: &Context, change: &PendingChange, out: &AppSynced) -> Vec<String> {
    if ctx.settings.notify.is_empty() {
        return Vec::new();
    }
    let event = match out.outcome.as_str() {
        "pending" => "pending",
        "gated" | "held" => "gated",
        "synced" => "synced",
        "failed" => "failed",
        other => other,
    };
    let notice = crate::notify::Notice {
        event: event.to_string(),
        application: change.application.clone(),
        environment: out.environment.clone(),
        repository: (!change.repo_url.is_empty()).then(|| change.repo_url.clone()),
        branch: (!change.branch.is_empty()).then(|| change.branch.clone()),
        commit: Some(change.commit.clone()),
        changes: change
            .changes
            .iter()
            .map(|c| crate::notify::NoticeChange {
                image: c.image.clone(),
                old_tag: c.old_tag.clone(),
                new_tag: c.new_tag.clone(),
            })
            .collect(),
        message: out.message.clone(),
        at: now(ctx).to_rfc3339(),
    };
    notify_notice(ctx, &notice).await
}

/// Sends `notice` to every `notify:` target; returns the failures.
pub async fn notify_notice(ctx: &Context, notice: &crate::notify::Notice) -> Vec<String> {
    if ctx.settings.notify.is_empty() {
        return Vec::new();
    }
    let client = match reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
    {
        Ok(c) => c,
        Err(e) => return vec![format!("cannot build the notification client: {e}")],
    };
    let resolve = |reference: &str| {
        crate::settings::SecretRef::parse(reference, std::path::Path::new("/"))
            .and_then(|r| r.resolve())
    };
    let errors = crate::notify::send(&client, &ctx.settings.notify, notice, &resolve).await;
    for e in &errors {
        warn!(application = %notice.application, error = %e, "notification failed");
    }
    errors
}

/// A commit id shortened for messages (12 hex digits); anything else, such
/// as an `argocd-spec:` change key, whole.
pub fn short(commit: &str) -> &str {
    short_to(commit, 12)
}

/// The first `len` characters of a commit id longer than 12 hex digits;
/// anything else whole.
pub fn short_to(commit: &str, len: usize) -> &str {
    if commit.len() > 12 && commit.chars().all(|c| c.is_ascii_hexdigit()) {
        commit.get(..len).unwrap_or(commit)
    } else {
        commit
    }
}

/// Runs `sync-trigger` for a write-back result. An empty request (a timer)
/// re-evaluates every open change in the store instead.
pub async fn sync_trigger(ctx: &Context, request: SyncRequest) -> SyncReport {
    let mut report = SyncReport {
        cycle: request.cycle.clone(),
        applications: Vec::new(),
        errors: request.errors.clone(),
    };
    if ctx.settings.argocd.is_none() {
        // Without the Argo CD API nothing can be synced or approved here:
        // Argo CD's own sync policy takes the commit from git.
        for app in &request.applications {
            report.applications.push(AppSynced {
                application: crate::apps::app_id(&app.config),
                environment: None,
                commit: app.commit.clone(),
                outcome: "unchanged".into(),
                health: None,
                message: format!(
                    "{}; no argocd: in {}, so Argo CD's own sync policy applies",
                    app.reason, ctx.settings.origin
                ),
            });
        }
        return report;
    }
    if request.applications.is_empty() {
        sweep(ctx, &mut report).await;
        return report;
    }
    for app in &request.applications {
        let application = crate::apps::app_id(&app.config);
        let environment = ctx
            .settings
            .promotion
            .environment_of(&application)
            .map(|g| g.name.clone());
        if !app.written {
            report.applications.push(AppSynced {
                application,
                environment,
                commit: app.commit.clone(),
                outcome: "unchanged".into(),
                health: None,
                message: format!("nothing was written ({}); nothing to sync", app.reason),
            });
            continue;
        }
        match handle_written(ctx, app, &application).await {
            Ok(done) => report.applications.push(done),
            Err(message) => {
                warn!(application = %application, %message, "sync-trigger failed");
                report.errors.push(AppError {
                    application: application.clone(),
                    image: None,
                    stage: "sync-trigger".into(),
                    message: message.clone(),
                });
                report.applications.push(AppSynced {
                    application,
                    environment,
                    commit: app.commit.clone(),
                    outcome: "failed".into(),
                    health: None,
                    message,
                });
            }
        }
    }
    info!(
        applications = report.applications.len(),
        errors = report.errors.len(),
        "sync-trigger finished"
    );
    report
}

async fn handle_written(
    ctx: &Context,
    app: &AppWritten,
    application: &str,
) -> Result<AppSynced, String> {
    let now = now(ctx);
    let gates = ctx.settings.promotion.environment_of(application);
    let mut change = pending_change(app, application, now);
    change.environment = gates.map(|g| g.name.clone());
    let mut ledger = load_ledger(ctx, application).await?;
    ledger.automated = app.config.automated_sync;
    let key = change.key();
    let written: Vec<WrittenTag> = change
        .changes
        .iter()
        .map(|c| WrittenTag {
            image: c.image.clone(),
            tag: c.new_tag.clone(),
            at: now,
        })
        .collect();
    let recorded = record(&mut ledger.changes, change, now);
    // A re-delivered result's tags were recorded the first time.
    if !matches!(recorded, RecordOutcome::Duplicate) {
        ledger.written.extend(written);
    }
    // Saved before anything else, so that a crash from here on leaves a
    // recorded change that the next delivery or a sweep picks up.
    save_ledger(ctx, &mut ledger).await?;
    let index = ledger
        .changes
        .iter()
        .position(|c| c.key() == key)
        .ok_or_else(|| format!("the change {key} vanished from the ledger"))?;
    let fresh = matches!(recorded, RecordOutcome::Added { .. });
    let result = advance(ctx, &mut ledger, index, None).await;
    if fresh && let Some(change) = ledger.changes.get(index) {
        let out = match &result {
            Ok(out) => out.clone(),
            Err(message) => failed_outcome(change, message),
        };
        notify(ctx, change, &out).await;
    }
    result
}

/// The outcome reported for a change whose step failed.
pub fn failed_outcome(change: &PendingChange, message: &str) -> AppSynced {
    AppSynced {
        application: change.application.clone(),
        environment: change.environment.clone(),
        commit: Some(change.commit.clone()),
        outcome: "failed".into(),
        health: None,
        message: message.to_string(),
    }
}

/// Re-evaluates every open change in the store (a timer's sync-trigger).
async fn sweep(ctx: &Context, report: &mut SyncReport) {
    let ledgers = match all_ledgers(ctx).await {
        Ok(l) => l,
        Err(message) => {
            report.errors.push(AppError {
                application: "*".into(),
                image: None,
                stage: "sync-trigger".into(),
                message,
            });
            return;
        }
    };
    for mut ledger in ledgers {
        // A synced change whose Application was not yet Healthy (a canary
        // still progressing): look again, so that soak gates can start.
        if let Some(index) = ledger.changes.iter().rposition(|c| {
            matches!(
                c.state,
                ChangeState::Synced {
                    healthy_at: None,
                    ..
                }
            )
        }) && let Ok(client) = ctx.argocd()
            && let Ok(live) = client.get_application(argo_name(&ledger.application)).await
            && live.health_status() == HealthStatusCode::Healthy
            && let Some(change) = ledger.changes.get_mut(index)
            && change.mark_healthy(now(ctx)).is_ok()
            && let Err(message) = save_ledger(ctx, &mut ledger).await
        {
            warn!(application = %ledger.application, %message, "cannot record the health");
        }
        let open: Vec<usize> = ledger
            .changes
            .iter()
            .enumerate()
            .filter(|(_, c)| c.state.is_open())
            .map(|(i, _)| i)
            .collect();
        for index in open {
            let application = ledger.application.clone();
            let before = ledger.changes.get(index).map(|c| c.state.clone());
            let result = advance(ctx, &mut ledger, index, None).await;
            // Announce transitions only, not every timer's re-evaluation.
            if let Some(change) = ledger.changes.get(index)
                && (before.as_ref() != Some(&change.state) || result.is_err())
            {
                let out = match &result {
                    Ok(out) => out.clone(),
                    Err(message) => failed_outcome(change, message),
                };
                notify(ctx, change, &out).await;
            }
            match result {
                Ok(done) => report.applications.push(done),
                Err(message) => report.errors.push(AppError {
                    application,
                    image: None,
                    stage: "sync-trigger".into(),
                    message,
                }),
            }
        }
    }
}

/// Moves one change as far as it can go now: sync it (automated, or
/// approved, and every gate open), leave it pending (awaits approval), or
/// record why it waits. `approver` is set by `updraft approve`. Saves the
/// ledger after every step.
pub async fn advance(
    ctx: &Context,
    ledger: &mut Ledger,
    index: usize,
    approver: Option<&str>,
) -> Result<AppSynced, String> {
    advance_with(ctx, ledger, index, approver, false).await
}

/// [`advance`]; `force` syncs whatever the gates and the hold say (a
/// rollback: the operator's way back to a known-good version).
pub async fn advance_with(
    ctx: &Context,
    ledger: &mut Ledger,
    index: usize,
    approver: Option<&str>,
    force: bool,
) -> Result<AppSynced, String> {
    let now = now(ctx);
    let application = ledger.application.clone();
    let gates = ctx.settings.promotion.environment_of(&application);
    let hold = load_hold(ctx, &application).await?;
    let change = ledger
        .changes
        .get_mut(index)
        .ok_or_else(|| format!("no change {index} for {application}"))?;
    if let Some(by) = approver
        && change.state.approval().is_none()
    {
        change.approve(by, now).map_err(|e| e.to_string())?;
    }
    let snapshot = change.clone();
    let facts = gate_facts(ctx, &snapshot, gates).await;
    let decision = match decide(
        &snapshot,
        gates,
        hold.as_ref(),
        &facts,
        !ledger.automated,
        now,
    ) {
        SyncDecision::Done => SyncDecision::Done,
        _ if force => SyncDecision::Sync,
        other => other,
    };
    let environment = gates.map(|g| g.name.clone());
    let mut out = AppSynced {
        application: application.clone(),
        environment: environment.clone(),
        commit: Some(snapshot.commit.clone()),
        outcome: String::new(),
        health: None,
        message: String::new(),
    };
    let Some(change) = ledger.changes.get_mut(index) else {
        return Err(format!("no change {index} for {application}"));
    };
    match decision {
        SyncDecision::Done => {
            out.outcome = "recorded".into();
            out.message = format!(
                "{application} {} is already {}",
                short(&snapshot.commit),
                snapshot.state.name()
            );
        }
        SyncDecision::Held { reason } => {
            change.state = ChangeState::Gated {
                reasons: vec![reason.clone()],
                until: None,
                approval: snapshot.state.approval(),
            };
            out.outcome = "held".into();
            out.message = reason;
        }
        SyncDecision::Wait {
            reasons,
            until,
            awaiting_approval,
        } => {
            change.state = ChangeState::Gated {
                reasons: reasons.clone(),
                until,
                approval: snapshot.state.approval(),
            };
            out.outcome = "gated".into();
            out.message = format!(
                "{application} {} ({}) waits: {}{}",
                short(&snapshot.commit),
                tags_text(&snapshot),
                reasons.join("; "),
                if awaiting_approval {
                    "; it also needs an approval"
                } else {
                    ""
                }
            );
        }
        SyncDecision::AwaitApproval => {
            if !matches!(change.state, ChangeState::Pending) {
                change.state = ChangeState::Pending;
            }
            out.outcome = "pending".into();
            out.message = format!(
                "{application} {} ({}) waits for approval: updraft approve {application}",
                short(&snapshot.commit),
                tags_text(&snapshot)
            );
        }
        SyncDecision::Sync => {
            // A manual Application syncs exactly the reviewed commit; an
            // automated one follows its branch (Argo CD refuses a revision
            // other than the auto-sync target for it).
            let revision = (!ledger.automated && !snapshot.commit.starts_with("argocd-spec:"))
                .then_some(snapshot.commit.as_str());
            // Promote the canary only on an approved change of a manual
            // environment.
            let canary = gates
                .and_then(|g| g.canary.as_ref())
                .filter(|_| snapshot.state.approval().is_some());
            let result = sync_application(ctx, &application, revision, canary).await;
            let actor = approver.unwrap_or(UPDRAFT_ACTOR);
            let audit_result = result.as_ref().map(|_| ()).map_err(Clone::clone);
            let detail = format!(
                "sync {} ({})",
                short(&snapshot.commit),
                tags_text(&snapshot)
            );
            let entry = audit_entry(
                now,
                actor,
                AuditAction::Sync,
                &snapshot,
                detail,
                &audit_result,
            );
            if let Err(e) = audit(ctx, entry).await {
                warn!(application = %application, error = %e, "cannot write the audit log");
            }
            match result {
                Ok(synced) => {
                    change.mark_synced(now).map_err(|e| e.to_string())?;
                    if synced.health == HealthStatusCode::Healthy {
                        change.mark_healthy(now).map_err(|e| e.to_string())?;
                    }
                    out.outcome = "synced".into();
                    out.health = Some(format!("{:?}", synced.health));
                    out.message = format!(
                        "{application} synced to {} ({}){}; health {:?}",
                        short(&snapshot.commit),
                        tags_text(&snapshot),
                        synced
                            .canary
                            .map(|c| format!(", canary promoted ({c})"))
                            .unwrap_or_default(),
                        synced.health
                    );
                }
                Err(message) => {
                    // The change stays open (pending, or approved): the
                    // next sweep or approve tries again; the failure is in
                    // the report and the audit log.
                    save_ledger(ctx, ledger).await?;
                    return Err(message);
                }
            }
        }
    }
    save_ledger(ctx, ledger).await?;
    Ok(out)
}

/// Screens the changes `resolve-strategy` proposes for `application`
/// against its promotion state: a hold lets through only its pinned tags; a
/// manual revert (the application runs a tag Updraft wrote earlier, after
/// Updraft's newest change was synced) places a hold and stops everything;
/// a change already written and waiting for approval is not written again.
/// Returns why changes were held back, if any were.
pub async fn screen_changes(
    ctx: &Context,
    application: &str,
    changes: &mut Vec<crate::events::ImageChange>,
) -> Result<Option<String>, String> {
    let hold = load_hold(ctx, application).await?;
    if let Some(hold) = hold {
        let before = changes.len();
        changes.retain(|c| hold.pinned_tag(&c.image) == Some(c.to.as_str()));
        return Ok((changes.len() < before).then(|| {
            format!(
                "{application} is held since {} ({}); `updraft release {application}` lets updates through",
                hold.at.to_rfc3339(),
                hold.reason
            )
        }));
    }
    let ledger = load_ledger(ctx, application).await?;
    let now = now(ctx);
    for c in changes.iter() {
        let newest_synced = ledger
            .changes
            .iter()
            .rev()
            .find(|p| p.changes.iter().any(|x| x.image == c.image))
            .is_some_and(|p| matches!(p.state, ChangeState::Synced { .. }));
        if !newest_synced {
            continue;
        }
        if let Some(hold) = updraft_core::promotion::detect_manual_revert(
            application,
            &c.image,
            &ledger.written,
            c.from.as_deref(),
            None,
            now,
        ) {
            changes.clear();
            if ctx.settings.git.dry_run {
                return Ok(Some(format!("{} (dry run: no hold placed)", hold.reason)));
            }
            save_hold(ctx, &hold).await?;
            let entry = AuditEntry {
                at: now,
                actor: UPDRAFT_ACTOR.to_string(),
                action: AuditAction::Hold,
                application: application.to_string(),
                commit: None,
                detail: hold.reason.clone(),
                result: AuditResult::Ok,
            };
            if let Err(e) = audit(ctx, entry).await {
                warn!(application, error = %e, "cannot write the audit log");
            }
            changes.clear();
            return Ok(Some(format!(
                "{}; {application} is now held — `updraft release {application}` lets updates through",
                hold.reason
            )));
        }
    }
    // Written already and waiting for approval or a gate: nothing new.
    changes.retain(|c| {
        !ledger.changes.iter().any(|p| {
            p.state.is_open()
                && p.changes
                    .iter()
                    .any(|x| x.image == c.image && x.new_tag == c.to)
        })
    });
    Ok(None)
}
