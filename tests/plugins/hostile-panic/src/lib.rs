//! Hostile strategy: `select` panics (with `panic = "abort"` the instance traps).

use updraft_plugin_sdk::{PluginError, SelectRequest, Selection, Strategy, StrategyInfo};

struct Panic;

impl Strategy for Panic {
    fn describe() -> StrategyInfo {
        StrategyInfo::new("hostile-panic")
    }

    fn select(request: SelectRequest) -> Result<Selection, PluginError> {
        panic!(
            "hostile-panic: deliberate panic with {} candidates",
            request.candidates.len()
        );
    }
}

updraft_plugin_sdk::export_strategy!(Panic);
