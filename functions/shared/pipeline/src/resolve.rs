//! Owns `resolve-strategy`: for every polled image, run its filter and
//! strategy plugins over the candidates (read once per repository from the
//! checkpoint store, or given inline), compare with what is deployed, emit a
//! `WriteBackRequest` with the real changes only, and record each
//! application's decision with its reasons. A plugin failure is reported
//! for its application and the others go on.

use std::collections::HashMap;

use tracing::{info, warn};
use updraft_core::strategy::DIGEST_PLUGIN;
use updraft_core::{Candidate, ImageConfig, Platform};
use updraft_plugin_host::{Resolution, ResolveSpec};
use updraft_state::{DecisionRecord, ImageDecision, RepoCache};

use crate::apps::{DEFAULT_NAMESPACE, app_id};
use crate::context::Context;
use crate::error::one_line;
use crate::events::{
    AppError, AppUpdate, ImageChange, ImageInput, ImageOutcome, RepoRef, ResolveRequest,
    ResolveStats, WriteBackRequest,
};

/// Decides for every image of `request`.
pub async fn resolve(ctx: &Context, request: ResolveRequest) -> WriteBackRequest {
    let store_start = ctx.store.stats();
    let now = ctx.now();
    let mut errors = request.errors;
    let mut stats = ResolveStats::default();

    // Each repository's cache, read once.
    let mut caches: HashMap<RepoRef, Result<RepoCache, String>> = HashMap::new();
    for app in &request.applications {
        for image in app.images.iter().filter(|i| i.candidates.is_none()) {
            if caches.contains_key(&image.repository) {
                continue;
            }
            let loaded = ctx
                .store
                .load_repository(&image.repository.registry, &image.repository.repository)
                .await
                .map_err(|e| one_line(&e));
            caches.insert(image.repository.clone(), loaded);
        }
    }

    let mut applications = Vec::new();
    let mut decisions = Vec::new();
    for app in request.applications {
        let id = app_id(&app.config);
        let mut changes = Vec::new();
        let mut record = DecisionRecord {
            namespace: app
                .config
                .namespace
                .clone()
                .unwrap_or_else(|| DEFAULT_NAMESPACE.to_string()),
            application: app.config.name.clone(),
            decided_at: now,
            images: Vec::new(),
        };
        for input in &app.images {
            let Some(config) = app.config.images.get(input.index) else {
                errors.push(AppError {
                    application: id.clone(),
                    image: None,
                    stage: "event".into(),
                    message: format!(
                        "image index {} is out of range (the application has {} images)",
                        input.index,
                        app.config.images.len()
                    ),
                });
                continue;
            };
            let image_name = config.image.to_string();
            stats.images += 1;
            let candidates = match &input.candidates {
                Some(inline) => Ok(inline.clone()),
                None => match caches.get(&input.repository) {
                    Some(Ok(cache)) => Ok(from_cache(cache, config)),
                    Some(Err(message)) => Err(("state", message.clone())),
                    None => Err(("state", "repository cache not loaded".to_string())),
                },
            };
            let decided = candidates.and_then(|c| decide(ctx, config, input, c));
            match decided {
                Ok((resolution, update)) => {
                    stats.fuel += resolution.strategy.fuel
                        + resolution.filters.iter().map(|f| f.fuel).sum::<u64>();
                    record.images.push(ImageDecision {
                        alias: config.alias.clone(),
                        image: config.image.full_name(),
                        current: input.current.clone(),
                        selected: resolution.selected.as_ref().map(|tag| Candidate {
                            name: tag.clone(),
                            digest: resolution.digest.clone(),
                            created: None,
                            platforms: Vec::new(),
                        }),
                        update,
                        reason: resolution.reason.clone(),
                        error: None,
                    });
                    if update && let Some(to) = resolution.selected.clone() {
                        changes.push(ImageChange {
                            index: input.index,
                            alias: config.alias.clone(),
                            image: config.image.full_name(),
                            from: input.current.clone(),
                            to,
                            digest: resolution.digest.clone(),
                            reason: resolution.reason.clone(),
                        });
                    }
                    decisions.push(ImageOutcome {
                        application: id.clone(),
                        image: image_name,
                        update,
                        resolution,
                    });
                }
                Err((stage, message)) => {
                    record.images.push(ImageDecision {
                        alias: config.alias.clone(),
                        image: config.image.full_name(),
                        current: input.current.clone(),
                        selected: None,
                        update: false,
                        reason: "no decision".into(),
                        error: Some(message.clone()),
                    });
                    errors.push(AppError {
                        application: id.clone(),
                        image: Some(image_name),
                        stage: stage.into(),
                        message,
                    });
                }
            }
        }
        if let Err(message) = store_decision(ctx, &record).await {
            warn!(application = %id, %message, "decision not recorded");
            errors.push(AppError {
                application: id.clone(),
                image: None,
                stage: "state".into(),
                message,
            });
        }
        if !changes.is_empty() {
            match crate::sync::screen_changes(ctx, &id, &mut changes).await {
                Ok(None) => {}
                Ok(Some(message)) => errors.push(AppError {
                    application: id.clone(),
                    image: None,
                    stage: "hold".into(),
                    message,
                }),
                Err(message) => errors.push(AppError {
                    application: id.clone(),
                    image: None,
                    stage: "state".into(),
                    message,
                }),
            }
        }
        if !changes.is_empty() {
            stats.changes += changes.len();
            applications.push(AppUpdate {
                config: app.config,
                changes,
            });
        }
    }
    let store = ctx.store.stats().since(&store_start);
    stats.store_reads = store.gets + store.heads;
    stats.store_writes = store.puts + store.deletes;
    info!(
        images = stats.images,
        changes = stats.changes,
        errors = errors.len(),
        "resolve finished"
    );
    WriteBackRequest {
        cycle: request.cycle,
        applications,
        decisions,
        errors,
        stats,
    }
}

