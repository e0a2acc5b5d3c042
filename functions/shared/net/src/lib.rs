//! Owns what Updraft's HTTP clients (registries, Argo CD, notifications)
//! share: [`describe`], a reqwest error in words, without its URL (URLs can
//! carry tokens: webhook URLs, query-string secrets) but with its causes.

/// A reqwest error without its URL, with its causes: what failed first
/// (`timed out`, `cannot connect`, `the body was cut off`, …), then each
/// distinct cause.
pub fn describe(error: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut text = if error.is_timeout() {
        "timed out".to_string()
    } else if error.is_connect() {
        "cannot connect".to_string()
    } else if error.is_body() || error.is_decode() {
        "the body was cut off".to_string()
    } else if error.is_builder() {
        "the request could not be built".to_string()
    } else if error.is_redirect() {
        "too many redirects".to_string()
    } else {
        "request failed".to_string()
    };
    let mut source = error.source();
    let mut last = String::new();
    while let Some(cause) = source {
        let piece = cause.to_string();
        if !piece.is_empty() && piece != last && !text.contains(&piece) {
            text.push_str(": ");
            text.push_str(&piece);
            last = piece;
        }
        source = cause.source();
    }
    text
}
