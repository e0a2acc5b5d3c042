//! The Function Compute custom runtime over real HTTP: a server on
//! `127.0.0.1:0`, reqwest as FC.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::post;
use futures::future::BoxFuture;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use updraft_runtime::fc::{self, FcConfig};
use updraft_runtime::{Credentials, Handler, HandlerError, Invocation};

/// Echoes what it was given; `{"bad": true}` is a bad event, `{"fail":
/// "…"}` a failure.
#[derive(Default)]
struct Echo {
    initialized: AtomicUsize,
    /// The key ids handed to `use_credentials`, in order.
    rotated: Mutex<Vec<String>>,
    /// Invocations that have started a `sleep_ms`.
    sleeping: AtomicUsize,
}

impl Echo {
    /// Until an invocation is inside its `sleep_ms`.
    async fn wait_sleeping(&self) {
        while self.sleeping.load(Ordering::SeqCst) == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    fn rotated(&self) -> Vec<String> {
        self.rotated.lock().expect("lock").clone()
    }
}

impl Handler for Echo {
    fn handle(
        &self,
        invocation: Invocation,
        event: Value,
    ) -> BoxFuture<'_, Result<Value, HandlerError>> {
        Box::pin(async move {
            if event == json!({"bad": true}) {
                return Err(HandlerError::BadEvent("bad event".into()));
            }
            if let Some(message) = event.get("fail").and_then(Value::as_str) {
                return Err(HandlerError::Failed(message.into()));
            }
            if let Some(ms) = event.get("sleep_ms").and_then(Value::as_u64) {
                self.sleeping.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(ms)).await;
            }
            let credentials = invocation.credentials.as_ref().map(|c| {
                json!({
                    "id": c.access_key_id,
                    "secret": c.access_key_secret.expose(),
                    "token": c.security_token.as_ref().map(|t| t.expose()),
                })
            });
            Ok(json!({
                "function": invocation.function,
                "request_id": invocation.request_id,
                "event": event,
                "credentials": credentials,
            }))
        })
    }

    fn initialize(&self) -> BoxFuture<'_, Result<(), HandlerError>> {
        Box::pin(async move {
            self.initialized.fetch_add(1, Ordering::SeqCst);
            Ok(())
        })
    }

    fn use_credentials(&self, credentials: &Credentials) {
        self.rotated
            .lock()
            .expect("lock")
            .push(credentials.access_key_id.clone());
    }
}

/// Fails to initialize.
struct Broken;

impl Handler for Broken {
    fn handle(&self, _: Invocation, _: Value) -> BoxFuture<'_, Result<Value, HandlerError>> {
        Box::pin(async {
            Err(HandlerError::UnknownFunction(
                "no such function: nope".into(),
            ))
        })
    }

    fn initialize(&self) -> BoxFuture<'_, Result<(), HandlerError>> {
        Box::pin(async { Err(HandlerError::Failed("plugins did not compile".into())) })
    }
}

struct Server {
    base: String,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Server {
    async fn start(handler: Arc<dyn Handler>, config: FcConfig) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let extra = Router::new().route(
            "/webhook/{kind}",
            post(
                |axum::extract::Path(kind): axum::extract::Path<String>, body: String| async move {
                    (axum::http::StatusCode::ACCEPTED, format!("{kind}:{body}"))
                },
            ),
        );
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            fc::serve_listener(listener, handler, &config, extra, async {
                let _ = stopped.await;
            })
            .await
        });
        Server {
            base,
            stop: Some(stop),
            task,
        }
    }

    async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task.await.expect("join").expect("serve");
    }
}

fn config(function: &str) -> FcConfig {
    FcConfig {
        function: function.into(),
        listen: "127.0.0.1:0".parse().expect("addr"),
        credentials: None,
        pre_stop_wait: Duration::from_secs(5),
    }
}

