//! Sandbox-safe regular expressions for plugins: `regex-automata` without its
//! `std` feature (the `regex` crate seeds a std `HashMap`, which calls
//! `wasi:random` and traps in the host), with a size cap so that a hostile
//! expression is refused instead of exhausting the plugin's memory.

/// The underlying crate, for the rest of its API (captures, pattern ids).
pub use regex_automata as automata;
pub use regex_automata::meta::Regex;

/// Upper bound on a compiled expression.
pub const SIZE_LIMIT: usize = 4 << 20;

/// Compiles `source` (RE2 syntax), or explains why not in one line.
pub fn compile(source: &str) -> Result<Regex, String> {
    Regex::builder()
        .configure(Regex::config().nfa_size_limit(Some(SIZE_LIMIT)))
        .build(source)
        .map_err(|e| match e.syntax_error() {
            Some(syntax) => crate::one_line(syntax),
            None => format!("{e} (the compiled expression exceeds {SIZE_LIMIT} bytes)"),
        })
}

#[cfg(test)]
mod tests {
    #[test]
    fn compiles_and_explains() {
        assert!(super::compile("^v[0-9]+$").is_ok());
        let e = super::compile("(x").err().unwrap_or_default();
        assert_eq!(e, "unclosed group");
    }
}
