//! Owns [`PipelineError`]: what stops a whole stage. Per-application problems
//! are not errors of the stage; they travel in the events' `errors` lists.

use thiserror::Error;

/// A failure of a whole stage invocation.
#[derive(Debug, Error)]
pub enum PipelineError {
    /// `updraft.yaml` is unusable.
    #[error("{origin}: {message}")]
    Settings {
        /// The file (or `UPDRAFT_CONFIG`).
        origin: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// The event cannot be read.
    #[error("event: {0}")]
    Event(String),
    /// A plugin cannot be found, read or verified.
    #[error("plugin '{name}': {message}")]
    Catalog {
        /// The plugin's name.
        name: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// The checkpoint store failed.
    #[error(transparent)]
    State(Box<updraft_state::StateError>),
    /// The registry configuration or a registry failed.
    #[error(transparent)]
    Registry(Box<updraft_registry::RegistryError>),
    /// The plugin host failed to start.
    #[error(transparent)]
    Plugin(#[from] updraft_plugin_host::PluginError),
}

impl From<updraft_state::StateError> for PipelineError {
    fn from(e: updraft_state::StateError) -> Self {
        Self::State(Box::new(e))
    }
}

impl From<updraft_registry::RegistryError> for PipelineError {
    fn from(e: updraft_registry::RegistryError) -> Self {
        Self::Registry(Box::new(e))
    }
}

/// An error message on one line, whatever its sources put in it.
pub fn one_line(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}
