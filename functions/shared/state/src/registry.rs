//! Owns the persistent registry cache of one repository: its tags (digest,
//! first seen, removal) and the immutable metadata of every digest seen
//! (created, platforms, labels) — what lets a new process skip every
//! manifest and config request for a tag it already knows.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use updraft_core::Candidate;
use updraft_core::platform::{Platform, matches_any};

use crate::document::{Document, Merge};
use crate::error::{StateError, StateWarning};
use crate::keys::{self, Key};
use crate::store::{Saved, StateStore, Version, WriteMode};

/// What the store knows about one tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TagRecord {
    /// The manifest digest the tag pointed to when last resolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// When the tag was first listed, nanoseconds since the epoch. Never
    /// moves later: merging keeps the earliest.
    #[serde(with = "crate::time::rfc3339")]
    pub first_seen: i64,
    /// When the tag was first seen pointing at `digest` (a moved tag such
    /// as `latest` gets a new one).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::time::rfc3339_opt"
    )]
    pub digest_seen: Option<i64>,
    /// When a listing first missed the tag (deleted in the registry);
    /// cleared when it is listed again. The record itself is kept: the
    /// first-seen ledger survives a re-push.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::time::rfc3339_opt"
    )]
    pub removed: Option<i64>,
}

/// Metadata of one manifest digest. Immutable: a digest names its content,
/// so it is fetched at most once, ever.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageMetadata {
    /// The image config's `created`, nanoseconds since the epoch; `None`
    /// when the image has none.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::time::rfc3339_opt"
    )]
    pub created: Option<i64>,
    /// Platforms, `os/arch[/variant]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub platforms: Vec<String>,
    /// The image config's labels.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// For a multi-platform index: each platform's own `created`, so that an
    /// application watching one platform sees that image's build time (Image
    /// Updater's rule) while the index is fetched once for every platform.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub created_by_platform: BTreeMap<String, i64>,
}

/// The stored document, `v1/registries/<host>/<repository>/cache.json`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RepositoryDocument {
    /// The registry host, e.g. `ghcr.io`.
    pub registry: String,
    /// The repository, e.g. `team/app`.
    pub repository: String,
    /// Tag → record.
    #[serde(default)]
    pub tags: BTreeMap<String, TagRecord>,
    /// Manifest digest → metadata.
    #[serde(default)]
    pub images: BTreeMap<String, ImageMetadata>,
}

impl Document for RepositoryDocument {
    const KIND: &'static str = "RepositoryCache";
}

impl Merge for RepositoryDocument {
    /// A union: every tag and digest of either side survives.
    /// - `firstSeen`: the earlier.
    /// - `digest`: the one seen later (`digestSeen`), so a moved tag follows
    ///   its newest observation; ties break on the digest text.
    /// - `removed`: kept only if both sides say removed (the earlier time);
    ///   a tag listed by either writer is present, and the next listing
    ///   settles it.
    /// - images: immutable, so the first copy stays.
    fn merge(&mut self, other: Self) {
        for (name, theirs) in other.tags {
            match self.tags.get_mut(&name) {
                None => {
                    self.tags.insert(name, theirs);
                }
                Some(ours) => {
                    let first_seen = ours.first_seen.min(theirs.first_seen);
                    let removed = match (ours.removed, theirs.removed) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        _ => None,
                    };
                    let take_theirs = match (&ours.digest, &theirs.digest) {
                        (None, Some(_)) => true,
                        (Some(_), None) | (None, None) => false,
                        (Some(a), Some(b)) => {
                            (theirs.digest_seen, b.as_str()) > (ours.digest_seen, a.as_str())
                        }
                    };
                    if take_theirs {
                        ours.digest = theirs.digest;
                        ours.digest_seen = theirs.digest_seen;
                    }
                    ours.first_seen = first_seen;
                    ours.removed = removed;
                }
            }
        }
        for (digest, meta) in other.images {
            self.images.entry(digest).or_insert(meta);
        }
    }
}

/// What a listing changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagChanges {
    /// Tags never seen before (first-seen recorded now).
    pub added: Vec<String>,
    /// Tags listed again after having been missing.
    pub returned: Vec<String>,
    /// Tags the listing no longer has.
    pub removed: Vec<String>,
}

impl TagChanges {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.returned.is_empty() && self.removed.is_empty()
    }
}

/// One repository's cache as the poller uses it: load, record what the
/// registry said, save. Saving writes only when something changed, so a
/// cycle with no new tags costs one GET per repository and nothing else.
#[derive(Debug, Clone)]
pub struct RepoCache {
    key: Key,
    doc: RepositoryDocument,
    version: Option<Version>,
    dirty: bool,
    warning: Option<StateWarning>,
}

