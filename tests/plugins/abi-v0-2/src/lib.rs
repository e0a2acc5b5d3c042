//! ABI test plugin built against `updraft:plugin@0.2.0` (tests/plugins/wit-0.2.0): an alphabetical strategy.
//!
//! It uses wit-bindgen directly (the SDK is pinned to the 0.1.0 WIT).
//! A 0.1.0 host must refuse it before instantiation (a breaking ABI change).

#[allow(unsafe_code, missing_docs, clippy::all)]
mod bindings {
    wit_bindgen::generate!({
        world: "strategy-plugin",
        path: "../wit-0.2.0",
    });
}

use bindings::exports::updraft::plugin::strategy::{Guest, SelectRequest, Selection, StrategyInfo};
use bindings::updraft::plugin::types::PluginError;

struct Alphabetical;

impl Guest for Alphabetical {
    fn describe() -> StrategyInfo {
        StrategyInfo {
            name: "abi-0.2.0".to_owned(),
            needs_created: false,
            needs_digest: false,
            needs_platforms: false,
            needs_constraint: false,
            cacheable: true,
        }
    }

    fn select(request: SelectRequest) -> Result<Selection, PluginError> {
        let best = request.candidates.iter().map(|c| c.name.clone()).max();
        Ok(Selection {
            reason: match best {
                Some(_) => "lexically greatest tag name (ABI 0.2.0 plugin)".to_owned(),
                None => "no candidates".to_owned(),
            },
            tag: best,
            rejected: Vec::new(),
        })
    }
}

/// The generated export glue is unsafe code; keep the allowance this narrow.
#[allow(unsafe_code)]
mod export {
    use super::Alphabetical;

    crate::bindings::export!(Alphabetical with_types_in crate::bindings);
}
