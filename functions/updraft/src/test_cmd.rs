//! Owns `updraft test IMAGE`: one image resolved against its live registry,
//! as Image Updater's `test` command does — list the tags once, run the tag
//! filters on the names, fetch metadata only for the tags that passed and
//! only when the strategy reads it, decide, and print the chosen reference
//! (readable, or the `resolve` JSON plus `image` with `--output json`).
//!
//! The constraint is the tag written in IMAGE, as in Image Updater's
//! image-list (`nginx:1.x` → `1.x`; for `digest`, the tag to follow).
//! `--semver-constraint` wins over it, with a warning when they differ:
//! Image Updater's `test` takes its constraint from that flag alone.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, Result, anyhow, bail};
use clap::{Args, ValueEnum};
use tokio::task::JoinSet;
use tracing::{debug, info, warn};
use updraft_core::{Candidate, ImageRef, Platform};
use updraft_plugin_host::{Rejected, Resolution, ResolveSpec, apply_filters, resolve};
use updraft_registry::credentials::EXT_TIMEOUT;
use updraft_registry::{
    ClientOptions, CredentialSpec, Endpoint, Registries, RegistryClient, RegistryError,
    RegistryPool, TagMetadata, resolve_credentials,
};

use crate::catalog::Catalog;
use crate::resolve_cmd::DecisionArgs;

/// Metadata requests in flight at once (the registry's rate limit still
/// spaces them).
const METADATA_IN_FLIGHT: usize = 8;

/// `updraft test`: the image, the decision flags of `resolve`, and how to
/// reach the registry.
#[derive(Debug, Args)]
pub struct TestArgs {
    /// The image, `[registry/]name[:constraint]`: the tag is the constraint
    /// (`nginx:1.x`), or for `digest` the tag to follow (`app:latest`).
    #[arg(value_name = "IMAGE")]
    image: String,
    #[command(flatten)]
    decision: DecisionArgs,
    /// Credentials for the image's registry, replacing the registry's own:
    /// `env:VAR`, `file:PATH`, `ext:SCRIPT` or `dockerconfig:PATH`, each
    /// holding `<user>:<password>`.
    #[arg(long, value_name = "REF")]
    credentials: Option<String>,
    /// Image Updater's registries.conf. Without it only Docker Hub is
    /// configured and any other registry is reached at `https://<host>`.
    #[arg(long, visible_alias = "registries-conf-path", value_name = "FILE")]
    registries_conf: Option<PathBuf>,
    /// `text`: Image Updater's wording; `json`: the `resolve` decision plus
    /// `image`.
    #[arg(long, value_enum, default_value_t = Output::Text)]
    output: Output,
}

/// How the decision is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Output {
    Text,
    Json,
}

/// A decision and what it was made from.
struct Tested {
    /// Tags the registry listed.
    listed: usize,
    resolution: Resolution,
    /// The chosen image, `registry/name:tag[@digest]`.
    reference: Option<String>,
}

pub fn run(args: TestArgs) -> Result<()> {
    let image = ImageRef::parse(&args.image).context("IMAGE")?;
    if image.digest().is_some() {
        warn!(
            "the digest in IMAGE is ignored: the registry's tags are what is tested (use --update-strategy digest with a tag to follow one)"
        );
    }
    let catalog = Catalog::new()?;
    let mut spec = args.decision.build_spec(&catalog)?;
    spec.constraint = constraint(&image, args.decision.constraint());
    if let Some(info) = spec.strategy.strategy_info()
        && info.needs_constraint
        && spec.constraint.is_none()
    {
        bail!(
            "the {} strategy needs a constraint: write the tag to follow in IMAGE (e.g. {}:latest) or pass --semver-constraint",
            info.name,
            image.full_name()
        );
    }
    let registries = match &args.registries_conf {
        Some(path) => Registries::load(path)?,
        None => Registries::builtin(),
    };
    let credentials = args
        .credentials
        .as_deref()
        .map(CredentialSpec::parse)
        .transpose()
        .map_err(|e| anyhow!("--credentials: {e}; Updraft also accepts dockerconfig:<path of a docker config.json>"))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let tested = runtime.block_on(test(&image, &spec, registries, credentials.as_ref()))?;
    match args.output {
        Output::Text => print!("{}", text(&tested)),
        Output::Json => {
            let mut value = serde_json::to_value(&tested.resolution)?;
            if let Some(object) = value.as_object_mut() {
                object.insert("image".to_string(), tested.reference.into());
            }
            println!("{}", serde_json::to_string_pretty(&value)?);
        }
    }
    Ok(())
}