impl RepoCache {
    /// An empty cache for `host`/`repository` — what a caller uses when the
    /// store cannot be read at all; saving it later merges with whatever is
    /// stored, so nothing stored is lost.
    pub fn empty(host: &str, repository: &str) -> Result<Self, StateError> {
        Ok(Self {
            key: keys::repository_cache(host, repository)?,
            doc: RepositoryDocument {
                registry: host.to_ascii_lowercase(),
                repository: repository.to_string(),
                ..RepositoryDocument::default()
            },
            version: None,
            dirty: false,
            warning: None,
        })
    }

    /// The registry host.
    pub fn host(&self) -> &str {
        &self.doc.registry
    }

    /// The repository.
    pub fn repository(&self) -> &str {
        &self.doc.repository
    }

    /// The document's key.
    pub fn key(&self) -> &Key {
        &self.key
    }

    /// Why the stored document could not be used, if it could not (it was
    /// treated as empty and is replaced by the next save).
    pub fn warning(&self) -> Option<&StateWarning> {
        self.warning.as_ref()
    }

    /// Whether a stored document was loaded (usable or not).
    pub fn was_stored(&self) -> bool {
        self.version.is_some()
    }

    /// Whether there is something to save.
    pub fn is_dirty(&self) -> bool {
        self.dirty
    }

    /// The whole document.
    pub fn document(&self) -> &RepositoryDocument {
        &self.doc
    }

    /// Every tag ever seen, including removed ones.
    pub fn tags(&self) -> &BTreeMap<String, TagRecord> {
        &self.doc.tags
    }

    /// One tag's record.
    pub fn tag(&self, name: &str) -> Option<&TagRecord> {
        self.doc.tags.get(name)
    }

    /// One digest's metadata.
    pub fn metadata(&self, digest: &str) -> Option<&ImageMetadata> {
        self.doc.images.get(digest)
    }

    /// Records a complete tag listing taken at `now` (ns): new tags get
    /// first-seen `now`; known tags keep theirs; tags missing from the
    /// listing are marked removed. Pass only complete listings — a partial
    /// one (a webhook's single tag) goes to [`RepoCache::record_tag`].
    pub fn record_tags<I, S>(&mut self, listed: I, now: i64) -> TagChanges
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut changes = TagChanges::default();
        let mut seen = std::collections::BTreeSet::new();
        for tag in listed {
            let tag = tag.as_ref();
            if !seen.insert(tag.to_string()) {
                continue;
            }
            match self.doc.tags.get_mut(tag) {
                None => {
                    self.doc.tags.insert(tag.to_string(), new_tag(now));
                    changes.added.push(tag.to_string());
                }
                Some(record) if record.removed.is_some() => {
                    record.removed = None;
                    changes.returned.push(tag.to_string());
                }
                Some(_) => {}
            }
        }
        for (name, record) in &mut self.doc.tags {
            if record.removed.is_none() && !seen.contains(name) {
                record.removed = Some(now);
                changes.removed.push(name.clone());
            }
        }
        if !changes.is_empty() {
            self.dirty = true;
        }
        changes
    }

    /// Records one tag seen at `now` without judging the others (a webhook
    /// hint). Returns whether it was new.
    pub fn record_tag(&mut self, tag: &str, now: i64) -> bool {
        match self.doc.tags.get_mut(tag) {
            None => {
                self.doc.tags.insert(tag.to_string(), new_tag(now));
                self.dirty = true;
                true
            }
            Some(record) => {
                if record.removed.take().is_some() {
                    self.dirty = true;
                }
                false
            }
        }
    }

    /// Records that `tag` resolves to `digest` at `now`. An unknown tag is
    /// recorded as first seen `now`. Returns whether anything changed.
    pub fn record_digest(&mut self, tag: &str, digest: &str, now: i64) -> bool {
        let record = self
            .doc
            .tags
            .entry(tag.to_string())
            .or_insert_with(|| new_tag(now));
        if record.digest.as_deref() == Some(digest) {
            return false;
        }
        record.digest = Some(digest.to_string());
        record.digest_seen = Some(now);
        self.dirty = true;
        true
    }

    /// Records a digest's metadata. Digests are immutable: metadata already
    /// known is kept. Returns whether it was new.
    pub fn record_metadata(&mut self, digest: &str, meta: ImageMetadata) -> bool {
        if self.doc.images.contains_key(digest) {
            return false;
        }
        self.doc.images.insert(digest.to_string(), meta);
        self.dirty = true;
        true
    }

    /// Whether `tag` still needs registry requests for its metadata: its
    /// digest or that digest's metadata is unknown.
    pub fn needs_metadata(&self, tag: &str) -> bool {
        self.tag(tag)
            .and_then(|t| t.digest.as_deref())
            .is_none_or(|d| !self.doc.images.contains_key(d))
    }

    /// `tag` as a candidate with everything cached about it, or `None` if
    /// the tag is unknown.
    pub fn candidate(&self, tag: &str) -> Option<Candidate> {
        let record = self.tag(tag)?;
        let meta = record.digest.as_deref().and_then(|d| self.metadata(d));
        Some(Candidate {
            name: tag.to_string(),
            digest: record.digest.clone(),
            created: meta.and_then(|m| m.created),
            platforms: meta.map(|m| m.platforms.clone()).unwrap_or_default(),
        })
    }

    /// Candidates for every tag not marked removed, in tag order.
    pub fn candidates(&self) -> Vec<Candidate> {
        self.doc
            .tags
            .iter()
            .filter(|(_, r)| r.removed.is_none())
            .filter_map(|(name, _)| self.candidate(name))
            .collect()
    }

    /// [`RepoCache::candidate`] as seen by an application that wants
    /// `platforms` (empty: any): for an index with per-platform build times,
    /// `created` is the newest over the wanted platforms only.
    pub fn candidate_for(&self, tag: &str, platforms: &[Platform]) -> Option<Candidate> {
        let mut candidate = self.candidate(tag)?;
        let meta = candidate.digest.as_deref().and_then(|d| self.metadata(d));
        if let Some(meta) = meta
            && !meta.created_by_platform.is_empty()
            && !platforms.is_empty()
        {
            candidate.created = meta
                .created_by_platform
                .iter()
                .filter(|(p, _)| Platform::parse(p).is_ok_and(|p| matches_any(platforms, &p)))
                .map(|(_, created)| *created)
                .max();
        }
        Some(candidate)
    }

    /// Tags currently listed (not marked removed), in tag order.
    pub fn listed_tags(&self) -> impl Iterator<Item = &str> {
        self.doc
            .tags
            .iter()
            .filter(|(_, r)| r.removed.is_none())
            .map(|(name, _)| name.as_str())
    }
}

