//! A scripted registry for what Debian's registry 2.8 cannot do: `Link`
//! pagination (2.8 ignores `n`), a `Link` loop, 429 with `Retry-After`, 5xx,
//! slow answers, truncated JSON, 100,000 tags, a `HEAD` without
//! `Docker-Content-Digest`, blob redirects to another origin, and a tag that
//! is listed before its manifest can be read (`lagging/app`: 404 twice). It is an
//! axum server on 127.0.0.1:0; the repository name picks the behaviour, and
//! every request is recorded.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use base64::Engine as _;
use serde_json::json;

use super::support::digest_of;

/// The tag names of the large repositories: `t000000` … `t099999`.
pub const HUGE_TAGS: usize = 100_000;

/// One request as the fake saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub authorization: bool,
}

#[derive(Default)]
struct Shared {
    seen: Vec<Seen>,
    counters: HashMap<String, u32>,
}

#[derive(Clone)]
struct AppState {
    shared: Arc<Mutex<Shared>>,
    base: String,
    basic: Option<String>,
    blob_store: Option<String>,
}

/// A running fake (stopped when dropped).
pub struct Fake {
    pub url: String,
    shared: Arc<Mutex<Shared>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Fake {
    /// Every request seen so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.shared.lock().unwrap().seen.clone()
    }

    /// Requests whose path contains `needle`.
    pub fn count(&self, needle: &str) -> usize {
        self.seen()
            .iter()
            .filter(|s| s.path.contains(needle))
            .count()
    }
}

/// Options of a fake.
#[derive(Default, Clone)]
pub struct FakeOptions {
    /// Require this `user:password` (Basic) on every request.
    pub basic: Option<(String, String)>,
    /// Redirect blob GETs to this base URL (another origin).
    pub blob_store: Option<String>,
}

/// The config blob the fake serves for `redirect/app` and `mismatch/app`.
pub fn config_bytes() -> Vec<u8> {
    serde_json::to_vec(&json!({
        "created": "2024-05-01T10:00:00Z",
        "os": "linux",
        "architecture": "amd64",
        "config": {"Labels": {"source": "fake"}}
    }))
    .unwrap()
}

/// The image manifest the fake serves (config: [`config_bytes`]).
pub fn image_manifest() -> Vec<u8> {
    let config = config_bytes();
    serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest_of(&config), "size": config.len()},
        "layers": []
    }))
    .unwrap()
}

/// Starts a fake registry.
pub async fn start(options: FakeOptions) -> Fake {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let shared = Arc::new(Mutex::new(Shared::default()));
    let state = AppState {
        shared: shared.clone(),
        base: url.clone(),
        basic: options.basic.map(|(u, p)| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
            )
        }),
        blob_store: options.blob_store,
    };
    let app = axum::Router::new().fallback(handle).with_state(state);
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Fake { url, shared, task }
}

/// Starts a "blob store": another origin that serves [`config_bytes`] for
/// any path and records whether an `Authorization` header arrived.
pub async fn start_blob_store() -> Fake {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let shared = Arc::new(Mutex::new(Shared::default()));
    let state = shared.clone();
    let app = axum::Router::new().fallback(move |request: Request| {
        let state = state.clone();
        async move {
            record(&state, &request);
            Response::builder()
                .status(200)
                .header("Content-Type", "application/octet-stream")
                .body(Body::from(config_bytes()))
                .unwrap()
        }
    });
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Fake { url, shared, task }
}

fn record(shared: &Arc<Mutex<Shared>>, request: &Request) {
    shared.lock().unwrap().seen.push(Seen {
        method: request.method().to_string(),
        path: request.uri().path().to_string(),
        query: request.uri().query().map(str::to_string),
        authorization: request.headers().contains_key("authorization"),
    });
}

fn respond(status: u16, headers: &[(&str, String)], body: impl Into<Body>) -> Response {
    let mut builder = Response::builder().status(status);
    for (k, v) in headers {
        builder = builder.header(*k, v);
    }
    builder.body(body.into()).unwrap()
}

