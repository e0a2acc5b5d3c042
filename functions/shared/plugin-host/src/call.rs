//! Owns calling plugins: a fresh `Store` per call with fuel, deadline and
//! memory cap, conversion between core types and the ABI, outcome mapping to
//! `PluginError`, and validation of what the plugin answered.

use updraft_core::Candidate;
use wasmtime::component::ResourceTable;
use wasmtime::{Engine, Store, Trap};

use crate::bindings::{filter, strategy};
use crate::engine::Limits;
use crate::error::{GuestErrorKind, PluginError};
use crate::load::{MemoryLimiter, Plugin, PluginKind, Pre, State};

use filter::exports::updraft::plugin::tag_filter as abi_filter;
use strategy::exports::updraft::plugin::strategy as abi_strategy;
use strategy::updraft::plugin::types as abi_types;

/// What a strategy needs before it is called.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrategyInfo {
    /// The strategy's own name.
    pub name: String,
    /// It reads build times.
    pub needs_created: bool,
    /// It reads digests.
    pub needs_digest: bool,
    /// It reads platforms.
    pub needs_platforms: bool,
    /// It cannot work without a constraint.
    pub needs_constraint: bool,
    /// Its decisions may be cached for the same inputs.
    pub cacheable: bool,
}

/// A filter's self-description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterInfo {
    /// The filter's own name.
    pub name: String,
}

/// The input of one strategy call.
#[derive(Debug, Clone, Copy)]
pub struct SelectRequest<'a> {
    /// The tag deployed now, when known.
    pub current: Option<&'a str>,
    /// The constraint from the image reference.
    pub constraint: Option<&'a str>,
    /// Plugin parameters.
    pub params: &'a [(String, String)],
    /// The tags that passed the filters.
    pub candidates: &'a [Candidate],
}

/// A candidate the strategy refused, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The tag.
    pub tag: String,
    /// Why.
    pub reason: String,
}

/// A strategy's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// The chosen tag (always one of the candidates), or none.
    pub tag: Option<String>,
    /// Why this tag, or why none.
    pub reason: String,
    /// Candidates refused for a reason of their own, as the plugin reported
    /// them (`resolve` keeps only those that name a candidate).
    pub rejected: Vec<Rejection>,
    /// Fuel the call used.
    pub fuel: u64,
}

/// A filter's verdict on one tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Kept.
    Keep,
    /// Rejected, with the reason.
    Reject(String),
}

/// A filter's answer: one verdict per tag, same order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterOutcome {
    /// The verdicts.
    pub verdicts: Vec<Verdict>,
    /// Fuel the call used.
    pub fuel: u64,
}

impl Plugin {
    /// Runs the strategy over the candidates.
    pub fn select(&self, request: SelectRequest<'_>) -> Result<Selection, PluginError> {
        let Pre::Strategy(pre) = &self.loaded.pre else {
            return Err(self.wrong_kind(PluginKind::Strategy));
        };
        let abi_request = abi_strategy::SelectRequest {
            current: request.current.map(str::to_owned),
            constraint: request.constraint.map(str::to_owned),
            params: request.params.to_vec(),
            candidates: request.candidates.iter().map(to_tag_info).collect(),
        };
        let name = self.name();
        let (answer, fuel) = run(&self.engine, self.limits, name, |store| {
            let instance = pre.instantiate(&mut *store)?;
            instance
                .updraft_plugin_strategy()
                .call_select(&mut *store, &abi_request)
        })?;
        let selection = answer.map_err(|e| guest_error(name, e))?;
        validate_selection(name, selection, request.candidates, fuel)
    }

    /// Runs the filter over a batch of tags.
    pub fn filter(
        &self,
        params: &[(String, String)],
        tags: &[String],
    ) -> Result<FilterOutcome, PluginError> {
        let Pre::Filter(pre) = &self.loaded.pre else {
            return Err(self.wrong_kind(PluginKind::TagFilter));
        };
        let name = self.name();
        let params = params.to_vec();
        let (answer, fuel) = run(&self.engine, self.limits, name, |store| {
            let instance = pre.instantiate(&mut *store)?;
            instance
                .updraft_plugin_tag_filter()
                .call_filter(&mut *store, &params, tags)
        })?;
        let verdicts = answer.map_err(|e| guest_error(name, filter_error(e)))?;
        if verdicts.len() != tags.len() {
            return Err(PluginError::InvalidOutput {
                plugin: name.into(),
                detail: format!(
                    "returned {} verdicts for {} tags",
                    verdicts.len(),
                    tags.len()
                ),
            });
        }
        Ok(FilterOutcome {
            verdicts: verdicts
                .into_iter()
                .map(|v| match v {
                    abi_filter::Verdict::Keep => Verdict::Keep,
                    abi_filter::Verdict::Reject(reason) => Verdict::Reject(reason),
                })
                .collect(),
            fuel,
        })
    }

    fn wrong_kind(&self, wanted: PluginKind) -> PluginError {
        PluginError::WrongKind {
            plugin: self.name().into(),
            found: self.kind().as_str(),
            wanted: wanted.as_str(),
        }
    }
}

