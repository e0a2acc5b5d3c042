//! The Lambda adapters against a Lambda Runtime API emulator (axum on
//! `127.0.0.1:0`).
//!
//! `lambda_runtime` reads its configuration from the process environment,
//! so this binary holds a single `#[test]` that sets the variables itself,
//! before any runtime thread exists.

// The environment is process-global: `std::env::set_var` is `unsafe` in
// Rust 2024 because another thread may read it concurrently. This test
// binary runs one test and changes the environment only while no other
// thread of ours runs (before the multi-threaded tokio runtime starts).
#![allow(unsafe_code)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::post;
use futures::future::BoxFuture;
use serde_json::{Value, json};
use updraft_runtime::lambda::{self, LambdaError};
use updraft_runtime::{Handler, HandlerError, Invocation};

/// Echoes the function, request id and event; `{"bad": true}` is a bad
/// event.
struct Echo;

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
            Ok(json!({
                "function": invocation.function,
                "request_id": invocation.request_id,
                "event": event,
            }))
        })
    }

    fn initialize(&self) -> BoxFuture<'_, Result<(), HandlerError>> {
        Box::pin(async { Ok(()) })
    }
}

/// Fails to initialize.
struct Broken;

impl Handler for Broken {
    fn handle(&self, _: Invocation, _: Value) -> BoxFuture<'_, Result<Value, HandlerError>> {
        Box::pin(async { Ok(Value::Null) })
    }

    fn initialize(&self) -> BoxFuture<'_, Result<(), HandlerError>> {
        Box::pin(async { Err(HandlerError::Failed("plugins did not compile".into())) })
    }
}

mod support;
use support::runtime_api::{Outcome, outcome, start_emulator};

fn webhooks() -> Router {
    Router::new().route(
        "/webhook/{kind}",
        post(|Path(kind): Path<String>, body: String| async move {
            (StatusCode::ACCEPTED, format!("{kind}:{body}"))
        }),
    )
}

#[test]
fn lambda_adapters_speak_the_runtime_api() {
    // 1. Outside Lambda: a clear error, no panic.
    for var in lambda::REQUIRED_ENV {
        // SAFETY: see the top of the file; no other thread runs yet.
        unsafe { std::env::remove_var(var) };
    }
    let single = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    single.block_on(async {
        let e = lambda::run_events(Arc::new(Echo), "poll-registry".into()).await;
        let message = e
            .as_ref()
            .map_err(ToString::to_string)
            .err()
            .unwrap_or_default();
        assert!(matches!(e, Err(LambdaError::NotInLambda(_))), "{e:?}");
        assert!(message.contains("AWS_LAMBDA_FUNCTION_NAME"), "{message}");
        let e = lambda::run_http(Arc::new(Echo), "sync-trigger".into(), webhooks()).await;
        assert!(matches!(e, Err(LambdaError::NotInLambda(_))), "{e:?}");
    });
    drop(single);

    // 2. Point the runtime at the emulator.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    for (var, value) in [
        ("AWS_LAMBDA_RUNTIME_API", addr.to_string()),
        ("AWS_LAMBDA_FUNCTION_NAME", "updraft".to_owned()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128".to_owned()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
    ] {
        // SAFETY: see the top of the file; no other thread runs yet.
        unsafe { std::env::set_var(var, value) };
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    // The adapters' futures are not `Send` (lambda_runtime's are not), so
    // they run as local tasks.
    let local = tokio::task::LocalSet::new();
    rt.block_on(local.run_until(async move {
        let (emulator, mut received) = start_emulator(listener).await;

        // 3. A failed initialization is reported to /init/error.
        let e = lambda::run_events(Arc::new(Broken), "poll-registry".into()).await;
        assert!(
            matches!(e, Err(LambdaError::Init(HandlerError::Failed(_)))),
            "{e:?}"
        );
        assert_eq!(
            outcome(&mut received).await,
            Outcome::InitError(
                "Runtime.InitError".into(),
                json!({"errorType": "Failed", "errorMessage": "plugins did not compile"})
            )
        );

        // 4. Events: a schedule arrives as null, a failure reaches /error,
        // anything else passes through.
        emulator.push(
            "req-1",
            json!({
                "version": "0",
                "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
                "detail-type": "Scheduled Event",
                "source": "aws.events",
                "account": "123456789012",
                "time": "2026-11-26T07:50:00Z",
                "region": "us-east-1",
                "resources": ["arn:aws:events:us-east-1:123456789012:rule/iu-poll-every-5m"],
                "detail": {},
            }),
        );
        emulator.push("req-2", json!({"bad": true}));
        emulator.push("req-3", json!({"job": "poll", "tenant": "default"}));
        let events =
            tokio::task::spawn_local(lambda::run_events(Arc::new(Echo), "poll-registry".into()));
        assert_eq!(
            outcome(&mut received).await,
            Outcome::Response(
                "req-1".into(),
                json!({"function": "poll-registry", "request_id": "req-1", "event": null})
            )
        );
        assert_eq!(
            outcome(&mut received).await,
            Outcome::Error(
                "req-2".into(),
                "unhandled".into(),
                json!({"errorType": "BadEvent", "errorMessage": "bad event"})
            )
        );
        assert_eq!(
            outcome(&mut received).await,
            Outcome::Response(
                "req-3".into(),
                json!({
                    "function": "poll-registry",
                    "request_id": "req-3",
                    "event": {"job": "poll", "tenant": "default"},
                })
            )
        );
        // The runtime asks for more; nothing left, so stop it.
        assert_eq!(outcome(&mut received).await, Outcome::Waiting);
        events.abort();

        // 5. A Function URL request (payload 2.0) reaches the webhook router.
        emulator.push(
            "req-4",
            json!({
                "version": "2.0",
                "routeKey": "$default",
                "rawPath": "/webhook/harbor",
                "rawQueryString": "secret=abc",
                "headers": {"content-type": "text/plain"},
                "queryStringParameters": {"secret": "abc"},
                "requestContext": {
                    "accountId": "123456789012",
                    "apiId": "abcdefg",
                    "domainName": "abcdefg.lambda-url.us-east-1.on.aws",
                    "domainPrefix": "abcdefg",
                    "http": {
                        "method": "POST",
                        "path": "/webhook/harbor",
                        "protocol": "HTTP/1.1",
                        "sourceIp": "203.0.113.7",
                        "userAgent": "Harbor",
                    },
                    "requestId": "8b1990c6",
                    "routeKey": "$default",
                    "stage": "$default",
                    "time": "26/Nov/2026:12:23:34 +0000",
                    "timeEpoch": 1_795_609_414_000_u64,
                },
                "body": "push",
                "isBase64Encoded": false,
            }),
        );
        let http = tokio::task::spawn_local(lambda::run_http(
            Arc::new(Echo),
            "sync-trigger".into(),
            webhooks(),
        ));
        match outcome(&mut received).await {
            Outcome::Response(id, body) => {
                assert_eq!(id, "req-4");
                assert_eq!(body["statusCode"], 202, "{body}");
                assert_eq!(body["body"], "harbor:push", "{body}");
            }
            other => panic!("expected a response, got {other:?}"),
        }
        assert_eq!(outcome(&mut received).await, Outcome::Waiting);
        http.abort();
    }));
}
