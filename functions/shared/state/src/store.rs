//! Owns `StateStore`: typed documents over `object_store`, the request
//! counters, and the write protocols — compare-and-swap where the backend
//! has it, a create-only lock object where it has only create (files), and
//! last-writer-wins with read-merge-write-verify where it has neither (OSS).

use std::collections::HashMap;
use std::fmt;
use std::hash::BuildHasher;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use object_store::path::Path;
use object_store::{
    GetOptions, ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload, UpdateVersion,
};
use tracing::{debug, warn};

use crate::backend::{self, Capabilities};
use crate::config::StoreUrl;
use crate::document::{self, Document, Merge};
use crate::error::{StateError, StateWarning};
use crate::keys::Key;

/// Conflicting writes tolerated before [`StateStore::save_merged`] gives up.
const MAX_ATTEMPTS: u32 = 24;
/// Writes of read-merge-write-verify on backends without conditional writes.
const VERIFY_ROUNDS: u32 = 6;
/// Bounds of the pause between an unconditional write and its verification.
const SETTLE_MIN: Duration = Duration::from_millis(10);
const SETTLE_MAX: Duration = Duration::from_millis(300);
/// How long a writer waits for another writer's lock (file backend).
const LOCK_WAIT: Duration = Duration::from_secs(15);
/// A lock older than this was left by a crashed writer and is broken.
const LOCK_STALE: Duration = Duration::from_secs(60);

/// How [`StateStore::save_merged`] protects concurrent writers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    /// `If-None-Match: *` to create, `If-Match: <etag>` to update; on a
    /// conflict, re-read, merge and retry (memory, S3, MinIO).
    CompareAndSwap,
    /// A create-only `<key>.lock` object serialises read-merge-write (files).
    Locked,
    /// Read, merge, overwrite, then read back twice after short pauses and
    /// merge again if another writer's copy replaced ours (OSS). Best
    /// effort: documents are merge-friendly caches, so an entry lost in a
    /// race is rebuilt by the next run.
    LastWriterWins,
}

impl WriteMode {
    fn from_u8(v: u8) -> Self {
        match v {
            0 => WriteMode::CompareAndSwap,
            1 => WriteMode::Locked,
            _ => WriteMode::LastWriterWins,
        }
    }
}

/// An opaque version of a stored object (its ETag and/or version id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version(UpdateVersion);

impl Version {
    /// The ETag, when the backend gives one.
    pub fn e_tag(&self) -> Option<&str> {
        self.0.e_tag.as_deref()
    }
}

/// A document as read: `value` is `None` when the object is absent or
/// unusable; `version` is `Some` whenever an object exists (even an unusable
/// one, so that it can be replaced); `warning` says why an existing object
/// was unusable.
#[derive(Debug, Clone)]
pub struct Loaded<T> {
    /// The decoded document.
    pub value: Option<T>,
    /// The stored object's version.
    pub version: Option<Version>,
    /// Why the stored object could not be used.
    pub warning: Option<StateWarning>,
}

/// The outcome of a conditional write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conditional {
    /// Written; the new version.
    Written(Version),
    /// Not written: the object exists (create) or changed (update).
    Conflict,
}

/// The outcome of [`StateStore::save_merged`].
#[derive(Debug, Clone)]
pub struct Saved<T> {
    /// What is stored now: the caller's document merged with concurrent
    /// writers' copies.
    pub value: T,
    /// Its version.
    pub version: Option<Version>,
    /// Writes tried (1 without contention; 0 when the stored document
    /// already contained everything).
    pub attempts: u32,
    /// The protocol used.
    pub mode: WriteMode,
}

/// Requests made through one store (shared by its clones).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestStats {
    /// GET requests (reads).
    pub gets: u64,
    /// PUT requests (writes, locks).
    pub puts: u64,
    /// HEAD requests (lock age checks).
    pub heads: u64,
    /// DELETE requests (lock releases).
    pub deletes: u64,
    /// Body bytes read.
    pub bytes_read: u64,
    /// Body bytes written.
    pub bytes_written: u64,
}

impl RequestStats {
    /// All requests.
    pub fn requests(&self) -> u64 {
        self.gets + self.puts + self.heads + self.deletes
    }