/// `/pre-stop` answers once the running invocation has finished; with a
/// shorter wait than the work, 503 and a message saying so.
#[tokio::test]
async fn pre_stop_waits_for_running_work() {
    let echo = Arc::new(Echo::default());
    let server = Server::start(echo.clone(), config("pipeline")).await;
    let client = reqwest::Client::new();
    let started = Instant::now();
    let invoke = tokio::spawn({
        let (client, base) = (client.clone(), server.base.clone());
        async move {
            let r = client
                .post(format!("{base}/invoke"))
                .body(json!({"sleep_ms": 600}).to_string())
                .send()
                .await
                .expect("invoke");
            r.status()
        }
    });
    echo.wait_sleeping().await;
    let r = client
        .get(format!("{}/pre-stop", server.base))
        .send()
        .await
        .expect("pre-stop");
    let stopped = Instant::now();
    assert_eq!(r.status(), 200);
    let status = invoke.await.expect("join");
    assert_eq!(status, 200);
    // The hook waited for the invocation (600 ms, started 100 ms before it).
    assert!(stopped.duration_since(started) >= Duration::from_millis(550));
    // Nothing runs: the hook answers at once.
    let quick = Instant::now();
    let r = client
        .get(format!("{}/pre-stop", server.base))
        .send()
        .await
        .expect("pre-stop");
    assert_eq!(r.status(), 200);
    assert!(quick.elapsed() < Duration::from_millis(500));
    server.shutdown().await;

    let mut short = config("pipeline");
    short.pre_stop_wait = Duration::from_millis(100);
    let echo = Arc::new(Echo::default());
    let server = Server::start(echo.clone(), short).await;
    let invoke = tokio::spawn({
        let (client, base) = (client.clone(), server.base.clone());
        async move {
            client
                .post(format!("{base}/invoke"))
                .body(json!({"sleep_ms": 1500}).to_string())
                .send()
                .await
                .expect("invoke")
                .status()
        }
    });
    echo.wait_sleeping().await;
    let r = client
        .get(format!("{}/pre-stop", server.base))
        .send()
        .await
        .expect("pre-stop");
    assert_eq!(r.status(), 503);
    assert_eq!(
        r.headers().get("x-fc-status").map(|v| v.as_bytes()),
        Some(&b"503"[..])
    );
    let body = r.json::<Value>().await.expect("json");
    assert_eq!(body["errorType"], "StillRunning", "{body}");
    assert!(
        body["errorMessage"]
            .as_str()
            .is_some_and(|m| m.contains("1 request(s) still running")),
        "{body}"
    );
    assert_eq!(invoke.await.expect("join"), 200);
    server.shutdown().await;
}

#[tokio::test]
async fn serves_the_custom_runtime_contract() {
    let echo = Arc::new(Echo::default());
    let server = Server::start(echo.clone(), config("poll-registry")).await;
    let client = reqwest::Client::new();

    // Health check.
    let r = client
        .get(format!("{}/healthz", server.base))
        .send()
        .await
        .expect("healthz");
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.expect("json"),
        json!({"status": "ok"})
    );

    // Initializer hook.
    let r = client
        .post(format!("{}/initialize", server.base))
        .send()
        .await
        .expect("initialize");
    assert_eq!(r.status(), 200);
    assert_eq!(echo.initialized.load(Ordering::SeqCst), 1);

    // A timer trigger, with the headers FC adds.
    let timer = json!({
        "triggerTime": "2026-11-26T07:49:00Z",
        "triggerName": "poll-every-5m",
        "payload": "{\"job\":\"poll\",\"tenant\":\"default\"}",
    });
    let r = client
        .post(format!("{}/invoke", server.base))
        .header("content-type", "application/octet-stream")
        .header("x-fc-request-id", "1-6751b2c4-0f3a2b1c9d8e7f6a5b4c3d2e")
        .header("x-fc-function-name", "poll-registry")
        .header("x-fc-access-key-id", "STS.NUxxxxxxxx")
        .header("x-fc-access-key-secret", "secret-xxxx")
        .header("x-fc-security-token", "CAIS-token")
        .body(timer.to_string())
        .send()
        .await
        .expect("invoke");
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers().get("x-fc-status").map(|v| v.as_bytes()),
        Some(&b"200"[..])
    );
    assert_eq!(
        r.json::<Value>().await.expect("json"),
        json!({
            "function": "poll-registry",
            "request_id": "1-6751b2c4-0f3a2b1c9d8e7f6a5b4c3d2e",
            "event": {"job": "poll", "tenant": "default"},
            "credentials": {"id": "STS.NUxxxxxxxx", "secret": "secret-xxxx", "token": "CAIS-token"},
        })
    );
    // The handler was handed them before it ran.
    assert_eq!(echo.rotated(), ["STS.NUxxxxxxxx"]);

    // A timer with no trigger message: a null event.
    let r = client
        .post(format!("{}/invoke", server.base))
        .header("x-fc-request-id", "req-2")
        .body(json!({"triggerTime": "t", "triggerName": "n", "payload": ""}).to_string())
        .send()
        .await
        .expect("invoke");
    assert_eq!(r.status(), 200);
    let body = r.json::<Value>().await.expect("json");
    assert_eq!(body["event"], Value::Null);
    assert_eq!(body["credentials"], Value::Null);

    // An async-destination envelope passes through.
    let envelope =
        json!({"requestContext": {"requestId": "r"}, "responsePayload": {"kind": "resolve"}});
    let r = client
        .post(format!("{}/invoke", server.base))
        .body(envelope.to_string())
        .send()
        .await
        .expect("invoke");
    assert_eq!(r.status(), 200);
    let body = r.json::<Value>().await.expect("json");
    assert_eq!(body["event"], envelope);
    assert!(body["request_id"].as_str().is_some_and(|id| !id.is_empty()));

    // Failures: 404, x-fc-status: 404, the error body.
    for (event, error_type, message) in [
        (
            json!({"bad": true}).to_string(),
            "BadEvent",
            Some("bad event"),
        ),
        (
            json!({"fail": "registry down"}).to_string(),
            "Failed",
            Some("registry down"),
        ),
        ("{not json".to_owned(), "BadEvent", None),
        (
            json!({"triggerTime": "t", "triggerName": "n", "payload": "awesome-fc"}).to_string(),
            "BadEvent",
            None,
        ),
    ] {
        let r = client
            .post(format!("{}/invoke", server.base))
            .header("x-fc-request-id", "req-fail")
            .body(event.clone())
            .send()
            .await
            .expect("invoke");
        assert_eq!(r.status(), 404, "{event}");
        assert_eq!(
            r.headers().get("x-fc-status").map(|v| v.as_bytes()),
            Some(&b"404"[..])
        );
        assert_eq!(
            r.headers().get("content-type").map(|v| v.as_bytes()),
            Some(&b"application/json"[..])
        );
        let body = r.json::<Value>().await.expect("json");
        assert_eq!(body["errorType"], error_type, "{event}: {body}");
        let got = body["errorMessage"].as_str().expect("errorMessage");
        if let Some(message) = message {
            assert_eq!(got, message);
        }
        assert_eq!(body.as_object().map(|o| o.len()), Some(2), "{body}");
    }

    // PreStop hook.
    let r = client
        .get(format!("{}/pre-stop", server.base))
        .send()
        .await
        .expect("pre-stop");
    assert_eq!(r.status(), 200);

    // HTTP triggers reach the caller's router; unknown paths get its 404.
    let r = client
        .post(format!("{}/webhook/harbor?secret=abc", server.base))
        .body("push")
        .send()
        .await
        .expect("webhook");
    assert_eq!(r.status(), 202);
    assert_eq!(r.text().await.expect("text"), "harbor:push");
    // An HTTP trigger's request carries the role's credentials too: the
    // handler gets them before the caller's router answers.
    let r = client
        .post(format!("{}/webhook/harbor?secret=abc", server.base))
        .header("x-fc-access-key-id", "STS.rotated")
        .header("x-fc-access-key-secret", "secret-rotated")
        .body("push")
        .send()
        .await
        .expect("webhook");
    assert_eq!(r.status(), 202);
    assert_eq!(echo.rotated(), ["STS.NUxxxxxxxx", "STS.rotated"]);
    let r = client
        .get(format!("{}/nowhere", server.base))
        .send()
        .await
        .expect("404");
    assert_eq!(r.status(), 404);
    assert!(r.headers().get("x-fc-status").is_none());

    server.shutdown().await;
}