fn new_tag(now: i64) -> TagRecord {
    TagRecord {
        digest: None,
        first_seen: now,
        digest_seen: None,
        removed: None,
    }
}

/// What [`StateStore::save_repository`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SaveReport {
    /// Whether a document was written (false: nothing changed, or the
    /// stored document already had it all).
    pub written: bool,
    /// Writes tried.
    pub attempts: u32,
    /// The protocol used.
    pub mode: WriteMode,
}

impl StateStore {
    /// Loads the cache of `host`/`repository`: empty when absent, and empty
    /// with a [`RepoCache::warning`] when the stored document is unusable
    /// (bad JSON, truncated, unknown schema version) — the caller rebuilds it
    /// from the registry. An error means the store itself failed; a caller
    /// can go on with [`RepoCache::empty`].
    pub async fn load_repository(
        &self,
        host: &str,
        repository: &str,
    ) -> Result<RepoCache, StateError> {
        let mut cache = RepoCache::empty(host, repository)?;
        let loaded = self.read::<RepositoryDocument>(&cache.key).await?;
        if let Some(doc) = loaded.value {
            // The key is authoritative for the identity.
            cache.doc = RepositoryDocument {
                registry: cache.doc.registry,
                repository: cache.doc.repository,
                ..doc
            };
        }
        cache.version = loaded.version;
        cache.warning = loaded.warning;
        // An unusable document must be replaced even if nothing changes.
        cache.dirty = cache.warning.is_some();
        Ok(cache)
    }

