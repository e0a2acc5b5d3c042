//! Owns `updraft resolve`: read a JSON tag list, build the filter and strategy
//! steps from Image Updater-style flags, decide, print one JSON object. Also
//! owns those flags ([`DecisionArgs`]), which `updraft test` shares.

use std::io::Read;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use updraft_core::filters::{AllowTags, FilterCall, IgnoreTags};
use updraft_core::platform::Platform;
use updraft_core::strategy::UpdateStrategy;
use updraft_plugin_host::{FilterStep, PluginKind, ResolveSpec, resolve};

use crate::catalog::Catalog;

/// `updraft resolve`: the tag list plus the decision flags.
#[derive(Debug, Args)]
pub struct ResolveArgs {
    /// JSON array of tags: strings, or objects {name, digest, created, platforms}; `-` for stdin.
    #[arg(long, value_name = "FILE|-")]
    tags: String,
    #[command(flatten)]
    decision: DecisionArgs,
}

/// The decision flags `resolve` and `test` share, named as in Image Updater.
#[derive(Debug, Args)]
pub struct DecisionArgs {
    /// semver (default), newest-build, alphabetical, digest (deprecated: latest, name).
    #[arg(long, default_value = "semver", value_name = "STRATEGY")]
    update_strategy: String,
    /// Version constraint for semver (e.g. `^1.2`), or the tag to watch for digest.
    #[arg(long, visible_alias = "constraint", value_name = "CONSTRAINT")]
    semver_constraint: Option<String>,
    /// Only tags matching `regexp:<expression>` (unanchored), or `any`.
    #[arg(long, value_name = "MATCH")]
    allow_tags: Option<String>,
    /// Glob(s) of tags to ignore; repeatable and comma-separated.
    #[arg(long, value_name = "GLOB")]
    ignore_tags: Vec<String>,
    /// Platforms, `os/arch[/variant]`, comma-separated (default: this machine's).
    /// Only strategies that read metadata (newest-build, digest) use it.
    #[arg(long, value_name = "PLATFORMS")]
    platforms: Option<String>,
    /// The tag deployed now.
    #[arg(long, value_name = "TAG")]
    current: Option<String>,
    /// A plugin (.wasm component): a strategy replaces --update-strategy, a
    /// tag filter runs after the other filters.
    #[arg(long, value_name = "FILE.wasm")]
    plugin: Option<PathBuf>,
    /// A parameter for --plugin, `KEY=VALUE`; repeatable.
    #[arg(long = "param", value_name = "KEY=VALUE", requires = "plugin")]
    params: Vec<String>,
}

pub fn run(args: ResolveArgs) -> Result<()> {
    let text = read_input(&args.tags)?;
    let candidates = updraft_core::tags::parse_candidates(&text)
        .with_context(|| format!("tag list {}", display_source(&args.tags)))?;
    let catalog = Catalog::new()?;
    let spec = args.decision.build_spec(&catalog)?;
    let resolution = resolve(&spec, candidates)?;
    println!("{}", serde_json::to_string_pretty(&resolution)?);
    Ok(())
}

impl DecisionArgs {
    /// The `--semver-constraint` flag, when given and not empty.
    pub fn constraint(&self) -> Option<&str> {
        self.semver_constraint.as_deref().filter(|c| !c.is_empty())
    }

    /// The filter and strategy steps these flags describe.
    pub fn build_spec(&self, catalog: &Catalog) -> Result<ResolveSpec> {
        let mut filters = Vec::new();
        if let Some(allow) = &self.allow_tags {
            let allow = AllowTags::parse(allow).context("--allow-tags")?;
            if let Some(call) = allow.filter_call() {
                filters.push(step(catalog, call)?);
            }
        }
        if !self.ignore_tags.is_empty() {
            let ignore = IgnoreTags::from_annotation(&self.ignore_tags.join(","))
                .context("--ignore-tags")?;
            if let Some(call) = ignore.filter_call() {
                filters.push(step(catalog, call)?);
            }
        }
        let params = parse_params(&self.params)?;
        let (strategy, strategy_params) = match &self.plugin {
            Some(path) => {
                let plugin = catalog.file(path)?;
                match plugin.kind() {
                    PluginKind::Strategy => (plugin, params),
                    PluginKind::TagFilter => {
                        filters.push(FilterStep { plugin, params });
                        (
                            builtin_strategy(catalog, &self.update_strategy)?,
                            Vec::new(),
                        )
                    }
                }
            }
            None => (
                builtin_strategy(catalog, &self.update_strategy)?,
                Vec::new(),
            ),
        };
        let platforms = match &self.platforms {
            Some(list) => Platform::parse_list(list).context("--platforms")?,
            None => vec![Platform::host()],
        };
        Ok(ResolveSpec {
            strategy,
            params: strategy_params,
            constraint: self.constraint().map(str::to_string),
            filters,
            platforms,
            current: self.current.clone(),
        })
    }
}

fn builtin_strategy(catalog: &Catalog, name: &str) -> Result<updraft_plugin_host::Plugin> {
    let parsed = UpdateStrategy::parse(name).context("--update-strategy")?;
    if let Some(warning) = parsed.warning() {
        tracing::warn!("{warning}");
    }
    if !parsed.strategy.is_builtin() {
        bail!(
            "--update-strategy '{name}' is not a built-in strategy (semver, newest-build, alphabetical, digest); pass a strategy plugin with --plugin FILE.wasm"
        );
    }
    catalog.builtin(parsed.strategy.plugin_name())
}

fn step(catalog: &Catalog, call: FilterCall) -> Result<FilterStep> {
    Ok(FilterStep {
        plugin: catalog.builtin(&call.plugin)?,
        params: call.params,
    })
}

fn parse_params(raw: &[String]) -> Result<Vec<(String, String)>> {
    raw.iter()
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
            _ => bail!("--param '{kv}' is not KEY=VALUE"),
        })
        .collect()
}

fn read_input(source: &str) -> Result<String> {
    if source == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read the tag list from stdin")?;
        return Ok(text);
    }
    std::fs::read_to_string(source).with_context(|| format!("cannot read tag list {source}"))
}

fn display_source(source: &str) -> &str {
    if source == "-" { "<stdin>" } else { source }
}
