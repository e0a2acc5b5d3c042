//! The checkpoint store (`updraft-state`) against real backends: the S3
//! server (moto, started by `infra/local/s3.sh`), the same server addressed
//! the OSS way (virtual-hosted endpoint, no conditional writes), local files
//! and memory. Every backend runs the same suite: cold run, warm run from a
//! fresh store object, stale and concurrent writers, corrupted documents,
//! conditional writes, and the request count of a poll cycle.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use updraft_state::{
    Conditional, DecisionRecord, ImageDecision, ImageMetadata, RepoCache, StateError, StateStore,
    WriteMode, keys,
};

/// Every test body runs under this bound.
const TEST_TIMEOUT: Duration = Duration::from_secs(90);
/// Starting moto, including creating the venv on a machine that lacks it.
const MOTO_START_TIMEOUT: Duration = Duration::from_secs(300);
const BUCKET: &str = "updraft-it";
const NOW: i64 = 1_764_000_000_000_000_000;

// ---------------------------------------------------------------- moto ---

/// One moto_server shared by the tests running at the same time; stopped
/// (by `s3.sh stop`) when the last of them drops it.
struct Moto {
    dir: PathBuf,
    endpoint: String,
}

fn s3_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../infra/local/s3.sh")
}

impl Moto {
    fn start() -> Moto {
        let dir = std::env::temp_dir().join(format!(
            "updraft-it-moto-{}-{}",
            std::process::id(),
            unique()
        ));
        let mut child = Command::new(s3_script())
            .arg("start")
            .arg(&dir)
            .arg(BUCKET)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("run infra/local/s3.sh");
        let started = Instant::now();
        loop {
            if child.try_wait().expect("wait for s3.sh").is_some() {
                break;
            }
            if started.elapsed() > MOTO_START_TIMEOUT {
                let _ = child.kill();
                let _ = Command::new(s3_script()).arg("stop").arg(&dir).status();
                panic!("infra/local/s3.sh start took longer than {MOTO_START_TIMEOUT:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let out = child.wait_with_output().expect("s3.sh output");
        assert!(out.status.success(), "infra/local/s3.sh start failed");
        let endpoint = String::from_utf8(out.stdout).unwrap().trim().to_string();
        assert!(endpoint.starts_with("http://127.0.0.1:"), "{endpoint}");
        Moto { dir, endpoint }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = Command::new(s3_script())
            .arg("stop")
            .arg(&self.dir)
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn moto() -> Arc<Moto> {
    static SHARED: Mutex<Weak<Moto>> = Mutex::new(Weak::new());
    let mut shared = SHARED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(m) = shared.upgrade() {
        return m;
    }
    let m = Arc::new(Moto::start());
    *shared = Arc::downgrade(&m);
    m
}

/// Which access key id and security token signed one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SignedBy {
    pub(crate) key_id: String,
    pub(crate) token: Option<String>,
}

/// A pass-through on 127.0.0.1 in front of moto that records who signed
/// each request (moto accepts any key, so only this shows which one a
/// client used). Requests are forwarded unchanged; answers come back as
/// moto gave them.
pub(crate) struct SigningRecorder {
    pub(crate) endpoint: String,
    seen: Arc<Mutex<Vec<SignedBy>>>,
    _moto: Arc<Moto>,
}

impl SigningRecorder {
    pub(crate) async fn start() -> SigningRecorder {
        use axum::body::{Body, to_bytes};
        use axum::extract::Request;
        let moto = moto();
        let upstream = moto.endpoint.clone();
        let seen: Arc<Mutex<Vec<SignedBy>>> = Arc::default();
        let record = seen.clone();
        let client = reqwest::Client::new();
        let app = axum::Router::new().fallback(move |request: Request| {
            let (upstream, record, client) = (upstream.clone(), record.clone(), client.clone());
            async move {
                let (parts, body) = request.into_parts();
                let header = |name: &str| {
                    parts
                        .headers
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_string)
                };
                let key_id = header("authorization")
                    .and_then(|a| {
                        let credential = a.split("Credential=").nth(1)?;
                        Some(credential.split('/').next()?.to_string())
                    })
                    .unwrap_or_default();
                record.lock().unwrap().push(SignedBy {
                    key_id,
                    token: header("x-amz-security-token"),
                });
                let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
                let body = to_bytes(body, usize::MAX).await.unwrap();
                let mut forward = client.request(parts.method, format!("{upstream}{path}"));
                for (name, value) in &parts.headers {
                    if name != "host" && name != "content-length" {
                        forward = forward.header(name, value);
                    }
                }
                let answer = forward.body(body).send().await.unwrap();
                let mut response = axum::response::Response::builder().status(answer.status());
                for (name, value) in answer.headers() {
                    if name != "content-length" && name != "transfer-encoding" {
                        response = response.header(name, value);
                    }
                }
                response
                    .body(Body::from(answer.bytes().await.unwrap()))
                    .unwrap()
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        SigningRecorder {
            endpoint,
            seen,
            _moto: moto,
        }
    }

    /// Who signed the requests since the last call.
    pub(crate) fn take(&self) -> Vec<SignedBy> {
        std::mem::take(&mut *self.seen.lock().unwrap())
    }
}

fn unique() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

// ------------------------------------------------------------- targets ---

/// A store location that can be opened again and again, each time as a new
/// client (what a new process would do).
pub(crate) struct Target {
    pub(crate) url: String,
    pub(crate) env: Vec<(String, String)>,
    mode: WriteMode,
    _moto: Option<Arc<Moto>>,
    _dir: Option<tempfile::TempDir>,
}

impl Target {
    pub(crate) fn open(&self) -> StateStore {
        let store = StateStore::open_with_env(&self.url, self.env.clone()).unwrap();
        assert_eq!(store.write_mode(), self.mode, "{}", self.url);
        store
    }
}

fn memory(test: &str) -> Target {
    Target {
        url: format!("memory://{test}-{}", unique()),
        env: Vec::new(),
        mode: WriteMode::CompareAndSwap,
        _moto: None,
        _dir: None,
    }
}

fn file(test: &str) -> Target {
    let dir = tempfile::Builder::new()
        .prefix(&format!("updraft-state-{test}-"))
        .tempdir()
        .unwrap();
    Target {
        url: format!("file://{}/state", dir.path().display()),
        env: Vec::new(),
        mode: WriteMode::Locked,
        _moto: None,
        _dir: Some(dir),
    }
}

pub(crate) fn s3(test: &str) -> Target {
    let moto = moto();
    Target {
        url: format!(
            "s3://{BUCKET}/{test}-{}?endpoint={}&region=us-east-1&allow_http=true",
            unique(),
            moto.endpoint
        ),
        env: vec![
            ("AWS_ACCESS_KEY_ID".into(), "test".into()),
            ("AWS_SECRET_ACCESS_KEY".into(), "test-secret".into()),
        ],
        mode: WriteMode::CompareAndSwap,
        _moto: Some(moto),
        _dir: None,
    }
}

/// moto addressed like OSS: the endpoint already names the bucket
/// (virtual-hosted), and conditional writes are disabled.
fn oss(test: &str) -> Target {
    let moto = moto();
    Target {
        url: format!(
            "oss://{BUCKET}/{test}-{}?endpoint={}/{BUCKET}&region=cn-hangzhou&allow_http=true",
            unique(),
            moto.endpoint
        ),
        env: vec![
            ("ALIBABA_CLOUD_ACCESS_KEY_ID".into(), "test".into()),
            (
                "ALIBABA_CLOUD_ACCESS_KEY_SECRET".into(),
                "test-secret".into(),
            ),
        ],
        mode: WriteMode::LastWriterWins,
        _moto: Some(moto),
        _dir: None,
    }
}

async fn bounded<F: Future<Output = ()>>(f: F) {
    tokio::time::timeout(TEST_TIMEOUT, f)
        .await
        .expect("test exceeded its time bound");
}

// ------------------------------------------------------------- fixtures --

fn digest(repo: usize, i: usize) -> String {
    format!("sha256:{:032x}{:032x}", repo, i)
}

fn meta(i: usize) -> ImageMetadata {
    ImageMetadata {
        created: Some(NOW - 86_400_000_000_000 + i as i64 * 1_000_000_000),
        platforms: vec!["linux/amd64".into(), "linux/arm64".into()],
        labels: BTreeMap::from([(
            "org.opencontainers.image.revision".to_string(),
            format!("{i:040x}"),
        )]),
        created_by_platform: BTreeMap::new(),
    }
}

/// Records what a poll of `repo` would learn: the full listing, and digest
/// and metadata for every tag that still needs them. Returns how many tags
/// needed metadata (registry requests the poller would make).
fn poll(cache: &mut RepoCache, repo: usize, tags: &[String], now: i64) -> usize {
    cache.record_tags(tags, now);
    let mut fetched = 0;
    for (i, tag) in tags.iter().enumerate() {
        if cache.needs_metadata(tag) {
            fetched += 1;
            let d = digest(repo, i);
            cache.record_digest(tag, &d, now);
            cache.record_metadata(&d, meta(i));
        }
    }
    fetched
}

fn tags(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("1.{}.{}", i / 10, i % 10)).collect()
}

// ----------------------------------------------------------- the suite ---

async fn cold_then_warm(t: Target) {
    let tags = tags(300);
    // Cold: nothing stored.
    let store = t.open();
    let mut cache = store
        .load_repository("registry.example.com:5000", "team/app")
        .await
        .unwrap();
    assert!(!cache.was_stored() && cache.warning().is_none());
    assert_eq!(poll(&mut cache, 1, &tags, NOW), 300);
    let report = store.save_repository(&mut cache).await.unwrap();
    assert!(report.written, "{report:?}");
    assert!(!cache.is_dirty());

    // Warm, from a new client: everything read back, no metadata needed.
    let fresh = t.open();
    let mut warm = fresh
        .load_repository("registry.example.com:5000", "team/app")
        .await
        .unwrap();
    assert_eq!(warm.document(), cache.document());
    assert_eq!(fresh.stats().gets, 1);
    assert_eq!(fresh.stats().requests(), 1);
    assert_eq!(poll(&mut warm, 1, &tags, NOW + 60_000_000_000), 0);
    assert!(!warm.is_dirty());
    let before = fresh.stats();
    let report = fresh.save_repository(&mut warm).await.unwrap();
    assert!(!report.written);
    assert_eq!(fresh.stats(), before, "an unchanged cache costs no write");

    let c = warm.candidate("1.2.3").unwrap();
    assert_eq!(c.digest.as_deref(), Some(digest(1, 23).as_str()));
    assert_eq!(c.created, meta(23).created);
    assert_eq!(c.platforms, ["linux/amd64", "linux/arm64"]);
    assert_eq!(warm.tag("1.2.3").unwrap().first_seen, NOW);
    assert_eq!(
        warm.metadata(&digest(1, 23)).unwrap().labels,
        meta(23).labels
    );

    // A new tag: first seen later; the old ones keep their first-seen.
    let mut more = tags.clone();
    more.push("2.0.0".into());
    let later = NOW + 3_600_000_000_000;
    assert_eq!(poll(&mut warm, 1, &more, later), 1);
    fresh.save_repository(&mut warm).await.unwrap();
    let again = t
        .open()
        .load_repository("registry.example.com:5000", "team/app")
        .await
        .unwrap();
    assert_eq!(again.tag("2.0.0").unwrap().first_seen, later);
    assert_eq!(again.tag("1.0.0").unwrap().first_seen, NOW);
    assert_eq!(again.candidates().len(), 301);
}

/// Two clients load the same document, then save one after the other: the
/// second (stale) writer's save merges, so both writers' tags survive.
async fn stale_writer_merges(t: Target) {
    let a = t.open();
    let b = t.open();
    let mut ca = a.load_repository("ghcr.io", "team/app").await.unwrap();
    let mut cb = b.load_repository("ghcr.io", "team/app").await.unwrap();
    ca.record_tags(["a1", "shared"], NOW);
    ca.record_digest("a1", "sha256:a1", NOW);
    ca.record_metadata("sha256:a1", meta(1));
    cb.record_tags(["b1", "shared"], NOW + 1);
    cb.record_digest("b1", "sha256:b1", NOW + 1);
    cb.record_metadata("sha256:b1", meta(2));
    a.save_repository(&mut ca).await.unwrap();
    b.save_repository(&mut cb).await.unwrap();
    // The stale writer's cache now holds the union too.
    assert!(cb.tag("a1").is_some());

    let merged = t
        .open()
        .load_repository("ghcr.io", "team/app")
        .await
        .unwrap();
    let names: Vec<&str> = merged.tags().keys().map(String::as_str).collect();
    assert_eq!(names, ["a1", "b1", "shared"]);
    assert_eq!(merged.tag("shared").unwrap().first_seen, NOW);
    assert!(!merged.needs_metadata("a1") && !merged.needs_metadata("b1"));
}

/// Eight writers, each its own client, update one repository at once: no
/// entry is lost.
async fn concurrent_writers(t: Target) {
    let t = Arc::new(t);
    let barrier = Arc::new(tokio::sync::Barrier::new(8));
    let mut tasks = Vec::new();
    for w in 0..8usize {
        let t = t.clone();
        let barrier = barrier.clone();
        tasks.push(tokio::spawn(async move {
            let store = t.open();
            let mut cache = store.load_repository("ghcr.io", "team/busy").await.unwrap();
            let mine: Vec<String> = (0..20).map(|i| format!("w{w}-{i}")).collect();
            let mut listing = mine.clone();
            listing.push("common".into());
            cache.record_tags(&listing, NOW + w as i64);
            for (i, tag) in mine.iter().enumerate() {
                let d = digest(w, i);
                cache.record_digest(tag, &d, NOW);
                cache.record_metadata(&d, meta(i));
            }
            barrier.wait().await;
            store.save_repository(&mut cache).await.unwrap()
        }));
    }
    let mut attempts = Vec::new();
    for task in tasks {
        attempts.push(task.await.unwrap().attempts);
    }
    let cache = t
        .open()
        .load_repository("ghcr.io", "team/busy")
        .await
        .unwrap();
    for w in 0..8 {
        for i in 0..20 {
            let tag = format!("w{w}-{i}");
            assert!(
                !cache.needs_metadata(&tag),
                "{tag} lost (attempts per writer: {attempts:?})"
            );
        }
    }
    assert_eq!(cache.tags().len(), 8 * 20 + 1);
    assert_eq!(cache.document().images.len(), 8 * 20);
    assert_eq!(cache.tag("common").unwrap().first_seen, NOW);
}

/// A corrupt document is reported with its key, read as empty, rebuilt and
/// replaced — never an error.
async fn corrupted_document(t: Target) {
    let store = t.open();
    let mut cache = store.load_repository("ghcr.io", "team/app").await.unwrap();
    poll(&mut cache, 1, &tags(30), NOW);
    store.save_repository(&mut cache).await.unwrap();
    let key = keys::repository_cache("ghcr.io", "team/app").unwrap();
    let (good, _) = store.read_raw(&key).await.unwrap().unwrap();

    let corruptions: [(&str, Vec<u8>); 4] = [
        ("truncated JSON", good[..good.len() / 2].to_vec()),
        ("bad JSON", b"{\"schemaVersion\": 1, oops".to_vec()),
        (
            "unknown schemaVersion 99",
            br#"{"schemaVersion": 99, "kind": "RepositoryCache"}"#.to_vec(),
        ),
        ("the document is empty", Vec::new()),
    ];
    for (problem, bytes) in corruptions {
        store.write_raw(&key, bytes.into()).await.unwrap();
        let fresh = t.open();
        let mut cache = fresh.load_repository("ghcr.io", "team/app").await.unwrap();
        let warning = cache.warning().expect("a warning").clone();
        assert!(warning.problem.contains(problem), "{warning}");
        assert_eq!(
            warning.key, "v1/registries/ghcr.io/team/app/cache.json",
            "{warning}"
        );
        assert!(warning.to_string().contains(&warning.key));
        assert!(cache.tags().is_empty() && cache.is_dirty());
        // Rebuilt from the registry, then saved over the corrupt copy.
        assert_eq!(poll(&mut cache, 1, &tags(30), NOW), 30);
        assert!(fresh.save_repository(&mut cache).await.unwrap().written);
        let healed = t
            .open()
            .load_repository("ghcr.io", "team/app")
            .await
            .unwrap();
        assert!(healed.warning().is_none(), "{problem}");
        assert_eq!(healed.tags().len(), 30);
    }

    // Decisions too.
    let dkey = keys::decision("argocd", "guestbook").unwrap();
    store
        .write_raw(
            &dkey,
            b"{\"schemaVersion\":1,\"kind\":\"Decision\""
                .to_vec()
                .into(),
        )
        .await
        .unwrap();
    let loaded = store.get_decision("argocd", "guestbook").await.unwrap();
    assert!(loaded.value.is_none());
    assert!(loaded.warning.unwrap().problem.contains("truncated"));
}

/// Create-only and compare-and-swap writes where the backend has them;
/// `Unsupported` (never a silent overwrite) where it does not.
async fn conditional_writes(t: Target) {
    let store = t.open();
    let caps = store.capabilities();
    let key = keys::decision("argocd", "cas").unwrap();
    let d1 = decision(1, "1.0");
    let d2 = decision(2, "1.1");

    let created = store.create(&key, &d1).await;
    if !caps.create {
        assert!(
            matches!(created, Err(StateError::Unsupported { .. })),
            "{created:?}"
        );
        assert!(matches!(
            store
                .replace(&key, &d1, &fake_version(&store, &key, &d1).await)
                .await,
            Err(StateError::Unsupported { .. })
        ));
        return;
    }
    let Conditional::Written(v1) = created.unwrap() else {
        panic!("first create conflicted")
    };
    assert_eq!(
        store.create(&key, &d2).await.unwrap(),
        Conditional::Conflict
    );
    assert_eq!(
        store.get_decision("argocd", "cas").await.unwrap().value,
        Some(d1.clone()),
        "a conflicting create must not write"
    );
    if !caps.update {
        assert!(matches!(
            store.replace(&key, &d2, &v1).await,
            Err(StateError::Unsupported { .. })
        ));
        return;
    }
    let Conditional::Written(v2) = store.replace(&key, &d2, &v1).await.unwrap() else {
        panic!("replace at the current version conflicted")
    };
    assert_ne!(v1, v2);
    assert_eq!(
        store.replace(&key, &d1, &v1).await.unwrap(),
        Conditional::Conflict,
        "a stale version must conflict"
    );
    let loaded = store.get_decision("argocd", "cas").await.unwrap();
    assert_eq!(loaded.value, Some(d2));
    assert_eq!(loaded.version, Some(v2.clone()));
    let missing = keys::decision("argocd", "missing").unwrap();
    assert_eq!(
        store.replace(&missing, &d1, &v2).await.unwrap(),
        Conditional::Conflict,
        "compare-and-swap on a missing object must conflict"
    );
}

/// A version for `replace` on a backend without create: from an overwrite.
async fn fake_version(
    store: &StateStore,
    key: &updraft_state::Key,
    d: &DecisionRecord,
) -> updraft_state::Version {
    store.overwrite(key, d).await.unwrap()
}

fn decision(n: i64, tag: &str) -> DecisionRecord {
    DecisionRecord {
        namespace: "argocd".into(),
        application: "guestbook".into(),
        decided_at: NOW + n,
        images: vec![ImageDecision {
            alias: Some("app".into()),
            image: "ghcr.io/team/app".into(),
            current: Some("1.0".into()),
            selected: Some(updraft_core::Candidate::named(tag)),
            update: tag != "1.0",
            reason: format!("semver: {tag} is the highest allowed version"),
            error: None,
        }],
    }
}

async fn decisions_round_trip(t: Target) {
    let store = t.open();
    assert!(
        store
            .get_decision("argocd", "guestbook")
            .await
            .unwrap()
            .value
            .is_none()
    );
    let d = decision(1, "1.1");
    store.put_decision(&d).await.unwrap();
    let later = decision(2, "1.2");
    store.put_decision(&later).await.unwrap();
    let loaded = t.open().get_decision("argocd", "guestbook").await.unwrap();
    assert_eq!(loaded.value, Some(later.clone()));
    assert!(!later.same_outcome(&d));
    assert!(later.same_outcome(&DecisionRecord {
        decided_at: 0,
        ..later.clone()
    }));
}

/// 20 repositories × 300 tags (the issue's scenario): requests the store
/// costs per poll cycle. The numbers are the layout's contract
/// (docs/state.md): one GET per repository when nothing changed.
async fn poll_cycle_requests(t: Target) {
    let tags = tags(300);
    let cycle = |store: StateStore, tags: Vec<String>, now: i64| async move {
        let before = store.stats();
        let mut fetched = 0;
        for repo in 0..20 {
            let mut cache = store
                .load_repository("registry.example.com", &format!("team/app{repo}"))
                .await
                .unwrap();
            fetched += poll(&mut cache, repo, &tags, now);
            store.save_repository(&mut cache).await.unwrap();
        }
        (store.stats().since(&before), fetched)
    };
    // Per document write: CAS 1 PUT; lock: lock PUT + GET + PUT + DELETE;
    // LWW: GET + PUT + two verifying GETs.
    let (write_gets, write_puts, write_deletes) = match t.mode {
        WriteMode::CompareAndSwap => (0, 1, 0),
        WriteMode::Locked => (1, 2, 1),
        WriteMode::LastWriterWins => (3, 1, 0),
    };

    let (cold, fetched) = cycle(t.open(), tags.clone(), NOW).await;
    assert_eq!(fetched, 20 * 300);
    assert_eq!(cold.gets, 20 + 20 * write_gets, "{cold:?}");
    assert_eq!(cold.puts, 20 * write_puts, "{cold:?}");
    assert_eq!(cold.deletes, 20 * write_deletes, "{cold:?}");

    let (warm, fetched) = cycle(t.open(), tags.clone(), NOW + 1).await;
    assert_eq!(fetched, 0, "a warm store needs no metadata request");
    assert_eq!((warm.gets, warm.requests()), (20, 20), "{warm:?}");

    let mut one_more = tags.clone();
    one_more.push("9.9.9".into());
    let store = t.open();
    let before = store.stats();
    let mut fetched = 0;
    for repo in 0..20 {
        let mut cache = store
            .load_repository("registry.example.com", &format!("team/app{repo}"))
            .await
            .unwrap();
        let listing = if repo == 0 { &one_more } else { &tags };
        fetched += poll(&mut cache, repo, listing, NOW + 2);
        store.save_repository(&mut cache).await.unwrap();
    }
    let new_tag = store.stats().since(&before);
    assert_eq!(fetched, 1);
    assert_eq!(new_tag.gets, 20 + write_gets, "{new_tag:?}");
    assert_eq!(new_tag.puts, write_puts, "{new_tag:?}");
    // One document of 300 tags with full metadata stays small.
    assert!(
        cold.bytes_written / 20 < 200_000,
        "{} bytes per document",
        cold.bytes_written / 20
    );
}

macro_rules! suite {
    ($($backend:ident: [$($test:ident),* $(,)?]),* $(,)?) => {
        $(
            mod $backend {
                $(
                    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                    async fn $test() {
                        super::bounded(super::$test(super::$backend(stringify!($test)))).await;
                    }
                )*
            }
        )*
    };
}

suite! {
    memory: [cold_then_warm, stale_writer_merges, concurrent_writers, corrupted_document,
             conditional_writes, decisions_round_trip, poll_cycle_requests],
    file: [cold_then_warm, stale_writer_merges, concurrent_writers, corrupted_document,
           conditional_writes, decisions_round_trip, poll_cycle_requests],
    s3: [cold_then_warm, stale_writer_merges, concurrent_writers, corrupted_document,
         conditional_writes, decisions_round_trip, poll_cycle_requests],
    // No conditional writes: concurrent writers are best effort there (see
    // docs/state.md); sequential stale writers still merge.
    oss: [cold_then_warm, stale_writer_merges, corrupted_document, conditional_writes,
          decisions_round_trip, poll_cycle_requests],
}

// ------------------------------------------------------------- failures --

/// An unreachable store is an error naming the store and the key, quickly.
#[tokio::test]
async fn unreachable_store_is_a_clear_error() {
    bounded(async {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let store = StateStore::open_with_env(
            &format!("s3://{BUCKET}/x?endpoint=http://127.0.0.1:{port}&allow_http=true"),
            [
                ("AWS_ACCESS_KEY_ID", "k"),
                ("AWS_SECRET_ACCESS_KEY", "hunter2"),
            ],
        )
        .unwrap();
        let started = Instant::now();
        let err = store.load_repository("ghcr.io", "a/b").await.unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(30));
        let mut text = err.to_string();
        let mut source = std::error::Error::source(&err);
        while let Some(e) = source {
            text.push_str(&format!(": {e}"));
            source = e.source();
        }
        assert!(
            text.contains("v1/registries/ghcr.io/a/b/cache.json"),
            "{text}"
        );
        assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
        assert!(!format!("{store:?}").contains("hunter2"));
        // The poller goes on with an empty cache.
        assert!(
            RepoCache::empty("ghcr.io", "a/b")
                .unwrap()
                .tags()
                .is_empty()
        );
    })
    .await;
}

/// Function Compute hands each invocation the role's current STS
/// credentials; an OSS store signs with the newest from then on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oss_signs_with_the_newest_role_credentials() {
    bounded(async {
        let recorder = SigningRecorder::start().await;
        let url = format!(
            "oss://{BUCKET}/rotation-{}?endpoint={}/{BUCKET}&region=cn-hangzhou&allow_http=true",
            unique(),
            recorder.endpoint
        );
        let store = StateStore::open_with_env(
            &url,
            [
                ("ALIBABA_CLOUD_ACCESS_KEY_ID", "STS.at-start"),
                ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "secret-at-start"),
                ("ALIBABA_CLOUD_SECURITY_TOKEN", "CAIS-at-start"),
            ],
        )
        .unwrap();
        assert_eq!(store.role_key_id().as_deref(), Some("STS.at-start"));
        let at_start = SignedBy {
            key_id: "STS.at-start".into(),
            token: Some("CAIS-at-start".into()),
        };
        let key = keys::repository_cache("example.com", "team/app").unwrap();
        store
            .write_raw(&key, axum::body::Bytes::from_static(b"{}"))
            .await
            .unwrap();
        let seen = recorder.take();
        assert!(!seen.is_empty());
        assert!(seen.iter().all(|s| *s == at_start), "{seen:?}");

        // The platform rotates the role's credentials.
        assert!(store.use_role_credentials("STS.rotated", "secret-rotated", Some("CAIS-rotated")));
        assert_eq!(store.role_key_id().as_deref(), Some("STS.rotated"));
        let read = store.read_raw(&key).await.unwrap();
        assert_eq!(read.map(|(b, _)| b.to_vec()), Some(b"{}".to_vec()));
        let seen = recorder.take();
        assert!(!seen.is_empty());
        let rotated = SignedBy {
            key_id: "STS.rotated".into(),
            token: Some("CAIS-rotated".into()),
        };
        assert!(seen.iter().all(|s| *s == rotated), "{seen:?}");

        // Stores that take no platform credentials say so.
        let files = tempfile::tempdir().unwrap();
        let local = StateStore::open(&format!("file://{}", files.path().display())).unwrap();
        assert!(!local.use_role_credentials("STS.x", "y", None));
        assert_eq!(local.role_key_id(), None);
    })
    .await;
}

#[test]
fn oss_needs_credentials_from_the_environment() {
    let err = StateStore::open_with_env(
        "oss://updraft-state?region=cn-hangzhou",
        [("ALIBABA_CLOUD_ACCESS_KEY_ID", "id")],
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
        "{err}"
    );
    let err = StateStore::open("s3://updraft-state?aws_secret_access_key=hunter2").unwrap_err();
    assert!(matches!(err, StateError::SecretInUrl { .. }));
    assert!(!err.to_string().contains("hunter2"));
}
