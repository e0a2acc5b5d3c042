//! Hostile strategy: `select` answers a tag that is not among the candidates; the host must refuse it.

use updraft_plugin_sdk::{PluginError, SelectRequest, Selection, Strategy, StrategyInfo};

/// Never a real candidate: tags cannot contain a space.
pub const FOREIGN_TAG: &str = "not a candidate";

struct ForeignTag;

impl Strategy for ForeignTag {
    fn describe() -> StrategyInfo {
        StrategyInfo::new("hostile-foreign-tag")
    }

    fn select(_request: SelectRequest) -> Result<Selection, PluginError> {
        Ok(Selection::chosen(
            FOREIGN_TAG,
            "picked a tag it was never offered",
            Vec::new(),
        ))
    }
}

updraft_plugin_sdk::export_strategy!(ForeignTag);