    /// The requests made since `earlier`.
    pub fn since(&self, earlier: &RequestStats) -> RequestStats {
        RequestStats {
            gets: self.gets - earlier.gets,
            puts: self.puts - earlier.puts,
            heads: self.heads - earlier.heads,
            deletes: self.deletes - earlier.deletes,
            bytes_read: self.bytes_read - earlier.bytes_read,
            bytes_written: self.bytes_written - earlier.bytes_written,
        }
    }
}

#[derive(Default)]
struct Counters {
    gets: AtomicU64,
    puts: AtomicU64,
    heads: AtomicU64,
    deletes: AtomicU64,
    bytes_read: AtomicU64,
    bytes_written: AtomicU64,
}

struct Inner {
    url: StoreUrl,
    store: Arc<dyn ObjectStore>,
    caps: Capabilities,
    /// OSS only: the credentials the client signs with, replaceable.
    role: Option<backend::RoleCredentials>,
    mode: AtomicU8,
    counters: Counters,
}

/// The checkpoint store. Cheap to clone; clones share the client and the
/// request counters. Never prints credentials: its `Debug` shows the URL.
#[derive(Clone)]
pub struct StateStore {
    inner: Arc<Inner>,
}

impl fmt::Debug for StateStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StateStore")
            .field("url", &self.inner.url.to_string())
            .field("mode", &self.write_mode())
            .finish()
    }
}

impl StateStore {
    /// Opens the store at `url` (see [`StoreUrl::parse`]) with credentials
    /// from the process environment.
    pub fn open(url: &str) -> Result<Self, StateError> {
        Self::open_with_env(url, std::env::vars())
    }

