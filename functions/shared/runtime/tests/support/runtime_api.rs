//! A Lambda Runtime API emulator (axum on a loopback listener): queues
//! events for `GET …/invocation/next` and reports what the runtime posted
//! back. Shared by the runtime crate's adapter test and the integration
//! test that runs `updraft lambda`.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;
use tokio::sync::mpsc;

/// What the runtime told the emulator.
#[derive(Debug, PartialEq)]
pub enum Outcome {
    /// `POST /invocation/{id}/response`.
    Response(String, Value),
    /// `POST /invocation/{id}/error`, with `lambda-runtime-function-error-type`.
    Error(String, String, Value),
    /// `POST /init/error`, with `lambda-runtime-function-error-type`.
    InitError(String, Value),
    /// A `next` found no event left and now hangs.
    Waiting,
}

#[derive(Clone)]
pub struct Emulator {
    events: Arc<Mutex<VecDeque<(String, Value)>>>,
    outcomes: mpsc::UnboundedSender<Outcome>,
}

impl Emulator {
    pub fn push(&self, id: &str, event: Value) {
        self.events
            .lock()
            .unwrap()
            .push_back((id.to_owned(), event));
    }
}

fn error_type(headers: &HeaderMap) -> String {
    headers
        .get("lambda-runtime-function-error-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

fn json_body(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|_| Value::String(body.to_owned()))
}

async fn next(State(emulator): State<Emulator>) -> Response {
    let event = emulator.events.lock().unwrap().pop_front();
    let Some((id, event)) = event else {
        let _ = emulator.outcomes.send(Outcome::Waiting);
        return std::future::pending().await;
    };
    let deadline = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
        + 60_000;
    (
        [
            ("lambda-runtime-aws-request-id", id),
            ("lambda-runtime-deadline-ms", deadline.to_string()),
            (
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:us-east-1:123456789012:function:updraft".to_owned(),
            ),
            ("content-type", "application/json".to_owned()),
        ],
        event.to_string(),
    )
        .into_response()
}

async fn response(
    State(emulator): State<Emulator>,
    Path(id): Path<String>,
    body: String,
) -> StatusCode {
    let _ = emulator
        .outcomes
        .send(Outcome::Response(id, json_body(&body)));
    StatusCode::ACCEPTED
}

async fn error(
    State(emulator): State<Emulator>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: String,
) -> StatusCode {
    let _ = emulator
        .outcomes
        .send(Outcome::Error(id, error_type(&headers), json_body(&body)));
    StatusCode::ACCEPTED
}

async fn init_error(
    State(emulator): State<Emulator>,
    headers: HeaderMap,
    body: String,
) -> StatusCode {
    let _ = emulator
        .outcomes
        .send(Outcome::InitError(error_type(&headers), json_body(&body)));
    StatusCode::ACCEPTED
}

pub async fn start_emulator(
    listener: std::net::TcpListener,
) -> (Emulator, mpsc::UnboundedReceiver<Outcome>) {
    let (outcomes, received) = mpsc::unbounded_channel();
    let emulator = Emulator {
        events: Arc::default(),
        outcomes,
    };
    let app = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route(
            "/2018-06-01/runtime/invocation/{id}/response",
            post(response),
        )
        .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
        .route("/2018-06-01/runtime/init/error", post(init_error))
        .with_state(emulator.clone());
    listener.set_nonblocking(true).unwrap();
    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (emulator, received)
}

pub async fn outcome(received: &mut mpsc::UnboundedReceiver<Outcome>) -> Outcome {
    tokio::time::timeout(Duration::from_secs(20), received.recv())
        .await
        .expect("the runtime reported nothing within 20 s")
        .expect("emulator gone")
}
