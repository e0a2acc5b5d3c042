//! Updraft's sans-IO core: it parses, validates and decides, and never does I/O
//! (no tokio, reqwest, git2 or wasmtime here).

pub mod candidate;

pub use candidate::Candidate;
