//! Owns `poll-registry`: load the applications, list each distinct
//! repository once per cycle however many applications watch it, record
//! first-seen times, fetch metadata only for the tags that pass an
//! application's filters when its strategy says it needs metadata and the
//! cache lacks it, save the repository cache, and emit a `ResolveRequest`.
//! Per-application problems are reported in the result; they never stop the
//! other applications.

use std::collections::{BTreeMap, BTreeSet};

use futures::StreamExt;
use tracing::{debug, info, warn};
use updraft_core::strategy::DIGEST_PLUGIN;
use updraft_core::{Candidate, ImageConfig, Platform};
use updraft_plugin_host::apply_filters;
use updraft_registry::{
    CredentialSpec, RegistryClient, RegistryError, TagMetadata, resolve_credentials,
};
use updraft_state::{ImageMetadata, RepoCache};

use crate::apps::{self, LoadedApp};
use crate::context::Context;
use crate::error::one_line;
use crate::events::{
    AppError, AppInput, ImageInput, PollRequest, PollStats, RepoRef, ResolveRequest, Trigger,
};

/// Repositories polled at the same time.
const REPOSITORY_CONCURRENCY: usize = 8;
/// Metadata requests in flight per repository (the registry's own rate
/// limit still applies).
const METADATA_CONCURRENCY: usize = 8;
/// Pauses before re-reading a tag listed for the first time whose manifest
/// answered 404 (1.75 s in all).
const FRESH_TAG_RETRIES: [std::time::Duration; 3] = [
    std::time::Duration::from_millis(250),
    std::time::Duration::from_millis(500),
    std::time::Duration::from_millis(1000),
];
/// How long an `ext:` credential script may run.
const EXT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// One image of one application, watching a repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Watcher {
    app: usize,
    image: usize,
}

/// A repository (with the credentials used for it) and who watches it.
struct RepoWork {
    repo: RepoRef,
    client: RegistryClient,
    watchers: Vec<Watcher>,
}

/// What polling one repository produced.
#[derive(Default)]
struct RepoOutcome {
    ok: Vec<Watcher>,
    errors: Vec<(Watcher, AppError)>,
    new_tags: usize,
    fetched: usize,
    cached: usize,
}

/// Runs one poll cycle.
pub async fn poll(ctx: &Context, request: &PollRequest) -> ResolveRequest {
    let registry_start = ctx.registries.counts();
    let store_start = ctx.store.stats();
    let now = ctx.now();
    let loaded = apps::load(&ctx.settings).await;
    let mut errors = loaded.errors;
    let apps: Vec<LoadedApp> = loaded
        .apps
        .into_iter()
        .filter(|app| wanted_app(request, app))
        .collect();

    let (works, mut plan_errors) = plan(ctx, request, &apps).await;
    let repositories = works.len();
    let outcomes: Vec<RepoOutcome> = futures::stream::iter(works)
        .map(|work| poll_repository(ctx, work, &apps, now))
        .buffer_unordered(REPOSITORY_CONCURRENCY)
        .collect()
        .await;

    let mut stats = PollStats {
        applications: apps.len(),
        images: apps.iter().map(|a| a.config.images.len()).sum(),
        repositories,
        ..PollStats::default()
    };
    let mut ok: BTreeMap<Watcher, RepoRef> = BTreeMap::new();
    let mut watcher_errors: Vec<(Watcher, AppError)> = Vec::new();
    watcher_errors.append(&mut plan_errors);
    for mut outcome in outcomes {
        stats.new_tags += outcome.new_tags;
        stats.metadata_fetched += outcome.fetched;
        stats.metadata_cached += outcome.cached;
        watcher_errors.append(&mut outcome.errors);
        for watcher in outcome.ok {
            let app = &apps[watcher.app];
            if let Some(image) = app.config.images.get(watcher.image)
                && let Ok(resolved) = ctx.registries.resolve_image(&image.image)
            {
                ok.insert(
                    watcher,
                    RepoRef {
                        registry: resolved.client.endpoint().host(),
                        repository: resolved.repository,
                    },
                );
            }
        }
    }
    watcher_errors.sort_by_key(|(w, _)| *w);
    errors.extend(watcher_errors.into_iter().map(|(_, e)| e));

    let mut applications = Vec::new();
    for (index, app) in apps.iter().enumerate() {
        let images: Vec<ImageInput> = ok
            .iter()
            .filter(|(w, _)| w.app == index)
            .map(|(w, repo)| {
                let deployed = app.deployed.get(w.image).cloned().unwrap_or_default();
                ImageInput {
                    index: w.image,
                    repository: repo.clone(),
                    current: deployed.tag,
                    current_digest: deployed.digest,
                    deployed: deployed.listed,
                    candidates: None,
                }
            })
            .collect();
        if !images.is_empty() {
            applications.push(AppInput {
                config: app.config.clone(),
                images,
            });
        }
    }
    let store = ctx.store.stats().since(&store_start);
    stats.registry_requests = ctx.registries.counts().since(&registry_start).total();
    stats.store_reads = store.gets + store.heads;
    stats.store_writes = store.puts + store.deletes;
    info!(
        applications = stats.applications,
        repositories = stats.repositories,
        new_tags = stats.new_tags,
        metadata_fetched = stats.metadata_fetched,
        registry_requests = stats.registry_requests,
        errors = errors.len(),
        "poll finished"
    );
    ResolveRequest {
        cycle: cycle_id(now),
        applications,
        errors,
        stats,
    }
}