#[tokio::test]
async fn reports_failures_of_the_hooks_and_env_credentials() {
    let mut config = config("nope");
    config.credentials = FcConfig::from_lookup(|name| match name {
        "ALIBABA_CLOUD_ACCESS_KEY_ID" => Some("LTAI-env".into()),
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET" => Some("env-secret".into()),
        _ => None,
    })
    .expect("config")
    .credentials;
    let server = Server::start(Arc::new(Broken), config.clone()).await;
    let client = reqwest::Client::new();

    let r = client
        .post(format!("{}/initialize", server.base))
        .send()
        .await
        .expect("initialize");
    assert_eq!(r.status(), 404);
    assert_eq!(
        r.headers().get("x-fc-status").map(|v| v.as_bytes()),
        Some(&b"404"[..])
    );
    assert_eq!(
        r.json::<Value>().await.expect("json"),
        json!({"errorMessage": "plugins did not compile", "errorType": "Failed"})
    );

    let r = client
        .post(format!("{}/invoke", server.base))
        .body("")
        .send()
        .await
        .expect("invoke");
    assert_eq!(r.status(), 404);
    assert_eq!(
        r.json::<Value>().await.expect("json"),
        json!({"errorMessage": "no such function: nope", "errorType": "UnknownFunction"})
    );
    server.shutdown().await;

    // Without x-fc-access-key-* headers the environment's credentials are
    // handed to the handler.
    let server = Server::start(Arc::new(Echo::default()), config).await;
    let r = client
        .post(format!("{}/invoke", server.base))
        .send()
        .await
        .expect("invoke");
    assert_eq!(r.status(), 200);
    let body = r.json::<Value>().await.expect("json");
    assert_eq!(body["event"], Value::Null);
    assert_eq!(
        body["credentials"],
        json!({"id": "LTAI-env", "secret": "env-secret", "token": null})
    );
    server.shutdown().await;
}
