//! The `alphabetical` strategy: the byte-wise greatest tag name wins (Image Updater's `name`/`alphabetical`).

use updraft_plugin_sdk::{Params, PluginError, SelectRequest, Selection, Strategy, StrategyInfo};

struct Alphabetical;

impl Strategy for Alphabetical {
    fn describe() -> StrategyInfo {
        StrategyInfo::new("alphabetical")
    }

    fn select(request: SelectRequest) -> Result<Selection, PluginError> {
        Params::new(&request.params, &[])?;
        // `str`'s ordering is byte-wise, as Go's string comparison.
        let best = request.candidates.iter().map(|c| c.name.as_str()).max();
        Ok(match best {
            Some(tag) => Selection::chosen(tag, "lexically greatest tag name", Vec::new()),
            None => Selection::none("no candidates", Vec::new()),
        })
    }
}

updraft_plugin_sdk::export_strategy!(Alphabetical);
