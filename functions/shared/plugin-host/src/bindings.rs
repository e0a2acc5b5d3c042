//! Owns the host bindings generated from `wit/plugin.wit`, one module per world.

/// Bindings for the `strategy-plugin` world.
pub mod strategy {
    wasmtime::component::bindgen!({
        path: "../../../wit",
        world: "strategy-plugin",
    });
}

/// Bindings for the `tag-filter-plugin` world.
pub mod filter {
    wasmtime::component::bindgen!({
        path: "../../../wit",
        world: "tag-filter-plugin",
    });
}
