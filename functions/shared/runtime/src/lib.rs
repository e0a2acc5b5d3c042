//! Owns running Updraft's functions on a platform: the [`Handler`] every
//! adapter calls (a function name and a JSON event in, a JSON result out),
//! and the adapters that translate each platform's transport to it. The
//! adapters know nothing of registries or git; the `updraft` binary
//! supplies the handler.

pub mod fc;
pub mod handler;
pub mod lambda;

pub use handler::{Credentials, Handler, HandlerError, Invocation, Secret};
