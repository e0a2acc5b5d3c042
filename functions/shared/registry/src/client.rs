//! Owns [`RegistryClient`]: one registry endpoint spoken to over the OCI
//! Distribution API — the `/v2/` challenge, Basic and Bearer auth, tag
//! listing with `Link` pagination, manifests, config blobs and a tag's
//! metadata — and the transport under it: timeouts, retries, the rate limit,
//! redirects and the per-kind request counters ([`RequestCounts`]).
//!
//! Transport rules:
//! - every request has a connect timeout and a whole-request timeout (body
//!   included); 429, 500, 502, 503, 504 and connection errors are retried
//!   with exponential backoff and jitter, honouring `Retry-After`, up to
//!   [`RetryPolicy::max_attempts`] attempts;
//! - requests to the registry's own origin pass the rate limiter (`limit`
//!   requests/s; ping, tag pages, manifests, blobs, and token requests when
//!   the token server shares the registry's origin); redirect hops to
//!   another origin (blob storage, CDNs) do not;
//! - redirects are followed by the client itself (at most
//!   [`ClientOptions::max_redirects`] hops): `Authorization` is sent only to
//!   the origin it is meant for, never to a different host, port or scheme,
//!   and an `https` → `http` redirect is refused;
//! - every request sent is counted by kind, retries and redirect hops
//!   included, so tests and benchmarks can read exactly what the registry
//!   saw.
//!
//! Auth: the client pings `GET /v2/` once (not on every call, unlike Image
//! Updater) to learn the scheme. Basic sends the credentials on every
//! request; Bearer gets a token per `(realm, service, scope)` from the token
//! server, with Basic credentials if there are any, and reuses it until
//! `expires_in` is nearly over. On a 401 the client reads the new
//! challenge, drops the cached token (and, for configured credentials, the
//! cached credentials) and retries once.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::header::{
    ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, LINK, LOCATION, RETRY_AFTER,
    WWW_AUTHENTICATE,
};
use reqwest::{Method, Url};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;
use tracing::{debug, warn};
use updraft_core::Platform;
use updraft_core::platform::matches_any;

use crate::auth::{self, Challenge};
use crate::conf::Endpoint;
use crate::credentials::{EXT_TIMEOUT, resolve_credentials};
use crate::error::{RegistryError, Target};
use crate::manifest::{
    ImageConfig, ImageMetadata, MANIFEST_ACCEPT, Manifest, ManifestBody, ManifestProblem,
    TagMetadata, is_valid_digest, sha256_digest,
};
use crate::ratelimit::RateLimiter;
use crate::retry::{RetryPolicy, is_retryable_status, parse_retry_after};
use crate::secret::{Credentials, Secret};
use crate::tags::{TagPage, next_link};

/// Default number of tags asked for per page (`n=`).
pub const DEFAULT_PAGE_SIZE: u32 = 1000;
/// Default cap on the tags of one repository: ten times the largest
/// repository the test suite lists (100,000 tags), about 50 MB of tag names
/// at worst. Larger lists fail with [`RegistryError::TagLimit`].
pub const DEFAULT_MAX_TAGS: usize = 1_000_000;
/// Default cap on tag-list pages: 1,000,000 tags at 100 per page (GHCR's
/// page size when it ignores a larger `n`).
pub const DEFAULT_MAX_PAGES: usize = 10_000;

/// How a [`RegistryClient`] behaves. `Default` is what production uses.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// TCP + TLS connect timeout. Default 10 s.
    pub connect_timeout: Duration,
    /// Whole-request timeout, body included. Default 60 s.
    pub request_timeout: Duration,
    /// Retries.
    pub retry: RetryPolicy,
    /// Tags asked for per page (`n=`); 0 sends no `n`. Default 1000.
    pub tag_page_size: u32,
    /// Cap on a repository's tags. Default [`DEFAULT_MAX_TAGS`].
    pub max_tags: usize,
    /// Cap on tag-list pages. Default [`DEFAULT_MAX_PAGES`].
    pub max_tag_pages: usize,
    /// Cap on one tag-list page body. Default 32 MiB.
    pub max_tag_page_bytes: usize,
    /// Cap on a manifest body. Default 4 MiB (the Distribution limit).
    pub max_manifest_bytes: usize,
    /// Cap on a config blob. Default 8 MiB.
    pub max_config_bytes: usize,
    /// Redirect hops followed per request. Default 5.
    pub max_redirects: usize,
    /// Rate-limit burst (requests that may go at once before the `limit`
    /// spacing applies). Default 1: evenly spaced, as Image Updater.
    pub rate_burst: u32,
    /// How long an `ext:` credential script may run. Default 10 s.
    pub ext_timeout: Duration,
    /// Extra trusted CA certificates (PEM bundles) besides the system ones.
    pub extra_root_certificates: Vec<Vec<u8>>,
    /// `User-Agent`.
    pub user_agent: String,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
            tag_page_size: DEFAULT_PAGE_SIZE,
            max_tags: DEFAULT_MAX_TAGS,
            max_tag_pages: DEFAULT_MAX_PAGES,
            max_tag_page_bytes: 32 << 20,
            max_manifest_bytes: 4 << 20,
            max_config_bytes: 8 << 20,
            max_redirects: 5,
            rate_burst: 1,
            ext_timeout: EXT_TIMEOUT,
            extra_root_certificates: Vec::new(),
            user_agent: concat!("updraft/", env!("CARGO_PKG_VERSION")).to_string(),
        }
    }
}

/// The kinds of request the client counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RequestKind {
    /// `GET /v2/`.
    Ping,
    /// A token server request.
    Token,
    /// A tag-list page.
    Tags,
    /// A manifest `HEAD` or `GET`.
    Manifest,
    /// A blob `GET` (and its redirect hops).
    Blob,
}

/// Requests sent, by kind (retries and redirect hops included).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestCounts {
    /// `GET /v2/`.
    pub ping: u64,
    /// Token server requests.
    pub token: u64,
    /// Tag-list pages.
    pub tags: u64,
    /// Manifest requests.
    pub manifest: u64,
    /// Blob requests.
    pub blob: u64,
}

impl RequestCounts {
    /// All requests.
    pub fn total(&self) -> u64 {
        self.ping + self.token + self.tags + self.manifest + self.blob
    }

