//! The built-in plugins (semver, newest-build, alphabetical, digest; the
//! regexp and glob tag filters), compiled from `plugins/` by this crate's
//! build script and embedded as `.wasm` bytes.

/// What a built-in provides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An update strategy.
    Strategy,
    /// A tag filter.
    TagFilter,
}

/// One built-in plugin.
#[derive(Debug, Clone, Copy)]
pub struct Builtin {
    /// Its name, e.g. `strategy-semver`.
    pub name: &'static str,
    /// Strategy or tag filter.
    pub kind: Kind,
    /// The `.wasm` component.
    pub wasm: &'static [u8],
}

include!(concat!(env!("OUT_DIR"), "/builtins.rs"));

/// The built-in plugin with this name.
pub fn get(name: &str) -> Option<&'static Builtin> {
    ALL.iter().find(|b| b.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_is_a_component() {
        assert_eq!(ALL.len(), 6);
        for b in ALL {
            assert_eq!(&b.wasm[..8], b"\0asm\x0d\0\x01\0", "{}", b.name);
            assert!(get(b.name).is_some());
        }
        assert!(get("strategy-nope").is_none());
    }
}