fn json_response(value: serde_json::Value, extra: &[(&str, String)]) -> Response {
    let mut headers = vec![("Content-Type", "application/json".to_string())];
    headers.extend_from_slice(extra);
    respond(200, &headers, serde_json::to_vec(&value).unwrap())
}

fn query_param(query: Option<&str>, key: &str) -> Option<String> {
    query?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == key).then(|| v.to_string())
    })
}

async fn handle(State(state): State<AppState>, request: Request) -> Response {
    record(&state.shared, &request);
    if let Some(expected) = &state.basic {
        let given = request
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok());
        if given != Some(expected.as_str()) {
            return respond(
                401,
                &[("WWW-Authenticate", "Basic realm=\"fake\"".to_string())],
                r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#,
            );
        }
    }
    let path = request.uri().path().to_string();
    let query = request.uri().query().map(str::to_string);
    if path == "/v2/" || path == "/v2" {
        return json_response(json!({}), &[]);
    }
    let Some(rest) = path.strip_prefix("/v2/") else {
        return respond(404, &[], "");
    };
    if let Some(repo) = rest.strip_suffix("/tags/list") {
        return tags(&state, repo, query.as_deref()).await;
    }
    if let Some((repo, reference)) = rest.split_once("/manifests/") {
        if repo == "lagging/app" && bump(&state, "lagging/app manifest") <= 2 {
            return respond(
                404,
                &[("Content-Type", "application/json".to_string())],
                r#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"#,
            );
        }
        return manifests(request.method(), repo, reference);
    }
    if let Some((repo, digest)) = rest.split_once("/blobs/") {
        return blobs(&state, repo, digest, request.headers());
    }
    respond(404, &[], "")
}

/// Bumps and returns a per-scenario counter (1 on the first call).
fn bump(state: &AppState, key: &str) -> u32 {
    let mut shared = state.shared.lock().unwrap();
    let counter = shared.counters.entry(key.to_string()).or_insert(0);
    *counter += 1;
    *counter
}

/// Serves `all` in pages of `n` (capped at `cap`) after `last`, with a
/// `Link` to the next page (relative, or absolute on `base`).
fn paged(
    repo: &str,
    all: &[String],
    query: Option<&str>,
    cap: usize,
    absolute: Option<&str>,
) -> Response {
    let n = query_param(query, "n")
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(100)
        .clamp(1, cap);
    let start = match query_param(query, "last") {
        Some(last) => all
            .iter()
            .position(|t| *t == last)
            .map_or(all.len(), |i| i + 1),
        None => 0,
    };
    let page: Vec<&String> = all.iter().skip(start).take(n).collect();
    let mut extra = Vec::new();
    if start + page.len() < all.len()
        && let Some(last) = page.last()
    {
        let target = format!("/v2/{repo}/tags/list?n={n}&last={last}");
        let target = match absolute {
            Some(base) => format!("{base}{target}"),
            None => target,
        };
        extra.push(("Link", format!("<{target}>; rel=\"next\"")));
    }
    json_response(json!({"name": repo, "tags": page}), &extra)
}

fn names(prefix: &str, count: usize) -> Vec<String> {
    (0..count).map(|i| format!("{prefix}{i:06}")).collect()
}

