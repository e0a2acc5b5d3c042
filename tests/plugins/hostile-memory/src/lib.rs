//! Hostile strategy: `select` keeps allocating 1 MiB chunks until the host's memory limit stops it.

use std::hint::black_box;

use updraft_plugin_sdk::{PluginError, SelectRequest, Selection, Strategy, StrategyInfo};

const CHUNK: usize = 1 << 20;

struct Memory;

impl Strategy for Memory {
    fn describe() -> StrategyInfo {
        StrategyInfo::new("hostile-memory")
    }

    fn select(_request: SelectRequest) -> Result<Selection, PluginError> {
        let mut chunks: Vec<Vec<u8>> = Vec::new();
        loop {
            // Write every page so the memory is really committed.
            let mut chunk = vec![0u8; CHUNK];
            for page in chunk.chunks_mut(4096) {
                page[0] = 1;
            }
            chunks.push(black_box(chunk));
        }
    }
}

updraft_plugin_sdk::export_strategy!(Memory);