/// The cycle id: the poll's UTC time.
pub fn cycle_id(now: i64) -> String {
    chrono::DateTime::from_timestamp_nanos(now)
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

fn wanted_app(request: &PollRequest, app: &LoadedApp) -> bool {
    request.applications.is_empty()
        || request
            .applications
            .iter()
            .any(|name| *name == app.config.name || *name == app.id())
}

/// Groups every image by repository (and credentials), keeping only the
/// repository a webhook names.
async fn plan(
    ctx: &Context,
    request: &PollRequest,
    apps: &[LoadedApp],
) -> (Vec<RepoWork>, Vec<(Watcher, AppError)>) {
    let mut groups: BTreeMap<(RepoRef, String), RepoWork> = BTreeMap::new();
    let mut errors = Vec::new();
    for (a, app) in apps.iter().enumerate() {
        for (i, image) in app.config.images.iter().enumerate() {
            let watcher = Watcher { app: a, image: i };
            let fail = |stage: &str, message: String| {
                (
                    watcher,
                    AppError {
                        application: app.id(),
                        image: Some(image.image.to_string()),
                        stage: stage.to_string(),
                        message,
                    },
                )
            };
            let resolved = match ctx.registries.resolve_image(&image.image) {
                Ok(resolved) => resolved,
                Err(e) => {
                    errors.push(fail("registry", one_line(&e)));
                    continue;
                }
            };
            let repo = RepoRef {
                registry: resolved.client.endpoint().host(),
                repository: resolved.repository.clone(),
            };
            if !webhook_matches(
                &request.trigger,
                &repo,
                resolved.client.endpoint().prefix.as_str(),
            ) {
                continue;
            }
            let credentials = image
                .pull_secret
                .as_ref()
                .map(|c| c.to_string())
                .unwrap_or_default();
            let key = (repo.clone(), credentials.clone());
            if let Some(work) = groups.get_mut(&key) {
                work.watchers.push(watcher);
                continue;
            }
            let client = match &image.pull_secret {
                None => resolved.client,
                Some(reference) => {
                    let spec = CredentialSpec::Core(reference.clone());
                    match resolve_credentials(&spec, resolved.client.endpoint(), EXT_TIMEOUT).await
                    {
                        Ok(creds) => resolved.client.with_credentials(Some(creds)),
                        Err(e) => {
                            errors.push(fail("credentials", one_line(&e)));
                            continue;
                        }
                    }
                }
            };
            groups.insert(
                key,
                RepoWork {
                    repo,
                    client,
                    watchers: vec![watcher],
                },
            );
        }
    }
    (groups.into_values().collect(), errors)
}

fn webhook_matches(trigger: &Trigger, repo: &RepoRef, prefix: &str) -> bool {
    let Trigger::Webhook {
        registry,
        repository,
        ..
    } = trigger
    else {
        return true;
    };
    let registry_ok = registry.as_deref().is_none_or(|r| {
        let r = r.trim_end_matches('/').to_ascii_lowercase();
        r == repo.registry.to_ascii_lowercase() || r == prefix.to_ascii_lowercase()
    });
    let repository = repository.trim_matches('/');
    registry_ok
        && (repo.repository == repository
            || repo.repository.strip_prefix("library/") == Some(repository))
}

/// What one watcher needs fetched.
enum Need {
    /// Nothing: the strategy reads tag names only.
    Nothing,
    /// Metadata of these tags, when not cached.
    Metadata(Vec<String>),
    /// The digest strategy: the watched tag's digest now (tags move), and
    /// its metadata if that digest is new.
    Digest(String),
}

async fn poll_repository(
    ctx: &Context,
    work: RepoWork,
    apps: &[LoadedApp],
    now: i64,
) -> RepoOutcome {
    let RepoWork {
        repo,
        client,
        watchers,
    } = work;
    let mut outcome = RepoOutcome::default();
    let error_for = |w: Watcher, stage: &str, message: String| {
        let app = &apps[w.app];
        (
            w,
            AppError {
                application: app.id(),
                image: app.config.images.get(w.image).map(|i| i.image.to_string()),
                stage: stage.to_string(),
                message,
            },
        )
    };

    let mut cache = match ctx
        .store
        .load_repository(&repo.registry, &repo.repository)
        .await
    {
        Ok(cache) => cache,
        Err(e) => {
            for w in watchers {
                outcome.errors.push(error_for(w, "state", one_line(&e)));
            }
            return outcome;
        }
    };
    if let Some(warning) = cache.warning() {
        warn!(registry = %repo.registry, repository = %repo.repository, %warning,
            "stored repository cache unusable; rebuilding it from the registry");
    }
    let tags = match client.list_tags(&repo.repository).await {
        Ok(tags) => tags,
        Err(e) => {
            let message = one_line(&e);
            for w in watchers {
                outcome
                    .errors
                    .push(error_for(w, "registry", message.clone()));
            }
            return outcome;
        }
    };
    let changes = cache.record_tags(tags.iter().map(String::as_str), now);
    outcome.new_tags = changes.added.len();
    debug!(registry = %repo.registry, repository = %repo.repository, tags = tags.len(),
        added = changes.added.len(), removed = changes.removed.len(), "listed");

    // What each watcher needs.
    let mut wanted_meta: BTreeSet<String> = BTreeSet::new();
    let mut wanted_digest: BTreeSet<String> = BTreeSet::new();
    let mut ok = Vec::new();
    // (watcher, tags it needs metadata of, whether it is the digest strategy)
    let mut wanted_by: Vec<(Watcher, Vec<String>, bool)> = Vec::new();
    for w in watchers {
        let Some(image) = apps[w.app].config.images.get(w.image) else {
            continue;
        };
        match need(ctx, image, &tags) {
            Ok(Need::Nothing) => ok.push(w),
            Ok(Need::Metadata(list)) => {
                wanted_meta.extend(list.iter().cloned());
                wanted_by.push((w, list, false));
                ok.push(w);
            }
            Ok(Need::Digest(tag)) => {
                wanted_digest.insert(tag.clone());
                wanted_by.push((w, vec![tag], true));
                ok.push(w);
            }
            Err((stage, message)) => outcome.errors.push(error_for(w, stage, message)),
        }
    }

    // The digest strategy's tags: a HEAD each, every cycle (they move).
    let mut failed: BTreeMap<String, String> = BTreeMap::new();
    for tag in &wanted_digest {
        match client.manifest_digest(&repo.repository, tag).await {
            Ok(digest) => {
                cache.record_digest(tag, &digest, now);
                wanted_meta.insert(tag.clone());
            }
            Err(e) => {
                failed.insert(tag.clone(), one_line(&e));
            }
        }
    }

    // Metadata of the tags that lack it.
    let to_fetch: Vec<String> = wanted_meta
        .iter()
        .filter(|t| !failed.contains_key(*t))
        .filter(|t| cache.needs_metadata(t))
        .cloned()
        .collect();
    outcome.cached = wanted_meta.len() - to_fetch.len();
    let just_listed: BTreeSet<&str> = changes.added.iter().map(String::as_str).collect();
    let fetched: Vec<(String, Result<TagMetadata, String>)> = futures::stream::iter(to_fetch)
        .map(|tag| {
            let client = &client;
            let repository = repo.repository.as_str();
            // A tag listed for the first time may not be readable yet: a
            // registry notifies, and lists, before every replica or cache
            // serves the manifest. Such a 404 is retried a few times.
            let fresh = just_listed.contains(tag.as_str());
            async move {
                let mut pauses = FRESH_TAG_RETRIES.iter();
                let result = loop {
                    match client.tag_metadata(repository, &tag, &[]).await {
                        Err(e @ RegistryError::NotFound { .. }) if fresh => match pauses.next() {
                            Some(pause) => {
                                debug!(repository, tag = %tag, "new tag not readable yet; retrying");
                                tokio::time::sleep(*pause).await;
                            }
                            None => {
                                break Err(format!(
                                    "{} (the tag is listed; retried {} times)",
                                    one_line(&e),
                                    FRESH_TAG_RETRIES.len()
                                ));
                            }
                        },
                        other => break other.map_err(|e| one_line(&e)),
                    }
                };
                (tag, result)
            }
        })
        .buffer_unordered(METADATA_CONCURRENCY)
        .collect()
        .await;
    for (tag, result) in fetched {
        match result {
            Ok(meta) => {
                outcome.fetched += 1;
                record(&mut cache, &meta, now);
            }
            Err(message) => {
                failed.insert(tag, message);
            }
        }
    }

    if let Err(e) = ctx.store.save_repository(&mut cache).await {
        let message = format!(
            "{}; the candidates of this cycle could not be stored",
            one_line(&e)
        );
        for w in ok {
            outcome.errors.push(error_for(w, "state", message.clone()));
        }
        return outcome;
    }

    // A tag whose metadata could not be fetched is reported to the
    // watchers that wanted it; they still decide among the other tags.
    // The digest strategy cannot decide without its one tag's digest.
    for (w, list, digest) in &wanted_by {
        for tag in list {
            if let Some(problem) = failed.get(tag) {
                let message = if *digest {
                    ok.retain(|o| o != w);
                    format!("cannot read the digest of {tag}: {problem}")
                } else {
                    format!("tag {tag} skipped: {problem}")
                };
                outcome.errors.push(error_for(*w, "registry", message));
            }
        }
    }
    outcome.ok = ok;
    outcome
}

/// What an image's strategy needs from the registry, after its filters.
fn need(
    ctx: &Context,
    image: &ImageConfig,
    tags: &[String],
) -> Result<Need, (&'static str, String)> {
    let plugin_error = |e: crate::error::PipelineError| ("plugin", one_line(&e));
    let strategy = ctx
        .catalog
        .strategy(&image.strategy)
        .map_err(plugin_error)?;
    let Some(info) = strategy.strategy_info() else {
        return Ok(Need::Nothing);
    };
    if !(info.needs_created || info.needs_digest || info.needs_platforms) {
        return Ok(Need::Nothing);
    }
    if strategy.name() == DIGEST_PLUGIN {
        let Some(tag) = image.image.constraint() else {
            return Err((
                "config",
                "the digest strategy needs the tag to watch in the image reference (image:TAG)"
                    .to_string(),
            ));
        };
        if !tags.iter().any(|t| t == tag) {
            return Err((
                "registry",
                format!("the watched tag {tag} does not exist in the repository"),
            ));
        }
        return Ok(Need::Digest(tag.to_string()));
    }
    let filters = ctx.catalog.filters(image).map_err(plugin_error)?;
    let candidates: Vec<Candidate> = tags.iter().map(Candidate::named).collect();
    let filtered = apply_filters(&filters, candidates).map_err(|e| ("plugin", one_line(&e)))?;
    Ok(Need::Metadata(
        filtered.kept.into_iter().map(|c| c.name).collect(),
    ))
}

/// Stores what the registry said about a tag: its digest, and the digest's
/// immutable metadata (every platform of an index, with each one's build
/// time).
fn record(cache: &mut RepoCache, meta: &TagMetadata, now: i64) {
    cache.record_digest(&meta.tag, &meta.digest, now);
    let platforms: Vec<String> = {
        let mut p: Vec<String> = meta
            .images
            .iter()
            .filter_map(|i| i.platform.as_ref().map(Platform::to_string))
            .collect();
        p.sort();
        p.dedup();
        p
    };
    let created_by_platform = if meta.images.len() > 1 {
        meta.images
            .iter()
            .filter_map(|i| Some((i.platform.as_ref()?.to_string(), i.created?)))
            .collect()
    } else {
        BTreeMap::new()
    };
    cache.record_metadata(
        &meta.digest,
        ImageMetadata {
            created: meta.created,
            platforms,
            labels: meta.labels(),
            created_by_platform,
        },
    );
}