    /// What was sent since `earlier` (a snapshot of the same counters).
    pub fn since(&self, earlier: &RequestCounts) -> RequestCounts {
        RequestCounts {
            ping: self.ping.saturating_sub(earlier.ping),
            token: self.token.saturating_sub(earlier.token),
            tags: self.tags.saturating_sub(earlier.tags),
            manifest: self.manifest.saturating_sub(earlier.manifest),
            blob: self.blob.saturating_sub(earlier.blob),
        }
    }
}

impl std::ops::Add for RequestCounts {
    type Output = RequestCounts;
    fn add(self, o: RequestCounts) -> RequestCounts {
        RequestCounts {
            ping: self.ping + o.ping,
            token: self.token + o.token,
            tags: self.tags + o.tags,
            manifest: self.manifest + o.manifest,
            blob: self.blob + o.blob,
        }
    }
}

#[derive(Debug, Default)]
struct Counters {
    ping: AtomicU64,
    token: AtomicU64,
    tags: AtomicU64,
    manifest: AtomicU64,
    blob: AtomicU64,
    credential_resolutions: AtomicU64,
}

impl Counters {
    fn add(&self, kind: RequestKind) {
        let counter = match kind {
            RequestKind::Ping => &self.ping,
            RequestKind::Token => &self.token,
            RequestKind::Tags => &self.tags,
            RequestKind::Manifest => &self.manifest,
            RequestKind::Blob => &self.blob,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn snapshot(&self) -> RequestCounts {
        RequestCounts {
            ping: self.ping.load(Ordering::Relaxed),
            token: self.token.load(Ordering::Relaxed),
            tags: self.tags.load(Ordering::Relaxed),
            manifest: self.manifest.load(Ordering::Relaxed),
            blob: self.blob.load(Ordering::Relaxed),
        }
    }
}

/// The scheme `/v2/` asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum AuthScheme {
    Anonymous,
    Basic,
    Bearer {
        realm: String,
        service: Option<String>,
    },
}

/// Where a client's credentials come from.
enum CredSource {
    None,
    Static(Credentials),
    Configured {
        cached: tokio::sync::Mutex<Option<(Credentials, Instant)>>,
    },
}

struct CredState {
    source: CredSource,
    /// `realm|service|scope` → token and the instant to stop using it.
    tokens: std::sync::Mutex<HashMap<String, (Secret, Instant)>>,
    /// Serialises token fetches so concurrent calls share one request.
    token_fetch: tokio::sync::Mutex<()>,
}

impl CredState {
    fn new(source: CredSource) -> Self {
        Self {
            source,
            tokens: std::sync::Mutex::new(HashMap::new()),
            token_fetch: tokio::sync::Mutex::new(()),
        }
    }

    fn has_credentials(&self) -> bool {
        !matches!(self.source, CredSource::None)
    }

    fn cached_token(&self, key: &str) -> Option<Secret> {
        let tokens = lock(&self.tokens);
        tokens
            .get(key)
            .filter(|(_, until)| Instant::now() < *until)
            .map(|(token, _)| token.clone())
    }

    fn forget_token(&self, key: &str) {
        lock(&self.tokens).remove(key);
    }
}

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

struct Inner {
    endpoint: Arc<Endpoint>,
    options: ClientOptions,
    http: reqwest::Client,
    limiter: Option<RateLimiter>,
    counters: Counters,
    scheme: tokio::sync::Mutex<Option<AuthScheme>>,
}

/// A client for one registry endpoint. Cheap to clone; clones share the
/// connection pool, rate limiter, counters, auth state and caches.
#[derive(Clone)]
pub struct RegistryClient {
    inner: Arc<Inner>,
    creds: Arc<CredState>,
}

impl std::fmt::Debug for RegistryClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryClient")
            .field("registry", &self.inner.endpoint.api())
            .field("credentials", &self.creds.has_credentials())
            .finish_non_exhaustive()
    }
}

/// One request as the transport sends it.
struct Request<'a> {
    method: Method,
    url: Url,
    kind: RequestKind,
    accept: Option<&'static str>,
    max_body: usize,
    what: &'static str,
    operation: &'static str,
    target: &'a Target,
}

/// A response with its body read.
struct Reply {
    status: u16,
    headers: HeaderMap,
    body: Vec<u8>,
    url: Url,
}

/// Why one attempt failed.
enum AttemptError {
    /// Worth retrying (connection, timeout, cut body).
    Transport { cause: String, timed_out: bool },
    /// Not worth retrying.
    Fatal(RegistryError),
}

/// Error bodies are read up to this size, for their message only.
const ERROR_BODY_LIMIT: usize = 64 << 10;
/// Token responses are small.
const TOKEN_BODY_LIMIT: usize = 1 << 20;