/// The IMAGE tag, unless `--semver-constraint` is given (which wins, as in
/// Image Updater's `test`).
fn constraint(image: &ImageRef, flag: Option<&str>) -> Option<String> {
    let from_image = image.constraint().filter(|c| !c.is_empty());
    match (flag, from_image) {
        (Some(flag), Some(tag)) if flag != tag => {
            warn!("--semver-constraint '{flag}' replaces the constraint '{tag}' written in IMAGE");
            Some(flag.to_string())
        }
        (Some(flag), _) => Some(flag.to_string()),
        (None, tag) => tag.map(str::to_string),
    }
}

/// Lists, filters, fetches metadata and decides.
async fn test(
    image: &ImageRef,
    spec: &ResolveSpec,
    registries: Registries,
    credentials: Option<&CredentialSpec>,
) -> Result<Tested> {
    let pool = RegistryPool::new(registries, ClientOptions::default());
    let resolved = pool.resolve_image(image)?;
    let endpoint = resolved.client.endpoint().clone();
    let hints = Hints {
        endpoint: &endpoint,
        cli_credentials: credentials.is_some(),
    };
    let client = match credentials {
        Some(reference) => {
            warn_other_registry(reference, image, &endpoint);
            let resolved_credentials = resolve_credentials(reference, &endpoint, EXT_TIMEOUT)
                .await
                .map_err(|e| hints.explain(e))?;
            resolved.client.with_credentials(Some(resolved_credentials))
        }
        None => resolved.client,
    };
    let repository = resolved.repository;

    let tags = client
        .list_tags(&repository)
        .await
        .map_err(|e| hints.explain(e))?;
    let listed = tags.len();
    info!(registry = %endpoint.api(), repository, "found {listed} tags in registry");

    let filtered = apply_filters(
        &spec.filters,
        tags.into_iter().map(Candidate::named).collect(),
    )?;
    let mut rejected = filtered.rejected;
    let mut kept = filtered.kept;
    let info = spec.strategy.strategy_info();
    let follows_one_tag = info.is_some_and(|i| i.name == "digest");
    if follows_one_tag && let Some(watched) = spec.constraint.as_deref() {
        // Image Updater's implicit filter for `digest`: only the tag to
        // follow is looked at, so only its manifest is fetched.
        let (watched_tags, others): (Vec<_>, Vec<_>) =
            kept.into_iter().partition(|c| c.name == watched);
        rejected.extend(others.into_iter().map(|c| Rejected {
            tag: c.name,
            by: spec.strategy.name().to_string(),
            reason: format!("the digest strategy follows only tag '{watched}'"),
        }));
        kept = watched_tags;
    }
    let needs_metadata =
        info.is_some_and(|i| i.needs_created || i.needs_digest || i.needs_platforms);
    let candidates = if needs_metadata {
        debug!(
            tags = kept.len(),
            "fetching metadata for the tags that passed the filters"
        );
        fetch_metadata(
            &client,
            &repository,
            kept,
            &spec.platforms,
            &mut rejected,
            &hints,
        )
        .await?
    } else {
        kept
    };

    let decide = ResolveSpec {
        filters: Vec::new(),
        ..spec.clone()
    };
    let mut resolution = resolve(&decide, candidates).with_context(|| match &spec.constraint {
        Some(c) => format!(
            "deciding for {} with constraint '{c}' (the IMAGE tag, or --semver-constraint)",
            image.full_name()
        ),
        None => format!("deciding for {}", image.full_name()),
    })?;
    resolution.filters = filtered.runs;
    rejected.append(&mut resolution.rejected);
    resolution.rejected = rejected;
    let reference = resolution.selected.as_deref().map(|tag| {
        let digest = resolution.digest.as_deref().filter(|_| follows_one_tag);
        image.with_tag(Some(tag), digest).full_name_with_tag()
    });
    Ok(Tested {
        listed,
        resolution,
        reference,
    })
}