pub(crate) fn describe_strategy(
    pre: &strategy::StrategyPluginPre<State>,
    engine: &Engine,
    limits: Limits,
    name: &str,
) -> Result<StrategyInfo, PluginError> {
    let (info, _) = run(engine, limits, name, |store| {
        let instance = pre.instantiate(&mut *store)?;
        instance
            .updraft_plugin_strategy()
            .call_describe(&mut *store)
    })?;
    Ok(StrategyInfo {
        name: info.name,
        needs_created: info.needs_created,
        needs_digest: info.needs_digest,
        needs_platforms: info.needs_platforms,
        needs_constraint: info.needs_constraint,
        cacheable: info.cacheable,
    })
}

pub(crate) fn describe_filter(
    pre: &filter::TagFilterPluginPre<State>,
    engine: &Engine,
    limits: Limits,
    name: &str,
) -> Result<FilterInfo, PluginError> {
    let (info, _) = run(engine, limits, name, |store| {
        let instance = pre.instantiate(&mut *store)?;
        instance
            .updraft_plugin_tag_filter()
            .call_describe(&mut *store)
    })?;
    Ok(FilterInfo { name: info.name })
}

/// One call in a fresh store: set the limits, run `f`, map every failure to
/// its own error, and report the fuel used.
fn run<R>(
    engine: &Engine,
    limits: Limits,
    name: &str,
    f: impl FnOnce(&mut Store<State>) -> wasmtime::Result<R>,
) -> Result<(R, u64), PluginError> {
    let mut store = Store::new(
        engine,
        State {
            limiter: MemoryLimiter {
                max: limits.memory_bytes,
                refused: false,
            },
            _table: ResourceTable::new(),
        },
    );
    store.limiter(|state| &mut state.limiter);
    let engine_error = |e: wasmtime::Error| PluginError::Engine {
        plugin: name.into(),
        detail: format!("{e:#}"),
    };
    store.set_fuel(limits.fuel).map_err(engine_error)?;
    store.set_epoch_deadline(deadline_ticks(limits));
    let result = f(&mut store);
    let used = limits.fuel.saturating_sub(store.get_fuel().unwrap_or(0));
    match result {
        Ok(value) => Ok((value, used)),
        Err(error) => Err(classify(name, limits, store.data().limiter.refused, error)),
    }
}

fn deadline_ticks(limits: Limits) -> u64 {
    let tick = crate::engine::TICK.as_millis().max(1);
    (limits.timeout.as_millis() / tick).max(1) as u64 + 1
}

fn classify(name: &str, limits: Limits, refused: bool, error: wasmtime::Error) -> PluginError {
    match error.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => PluginError::OutOfFuel {
            plugin: name.into(),
            limit: limits.fuel,
        },
        Some(Trap::Interrupt) => PluginError::Timeout {
            plugin: name.into(),
            limit_ms: limits.timeout.as_millis() as u64,
        },
        _ if refused => PluginError::MemoryLimit {
            plugin: name.into(),
            limit_bytes: limits.memory_bytes,
        },
        _ => {
            let mut detail = format!("{error:#}");
            if detail.len() > 600 {
                let mut cut = 600;
                while !detail.is_char_boundary(cut) {
                    cut -= 1;
                }
                detail.truncate(cut);
                detail.push('…');
            }
            PluginError::Crashed {
                plugin: name.into(),
                detail,
            }
        }
    }
}

fn to_tag_info(c: &Candidate) -> abi_types::TagInfo {
    abi_types::TagInfo {
        name: c.name.clone(),
        digest: c.digest.clone(),
        created: c.created,
        platforms: c.platforms.clone(),
    }
}

fn guest_error(name: &str, e: abi_types::PluginError) -> PluginError {
    let (kind, message) = match e {
        abi_types::PluginError::InvalidConfig(m) => (GuestErrorKind::InvalidConfig, m),
        abi_types::PluginError::Unsupported(m) => (GuestErrorKind::Unsupported, m),
        abi_types::PluginError::Internal(m) => (GuestErrorKind::Internal, m),
    };
    PluginError::Guest {
        plugin: name.into(),
        kind,
        message,
    }
}

/// The filter world has its own copy of the shared types.
fn filter_error(e: filter::updraft::plugin::types::PluginError) -> abi_types::PluginError {
    use filter::updraft::plugin::types::PluginError as F;
    match e {
        F::InvalidConfig(m) => abi_types::PluginError::InvalidConfig(m),
        F::Unsupported(m) => abi_types::PluginError::Unsupported(m),
        F::Internal(m) => abi_types::PluginError::Internal(m),
    }
}

fn validate_selection(
    name: &str,
    selection: abi_strategy::Selection,
    candidates: &[Candidate],
    fuel: u64,
) -> Result<Selection, PluginError> {
    let invalid = |detail: String| PluginError::InvalidOutput {
        plugin: name.into(),
        detail,
    };
    if let Some(tag) = &selection.tag
        && !candidates.iter().any(|c| &c.name == tag)
    {
        return Err(invalid(format!(
            "selected tag '{tag}', which is not among the {} candidates",
            candidates.len()
        )));
    }
    // Rejections naming a tag that was not offered are dropped rather than
    // checked against a set of every candidate: they only explain, and
    // `resolve` matches them to candidates by name anyway.
    Ok(Selection {
        tag: selection.tag,
        reason: selection.reason,
        rejected: selection
            .rejected
            .into_iter()
            .map(|r| Rejection {
                tag: r.tag,
                reason: r.reason,
            })
            .collect(),
        fuel,
    })
}