async fn tags(state: &AppState, repo: &str, query: Option<&str>) -> Response {
    match repo {
        "small/app" => json_response(json!({"name": repo, "tags": ["a", "b"]}), &[]),
        "lagging/app" => json_response(json!({"name": repo, "tags": ["v1"]}), &[]),
        "paged/app" => paged(repo, &names("t", 250), query, 100, None),
        "absolute/app" => paged(repo, &names("t", 250), query, 100, Some(&state.base)),
        "huge/app" => paged(repo, &names("t", HUGE_TAGS), query, 10_000, None),
        "onepage/app" => json_response(json!({"name": repo, "tags": names("t", HUGE_TAGS)}), &[]),
        "loop/app" => {
            // a,b → c,d → e,f → back to the second page.
            let (tags, next) = match query_param(query, "last").as_deref() {
                None => (["a", "b"], "b"),
                Some("b") => (["c", "d"], "d"),
                _ => (["e", "f"], "b"),
            };
            json_response(
                json!({"name": repo, "tags": tags}),
                &[(
                    "Link",
                    format!("</v2/{repo}/tags/list?n=2&last={next}>; rel=\"next\""),
                )],
            )
        }
        "stuck/app" => {
            // Always the same tags, with an ever new next URL.
            let page = bump(state, repo);
            json_response(
                json!({"name": repo, "tags": ["a", "b"]}),
                &[(
                    "Link",
                    format!("</v2/{repo}/tags/list?n=2&last=b&page={page}>; rel=\"next\""),
                )],
            )
        }
        "ratelimited/app" => {
            if bump(state, repo) == 1 {
                respond(
                    429,
                    &[("Retry-After", "1".to_string())],
                    r#"{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}"#,
                )
            } else {
                json_response(json!({"name": repo, "tags": ["x", "y"]}), &[])
            }
        }
        "ratelimited-date/app" => {
            if bump(state, repo) == 1 {
                let at = chrono::Utc::now() + chrono::Duration::seconds(2);
                respond(
                    429,
                    &[(
                        "Retry-After",
                        at.format("%a, %d %b %Y %H:%M:%S GMT").to_string(),
                    )],
                    "",
                )
            } else {
                json_response(json!({"name": repo, "tags": ["x"]}), &[])
            }
        }
        "ratelimited-long/app" => respond(429, &[("Retry-After", "3600".to_string())], ""),
        "flaky/app" => {
            if bump(state, repo) <= 2 {
                respond(503, &[], "<html>unavailable</html>")
            } else {
                json_response(json!({"name": repo, "tags": ["ok"]}), &[])
            }
        }
        "broken/app" => respond(
            500,
            &[("Content-Type", "application/json".to_string())],
            r#"{"errors":[{"code":"UNKNOWN","message":"database on fire"}]}"#,
        ),
        "slow/app" => {
            tokio::time::sleep(Duration::from_secs(5)).await;
            json_response(json!({"name": repo, "tags": ["late"]}), &[])
        }
        "truncated/app" => respond(
            200,
            &[("Content-Type", "application/json".to_string())],
            r#"{"name":"truncated/app","tags":["a","b""#,
        ),
        _ => respond(
            404,
            &[("Content-Type", "application/json".to_string())],
            r#"{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}"#,
        ),
    }
}

fn manifests(method: &Method, repo: &str, _reference: &str) -> Response {
    let body = image_manifest();
    let media = (
        "Content-Type",
        "application/vnd.oci.image.manifest.v1+json".to_string(),
    );
    match repo {
        // No Docker-Content-Digest: the client must GET and hash.
        "nodigest/app" | "redirect/app" | "mismatch/app" | "lagging/app" => {
            let mut headers = vec![media, ("Content-Length", body.len().to_string())];
            if repo != "nodigest/app" {
                headers.push(("Docker-Content-Digest", digest_of(&body)));
            }
            if *method == Method::HEAD {
                respond(200, &headers, Body::empty())
            } else {
                respond(200, &headers, body)
            }
        }
        _ => respond(404, &[], ""),
    }
}

fn blobs(state: &AppState, repo: &str, digest: &str, _headers: &HeaderMap) -> Response {
    match (repo, &state.blob_store) {
        ("redirect/app", Some(store)) => respond(
            307,
            &[(
                "Location",
                format!("{store}/storage/{digest}?signature=abc"),
            )],
            "",
        ),
        ("mismatch/app", _) => respond(
            200,
            &[("Content-Type", "application/octet-stream".to_string())],
            r#"{"created":"2020-01-01T00:00:00Z"}"#,
        ),
        _ => {
            let config = config_bytes();
            if digest == digest_of(&config) {
                respond(200, &[], config)
            } else {
                respond(404, &[], StatusCode::NOT_FOUND.to_string())
            }
        }
    }
}
