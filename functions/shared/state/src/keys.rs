//! Owns the key layout: where each document lives, relative to the store's
//! prefix. The layout is versioned by its first segment (`v1/`); a change
//! that old readers cannot understand moves to `v2/` rather than reusing keys.
//!
//! ```text
//! v1/registries/<host>/<repository…>/cache.json   tags, first-seen, digest → metadata
//! v1/apps/<namespace>/<application>/decision.json the last decision and its reason
//! v1/apps/<namespace>/<application>/hold.json     a hold on updates (rollback, revert)
//! v1/apps/<namespace>/<application>/promotion.json pending approvals, syncs, tags written
//! v1/audit/<yyyy-mm-dd>/…                          write-once audit events
//! <key>.lock                                       a writer's lock, file:// only
//! ```

use std::fmt;

use object_store::path::{Path, PathPart};

use crate::error::StateError;

/// The first segment of every key of this layout.
pub const LAYOUT: &str = "v1";

/// A document's key, relative to the store's prefix: a list of raw
/// segments. Segments are escaped for the backend (`%`, `:` on some file
/// systems…) when the key becomes an object path.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    parts: Vec<String>,
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.parts.join("/"))
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({self})")
    }
}

impl Key {
    /// A key from its segments; each is checked by [`Key::push`].
    pub fn new<I, S>(parts: I) -> Result<Self, StateError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut key = Key { parts: Vec::new() };
        for p in parts {
            key.push(p.as_ref())?;
        }
        if key.parts.is_empty() {
            return Err(StateError::InvalidKey {
                part: String::new(),
                reason: "a key needs at least one segment",
            });
        }
        Ok(key)
    }

    /// Appends one segment: not empty, not `.` or `..`, no `/` and no
    /// control characters.
    pub fn push(&mut self, part: &str) -> Result<(), StateError> {
        let reason = if part.is_empty() {
            Some("empty segment")
        } else if part == "." || part == ".." {
            Some("`.` and `..` are not segments")
        } else if part.contains('/') {
            Some("a segment may not contain `/`")
        } else if part.chars().any(char::is_control) {
            Some("a segment may not contain control characters")
        } else {
            None
        };
        match reason {
            Some(reason) => Err(StateError::InvalidKey {
                part: part.escape_default().to_string(),
                reason,
            }),
            None => {
                self.parts.push(part.to_string());
                Ok(())
            }
        }
    }

    /// The segments.
    pub fn parts(&self) -> &[String] {
        &self.parts
    }

    /// The same key with `suffix` appended to its last segment.
    pub fn with_suffix(&self, suffix: &str) -> Key {
        let mut parts = self.parts.clone();
        if let Some(last) = parts.last_mut() {
            last.push_str(suffix);
        }
        Key { parts }
    }

    /// The object path under `prefix`.
    pub(crate) fn to_path(&self, prefix: &[String]) -> Path {
        prefix
            .iter()
            .chain(&self.parts)
            .map(|p| PathPart::from(p.as_str()))
            .collect()
    }
}

/// `v1/registries/<host>/<repository…>/cache.json`: one document per
/// repository with its tags (digest, first seen) and the metadata of every
/// digest seen (see `docs/state.md` for why one document and not one object
/// per digest). The host is lower-cased; the repository keeps its `/`s as
/// key segments.
pub fn repository_cache(host: &str, repository: &str) -> Result<Key, StateError> {
    let mut key = Key::new([LAYOUT, "registries"])?;
    key.push(&host.to_ascii_lowercase())?;
    for part in repository.split('/') {
        key.push(part)?;
    }
    key.push("cache.json")?;
    Ok(key)
}

/// `v1/apps/<namespace>/<application>/decision.json`.
pub fn decision(namespace: &str, application: &str) -> Result<Key, StateError> {
    Key::new([LAYOUT, "apps", namespace, application, "decision.json"])
}

/// `v1/apps/<namespace>/<application>/hold.json`: a hold on updates.
pub fn hold(namespace: &str, application: &str) -> Result<Key, StateError> {
    Key::new([LAYOUT, "apps", namespace, application, "hold.json"])
}

/// `v1/apps/<namespace>/<application>/promotion.json`: the application's
/// promotion ledger — every write-back commit awaiting or past approval and
/// sync, and the tags Updraft wrote.
pub fn promotion(namespace: &str, application: &str) -> Result<Key, StateError> {
    Key::new([LAYOUT, "apps", namespace, application, "promotion.json"])
}

/// `v1/audit/<yyyy-mm-dd>/<id>.json`: the audit log, one
/// write-once object per event, so that no writer ever updates another's.
pub fn audit_event(day: &str, id: &str) -> Result<Key, StateError> {
    Key::new([LAYOUT, "audit", day, &format!("{id}.json")])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout() {
        let k = repository_cache("Registry.Example.com:5000", "team/app").unwrap();
        assert_eq!(
            k.to_string(),
            "v1/registries/registry.example.com:5000/team/app/cache.json"
        );
        assert_eq!(
            k.to_path(&["pre".into(), "fix".into()]).as_ref(),
            "pre/fix/v1/registries/registry.example.com:5000/team/app/cache.json"
        );
        assert_eq!(
            decision("argocd", "guestbook").unwrap().to_string(),
            "v1/apps/argocd/guestbook/decision.json"
        );
        assert_eq!(
            k.with_suffix(".lock").to_string(),
            "v1/registries/registry.example.com:5000/team/app/cache.json.lock"
        );
    }

    #[test]
    fn hostile_segments_are_refused() {
        assert!(repository_cache("ghcr.io", "a//b").is_err());
        assert!(repository_cache("ghcr.io", "../etc").is_err());
        assert!(repository_cache("..", "x").is_err());
        assert!(decision("ns", "a\nb").is_err());
        assert!(decision("ns", "").is_err());
    }
}
