//! Hostile strategy: `select` lists `/` through WASI filesystem calls, which the host must not grant.

use updraft_plugin_sdk::{PluginError, SelectRequest, Selection, Strategy, StrategyInfo, internal};

struct WasiFs;

impl Strategy for WasiFs {
    fn describe() -> StrategyInfo {
        StrategyInfo::new("hostile-wasi-fs")
    }

    fn select(_request: SelectRequest) -> Result<Selection, PluginError> {
        match std::fs::read_dir("/") {
            Ok(entries) => Ok(Selection::none(
                format!("read {} entries from /", entries.count()),
                Vec::new(),
            )),
            Err(e) => Err(internal(format!("read_dir(\"/\") failed: {e}"))),
        }
    }
}

updraft_plugin_sdk::export_strategy!(WasiFs);