impl RegistryClient {
    /// A client for `endpoint` with its registry-level credentials (resolved
    /// on first use and cached until `credsexpire`).
    pub fn new(endpoint: Arc<Endpoint>, options: ClientOptions) -> Result<Self, RegistryError> {
        let source = if endpoint.credentials.is_some() {
            CredSource::Configured {
                cached: tokio::sync::Mutex::new(None),
            }
        } else {
            CredSource::None
        };
        let target = Target::registry(endpoint.api());
        let mut builder = reqwest::Client::builder()
            .connect_timeout(options.connect_timeout)
            .timeout(options.request_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(options.user_agent.clone())
            .pool_idle_timeout(Duration::from_secs(90));
        if endpoint.insecure {
            warn!(registry = %endpoint.api(), "TLS certificate verification is off for this registry (insecure: true)");
            builder = builder
                .tls_danger_accept_invalid_certs(true)
                .tls_danger_accept_invalid_hostnames(true);
        }
        for pem in &options.extra_root_certificates {
            let certs =
                reqwest::Certificate::from_pem_bundle(pem).map_err(|e| RegistryError::Client {
                    target: target.clone(),
                    problem: format!("an extra CA bundle is not PEM: {e}"),
                })?;
            builder = builder.tls_certs_merge(certs);
        }
        let http = builder.build().map_err(|e| RegistryError::Client {
            target: target.clone(),
            problem: updraft_net::describe(&e),
        })?;
        let limiter = endpoint
            .limit
            .map(|rate| RateLimiter::new(rate, options.rate_burst));
        Ok(Self {
            inner: Arc::new(Inner {
                endpoint,
                options,
                http,
                limiter,
                counters: Counters::default(),
                scheme: tokio::sync::Mutex::new(None),
            }),
            creds: Arc::new(CredState::new(source)),
        })
    }

    /// A client sharing this one's connections, rate limiter, counters and
    /// ping, but using `credentials` (image-level credentials, which Image
    /// Updater fetches every cycle) instead of the registry's, with its own
    /// token cache. `None` means anonymous.
    pub fn with_credentials(&self, credentials: Option<Credentials>) -> Self {
        let source = match credentials {
            Some(c) => CredSource::Static(c),
            None => CredSource::None,
        };
        Self {
            inner: self.inner.clone(),
            creds: Arc::new(CredState::new(source)),
        }
    }

    /// The endpoint this client talks to.
    pub fn endpoint(&self) -> &Arc<Endpoint> {
        &self.inner.endpoint
    }

    /// Requests sent so far by this client and its clones (and by clients
    /// made with [`RegistryClient::with_credentials`]).
    pub fn counts(&self) -> RequestCounts {
        self.inner.counters.snapshot()
    }

    /// How often registry-level credentials were resolved (env read, file
    /// read, script run).
    pub fn credential_resolutions(&self) -> u64 {
        self.inner
            .counters
            .credential_resolutions
            .load(Ordering::Relaxed)
    }

    fn api(&self) -> String {
        self.inner.endpoint.api()
    }

    fn url(&self, path: &str) -> Result<Url, RegistryError> {
        let text = format!("{}{path}", self.api());
        Url::parse(&text).map_err(|e| RegistryError::InvalidName {
            target: Target::registry(self.api()),
            problem: format!("cannot build the URL {text}: {e}"),
        })
    }

    /// Checks `GET /v2/` (once per client; later calls reuse the answer).
    pub async fn ping(&self) -> Result<(), RegistryError> {
        self.scheme(&Target::registry(self.api())).await.map(|_| ())
    }

    /// Every tag of `repository`, deduplicated, in the order the registry
    /// sent them — which is not a meaningful order: the Distribution API
    /// promises none (registry 2.8 lists in storage order).
    ///
    /// Sends `n=` ([`ClientOptions::tag_page_size`]) and follows `Link:
    /// <…>; rel="next"`, relative or absolute. A next URL already read is a
    /// [`RegistryError::PaginationLoop`]; so are three pages in a row that
    /// add no new tag. More than [`ClientOptions::max_tags`] tags or
    /// [`ClientOptions::max_tag_pages`] pages is a
    /// [`RegistryError::TagLimit`].
    pub async fn list_tags(&self, repository: &str) -> Result<Vec<String>, RegistryError> {
        let target = Target::repository(self.api(), repository);
        validate_repository(repository, &target)?;
        let options = &self.inner.options;
        let mut url = self.url(&format!("/v2/{repository}/tags/list"))?;
        if options.tag_page_size > 0 {
            url.query_pairs_mut()
                .append_pair("n", &options.tag_page_size.to_string());
        }
        let mut seen_urls: HashSet<String> = HashSet::new();
        let mut seen_tags: HashSet<String> = HashSet::new();
        let mut tags: Vec<String> = Vec::new();
        let mut pages = 0usize;
        let mut idle_pages = 0u32;
        loop {
            if !seen_urls.insert(url.as_str().to_string()) {
                return Err(RegistryError::PaginationLoop {
                    target,
                    url: path_and_query(&url),
                });
            }
            pages += 1;
            if pages > options.max_tag_pages {
                return Err(RegistryError::TagLimit {
                    target,
                    what: "pages",
                    limit: options.max_tag_pages,
                    option: "max_tag_pages",
                });
            }
            let reply = self
                .registry_request(
                    Request {
                        method: Method::GET,
                        url: url.clone(),
                        kind: RequestKind::Tags,
                        accept: Some("application/json"),
                        max_body: options.max_tag_page_bytes,
                        what: "tag list page",
                        operation: "listing tags",
                        target: &target,
                    },
                    repository,
                )
                .await?;
            expect_success(&reply, &target, "listing tags")?;
            let page: TagPage = serde_json::from_slice(&reply.body).map_err(|e| {
                RegistryError::InvalidResponse {
                    target: target.clone(),
                    what: "tag list",
                    problem: format!(
                        "page {pages} ({}) is not a JSON tag list: {e}",
                        path_and_query(&reply.url)
                    ),
                }
            })?;
            let before = tags.len();
            for tag in page.tags.unwrap_or_default() {
                if seen_tags.contains(&tag) {
                    continue;
                }
                seen_tags.insert(tag.clone());
                tags.push(tag);
                if tags.len() > options.max_tags {
                    return Err(RegistryError::TagLimit {
                        target,
                        what: "tags",
                        limit: options.max_tags,
                        option: "max_tags",
                    });
                }
            }
            let next =
                next_link(header_strs(&reply.headers, LINK), &reply.url).map_err(|problem| {
                    RegistryError::InvalidResponse {
                        target: target.clone(),
                        what: "tag list Link header",
                        problem,
                    }
                })?;
            let Some(next) = next else {
                break;
            };
            if tags.len() == before {
                idle_pages += 1;
                if idle_pages >= 3 {
                    return Err(RegistryError::PaginationLoop {
                        target,
                        url: path_and_query(&next),
                    });
                }
            } else {
                idle_pages = 0;
            }
            url = next;
        }
        debug!(registry = %self.api(), repository, tags = tags.len(), pages, "listed tags");
        Ok(tags)
    }

    /// The digest of the manifest (or index) `reference` (a tag or digest)
    /// points to: `HEAD` and `Docker-Content-Digest`; when the registry
    /// sends no such header (or refuses `HEAD`), a `GET` and the sha256 of
    /// the bytes.
    pub async fn manifest_digest(
        &self,
        repository: &str,
        reference: &str,
    ) -> Result<String, RegistryError> {
        let repo_target = Target::repository(self.api(), repository);
        let target = repo_target.with_manifest(reference);
        validate_repository(repository, &target)?;
        validate_reference(reference, &target)?;
        let url = self.url(&format!("/v2/{repository}/manifests/{reference}"))?;
        let reply = self
            .registry_request(
                Request {
                    method: Method::HEAD,
                    url,
                    kind: RequestKind::Manifest,
                    accept: Some(MANIFEST_ACCEPT),
                    max_body: 0,
                    what: "manifest",
                    operation: "checking the manifest digest",
                    target: &target,
                },
                repository,
            )
            .await?;
        match reply.status {
            200..=299 => {
                if let Some(digest) = header_str(&reply.headers, "docker-content-digest") {
                    let digest = digest.trim();
                    if is_valid_digest(digest) {
                        return Ok(digest.to_string());
                    }
                    warn!(registry = %self.api(), repository, reference, "Docker-Content-Digest is malformed; fetching the manifest to hash it");
                }
            }
            404 => {
                return Err(RegistryError::NotFound {
                    target,
                    detail: String::new(),
                });
            }
            400 | 405 | 501 => {
                debug!(registry = %self.api(), status = reply.status, "HEAD refused; falling back to GET");
            }
            _ => expect_success(&reply, &target, "checking the manifest digest")?,
        }
        Ok(self.manifest(repository, reference).await?.digest)
    }

    /// `GET` a manifest by tag or digest, with all four media types in
    /// `Accept`. By digest, the bytes must hash to it.
    pub async fn manifest(
        &self,
        repository: &str,
        reference: &str,
    ) -> Result<Manifest, RegistryError> {
        let target = Target::repository(self.api(), repository).with_manifest(reference);
        validate_repository(repository, &target)?;
        validate_reference(reference, &target)?;
        let url = self.url(&format!("/v2/{repository}/manifests/{reference}"))?;
        let reply = self
            .registry_request(
                Request {
                    method: Method::GET,
                    url,
                    kind: RequestKind::Manifest,
                    accept: Some(MANIFEST_ACCEPT),
                    max_body: self.inner.options.max_manifest_bytes,
                    what: "manifest",
                    operation: "fetching the manifest",
                    target: &target,
                },
                repository,
            )
            .await?;
        expect_success(&reply, &target, "fetching the manifest")?;
        let sent_digest = header_str(&reply.headers, "docker-content-digest").map(str::to_string);
        let content_type = header_str(&reply.headers, CONTENT_TYPE.as_str()).map(str::to_string);
        let manifest =
            Manifest::parse(reply.body, content_type.as_deref()).map_err(|p| match p {
                ManifestProblem::Invalid(problem) => RegistryError::InvalidResponse {
                    target: target.clone(),
                    what: "manifest",
                    problem,
                },
                ManifestProblem::Unsupported(media_type) => RegistryError::UnsupportedManifest {
                    target: target.clone(),
                    media_type,
                },
            })?;
        if reference.starts_with("sha256:") && manifest.digest != reference {
            return Err(RegistryError::DigestMismatch {
                target,
                expected: reference.to_string(),
                actual: manifest.digest,
            });
        }
        if let Some(sent) = sent_digest
            && sent.starts_with("sha256:")
            && sent != manifest.digest
        {
            warn!(registry = %self.api(), repository, reference, sent = %sent, computed = %manifest.digest,
                "Docker-Content-Digest differs from the sha256 of the manifest bytes; using the bytes' digest");
        }
        Ok(manifest)
    }

    /// `GET` a config blob (following redirects) and read `created`,
    /// platform and labels. The bytes must hash to `digest`.
    pub async fn config_blob(
        &self,
        repository: &str,
        digest: &str,
    ) -> Result<ImageConfig, RegistryError> {
        let target = Target::repository(self.api(), repository).with_blob(digest);
        validate_repository(repository, &target)?;
        if !is_valid_digest(digest) {
            return Err(RegistryError::InvalidName {
                target,
                problem: "the blob digest is not <algorithm>:<hex>".to_string(),
            });
        }
        let url = self.url(&format!("/v2/{repository}/blobs/{digest}"))?;
        let reply = self
            .registry_request(
                Request {
                    method: Method::GET,
                    url,
                    kind: RequestKind::Blob,
                    accept: None,
                    max_body: self.inner.options.max_config_bytes,
                    what: "config blob",
                    operation: "fetching the config blob",
                    target: &target,
                },
                repository,
            )
            .await?;
        expect_success(&reply, &target, "fetching the config blob")?;
        if digest.starts_with("sha256:") {
            let actual = sha256_digest(&reply.body);
            if actual != digest {
                return Err(RegistryError::DigestMismatch {
                    target,
                    expected: digest.to_string(),
                    actual,
                });
            }
        }
        ImageConfig::parse(&reply.body).map_err(|problem| RegistryError::InvalidResponse {
            target,
            what: "config blob",
            problem,
        })
    }

    /// A tag's digest, build time, platforms and labels, with Image
    /// Updater's platform rules (`updraft_core::platform::matches_any`;
    /// an empty `wanted` accepts every platform):
    /// - a single image: its config is fetched; when its platform is not
    ///   wanted, `platform_matched` is `false`;
    /// - an index / manifest list: the children whose platform is wanted are
    ///   fetched (manifest + config each); `created` is the newest of their
    ///   `created`. Attestation entries (`unknown/unknown`, or annotated
    ///   `vnd.docker.reference.type`) are never children. No wanted child →
    ///   `platform_matched: false` and nothing more is fetched.
    ///
    /// Requests: 2 for an image; 1 + 2 per matching child for an index.
    pub async fn tag_metadata(
        &self,
        repository: &str,
        tag: &str,
        wanted: &[Platform],
    ) -> Result<TagMetadata, RegistryError> {
        let manifest = self.manifest(repository, tag).await?;
        let mut images = Vec::new();
        let mut available = Vec::new();
        match &manifest.body {
            ManifestBody::Image { config } => {
                let cfg = self.config_blob(repository, &config.digest).await?;
                available.extend(cfg.platform.clone());
                let matched = match &cfg.platform {
                    Some(platform) => matches_any(wanted, platform),
                    None => wanted.is_empty(),
                };
                if matched {
                    images.push(ImageMetadata {
                        digest: manifest.digest.clone(),
                        config_digest: config.digest.clone(),
                        platform: cfg.platform,
                        created: cfg.created,
                        labels: cfg.labels,
                    });
                }
            }
            ManifestBody::Index { manifests } => {
                let children: Vec<_> = manifests
                    .iter()
                    .filter(|d| !is_attestation(d))
                    .map(|d| (d, d.platform.as_ref().and_then(|p| p.to_platform())))
                    .collect();
                for (_, platform) in &children {
                    if let Some(p) = platform
                        && !available.contains(p)
                    {
                        available.push(p.clone());
                    }
                }
                for (child, platform) in children {
                    let wanted_child = match &platform {
                        Some(p) => matches_any(wanted, p),
                        None => wanted.is_empty(),
                    };
                    if !wanted_child {
                        continue;
                    }
                    let child_manifest = self.manifest(repository, &child.digest).await?;
                    let ManifestBody::Image { config } = &child_manifest.body else {
                        warn!(registry = %self.api(), repository, tag, child = %child.digest,
                            "an index entry is itself an index; nested indexes are not inspected");
                        continue;
                    };
                    let cfg = self.config_blob(repository, &config.digest).await?;
                    images.push(ImageMetadata {
                        digest: child_manifest.digest.clone(),
                        config_digest: config.digest.clone(),
                        platform: platform.or(cfg.platform),
                        created: cfg.created,
                        labels: cfg.labels,
                    });
                }
            }
        }
        let platform_matched = !images.is_empty();
        if !platform_matched {
            debug!(registry = %self.api(), repository, tag,
                available = %available.iter().map(Platform::to_string).collect::<Vec<_>>().join(","),
                "no image of the tag matches the wanted platforms");
        }
        Ok(TagMetadata {
            tag: tag.to_string(),
            digest: manifest.digest,
            media_type: manifest.media_type,
            created: images.iter().filter_map(|i| i.created).max(),
            platform_matched,
            available_platforms: available,
            images,
        })
    }

    // ----- auth -----

    /// The auth scheme from `GET /v2/`, pinged once.
    async fn scheme(&self, target: &Target) -> Result<AuthScheme, RegistryError> {
        let mut guard = self.inner.scheme.lock().await;
        if let Some(scheme) = guard.as_ref() {
            return Ok(scheme.clone());
        }
        let url = self.url("/v2/")?;
        let reply = self
            .execute(
                &Request {
                    method: Method::GET,
                    url,
                    kind: RequestKind::Ping,
                    accept: None,
                    max_body: ERROR_BODY_LIMIT,
                    what: "ping answer",
                    operation: "checking /v2/",
                    target,
                },
                None,
            )
            .await?;
        let scheme = match reply.status {
            200..=299 => AuthScheme::Anonymous,
            401 => scheme_from(&reply.headers).ok_or_else(|| RegistryError::Challenge {
                target: target.clone(),
                problem: format!(
                    "GET /v2/ answered 401 without a Basic or Bearer challenge (WWW-Authenticate: {}); this client cannot authenticate to it",
                    header_str(&reply.headers, WWW_AUTHENTICATE.as_str()).unwrap_or("absent")
                ),
            })?,
            status => {
                return Err(RegistryError::Status {
                    target: target.clone(),
                    operation: "checking /v2/ (is api_url a Distribution v2 registry?)",
                    status,
                    detail: error_detail(&reply.body),
                    attempts: 1,
                });
            }
        };
        debug!(registry = %self.api(), ?scheme, "registry auth scheme");
        *guard = Some(scheme.clone());
        Ok(scheme)
    }

    /// Registry-level credentials (resolved once, cached until
    /// `credsexpire`), or the client's static ones.
    async fn credentials(&self) -> Result<Option<Credentials>, RegistryError> {
        match &self.creds.source {
            CredSource::None => Ok(None),
            CredSource::Static(c) => Ok(Some(c.clone())),
            CredSource::Configured { cached } => {
                let mut guard = cached.lock().await;
                let expire = self.inner.endpoint.creds_expire;
                if let Some((creds, at)) = guard.as_ref()
                    && expire.is_none_or(|e| at.elapsed() < e)
                {
                    return Ok(Some(creds.clone()));
                }
                let Some(spec) = self.inner.endpoint.credentials.as_ref() else {
                    return Ok(None);
                };
                self.inner
                    .counters
                    .credential_resolutions
                    .fetch_add(1, Ordering::Relaxed);
                let creds =
                    resolve_credentials(spec, &self.inner.endpoint, self.inner.options.ext_timeout)
                        .await?;
                *guard = Some((creds.clone(), Instant::now()));
                Ok(Some(creds))
            }
        }
    }

    async fn forget_credentials(&self) {
        if let CredSource::Configured { cached } = &self.creds.source {
            *cached.lock().await = None;
        }
    }

    /// The `Authorization` value for a registry request under `scheme`.
    async fn authorization(
        &self,
        scheme: &AuthScheme,
        scope: &str,
        target: &Target,
    ) -> Result<Option<Secret>, RegistryError> {
        match scheme {
            AuthScheme::Anonymous => Ok(None),
            AuthScheme::Basic => Ok(self.credentials().await?.map(|c| c.basic_authorization())),
            AuthScheme::Bearer { realm, service } => {
                let token = self
                    .bearer_token(realm, service.as_deref(), scope, target)
                    .await?;
                Ok(Some(Secret::new(format!("Bearer {}", token.expose()))))
            }
        }
    }

    fn token_key(realm: &str, service: Option<&str>, scope: &str) -> String {
        format!("{realm}|{}|{scope}", service.unwrap_or(""))
    }

    /// A Bearer token for `scope`, from the cache or the token server.
    async fn bearer_token(
        &self,
        realm: &str,
        service: Option<&str>,
        scope: &str,
        target: &Target,
    ) -> Result<Secret, RegistryError> {
        let key = Self::token_key(realm, service, scope);
        if let Some(token) = self.creds.cached_token(&key) {
            return Ok(token);
        }
        let _fetching = self.creds.token_fetch.lock().await;
        if let Some(token) = self.creds.cached_token(&key) {
            return Ok(token);
        }
        let realm_text = realm.split('?').next().unwrap_or(realm).to_string();
        let token_error = |problem: String| RegistryError::Token {
            target: target.clone(),
            realm: realm_text.clone(),
            problem,
        };
        let mut url = Url::parse(realm)
            .map_err(|e| token_error(format!("the challenge's realm is not a URL ({e})")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(token_error("the realm is not an http(s) URL".to_string()));
        }
        {
            let mut query = url.query_pairs_mut();
            if let Some(service) = service {
                query.append_pair("service", service);
            }
            query.append_pair("scope", scope);
        }
        let credentials = self.credentials().await?;
        let basic = credentials.as_ref().map(Credentials::basic_authorization);
        if basic.is_some()
            && url.scheme() == "http"
            && self.inner.endpoint.api_url.scheme() == "https"
        {
            return Err(token_error(
                "the token server uses plain http while the registry uses https; credentials are not sent over it (fix the registry's token realm)".to_string(),
            ));
        }
        let origin = origin(&url);
        let reply = self
            .execute(
                &Request {
                    method: Method::GET,
                    url,
                    kind: RequestKind::Token,
                    accept: Some("application/json"),
                    max_body: TOKEN_BODY_LIMIT,
                    what: "token response",
                    operation: "getting a token",
                    target,
                },
                basic.as_ref().map(|b| (origin, b)),
            )
            .await?;
        match reply.status {
            200..=299 => {}
            401 | 403 => {
                return Err(token_error(match &credentials {
                    Some(c) => format!(
                        "HTTP {}{}: the token server refused user '{}'; check the credentials",
                        reply.status,
                        error_detail(&reply.body),
                        c.username
                    ),
                    None => format!(
                        "HTTP {}{}: anonymous access is refused; configure credentials for this registry",
                        reply.status,
                        error_detail(&reply.body)
                    ),
                }));
            }
            status => {
                return Err(token_error(format!(
                    "HTTP {status}{}",
                    error_detail(&reply.body)
                )));
            }
        }
        let response: auth::TokenResponse = serde_json::from_slice(&reply.body)
            .map_err(|e| token_error(format!("the answer is not a JSON token response ({e})")))?;
        let (token, lifetime) = response.into_token().ok_or_else(|| {
            token_error("the answer has neither `token` nor `access_token`".to_string())
        })?;
        let token = Secret::new(token);
        let until = Instant::now() + lifetime - auth::refresh_margin(lifetime);
        lock(&self.creds.tokens).insert(key, (token.clone(), until));
        debug!(registry = %self.api(), scope, lifetime_s = lifetime.as_secs(), "got a token");
        Ok(token)
    }

    /// A request to the registry with auth: the scheme from the ping, and
    /// one retry after a 401 (new challenge, fresh token and credentials).
    async fn registry_request(
        &self,
        request: Request<'_>,
        repository: &str,
    ) -> Result<Reply, RegistryError> {
        let target = request.target;
        let scheme = self.scheme(target).await?;
        let scope = auth::pull_scope(repository, self.inner.endpoint.is_azure());
        let api_origin = origin(&self.inner.endpoint.api_url);
        let authorization = self.authorization(&scheme, &scope, target).await?;
        let reply = self
            .execute(
                &request,
                authorization.as_ref().map(|a| (api_origin.clone(), a)),
            )
            .await?;
        if !matches!(reply.status, 401 | 403) {
            return Ok(reply);
        }
        let challenges = parse_challenges(&reply.headers);
        let challenge = preferred(&challenges);
        // Configured credentials may have been rotated: re-resolving them is
        // worth one retry. A Bearer challenge is always worth one (expired
        // token, new scope, or the ping said anonymous). Basic credentials
        // not sent yet (the ping said anonymous) are worth one too.
        let refreshable = matches!(self.creds.source, CredSource::Configured { .. });
        let retry = match (reply.status, challenge) {
            (401, Some(Challenge::Bearer { .. })) => true,
            (401, Some(Challenge::Basic)) => {
                refreshable || (self.creds.has_credentials() && scheme != AuthScheme::Basic)
            }
            _ => refreshable,
        };
        if !retry {
            return Err(self.unauthorized(&reply, target, challenge));
        }
        // New scheme and scope from this challenge, fresh credentials and token.
        let (new_scheme, new_scope) = match challenge {
            Some(Challenge::Bearer {
                realm,
                service,
                scope: challenge_scope,
                ..
            }) => (
                AuthScheme::Bearer {
                    realm: realm.clone(),
                    service: service.clone(),
                },
                challenge_scope.clone().unwrap_or(scope.clone()),
            ),
            Some(Challenge::Basic) => (AuthScheme::Basic, scope.clone()),
            None => (scheme.clone(), scope.clone()),
        };
        if let AuthScheme::Bearer { realm, service } = &scheme {
            self.creds
                .forget_token(&Self::token_key(realm, service.as_deref(), &scope));
        }
        if let AuthScheme::Bearer { realm, service } = &new_scheme {
            self.creds
                .forget_token(&Self::token_key(realm, service.as_deref(), &new_scope));
        }
        self.forget_credentials().await;
        if new_scheme != scheme {
            debug!(registry = %self.api(), ?new_scheme, "the registry asked for another auth scheme");
            *self.inner.scheme.lock().await = Some(new_scheme.clone());
        }
        let authorization = self.authorization(&new_scheme, &new_scope, target).await?;
        let reply = self
            .execute(&request, authorization.as_ref().map(|a| (api_origin, a)))
            .await?;
        if matches!(reply.status, 401 | 403) {
            let challenges = parse_challenges(&reply.headers);
            return Err(self.unauthorized(&reply, target, preferred(&challenges)));
        }
        Ok(reply)
    }

    fn unauthorized(
        &self,
        reply: &Reply,
        target: &Target,
        challenge: Option<&Challenge>,
    ) -> RegistryError {
        let insufficient = matches!(challenge, Some(Challenge::Bearer { error: Some(e), .. }) if e == "insufficient_scope");
        let hint = match &self.creds.source {
            CredSource::None => "the registry wants credentials and none are configured: set `credentials` for this registry in registries.conf (env:, file:, ext: or dockerconfig:)".to_string(),
            _ if insufficient => "the credentials lack pull access to this repository (insufficient_scope): grant the account pull/read access".to_string(),
            _ => "the registry refused the configured credentials: check the user, password or token and that the account can pull this repository".to_string(),
        };
        RegistryError::Unauthorized {
            target: target.clone(),
            status: reply.status,
            detail: error_detail(&reply.body),
            hint,
        }
    }

    // ----- transport -----

    /// Sends a request with retries; `authorization` goes only to its
    /// origin.
    async fn execute(
        &self,
        request: &Request<'_>,
        authorization: Option<(Origin, &Secret)>,
    ) -> Result<Reply, RegistryError> {
        let policy = &self.inner.options.retry;
        let max_attempts = policy.max_attempts.max(1);
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let outcome = self.attempt(request, authorization.as_ref()).await;
            let delay = match outcome {
                Ok(reply) if is_retryable_status(reply.status) => {
                    let retry_after = header_str(&reply.headers, RETRY_AFTER.as_str())
                        .and_then(|v| parse_retry_after(v, chrono::Utc::now()));
                    if let Some(wait) = retry_after
                        && wait > policy.max_retry_after
                    {
                        return Err(RegistryError::RetryAfterTooLong {
                            target: request.target.clone(),
                            operation: request.operation,
                            status: reply.status,
                            wait_secs: wait.as_secs(),
                            max_secs: policy.max_retry_after.as_secs(),
                        });
                    }
                    if attempt >= max_attempts {
                        return Err(RegistryError::Status {
                            target: request.target.clone(),
                            operation: request.operation,
                            status: reply.status,
                            detail: error_detail(&reply.body),
                            attempts: attempt,
                        });
                    }
                    let wait = retry_after.unwrap_or_else(|| policy.backoff(attempt));
                    warn!(registry = %self.api(), target = %request.target, status = reply.status,
                        attempt, wait_ms = wait.as_millis() as u64, "{} failed; retrying", request.operation);
                    wait
                }
                Ok(reply) => return Ok(reply),
                Err(AttemptError::Fatal(e)) => return Err(e),
                Err(AttemptError::Transport { cause, timed_out }) => {
                    if attempt >= max_attempts {
                        return Err(RegistryError::Transport {
                            target: request.target.clone(),
                            operation: request.operation,
                            attempts: attempt,
                            cause,
                            timed_out,
                        });
                    }
                    let wait = policy.backoff(attempt);
                    warn!(registry = %self.api(), target = %request.target, %cause, attempt,
                        wait_ms = wait.as_millis() as u64, "{} failed; retrying", request.operation);
                    wait
                }
            };
            tokio::time::sleep(delay).await;
        }
    }

    /// One attempt: redirects followed, body read within its cap.
    async fn attempt(
        &self,
        request: &Request<'_>,
        authorization: Option<&(Origin, &Secret)>,
    ) -> Result<Reply, AttemptError> {
        let api_origin = origin(&self.inner.endpoint.api_url);
        let max_redirects = self.inner.options.max_redirects;
        let mut url = request.url.clone();
        let mut hops = 0usize;
        loop {
            let here = origin(&url);
            if here == api_origin
                && let Some(limiter) = &self.inner.limiter
            {
                limiter.acquire().await;
            }
            self.inner.counters.add(request.kind);
            let mut builder = self.inner.http.request(request.method.clone(), url.clone());
            if let Some(accept) = request.accept {
                builder = builder.header(ACCEPT, accept);
            }
            if let Some((auth_origin, secret)) = authorization
                && *auth_origin == here
            {
                let mut value = HeaderValue::from_str(secret.expose()).map_err(|_| {
                    AttemptError::Fatal(RegistryError::Challenge {
                        target: request.target.clone(),
                        problem: "the credentials or token contain characters not allowed in an HTTP header".to_string(),
                    })
                })?;
                value.set_sensitive(true);
                builder = builder.header(AUTHORIZATION, value);
            }
            debug!(registry = %self.api(), kind = ?request.kind, method = %request.method, path = %url.path(), "request");
            let mut response = builder.send().await.map_err(|e| AttemptError::Transport {
                cause: updraft_net::describe(&e),
                timed_out: e.is_timeout(),
            })?;
            let status = response.status().as_u16();
            if matches!(status, 301 | 302 | 303 | 307 | 308)
                && let Some(location) = response.headers().get(LOCATION)
            {
                let fatal = |problem: String| {
                    AttemptError::Fatal(RegistryError::InvalidResponse {
                        target: request.target.clone(),
                        what: "redirect",
                        problem,
                    })
                };
                hops += 1;
                if hops > max_redirects {
                    return Err(fatal(format!("more than {max_redirects} redirects")));
                }
                let location = location
                    .to_str()
                    .map_err(|_| fatal("the Location header is not text".to_string()))?;
                let next = url
                    .join(location)
                    .map_err(|e| fatal(format!("Location '{location}' is not a URL ({e})")))?;
                if url.scheme() == "https" && next.scheme() != "https" {
                    return Err(fatal(format!(
                        "a redirect from https to {} was refused",
                        next.scheme()
                    )));
                }
                debug!(registry = %self.api(), from = %url.path(), to_host = next.host_str().unwrap_or(""), "redirect");
                url = next;
                continue;
            }
            let headers = response.headers().clone();
            let success = (200..300).contains(&status);
            let body = if request.method == Method::HEAD {
                Vec::new()
            } else {
                let limit = if success {
                    request.max_body
                } else {
                    ERROR_BODY_LIMIT
                };
                if success
                    && let Some(length) = response.content_length()
                    && length > limit as u64
                {
                    return Err(AttemptError::Fatal(RegistryError::TooLarge {
                        target: request.target.clone(),
                        what: request.what,
                        limit,
                    }));
                }
                let mut body = Vec::new();
                loop {
                    match response.chunk().await {
                        Ok(Some(chunk)) => {
                            if body.len() + chunk.len() > limit {
                                if success {
                                    return Err(AttemptError::Fatal(RegistryError::TooLarge {
                                        target: request.target.clone(),
                                        what: request.what,
                                        limit,
                                    }));
                                }
                                break;
                            }
                            body.extend_from_slice(&chunk);
                        }
                        Ok(None) => break,
                        Err(e) => {
                            return Err(AttemptError::Transport {
                                cause: format!(
                                    "reading the {}: {}",
                                    request.what,
                                    updraft_net::describe(&e)
                                ),
                                timed_out: e.is_timeout(),
                            });
                        }
                    }
                }
                body
            };
            debug!(registry = %self.api(), kind = ?request.kind, status, bytes = body.len(), "response");
            return Ok(Reply {
                status,
                headers,
                body,
                url,
            });
        }
    }
}

/// `(scheme, host, port)`.
type Origin = (String, String, Option<u16>);

fn origin(url: &Url) -> Origin {
    (
        url.scheme().to_string(),
        url.host_str().unwrap_or("").to_ascii_lowercase(),
        url.port_or_known_default(),
    )
}

fn path_and_query(url: &Url) -> String {
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    }
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn header_strs(
    headers: &HeaderMap,
    name: reqwest::header::HeaderName,
) -> impl Iterator<Item = &str> {
    headers
        .get_all(name)
        .into_iter()
        .filter_map(|v| v.to_str().ok())
}

fn parse_challenges(headers: &HeaderMap) -> Vec<Challenge> {
    auth::parse_challenges(header_strs(headers, WWW_AUTHENTICATE))
}

/// Bearer over Basic.
fn preferred(challenges: &[Challenge]) -> Option<&Challenge> {
    challenges
        .iter()
        .find(|c| matches!(c, Challenge::Bearer { .. }))
        .or_else(|| challenges.first())
}

fn scheme_from(headers: &HeaderMap) -> Option<AuthScheme> {
    let challenges = parse_challenges(headers);
    match preferred(&challenges)? {
        Challenge::Basic => Some(AuthScheme::Basic),
        Challenge::Bearer { realm, service, .. } => Some(AuthScheme::Bearer {
            realm: realm.clone(),
            service: service.clone(),
        }),
    }
}

/// Maps a non-2xx status to its error.
fn expect_success(
    reply: &Reply,
    target: &Target,
    operation: &'static str,
) -> Result<(), RegistryError> {
    match reply.status {
        200..=299 => Ok(()),
        404 => Err(RegistryError::NotFound {
            target: target.clone(),
            detail: error_detail(&reply.body),
        }),
        status => Err(RegistryError::Status {
            target: target.clone(),
            operation,
            status,
            detail: error_detail(&reply.body),
            attempts: 1,
        }),
    }
}

/// `: CODE: message` from a Distribution error body, cut to one short line;
/// empty for anything else (an HTML error page says nothing useful).
fn error_detail(body: &[u8]) -> String {
    #[derive(Deserialize)]
    struct Errors {
        #[serde(default)]
        errors: Vec<ErrorEntry>,
    }
    #[derive(Deserialize)]
    struct ErrorEntry {
        #[serde(default)]
        code: String,
        #[serde(default)]
        message: String,
    }
    let Ok(parsed) = serde_json::from_slice::<Errors>(body) else {
        return String::new();
    };
    let text = parsed
        .errors
        .iter()
        .map(|e| format!("{}: {}", e.code, e.message))
        .collect::<Vec<_>>()
        .join("; ");
    if text.is_empty() {
        return String::new();
    }
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(200)
        .collect();
    format!(" ({one_line})")
}

fn is_attestation(descriptor: &crate::manifest::Descriptor) -> bool {
    descriptor
        .annotations
        .contains_key("vnd.docker.reference.type")
        || descriptor
            .platform
            .as_ref()
            .is_some_and(|p| p.os == "unknown" && p.architecture == "unknown")
}

/// Repository names per the Distribution grammar: lowercase path components
/// of `[a-z0-9]` joined by `.`, `_`, `__`, `-`.
fn validate_repository(repository: &str, target: &Target) -> Result<(), RegistryError> {
    let bad = |problem: &str| RegistryError::InvalidName {
        target: target.clone(),
        problem: format!("the repository name is invalid: {problem}"),
    };
    if repository.is_empty() {
        return Err(bad("it is empty"));
    }
    if repository.len() > 255 {
        return Err(bad("it is longer than 255 characters"));
    }
    for component in repository.split('/') {
        if component.is_empty() {
            return Err(bad("it has an empty path component"));
        }
        if !component
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
        {
            return Err(bad(
                "components may only hold lowercase letters, digits, '.', '_' and '-'",
            ));
        }
        let first_last_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
        if !first_last_ok(component.chars().next()) || !first_last_ok(component.chars().last()) {
            return Err(bad("components must start and end with a letter or digit"));
        }
    }
    Ok(())
}

/// A tag (`[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`) or a digest.
fn validate_reference(reference: &str, target: &Target) -> Result<(), RegistryError> {
    if reference.contains(':') {
        if is_valid_digest(reference) {
            return Ok(());
        }
        return Err(RegistryError::InvalidName {
            target: target.clone(),
            problem: "the digest is not <algorithm>:<hex>".to_string(),
        });
    }
    let mut chars = reference.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if first_ok && rest_ok && reference.len() <= 128 {
        Ok(())
    } else {
        Err(RegistryError::InvalidName {
            target: target.clone(),
            problem: "the tag is invalid (1–128 of letters, digits, '_', '.', '-'; not starting with '.' or '-')".to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_validated() {
        let t = Target::registry("r");
        for ok in ["library/nginx", "a", "team/app-1", "a.b_c/d__e"] {
            assert!(validate_repository(ok, &t).is_ok(), "{ok}");
        }
        for bad in ["", "Team/app", "a//b", "a/", "-a", "a/b?x", "a/../b", "a b"] {
            assert!(validate_repository(bad, &t).is_err(), "{bad}");
        }
        for ok in ["v1.2.3", "latest", "_x", "A-b.c"] {
            assert!(validate_reference(ok, &t).is_ok(), "{ok}");
        }
        for bad in ["", ".x", "-x", "a/b", "sha256:zz", &"x".repeat(129)] {
            assert!(validate_reference(bad, &t).is_err(), "{bad}");
        }
    }

    #[test]
    fn error_details_are_short_and_structured() {
        assert_eq!(
            error_detail(br#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":null}]}"#),
            " (UNAUTHORIZED: authentication required)"
        );
        assert_eq!(error_detail(b"<html>502</html>"), "");
        assert_eq!(error_detail(br#"{"errors":[]}"#), "");
        let long = format!(
            r#"{{"errors":[{{"code":"X","message":"{}"}}]}}"#,
            "m".repeat(500)
        );
        assert!(error_detail(long.as_bytes()).len() < 220);
    }

    #[test]
    fn counts_arithmetic() {
        let a = RequestCounts {
            ping: 1,
            token: 2,
            tags: 3,
            manifest: 4,
            blob: 5,
        };
        assert_eq!(a.total(), 15);
        assert_eq!((a + a).since(&a), a);
    }
}