/// The platforms an image is resolved for: its own, else this machine's
/// (Image Updater's default).
pub fn effective_platforms(config: &ImageConfig) -> Vec<Platform> {
    if config.platforms.is_empty() {
        vec![Platform::host()]
    } else {
        config.platforms.clone()
    }
}

/// Every listed tag of the repository, with what the cache knows.
fn from_cache(cache: &RepoCache, config: &ImageConfig) -> Vec<Candidate> {
    let platforms = effective_platforms(config);
    cache
        .listed_tags()
        .filter_map(|tag| cache.candidate_for(tag, &platforms))
        .collect()
}

type Failure = (&'static str, String);

fn decide(
    ctx: &Context,
    config: &ImageConfig,
    input: &ImageInput,
    mut candidates: Vec<Candidate>,
) -> Result<(Resolution, bool), Failure> {
    let plugin_error = |e: crate::error::PipelineError| ("plugin", one_line(&e));
    let strategy = ctx
        .catalog
        .strategy(&config.strategy)
        .map_err(plugin_error)?;
    let filters = ctx.catalog.filters(config).map_err(plugin_error)?;
    let is_digest = strategy.name() == DIGEST_PLUGIN;
    let constraint = config.image.constraint().map(str::to_string);
    if is_digest && let Some(watched) = &constraint {
        // Only the watched tag matters; the others need no reasons.
        candidates.retain(|c| &c.name == watched);
    }
    let call = config.strategy_call();
    let spec = ResolveSpec {
        strategy,
        params: call.params,
        constraint,
        filters,
        platforms: effective_platforms(config),
        current: input.current.clone(),
    };
    let mut resolution =
        updraft_plugin_host::resolve(&spec, candidates).map_err(|e| ("plugin", one_line(&e)))?;
    let mut update = if is_digest {
        resolution.selected.is_some()
            && resolution.digest.is_some()
            && resolution.digest != input.current_digest
    } else {
        resolution.changed
    };
    resolution.changed = update;
    if update && input.deployed == Some(false) && !config.force_update {
        update = false;
        resolution.changed = false;
        resolution.reason = format!(
            "{}; not updated: the application does not report this image as deployed (set force-update to update it anyway)",
            resolution.reason
        );
    }
    Ok((resolution, update))
}

/// Writes the decision unless the stored one says the same.
async fn store_decision(ctx: &Context, record: &DecisionRecord) -> Result<(), String> {
    let previous = ctx
        .store
        .get_decision(&record.namespace, &record.application)
        .await
        .map_err(|e| one_line(&e))?;
    if previous.value.is_some_and(|p| p.same_outcome(record)) {
        return Ok(());
    }
    ctx.store
        .put_decision(record)
        .await
        .map(|_| ())
        .map_err(|e| one_line(&e))
}
