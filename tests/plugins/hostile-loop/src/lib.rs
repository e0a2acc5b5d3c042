//! Hostile strategy: `select` spins forever, so only the host's fuel or epoch deadline can stop it.

use std::hint::black_box;

use updraft_plugin_sdk::{PluginError, SelectRequest, Selection, Strategy, StrategyInfo};

struct Loop;

impl Strategy for Loop {
    fn describe() -> StrategyInfo {
        StrategyInfo::new("hostile-loop")
    }

    fn select(_request: SelectRequest) -> Result<Selection, PluginError> {
        let mut counter: u64 = 0;
        loop {
            // black_box keeps the optimiser from reasoning the loop away.
            counter = black_box(counter.wrapping_add(1));
        }
    }
}

updraft_plugin_sdk::export_strategy!(Loop);
