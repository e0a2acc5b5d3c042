//! Test support shared with the integration tests.

pub mod runtime_api;
