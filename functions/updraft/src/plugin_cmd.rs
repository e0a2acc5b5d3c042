//! Owns `updraft plugin inspect` and `updraft plugin precompile`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Subcommand;
use serde_json::json;

use crate::catalog::{Catalog, read_wasm};

#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Show a plugin's ABI version, kind, what it needs, imports and sha256.
    Inspect {
        /// A .wasm component, or the name of a built-in (e.g. strategy-semver).
        plugin: String,
    },
    /// Compile a .wasm component into a precompiled artifact for this engine.
    Precompile {
        /// The .wasm component.
        plugin: PathBuf,
        /// Where to write the artifact (default: FILE.cwasm beside it).
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
}

pub fn run(cmd: PluginCommand) -> Result<()> {
    let catalog = Catalog::new()?;
    match cmd {
        PluginCommand::Inspect { plugin } => {
            let loaded = if updraft_builtins::get(&plugin).is_some() {
                catalog.builtin(&plugin)?
            } else {
                catalog.file(&PathBuf::from(&plugin))?
            };
            let i = loaded.inspect();
            let needs = i.strategy.as_ref().map(|s| {
                json!({
                    "created": s.needs_created,
                    "digest": s.needs_digest,
                    "platforms": s.needs_platforms,
                    "constraint": s.needs_constraint,
                })
            });
            let out = json!({
                "name": i.name,
                "kind": i.kind.as_str(),
                "abi": format!("updraft:plugin@{}", i.abi),
                "sha256": i.sha256,
                "describes_itself_as": i.strategy.as_ref().map(|s| s.name.clone()).or(i.filter_name),
                "needs": needs,
                "cacheable": i.strategy.as_ref().map(|s| s.cacheable),
                "imports": i.imports,
                "engine": catalog.host().engine_hash(),
            });
            println!("{}", serde_json::to_string_pretty(&out)?);
        }
        PluginCommand::Precompile { plugin, output } => {
            let wasm = read_wasm(&plugin)?;
            let name = plugin.display().to_string();
            // Loading first checks the ABI and imports, not only that it compiles.
            catalog.host().load(&name, &wasm)?;
            let artifact = catalog.host().precompile(&name, &wasm)?;
            let output = output.unwrap_or_else(|| plugin.with_extension("cwasm"));
            std::fs::write(&output, &artifact)
                .with_context(|| format!("cannot write {}", output.display()))?;
            println!(
                "{}",
                serde_json::to_string_pretty(&json!({
                    "input": plugin.display().to_string(),
                    "output": output.display().to_string(),
                    "bytes": artifact.len(),
                    "engine": catalog.host().engine_hash(),
                }))?
            );
        }
    }
    Ok(())
}
