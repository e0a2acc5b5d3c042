//! Owns one image's decision: run the tag filters, drop tags built for other
//! platforms, run the strategy, and account for every tag that was not chosen.

use serde::{Deserialize, Serialize};
use updraft_core::Candidate;
use updraft_core::platform::{Platform, matches_any};

use crate::{Plugin, PluginError, SelectRequest, Verdict};

/// A filter plugin with its parameters.
#[derive(Debug, Clone)]
pub struct FilterStep {
    /// The filter.
    pub plugin: Plugin,
    /// Its parameters.
    pub params: Vec<(String, String)>,
}

/// Everything needed to decide for one image.
#[derive(Debug, Clone)]
pub struct ResolveSpec {
    /// The strategy.
    pub strategy: Plugin,
    /// Strategy parameters.
    pub params: Vec<(String, String)>,
    /// The constraint from the image reference (or `--semver-constraint`).
    pub constraint: Option<String>,
    /// Filters, applied in order (allow-tags, then ignore-tags, then extras).
    pub filters: Vec<FilterStep>,
    /// Wanted platforms; only honoured for strategies that read metadata, as
    /// in Image Updater. Empty: any platform.
    pub platforms: Vec<Platform>,
    /// The tag deployed now.
    pub current: Option<String>,
}

/// A tag that was not chosen, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejected {
    /// The tag.
    pub tag: String,
    /// Which step rejected it (a plugin name, `platforms` or the strategy).
    pub by: String,
    /// Why.
    pub reason: String,
}

/// Fuel one plugin call used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginRun {
    /// The plugin's name.
    pub plugin: String,
    /// sha256 of its `.wasm`.
    pub sha256: String,
    /// Fuel used by the call.
    pub fuel: u64,
}

/// The decision for one image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resolution {
    /// The chosen tag, or none.
    pub selected: Option<String>,
    /// The chosen tag's digest, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// The tag deployed now, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current: Option<String>,
    /// Whether the chosen tag differs from the current one (for `digest`: the
    /// digest changed, which the caller decides; here: tag differs).
    pub changed: bool,
    /// The strategy's reason.
    pub reason: String,
    /// The strategy call.
    pub strategy: PluginRun,
    /// The filter calls, in order.
    pub filters: Vec<PluginRun>,
    /// How many tags reached the strategy.
    pub eligible: usize,
    /// Every tag not chosen, with the reason.
    pub rejected: Vec<Rejected>,
}

/// What the filter steps kept, and what they cost.
#[derive(Debug, Clone)]
pub struct Filtered {
    /// Candidates every filter kept, in input order.
    pub kept: Vec<Candidate>,
    /// The filter calls, in order.
    pub runs: Vec<PluginRun>,
    /// Candidates a filter rejected, with the filter's reason.
    pub rejected: Vec<Rejected>,
}

/// Runs the filter steps alone, in order; each sees only what the previous
/// one kept. `poll-registry` uses this to fetch metadata only for the tags
/// that survive the filters.
pub fn apply_filters(
    filters: &[FilterStep],
    candidates: Vec<Candidate>,
) -> Result<Filtered, PluginError> {
    let mut rejected = Vec::new();
    let mut remaining = candidates;
    let mut runs = Vec::with_capacity(filters.len());
    for step in filters {
        let names: Vec<String> = remaining.iter().map(|c| c.name.clone()).collect();
        let outcome = step.plugin.filter(&step.params, &names)?;
        runs.push(PluginRun {
            plugin: step.plugin.name().to_string(),
            sha256: step.plugin.sha256().to_string(),
            fuel: outcome.fuel,
        });
        let mut kept = Vec::with_capacity(remaining.len());
        for (candidate, verdict) in remaining.into_iter().zip(outcome.verdicts) {
            match verdict {
                Verdict::Keep => kept.push(candidate),
                Verdict::Reject(reason) => rejected.push(Rejected {
                    tag: candidate.name,
                    by: step.plugin.name().to_string(),
                    reason,
                }),
            }
        }
        remaining = kept;
    }
    Ok(Filtered {
        kept: remaining,
        runs,
        rejected,
    })
}

/// Runs filters, platform check and strategy over `candidates`.
pub fn resolve(spec: &ResolveSpec, candidates: Vec<Candidate>) -> Result<Resolution, PluginError> {
    let Filtered {
        kept: mut remaining,
        runs: filters,
        mut rejected,
    } = apply_filters(&spec.filters, candidates)?;

    let info = spec.strategy.strategy_info();
    let reads_metadata = info.is_some_and(|i| i.needs_created || i.needs_digest);
    if reads_metadata && !spec.platforms.is_empty() {
        let mut kept = Vec::with_capacity(remaining.len());
        for candidate in remaining {
            if platform_ok(&spec.platforms, &candidate) {
                kept.push(candidate);
            } else {
                rejected.push(Rejected {
                    by: "platforms".into(),
                    reason: format!(
                        "no image for {} (has {})",
                        list(&spec.platforms),
                        candidate.platforms.join(", ")
                    ),
                    tag: candidate.name,
                });
            }
        }
        remaining = kept;
    }

    let selection = spec.strategy.select(SelectRequest {
        current: spec.current.as_deref(),
        constraint: spec.constraint.as_deref(),
        params: &spec.params,
        candidates: &remaining,
    })?;
    let strategy_name = spec.strategy.name().to_string();
    let mut refused: std::collections::HashMap<&str, &str> = selection
        .rejected
        .iter()
        .map(|r| (r.tag.as_str(), r.reason.as_str()))
        .collect();
    let selected = selection.tag.as_deref();
    let mut digest = None;
    for candidate in &remaining {
        if Some(candidate.name.as_str()) == selected {
            digest = candidate.digest.clone();
            continue;
        }
        let reason = match refused.remove(candidate.name.as_str()) {
            Some(reason) => reason.to_string(),
            None => match selected {
                Some(winner) => format!("eligible, but {strategy_name} preferred {winner}"),
                None => "eligible, but the strategy chose no tag".to_string(),
            },
        };
        rejected.push(Rejected {
            tag: candidate.name.clone(),
            by: strategy_name.clone(),
            reason,
        });
    }
    let changed = match (&selection.tag, &spec.current) {
        (Some(new), Some(current)) => new != current,
        (Some(_), None) => true,
        (None, _) => false,
    };
    Ok(Resolution {
        eligible: remaining.len(),
        selected: selection.tag,
        digest,
        current: spec.current.clone(),
        changed,
        reason: selection.reason,
        strategy: PluginRun {
            plugin: strategy_name,
            sha256: spec.strategy.sha256().to_string(),
            fuel: selection.fuel,
        },
        filters,
        rejected,
    })
}

/// A candidate with no known platforms passes (nothing to check against).
fn platform_ok(wanted: &[Platform], candidate: &Candidate) -> bool {
    if candidate.platforms.is_empty() {
        return true;
    }
    candidate
        .platforms
        .iter()
        .any(|p| match Platform::parse(p) {
            Ok(have) => matches_any(wanted, &have),
            Err(_) => false,
        })
}

fn list(platforms: &[Platform]) -> String {
    platforms
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