    /// Saves `cache` if it changed, merged with what other writers stored
    /// meanwhile; afterwards `cache` holds the merged document.
    pub async fn save_repository(&self, cache: &mut RepoCache) -> Result<SaveReport, StateError> {
        if !cache.dirty {
            return Ok(SaveReport {
                written: false,
                attempts: 0,
                mode: self.write_mode(),
            });
        }
        let Saved {
            value,
            version,
            attempts,
            mode,
        } = self
            .save_merged(&cache.key, cache.doc.clone(), cache.version.clone())
            .await?;
        cache.doc = value;
        cache.version = version;
        cache.dirty = false;
        cache.warning = None;
        Ok(SaveReport {
            written: attempts > 0,
            attempts,
            mode,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(tags: &[(&str, Option<&str>, i64)]) -> RepositoryDocument {
        RepositoryDocument {
            registry: "r".into(),
            repository: "x".into(),
            tags: tags
                .iter()
                .map(|(n, d, t)| {
                    (
                        n.to_string(),
                        TagRecord {
                            digest: d.map(str::to_string),
                            first_seen: *t,
                            digest_seen: d.map(|_| *t),
                            removed: None,
                        },
                    )
                })
                .collect(),
            images: BTreeMap::new(),
        }
    }

    #[test]
    fn merge_is_a_commutative_union() {
        let a = doc(&[("1.0", Some("sha256:a"), 10), ("2.0", None, 20)]);
        let mut b = doc(&[("1.0", Some("sha256:b"), 5), ("3.0", None, 30)]);
        b.tags.get_mut("1.0").unwrap().digest_seen = Some(50);
        b.images.insert("sha256:b".into(), ImageMetadata::default());
        let mut ab = a.clone();
        ab.merge(b.clone());
        let mut ba = b.clone();
        ba.merge(a.clone());
        assert_eq!(ab, ba);
        assert_eq!(ab.tags.len(), 3);
        let t = &ab.tags["1.0"];
        assert_eq!((t.first_seen, t.digest.as_deref()), (5, Some("sha256:b")));
        let mut aa = ab.clone();
        aa.merge(ab.clone());
        assert_eq!(aa, ab);
    }

    #[test]
    fn listings_record_first_seen_once_and_removals() {
        let mut c = RepoCache::empty("ghcr.io", "t/app").unwrap();
        let ch = c.record_tags(["1.0", "1.1"], 100);
        assert_eq!(ch.added, ["1.0", "1.1"]);
        assert!(c.is_dirty());
        c.dirty = false;
        assert!(c.record_tags(["1.1", "1.0"], 200).is_empty());
        assert!(!c.is_dirty());
        assert_eq!(c.tag("1.0").unwrap().first_seen, 100);
        let ch = c.record_tags(["1.1", "1.2"], 300);
        assert_eq!(
            (ch.added.clone(), ch.removed.clone()),
            (vec!["1.2".to_string()], vec!["1.0".to_string()])
        );
        assert_eq!(c.candidates().len(), 2);
        let ch = c.record_tags(["1.0", "1.1", "1.2"], 400);
        assert_eq!(ch.returned, ["1.0"]);
        assert_eq!(c.tag("1.0").unwrap().first_seen, 100);
    }

    #[test]
    fn metadata_is_recorded_once() {
        let mut c = RepoCache::empty("ghcr.io", "t/app").unwrap();
        c.record_tags(["1.0"], 1);
        assert!(c.needs_metadata("1.0"));
        assert!(c.record_digest("1.0", "sha256:aa", 2));
        assert!(!c.record_digest("1.0", "sha256:aa", 3));
        assert!(c.needs_metadata("1.0"));
        let meta = ImageMetadata {
            created: Some(42),
            platforms: vec!["linux/amd64".into()],
            labels: BTreeMap::new(),
            created_by_platform: BTreeMap::new(),
        };
        assert!(c.record_metadata("sha256:aa", meta.clone()));
        assert!(!c.record_metadata(
            "sha256:aa",
            ImageMetadata {
                created: Some(7),
                ..meta
            }
        ));
        assert!(!c.needs_metadata("1.0"));
        let cand = c.candidate("1.0").unwrap();
        assert_eq!(cand.created, Some(42));
        assert_eq!(cand.platforms, ["linux/amd64"]);
    }

    #[test]
    fn candidate_for_takes_the_wanted_platforms_build_time() {
        let mut c = RepoCache::empty("ghcr.io", "team/app").unwrap();
        c.record_tags(["1.0"], 1);
        c.record_digest("1.0", "sha256:ix", 2);
        c.record_metadata(
            "sha256:ix",
            ImageMetadata {
                created: Some(300),
                platforms: vec!["linux/amd64".into(), "linux/arm64".into()],
                labels: BTreeMap::new(),
                created_by_platform: BTreeMap::from([
                    ("linux/amd64".to_string(), 100),
                    ("linux/arm64".to_string(), 300),
                ]),
            },
        );
        let amd = Platform::parse("linux/amd64").unwrap();
        assert_eq!(c.candidate_for("1.0", &[amd]).unwrap().created, Some(100));
        assert_eq!(c.candidate_for("1.0", &[]).unwrap().created, Some(300));
        let s390 = Platform::parse("linux/s390x").unwrap();
        assert_eq!(c.candidate_for("1.0", &[s390]).unwrap().created, None);
        assert_eq!(c.listed_tags().collect::<Vec<_>>(), ["1.0"]);
    }
}