/// Each tag's metadata (digest, `created`, platforms), a few requests at a
/// time, in the order of `tags`. A tag built for none of `wanted`, or whose
/// manifest cannot be read, is rejected rather than failing the run (Image
/// Updater skips such tags); refused access or an unreachable registry fails.
async fn fetch_metadata(
    client: &RegistryClient,
    repository: &str,
    tags: Vec<Candidate>,
    wanted: &[Platform],
    rejected: &mut Vec<Rejected>,
    hints: &Hints<'_>,
) -> Result<Vec<Candidate>> {
    let mut results: Vec<Option<Result<TagMetadata, RegistryError>>> =
        tags.iter().map(|_| None).collect();
    let mut pending = tags.iter().enumerate();
    let mut running = JoinSet::new();
    loop {
        while running.len() < METADATA_IN_FLIGHT {
            let Some((index, candidate)) = pending.next() else {
                break;
            };
            let (client, repository, tag, wanted) = (
                client.clone(),
                repository.to_string(),
                candidate.name.clone(),
                wanted.to_vec(),
            );
            running.spawn(
                async move { (index, client.tag_metadata(&repository, &tag, &wanted).await) },
            );
        }
        let Some(joined) = running.join_next().await else {
            break;
        };
        let (index, result) = joined.context("a metadata request failed to complete")?;
        if let Some(slot) = results.get_mut(index) {
            *slot = Some(result);
        }
    }
    let mut candidates = Vec::with_capacity(tags.len());
    for (candidate, result) in tags.into_iter().zip(results) {
        let Some(result) = result else { continue };
        match result {
            Ok(metadata) if metadata.platform_matched => candidates.push(metadata.to_candidate()),
            Ok(metadata) => rejected.push(Rejected {
                tag: candidate.name,
                by: "platforms".to_string(),
                reason: format!(
                    "no image for {} (has {})",
                    join(wanted),
                    if metadata.available_platforms.is_empty() {
                        "no platform".to_string()
                    } else {
                        join(&metadata.available_platforms)
                    }
                ),
            }),
            Err(e) if skippable(&e) => {
                warn!("skipping tag '{}': {e}", candidate.name);
                rejected.push(Rejected {
                    tag: candidate.name,
                    by: "registry".to_string(),
                    reason: e.to_string(),
                });
            }
            Err(e) => return Err(hints.explain(e)),
        }
    }
    Ok(candidates)
}

/// Errors about one tag's content, not about access to the registry.
fn skippable(error: &RegistryError) -> bool {
    matches!(
        error.code(),
        "not-found" | "unsupported-manifest" | "invalid-response" | "digest-mismatch" | "too-large"
    )
}

fn join(platforms: &[Platform]) -> String {
    platforms
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A `<registry>=` prefix on `--credentials` that names another registry is
/// most likely a mistake; the credentials are used anyway (Image Updater's
/// `test` ignores the prefix).
fn warn_other_registry(reference: &CredentialSpec, image: &ImageRef, endpoint: &Endpoint) {
    let prefix = match reference {
        CredentialSpec::Core(core) => core.registry.as_deref(),
        CredentialSpec::DockerConfig { registry, .. } => registry.as_deref(),
    };
    if let Some(prefix) = prefix
        && prefix != image.registry_host()
        && prefix != endpoint.prefix
        && prefix != endpoint.host()
    {
        warn!(
            "--credentials names registry '{prefix}', but {} is on {}; using them anyway",
            image.full_name(),
            endpoint.api()
        );
    }
}

/// Turns a registry error into one line that says which flag to fix.
struct Hints<'a> {
    endpoint: &'a Endpoint,
    cli_credentials: bool,
}

impl Hints<'_> {
    fn explain(&self, error: RegistryError) -> anyhow::Error {
        let hint = match error.code() {
            "unauthorized" | "token" | "credentials" if self.cli_credentials => {
                "check --credentials".to_string()
            }
            "unauthorized" | "token" | "credentials" => {
                "or pass --credentials (env:VAR, file:PATH, ext:SCRIPT or dockerconfig:PATH)"
                    .to_string()
            }
            "not-found" => {
                "the repository is IMAGE's name after the registry (with the registry's `defaultns` for a one-part name)".to_string()
            }
            "transport" | "timeout" if self.endpoint.inferred => format!(
                "{} is not in --registries-conf, so it was reached at {}; add an entry with its api_url (http:// for a plain-HTTP registry)",
                self.endpoint.prefix,
                self.endpoint.api()
            ),
            "transport" | "timeout" => {
                "check the registry's api_url in --registries-conf".to_string()
            }
            _ => String::new(),
        };
        if hint.is_empty() {
            anyhow!(error)
        } else {
            anyhow!("{error}; {hint}")
        }
    }
}

/// Image Updater's wording, then the reason and the tag counts.
fn text(tested: &Tested) -> String {
    let r = &tested.resolution;
    let mut out = format!("Found {} tags in registry\n", tested.listed);
    match &tested.reference {
        Some(reference) => {
            out.push_str(&format!(
                "latest image according to constraint is {reference}\n"
            ));
        }
        None => out.push_str("no newer version of image found\n"),
    }
    out.push_str(&format!("reason: {}\n", r.reason));
    let mut by: BTreeMap<&str, usize> = BTreeMap::new();
    for rejection in &r.rejected {
        *by.entry(rejection.by.as_str()).or_default() += 1;
    }
    let breakdown = by
        .iter()
        .map(|(step, n)| format!("{n} by {step}"))
        .collect::<Vec<_>>()
        .join(", ");
    out.push_str(&format!(
        "tags: {} listed, {} considered by {}, {} rejected{}\n",
        tested.listed,
        r.eligible,
        r.strategy.plugin,
        r.rejected.len(),
        if breakdown.is_empty() {
            String::new()
        } else {
            format!(" ({breakdown})")
        }
    ));
    out
}