    /// Opens the store at `url` with credentials from `env` instead of the
    /// process environment (tests, or a caller that keeps its own).
    pub fn open_with_env<I, K, V>(url: &str, env: I) -> Result<Self, StateError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let url = StoreUrl::parse(url)?;
        let env: HashMap<String, String> =
            env.into_iter().map(|(k, v)| (k.into(), v.into())).collect();
        let built = backend::build(&url, &env)?;
        Ok(Self::from_parts(url, built))
    }

    /// Signs every later request with these credentials when the backend
    /// takes its credentials from the platform: OSS, where Function Compute
    /// hands each invocation the role's current STS credentials. Returns
    /// whether the store uses them; the other backends ignore them (S3 has
    /// its own provider chain, files and memory need none).
    pub fn use_role_credentials(&self, key_id: &str, secret: &str, token: Option<&str>) -> bool {
        let Some(role) = &self.inner.role else {
            return false;
        };
        if role.key_id() != key_id {
            debug!(key_id, "state store: new role credentials");
        }
        role.replace(object_store::aws::AwsCredential {
            key_id: key_id.to_string(),
            secret_key: secret.to_string(),
            token: token.map(str::to_string),
        });
        true
    }

    /// The access key id the store signs with, when it takes its
    /// credentials from the platform (OSS); `None` otherwise.
    pub fn role_key_id(&self) -> Option<String> {
        self.inner.role.as_ref().map(|r| r.key_id())
    }

    fn from_parts(url: StoreUrl, built: backend::Built) -> Self {
        let backend::Built { store, caps, role } = built;
        let mode = if caps.update {
            WriteMode::CompareAndSwap
        } else if caps.create {
            WriteMode::Locked
        } else {
            WriteMode::LastWriterWins
        };
        debug!(store = %url, ?mode, "opened state store");
        Self {
            inner: Arc::new(Inner {
                url,
                store,
                caps,
                role,
                mode: AtomicU8::new(mode as u8),
                counters: Counters::default(),
            }),
        }
    }

    /// A private in-memory store.
    pub fn memory() -> Self {
        // A bare `memory://` parses and builds without touching anything.
        match Self::open_with_env("memory://", std::iter::empty::<(String, String)>()) {
            Ok(store) => store,
            Err(e) => unreachable!("memory:// always opens: {e}"),
        }
    }

    /// The store's URL (safe to log).
    pub fn url(&self) -> &StoreUrl {
        &self.inner.url
    }

    /// The conditional writes the backend offers.
    pub fn capabilities(&self) -> Capabilities {
        self.inner.caps
    }

    /// The protocol [`StateStore::save_merged`] uses. It starts from the
    /// capabilities and steps down if the backend refuses a conditional
    /// write at run time.
    pub fn write_mode(&self) -> WriteMode {
        WriteMode::from_u8(self.inner.mode.load(Ordering::Relaxed))
    }

    /// Requests made so far through this store and its clones.
    pub fn stats(&self) -> RequestStats {
        let c = &self.inner.counters;
        RequestStats {
            gets: c.gets.load(Ordering::Relaxed),
            puts: c.puts.load(Ordering::Relaxed),
            heads: c.heads.load(Ordering::Relaxed),
            deletes: c.deletes.load(Ordering::Relaxed),
            bytes_read: c.bytes_read.load(Ordering::Relaxed),
            bytes_written: c.bytes_written.load(Ordering::Relaxed),
        }
    }

    fn path(&self, key: &Key) -> Path {
        key.to_path(self.inner.url.prefix())
    }

    fn read_err(&self, key: &Key, source: object_store::Error) -> StateError {
        StateError::Read {
            url: self.inner.url.to_string(),
            key: key.to_string(),
            source,
        }
    }

    fn write_err(&self, key: &Key, source: object_store::Error) -> StateError {
        StateError::Write {
            url: self.inner.url.to_string(),
            key: key.to_string(),
            source,
        }
    }

    /// The raw bytes of `key` and their version, `None` when absent.
    pub async fn read_raw(&self, key: &Key) -> Result<Option<(Bytes, Version)>, StateError> {
        let path = self.path(key);
        self.inner.counters.gets.fetch_add(1, Ordering::Relaxed);
        let result = match self
            .inner
            .store
            .get_opts(&path, GetOptions::default())
            .await
        {
            Ok(r) => r,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(self.read_err(key, e)),
        };
        let version = Version(UpdateVersion {
            e_tag: result.meta.e_tag.clone(),
            version: result.meta.version.clone(),
        });
        let bytes = result.bytes().await.map_err(|e| self.read_err(key, e))?;
        self.inner
            .counters
            .bytes_read
            .fetch_add(bytes.len() as u64, Ordering::Relaxed);
        Ok(Some((bytes, version)))
    }

    /// Writes `bytes` to `key` as they are, unconditionally (tools, tests).
    pub async fn write_raw(&self, key: &Key, bytes: Bytes) -> Result<Version, StateError> {
        self.put(key, bytes, PutMode::Overwrite)
            .await
            .map_err(|e| self.write_err(key, e))
    }

    /// Every object under the store URL's prefix (and below the key
    /// segments `within`, when given) whose name ends with one of
    /// `suffixes`, as (path relative to the prefix, bytes), sorted by path.
    /// Only the matching objects are read. Used to read application
    /// manifests kept in object storage and the promotion documents.
    pub async fn list_objects(
        &self,
        within: &[&str],
        suffixes: &[&str],
    ) -> Result<Vec<(String, Bytes)>, StateError> {
        use futures::TryStreamExt;
        let prefix: Path = self
            .inner
            .url
            .prefix()
            .iter()
            .map(|p| object_store::path::PathPart::from(p.as_str()))
            .collect();
        let listing_err = |source| StateError::Read {
            url: self.inner.url.to_string(),
            key: "(listing)".to_string(),
            source,
        };
        let listed: Path = prefix
            .parts()
            .chain(
                within
                    .iter()
                    .map(|p| object_store::path::PathPart::from(*p)),
            )
            .collect();
        let metas: Vec<_> = self
            .inner
            .store
            .list(Some(&listed))
            .try_collect()
            .await
            .map_err(listing_err)?;
        let mut names: Vec<String> = metas
            .into_iter()
            .map(|m| m.location.to_string())
            .filter(|name| suffixes.iter().any(|s| name.ends_with(s)))
            .collect();
        names.sort();
        let skip = prefix.as_ref().len();
        let mut out = Vec::with_capacity(names.len());
        for name in names {
            let path = Path::from(name.as_str());
            self.inner.counters.gets.fetch_add(1, Ordering::Relaxed);
            let got = self.inner.store.get(&path).await;
            let bytes = match got {
                Ok(r) => r.bytes().await,
                Err(e) => Err(e),
            }
            .map_err(|source| StateError::Read {
                url: self.inner.url.to_string(),
                key: name.clone(),
                source,
            })?;
            let relative = name[skip..].trim_start_matches('/').to_string();
            out.push((relative, bytes));
        }
        Ok(out)
    }

    /// Deletes `key`; absent is fine.
    pub async fn delete(&self, key: &Key) -> Result<(), StateError> {
        self.inner.counters.deletes.fetch_add(1, Ordering::Relaxed);
        match self.inner.store.delete(&self.path(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.write_err(key, e)),
        }
    }

    /// One PUT; the payload is always a single contiguous buffer (OSS
    /// rejects streaming-signed multi-chunk bodies).
    async fn put(
        &self,
        key: &Key,
        bytes: Bytes,
        mode: PutMode,
    ) -> Result<Version, object_store::Error> {
        let len = bytes.len() as u64;
        self.inner.counters.puts.fetch_add(1, Ordering::Relaxed);
        let opts = PutOptions {
            mode,
            ..PutOptions::default()
        };
        let result = self
            .inner
            .store
            .put_opts(&self.path(key), PutPayload::from(bytes), opts)
            .await?;
        self.inner
            .counters
            .bytes_written
            .fetch_add(len, Ordering::Relaxed);
        Ok(Version(UpdateVersion {
            e_tag: result.e_tag,
            version: result.version,
        }))
    }

    fn encode<T: Document>(&self, key: &Key, doc: &T) -> Result<Bytes, StateError> {
        document::encode(doc)
            .map(Bytes::from)
            .map_err(|source| StateError::Encode {
                url: self.inner.url.to_string(),
                key: key.to_string(),
                source,
            })
    }

    /// Reads a document. Absent → `value: None`. Unusable (bad or truncated
    /// JSON, unknown `schemaVersion`, wrong `kind`) → `value: None` with a
    /// [`StateWarning`], also logged at `warn`. Only a failing store is an
    /// error.
    pub async fn read<T: Document>(&self, key: &Key) -> Result<Loaded<T>, StateError> {
        let Some((bytes, version)) = self.read_raw(key).await? else {
            return Ok(Loaded {
                value: None,
                version: None,
                warning: None,
            });
        };
        match document::decode::<T>(&bytes) {
            Ok(value) => Ok(Loaded {
                value: Some(value),
                version: Some(version),
                warning: None,
            }),
            Err(problem) => {
                let warning = StateWarning {
                    url: self.inner.url.to_string(),
                    key: key.to_string(),
                    problem,
                };
                warn!(store = %warning.url, key = %warning.key, problem = %warning.problem, "{warning}");
                Ok(Loaded {
                    value: None,
                    version: Some(version),
                    warning: Some(warning),
                })
            }
        }
    }

    /// Writes `doc` only if `key` does not exist (`If-None-Match: *`).
    /// [`StateError::Unsupported`] where the backend has no create-only
    /// write (OSS).
    pub async fn create<T: Document>(&self, key: &Key, doc: &T) -> Result<Conditional, StateError> {
        let bytes = self.encode(key, doc)?;
        self.conditional(key, bytes, PutMode::Create, "create-only writes")
            .await
    }

    /// Writes `doc` only if `key` is still at `expected` (`If-Match`); a
    /// missing object is a conflict too. [`StateError::Unsupported`] where
    /// the backend has no compare-and-swap (files, OSS).
    pub async fn replace<T: Document>(
        &self,
        key: &Key,
        doc: &T,
        expected: &Version,
    ) -> Result<Conditional, StateError> {
        let bytes = self.encode(key, doc)?;
        self.conditional(
            key,
            bytes,
            PutMode::Update(expected.0.clone()),
            "compare-and-swap updates",
        )
        .await
    }

    async fn conditional(
        &self,
        key: &Key,
        bytes: Bytes,
        mode: PutMode,
        operation: &'static str,
    ) -> Result<Conditional, StateError> {
        match self.put(key, bytes, mode).await {
            Ok(v) => Ok(Conditional::Written(v)),
            Err(object_store::Error::AlreadyExists { .. })
            | Err(object_store::Error::Precondition { .. }) => Ok(Conditional::Conflict),
            Err(object_store::Error::NotImplemented { .. })
            | Err(object_store::Error::NotSupported { .. }) => Err(StateError::Unsupported {
                url: self.inner.url.to_string(),
                key: key.to_string(),
                operation,
            }),
            Err(e) => Err(self.write_err(key, e)),
        }
    }

    /// Writes `doc` unconditionally (last writer wins).
    pub async fn overwrite<T: Document>(&self, key: &Key, doc: &T) -> Result<Version, StateError> {
        let bytes = self.encode(key, doc)?;
        self.put(key, bytes, PutMode::Overwrite)
            .await
            .map_err(|e| self.write_err(key, e))
    }

    /// Stores `doc` merged with whatever other writers stored meanwhile, so
    /// that no writer's entries are lost (see [`WriteMode`] for how each
    /// backend achieves it). `base` is the version `doc` was loaded from
    /// (`None` if it was absent or unusable). Returns what is stored now.
    pub async fn save_merged<T: Document + Merge>(
        &self,
        key: &Key,
        doc: T,
        base: Option<Version>,
    ) -> Result<Saved<T>, StateError> {
        let mut doc = doc;
        loop {
            let mode = self.write_mode();
            let outcome = match mode {
                WriteMode::CompareAndSwap => self.save_cas(key, doc, base.clone()).await?,
                WriteMode::Locked => self.save_locked(key, doc).await?,
                WriteMode::LastWriterWins => return self.save_lww(key, doc).await,
            };
            match outcome {
                Ok(saved) => return Ok(saved),
                Err(unsaved) => {
                    let next = match mode {
                        WriteMode::CompareAndSwap => WriteMode::Locked,
                        _ => WriteMode::LastWriterWins,
                    };
                    warn!(store = %self.inner.url, key = %key, from = ?mode, to = ?next,
                        "the backend refused a conditional write; using a weaker write protocol");
                    self.inner.mode.store(next as u8, Ordering::Relaxed);
                    doc = unsaved;
                }
            }
        }
    }

    /// Compare-and-swap loop. `Ok(Err(doc))`: the backend refused
    /// conditional writes.
    async fn save_cas<T: Document + Merge>(
        &self,
        key: &Key,
        mut doc: T,
        mut base: Option<Version>,
    ) -> Result<Result<Saved<T>, T>, StateError> {
        for attempt in 1..=MAX_ATTEMPTS {
            let bytes = self.encode(key, &doc)?;
            let mode = match &base {
                None => PutMode::Create,
                Some(v) => PutMode::Update(v.0.clone()),
            };
            match self.put(key, bytes, mode).await {
                Ok(version) => {
                    return Ok(Ok(Saved {
                        value: doc,
                        version: Some(version),
                        attempts: attempt,
                        mode: WriteMode::CompareAndSwap,
                    }));
                }
                Err(object_store::Error::AlreadyExists { .. })
                | Err(object_store::Error::Precondition { .. }) => {
                    debug!(store = %self.inner.url, key = %key, attempt, "concurrent write; merging");
                    if attempt > 1 {
                        tokio::time::sleep(jitter(attempt)).await;
                    }
                    let current = self.read::<T>(key).await?;
                    base = current.version;
                    if let Some(stored) = current.value {
                        let mut merged = stored.clone();
                        merged.merge(doc);
                        if merged == stored {
                            // Someone already stored a superset of ours.
                            return Ok(Ok(Saved {
                                value: merged,
                                version: base,
                                attempts: attempt,
                                mode: WriteMode::CompareAndSwap,
                            }));
                        }
                        doc = merged;
                    }
                }
                Err(object_store::Error::NotImplemented { .. })
                | Err(object_store::Error::NotSupported { .. }) => return Ok(Err(doc)),
                Err(e) => return Err(self.write_err(key, e)),
            }
        }
        Err(StateError::Contended {
            url: self.inner.url.to_string(),
            key: key.to_string(),
            attempts: MAX_ATTEMPTS,
        })
    }

    /// Lock, read, merge, overwrite, unlock. `Ok(Err(doc))`: the backend
    /// refused create-only writes.
    async fn save_locked<T: Document + Merge>(
        &self,
        key: &Key,
        doc: T,
    ) -> Result<Result<Saved<T>, T>, StateError> {
        let lock = key.with_suffix(".lock");
        if !self.acquire(key, &lock).await? {
            return Ok(Err(doc));
        }
        let result = async {
            let current = self.read::<T>(key).await?;
            let merged = match current.value.clone() {
                Some(mut stored) => {
                    stored.merge(doc);
                    stored
                }
                None => doc,
            };
            if current.value.as_ref() == Some(&merged) {
                return Ok(Saved {
                    value: merged,
                    version: current.version,
                    attempts: 0,
                    mode: WriteMode::Locked,
                });
            }
            let version = self.overwrite(key, &merged).await?;
            Ok(Saved {
                value: merged,
                version: Some(version),
                attempts: 1,
                mode: WriteMode::Locked,
            })
        }
        .await;
        if let Err(e) = self.delete(&lock).await {
            warn!(store = %self.inner.url, lock = %lock, error = %e,
                "cannot release the lock; it is broken after {LOCK_STALE:?}");
        }
        result.map(Ok)
    }

    /// Takes `lock` with a create-only write. `Ok(false)`: the backend has
    /// no create-only write.
    async fn acquire(&self, key: &Key, lock: &Key) -> Result<bool, StateError> {
        let started = Instant::now();
        let body = Bytes::from(format!(
            "{{\"owner\":\"pid {} {:016x}\",\"since\":\"{}\"}}\n",
            std::process::id(),
            random(),
            crate::time::format(crate::time::now())
        ));
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.put(lock, body.clone(), PutMode::Create).await {
                Ok(_) => return Ok(true),
                Err(object_store::Error::AlreadyExists { .. })
                | Err(object_store::Error::Precondition { .. }) => {}
                Err(object_store::Error::NotImplemented { .. })
                | Err(object_store::Error::NotSupported { .. }) => return Ok(false),
                Err(e) => return Err(self.write_err(lock, e)),
            }
            // Held: break it if its writer died long ago, else wait.
            self.inner.counters.heads.fetch_add(1, Ordering::Relaxed);
            match self.inner.store.head(&self.path(lock)).await {
                Ok(meta) => {
                    let age = chrono::Utc::now() - meta.last_modified;
                    if age.to_std().is_ok_and(|age| age > LOCK_STALE) {
                        warn!(store = %self.inner.url, lock = %lock, age_s = age.num_seconds(),
                            "breaking a stale lock left by a writer that did not finish");
                        self.delete(lock).await?;
                        continue;
                    }
                }
                Err(object_store::Error::NotFound { .. }) => continue,
                Err(e) => return Err(self.read_err(lock, e)),
            }
            if started.elapsed() > LOCK_WAIT {
                return Err(StateError::Locked {
                    url: self.inner.url.to_string(),
                    key: key.to_string(),
                    lock: lock.to_string(),
                    waited: LOCK_WAIT,
                });
            }
            tokio::time::sleep(jitter(attempt)).await;
        }
    }

    /// Read, merge, overwrite, then look twice (after pauses of a few write
    /// latencies) that the stored copy still has ours; merge and write again
    /// while a concurrent writer's copy hides it.
    async fn save_lww<T: Document + Merge>(
        &self,
        key: &Key,
        doc: T,
    ) -> Result<Saved<T>, StateError> {
        let mut doc = doc;
        let mut current = self.read::<T>(key).await?;
        let mut writes = 0;
        let mut settle = SETTLE_MIN;
        let mut seen_once = false;
        loop {
            let merged = match current.value.clone() {
                Some(mut stored) => {
                    stored.merge(doc);
                    stored
                }
                None => doc,
            };
            if current.value.as_ref() == Some(&merged) {
                // Ours is in. After a write, look once more: a writer that
                // read before our write may land its copy after our look.
                if writes == 0 || seen_once {
                    return Ok(Saved {
                        value: merged,
                        version: current.version,
                        attempts: writes,
                        mode: WriteMode::LastWriterWins,
                    });
                }
                seen_once = true;
            } else {
                seen_once = false;
                if writes == VERIFY_ROUNDS {
                    warn!(store = %self.inner.url, key = %key,
                        "concurrent writers kept replacing this document; some entries wait for the next run");
                    return Err(StateError::Contended {
                        url: self.inner.url.to_string(),
                        key: key.to_string(),
                        attempts: writes,
                    });
                }
                let started = Instant::now();
                self.overwrite(key, &merged).await?;
                writes += 1;
                // A few write latencies, randomised so that writers drift
                // apart.
                settle = (started.elapsed() * 3).clamp(SETTLE_MIN, SETTLE_MAX);
                debug!(store = %self.inner.url, key = %key, writes, "wrote without a precondition; verifying");
            }
            tokio::time::sleep(settle + jitter(writes + 1).min(settle)).await;
            current = self.read::<T>(key).await?;
            doc = merged;
        }
    }
}

