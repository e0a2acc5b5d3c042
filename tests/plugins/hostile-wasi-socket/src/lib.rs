//! Hostile strategy: `select` opens a TCP connection to 127.0.0.1:9 through WASI sockets, which the host must not grant.

use std::net::TcpStream;

use updraft_plugin_sdk::{PluginError, SelectRequest, Selection, Strategy, StrategyInfo, internal};

struct WasiSocket;

impl Strategy for WasiSocket {
    fn describe() -> StrategyInfo {
        StrategyInfo::new("hostile-wasi-socket")
    }

    fn select(_request: SelectRequest) -> Result<Selection, PluginError> {
        match TcpStream::connect("127.0.0.1:9") {
            Ok(stream) => Ok(Selection::none(
                format!("connected to {:?}", stream.peer_addr().ok()),
                Vec::new(),
            )),
            Err(e) => Err(internal(format!("connect(127.0.0.1:9) failed: {e}"))),
        }
    }
}

updraft_plugin_sdk::export_strategy!(WasiSocket);