/// A random `u64` from the standard library's per-process hash keys.
fn random() -> u64 {
    std::collections::hash_map::RandomState::new().hash_one(Instant::now())
}

/// Backoff before retry `attempt`: uniformly random up to 2 ms × 2^attempt,
/// capped at 200 ms.
fn jitter(attempt: u32) -> Duration {
    let cap_us = (2_000u64 << attempt.min(7)).min(200_000);
    Duration::from_micros(random() % cap_us.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::RepositoryDocument;

    fn doc(tags: &[&str]) -> RepositoryDocument {
        let mut cache = crate::RepoCache::empty("ghcr.io", "t/app").unwrap();
        cache.record_tags(tags, 1);
        cache.document().clone()
    }

    #[tokio::test]
    async fn conflicting_saves_merge() {
        let store = StateStore::memory();
        let key = crate::keys::repository_cache("ghcr.io", "t/app").unwrap();
        let a = store.save_merged(&key, doc(&["a"]), None).await.unwrap();
        assert_eq!(a.attempts, 1);
        // A writer that loaded nothing (base None) conflicts, then merges.
        let b = store.save_merged(&key, doc(&["b"]), None).await.unwrap();
        assert_eq!(b.attempts, 2);
        assert_eq!(b.value.tags.len(), 2);
        // A writer holding a stale version merges too.
        let c = store
            .save_merged(&key, doc(&["c"]), a.version)
            .await
            .unwrap();
        assert_eq!(c.value.tags.len(), 3);
        // Nothing new: no write.
        let before = store.stats();
        let d = store.save_merged(&key, doc(&["a"]), None).await.unwrap();
        assert_eq!(
            store.stats().since(&before).puts,
            1,
            "only the failed create"
        );
        assert_eq!(d.value.tags.len(), 3);
    }

    #[tokio::test]
    async fn a_refused_compare_and_swap_steps_down() {
        // Files claimed to support compare-and-swap: the first update is
        // refused with NotImplemented, and the store falls back to the lock.
        let dir = tempfile::tempdir().unwrap();
        let url = StoreUrl::parse(&format!("file://{}", dir.path().display())).unwrap();
        let fs = object_store::local::LocalFileSystem::new_with_prefix(dir.path()).unwrap();
        let caps = Capabilities {
            create: true,
            update: true,
        };
        let store = StateStore::from_parts(url, backend::Built::plain(Arc::new(fs), caps));
        assert_eq!(store.write_mode(), WriteMode::CompareAndSwap);
        let key = crate::keys::repository_cache("ghcr.io", "t/app").unwrap();
        let first = store.save_merged(&key, doc(&["a"]), None).await.unwrap();
        let second = store
            .save_merged(&key, doc(&["b"]), first.version)
            .await
            .unwrap();
        assert_eq!(second.mode, WriteMode::Locked);
        assert_eq!(store.write_mode(), WriteMode::Locked);
        let stored = store.read::<RepositoryDocument>(&key).await.unwrap();
        assert_eq!(stored.value.unwrap().tags.len(), 2);
        assert!(
            !dir.path()
                .join("v1/registries/ghcr.io/t/app/cache.json.lock")
                .exists()
        );
    }
}
