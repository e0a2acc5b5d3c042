//! Drives the webhook router over real HTTP (127.0.0.1, ephemeral port) with
//! recorded payloads from `tests/payloads/`, one per source.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::{Arc, Mutex};

use reqwest::StatusCode;
use serde_json::{Value, json};
use updraft_webhooks::auth::hmac_sha256;
use updraft_webhooks::{BODY_LIMIT, OnPush, Push, Resolver, WebhookConfig, router};

const ALL_SOURCES: &str = "
distribution: {token: env:DIST}
acr: {secret: env:ACR}
eventbridge: {token: env:EB}
dockerhub: {secret: env:HUB}
harbor: {secret: file:/run/secrets/harbor}
quay: {secret: env:QUAY}
ghcr: {secret: env:GHCR}
azure: {secret: env:AZURE}
ecr: {secret: env:ECR}
rate_limit: 1000
";

fn resolve(reference: &str) -> Result<String, String> {
    let value = match reference {
        "env:DIST" => "dist-token",
        "env:ACR" => "acr-secret",
        "env:EB" => "eb-token",
        "env:HUB" => "hub-secret",
        "file:/run/secrets/harbor" => "harbor-secret\n",
        "env:QUAY" => "quay-secret",
        "env:GHCR" => "ghcr-secret",
        "env:AZURE" => "azure-secret",
        "env:ECR" => "ecr-secret",
        _ => return Err(format!("{reference} is not set")),
    };
    Ok(value.to_owned())
}

struct Harness {
    base: String,
    client: reqwest::Client,
    calls: Arc<Mutex<Vec<Vec<Push>>>>,
}

impl Harness {
    async fn start(yaml: &str, fail_on_push: bool) -> Harness {
        let config: WebhookConfig = serde_saphyr::from_str(yaml).unwrap();
        config.check_secrets(&resolve).unwrap();
        let calls: Arc<Mutex<Vec<Vec<Push>>>> = Arc::default();
        let recorded = calls.clone();
        let on_push: OnPush = Arc::new(move |pushes: Vec<Push>| {
            let recorded = recorded.clone();
            Box::pin(async move {
                let n = pushes.len();
                recorded.lock().unwrap().push(pushes);
                if fail_on_push {
                    Err("poll-registry is unavailable".to_owned())
                } else {
                    Ok(json!({"status": "accepted", "pushes": n}))
                }
            })
        });
        let resolver: Resolver = Arc::new(resolve);
        let app = router(Arc::new(config), resolver, on_push);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Harness {
            base: format!("http://{addr}"),
            client: reqwest::Client::new(),
            calls,
        }
    }

    async fn post(&self, req: &Req) -> (StatusCode, Value) {
        let mut builder = self.client.post(format!("{}{}", self.base, req.path));
        for (k, v) in &req.headers {
            builder = builder.header(k.as_str(), v.as_str());
        }
        let response = builder.body(req.body.clone()).send().await.unwrap();
        let status = response.status();
        let body = response.json::<Value>().await.unwrap_or(Value::Null);
        (status, body)
    }

    fn calls(&self) -> Vec<Vec<Push>> {
        self.calls.lock().unwrap().clone()
    }
}

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/payloads/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[derive(Clone, Debug)]
struct Req {
    path: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Req {
    fn new(path: &str, body: String) -> Req {
        Req {
            path: path.to_owned(),
            headers: Vec::new(),
            body,
        }
    }

    fn header(mut self, k: &str, v: &str) -> Req {
        self.headers.push((k.to_owned(), v.to_owned()));
        self
    }
}

fn github_signature(secret: &str, body: &str) -> String {
    format!(
        "sha256={}",
        hex::encode(hmac_sha256(secret.as_bytes(), body.as_bytes()))
    )
}

/// One source's recorded delivery, correctly authenticated, with a variant
/// carrying the wrong secret and one carrying none, and the expected push.
struct Case {
    good: Req,
    bad: Req,
    missing: Req,
    expected: Vec<Push>,
}

fn push(
    source: &'static str,
    registry: &str,
    repository: &str,
    tag: &str,
    digest: Option<&str>,
    pushed_at: Option<&str>,
) -> Push {
    Push {
        source,
        registry: Some(registry.to_owned()),
        repository: repository.to_owned(),
        tag: Some(tag.to_owned()),
        digest: digest.map(str::to_owned),
        pushed_at: pushed_at.map(str::to_owned),
    }
}

fn cases() -> Vec<Case> {
    const DIST_CT: &str = "application/vnd.docker.distribution.events.v1+json";
    let dist = fixture("distribution-push.json");
    let acr = fixture("acr.json");
    let eb = fixture("eventbridge-push.json");
    let hub = fixture("dockerhub.json");
    let harbor = fixture("harbor.json");
    let quay = fixture("quay.json");
    let ghcr = fixture("ghcr.json");
    let azure = fixture("azure.json");
    let ecr = fixture("ecr-cloudevent.json");
    vec![
        Case {
            good: Req::new("/webhook/distribution", dist.clone())
                .header("content-type", DIST_CT)
                .header("authorization", "Bearer dist-token"),
            bad: Req::new("/webhook/distribution", dist.clone())
                .header("content-type", DIST_CT)
                .header("authorization", "Bearer dist-tokem"),
            missing: Req::new("/webhook/distribution/dist-token", dist)
                .header("content-type", DIST_CT),
            expected: vec![push(
                "distribution",
                "127.0.0.1:5055",
                "team/app",
                "1.2.3",
                Some("sha256:793a57cec5ee88d1c38575cefc16cc65ae89457c508bc2359621099b2caf5021"),
                Some("2026-11-26T12:23:34.760028828Z"),
            )],
        },
        Case {
            good: Req::new(
                "/webhook/acr/acr-secret?registry_url=MyInst-registry.cn-hangzhou.cr.aliyuncs.com",
                acr.clone(),
            )
            .header("content-type", "application/json"),
            bad: Req::new("/webhook/acr?secret=acr-secreT", acr.clone()),
            missing: Req::new("/webhook/acr", acr).header("authorization", "acr-secret"),
            expected: vec![push(
                "acr",
                "myinst-registry.cn-hangzhou.cr.aliyuncs.com",
                "namespace/repoTest",
                "latest",
                Some("sha256:457f4aa83fc9a6663ab9d1b0a6e2dce25a12a943ed5bf2c1747c58d48bbb4917"),
                Some("2016-11-29T12:25:46"),
            )],
        },
        Case {
            good: Req::new("/webhook/eventbridge", eb.clone())
                .header("content-type", "application/json")
                .header("x-webhook-secret", "eb-token"),
            bad: Req::new("/webhook/eventbridge", eb.clone())
                .header("authorization", "Bearer not-the-token"),
            missing: Req::new("/webhook/eventbridge", eb),
            expected: vec![push(
                "eventbridge",
                "myinst-registry.cn-hangzhou.cr.aliyuncs.com",
                "team/app",
                "1.2.4",
                Some("sha256:457f4aa83fc9a6663ab9d1b0a6e2dce25a12a943ed5bf2c1747c58d48bbb4917"),
                Some("2026-03-02T02:15:30Z"),
            )],
        },
        Case {
            good: Req::new("/webhook/dockerhub?secret=hub-secret", hub.clone())
                .header("content-type", "application/json"),
            bad: Req::new("/webhook/dockerhub/hub-secret-", hub.clone()),
            missing: Req::new("/webhook/dockerhub?secret=", hub),
            expected: vec![push(
                "dockerhub",
                "docker.io",
                "svendowideit/testhook",
                "latest",
                None,
                Some("2014-12-03T00:22:41Z"),
            )],
        },
        Case {
            good: Req::new("/webhook/harbor", harbor.clone())
                .header("content-type", "application/json")
                .header("authorization", "harbor-secret"),
            bad: Req::new("/webhook/harbor", harbor.clone())
                .header("content-type", "application/json")
                .header("authorization", "harbor"),
            missing: Req::new("/webhook/harbor?secret=harbor-secret", harbor)
                .header("content-type", "application/json"),
            expected: vec![push(
                "harbor",
                "harbor.example.com",
                "library/app",
                "1.2.4",
                Some("sha256:3b5d6e1a0f0a1c1e0b8c9f7e6d5c4b3a29181706f5e4d3c2b1a0f9e8d7c6b5a4"),
                Some("2023-04-03T06:04:53Z"),
            )],
        },
        Case {
            good: Req::new("/webhook/quay/quay-secret", quay.clone()),
            bad: Req::new("/webhook/quay/quay", quay.clone()),
            missing: Req::new("/webhook/quay", quay),
            expected: vec![
                push("quay", "quay.io", "team/app", "1.2.4", None, None),
                push("quay", "quay.io", "team/app", "latest", None, None),
            ],
        },
        Case {
            good: Req::new("/webhook/ghcr", ghcr.clone())
                .header("content-type", "application/json")
                .header("x-github-event", "package")
                .header("x-github-delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
                .header(
                    "x-hub-signature-256",
                    &github_signature("ghcr-secret", &ghcr),
                ),
            bad: Req::new("/webhook/ghcr", ghcr.clone())
                .header("x-github-event", "package")
                .header(
                    "x-hub-signature-256",
                    &github_signature("other-secret", &ghcr),
                ),
            missing: Req::new("/webhook/ghcr/ghcr-secret", ghcr.clone())
                .header("x-github-event", "package"),
            expected: vec![push(
                "ghcr",
                "ghcr.io",
                "team/app",
                "1.2.4",
                Some("sha256:9f6b5d1c2e3a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e"),
                Some("2026-03-02T10:15:30Z"),
            )],
        },
        Case {
            good: Req::new("/webhook/azure", azure.clone())
                .header("content-type", "application/json")
                .header("authorization", "Bearer azure-secret"),
            bad: Req::new("/webhook/azure", azure.clone())
                .header("authorization", "Basic azure-secret"),
            missing: Req::new("/webhook/azure/azure-secret", azure),
            expected: vec![push(
                "azure",
                "myregistry.azurecr.io",
                "hello-world",
                "v1",
                Some("sha256:1d5c8786bb9e621a45ece0dbc1a1cdc624ad20da9fe62e9d25490f33ea2a7d40"),
                Some("2017-11-17T16:52:01.343145347Z"),
            )],
        },
        Case {
            good: Req::new("/webhook/ecr?secret=ecr-secret", ecr.clone())
                .header("content-type", "application/cloudevents+json"),
            bad: Req::new("/webhook/ecr", ecr.clone())
                .header("content-type", "application/json")
                .header("x-webhook-secret", "ecr"),
            missing: Req::new("/webhook/ecr", ecr).header("content-type", "application/json"),
            expected: vec![push(
                "ecr",
                "123456789012.dkr.ecr.us-east-1.amazonaws.com",
                "team/my-app",
                "v1.0.0",
                Some("sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd12345678"),
                Some("2025-11-27T10:00:00Z"),
            )],
        },
    ]
}

#[tokio::test]
async fn every_source_accepts_its_recorded_payload() {
    let h = Harness::start(ALL_SOURCES, false).await;
    let cases = cases();
    assert_eq!(cases.len(), 9, "one case per source");
    for case in &cases {
        let (status, body) = h.post(&case.good).await;
        assert_eq!(status, StatusCode::OK, "{}: {body}", case.good.path);
        let n = case.expected.len();
        assert_eq!(
            body,
            json!({"status": "accepted", "pushes": n}),
            "{}",
            case.good.path
        );
        let calls = h.calls();
        assert_eq!(calls.last(), Some(&case.expected), "{}", case.good.path);
    }
    assert_eq!(h.calls().len(), 9);
}

#[tokio::test]
async fn wrong_or_missing_secret_is_401_for_every_source() {
    let h = Harness::start(ALL_SOURCES, false).await;
    for case in cases() {
        for req in [&case.bad, &case.missing] {
            let (status, body) = h.post(req).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{}: {body}", req.path);
            let message = body["error"].as_str().unwrap_or_default();
            assert!(!message.is_empty(), "{}", req.path);
            for secret in [
                "dist-token",
                "acr-secret",
                "hub-secret",
                "harbor-secret",
                "ghcr-secret",
            ] {
                assert!(!message.contains(secret), "{message}");
            }
        }
    }
    assert!(h.calls().is_empty());
}

#[tokio::test]
async fn ghcr_tampered_body_or_bad_signature_is_401() {
    let h = Harness::start(ALL_SOURCES, false).await;
    let body = fixture("ghcr.json");
    let signature = github_signature("ghcr-secret", &body);
    let tampered = body.replace("1.2.4", "6.6.6");
    let cases = [
        (tampered, signature.clone()),
        (
            body.clone(),
            signature.trim_start_matches("sha256=").to_owned(),
        ),
        (body.clone(), "sha256=00".to_owned()),
        (body.clone(), "sha256=not-hex".to_owned()),
    ];
    for (payload, sig) in cases {
        let req = Req::new("/webhook/ghcr", payload)
            .header("x-github-event", "package")
            .header("x-hub-signature-256", &sig);
        let (status, response) = h.post(&req).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{sig}: {response}");
    }
    assert!(h.calls().is_empty());
}

#[tokio::test]
async fn oversize_body_is_413() {
    let h = Harness::start(ALL_SOURCES, false).await;
    let big = "x".repeat(BODY_LIMIT + 1);
    let req = Req::new("/webhook/dockerhub?secret=hub-secret", big.clone());
    let (status, body) = h.post(&req).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert!(body["error"].as_str().unwrap().contains("exceeds"));

    // Without a Content-Length (chunked), the stream is cut at the limit.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = big
        .as_bytes()
        .chunks(64 * 1024)
        .map(|c| Ok(c.to_vec()))
        .collect();
    let response = h
        .client
        .post(format!("{}/webhook/dockerhub?secret=hub-secret", h.base))
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);

    // Exactly at the limit is fine as far as size goes (then malformed).
    let at_limit = Req::new(
        "/webhook/dockerhub?secret=hub-secret",
        " ".repeat(BODY_LIMIT),
    );
    assert_eq!(h.post(&at_limit).await.0, StatusCode::BAD_REQUEST);
    assert!(h.calls().is_empty());
}

#[tokio::test]
async fn malformed_payloads_are_400() {
    let h = Harness::start(ALL_SOURCES, false).await;
    let requests = [
        Req::new(
            "/webhook/dockerhub?secret=hub-secret",
            "{not json".to_owned(),
        ),
        Req::new("/webhook/quay/quay-secret", "{}".to_owned()),
        Req::new("/webhook/distribution", r#"{"events":"nope"}"#.to_owned())
            .header("authorization", "dist-token"),
        Req::new("/webhook/harbor", fixture("harbor.json"))
            .header("content-type", "text/plain")
            .header("authorization", "harbor-secret"),
        Req::new("/webhook/ghcr", "[]".to_owned())
            .header("x-github-event", "package")
            .header(
                "x-hub-signature-256",
                &github_signature("ghcr-secret", "[]"),
            ),
        Req::new(
            "/webhook/acr/acr-secret",
            r#"{"push_data":{"tag":"../../etc"},"repository":{"repo_full_name":"a/b"}}"#.to_owned(),
        ),
    ];
    for req in &requests {
        let (status, body) = h.post(req).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{}: {body}", req.path);
        assert!(body["error"].is_string());
    }
    assert!(h.calls().is_empty());
}

#[tokio::test]
async fn replay_is_answered_duplicate_and_handled_once() {
    let h = Harness::start(ALL_SOURCES, false).await;
    let case = &cases()[6]; // ghcr: a GitHub redelivery is byte-identical
    assert_eq!(h.post(&case.good).await.0, StatusCode::OK);
    for _ in 0..3 {
        let (status, body) = h.post(&case.good).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, json!({"status": "duplicate"}));
    }
    assert_eq!(h.calls().len(), 1);
    // A replay with a bad signature is still refused, not "duplicate".
    assert_eq!(h.post(&case.bad).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn rate_limit_is_429_per_source() {
    let yaml = "dockerhub: {secret: env:HUB}\nquay: {secret: env:QUAY}\nrate_limit: 2\n";
    let h = Harness::start(yaml, false).await;
    let body = fixture("dockerhub.json");
    let req = |n: usize| {
        // Distinct bodies, so the replay guard stays out of the way.
        Req::new(
            "/webhook/dockerhub?secret=hub-secret",
            body.replace("1417566161", &(1417566161 + n).to_string()),
        )
    };
    assert_eq!(h.post(&req(0)).await.0, StatusCode::OK);
    assert_eq!(h.post(&req(1)).await.0, StatusCode::OK);
    let response = h
        .client
        .post(format!("{}{}", h.base, req(2).path))
        .body(req(2).body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry = response.headers().get("retry-after").cloned();
    let error: Value = response.json().await.unwrap();
    assert_eq!(
        error["error"],
        "rate limit exceeded for webhook source dockerhub"
    );
    assert_eq!(
        retry
            .and_then(|v| v.to_str().ok().map(str::to_owned))
            .as_deref(),
        Some("30")
    );
    // Another source has its own bucket.
    let quay = Req::new("/webhook/quay/quay-secret", fixture("quay.json"));
    assert_eq!(h.post(&quay).await.0, StatusCode::OK);
    assert_eq!(h.calls().len(), 3);
    // The refused push was not remembered as seen: once the bucket refills,
    // the registry's retry of it is handled, not called a duplicate.
    assert_ne!(
        h.post(&req(2)).await.1,
        json!({"status": "duplicate"}),
        "a throttled push must not count as delivered"
    );
}

/// Only genuine pushes spend the rate limit: requests without the secret
/// and events with nothing to do (a registry's blob and pull events) do
/// not, so they cannot hold a real push at 429.
#[tokio::test]
async fn only_genuine_pushes_spend_the_rate_limit() {
    let yaml = "distribution: {token: env:DIST}
rate_limit: 2
";
    let h = Harness::start(yaml, false).await;
    let with = |fixture_name: &str, token: &str| {
        Req::new("/webhook/distribution", fixture(fixture_name))
            .header(
                "content-type",
                "application/vnd.docker.distribution.events.v1+json",
            )
            .header("authorization", &format!("Bearer {token}"))
    };
    for _ in 0..10 {
        assert_eq!(
            h.post(&with("distribution-blob.json", "dist-token"))
                .await
                .0,
            StatusCode::OK
        );
        assert_eq!(
            h.post(&with("distribution-push.json", "wrong-token"))
                .await
                .0,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(h.calls().len(), 0);
    // The bucket is still full: the push goes through.
    assert_eq!(
        h.post(&with("distribution-push.json", "dist-token"))
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(h.calls().len(), 1);
}

#[tokio::test]
async fn pulls_blobs_and_other_events_are_ignored() {
    let h = Harness::start(ALL_SOURCES, false).await;
    let ignored = [
        Req::new("/webhook/distribution", fixture("distribution-pull.json"))
            .header(
                "content-type",
                "application/vnd.docker.distribution.events.v1+json",
            )
            .header("authorization", "Bearer dist-token"),
        Req::new("/webhook/distribution", fixture("distribution-blob.json"))
            .header(
                "content-type",
                "application/vnd.docker.distribution.events.v2+json",
            )
            .header("authorization", "dist-token"),
        Req::new(
            "/webhook/ghcr",
            r#"{"zen":"Design for failure.","hook_id":1}"#.to_owned(),
        )
        .header("x-github-event", "ping")
        .header(
            "x-hub-signature-256",
            &github_signature(
                "ghcr-secret",
                r#"{"zen":"Design for failure.","hook_id":1}"#,
            ),
        ),
        Req::new("/webhook/azure", r#"{"action":"ping"}"#.to_owned())
            .header("authorization", "azure-secret"),
        Req::new(
            "/webhook/ecr/ecr-secret",
            fixture("ecr-native.json").replace("SUCCESS", "FAILURE"),
        )
        .header("content-type", "application/json"),
    ];
    for req in &ignored {
        let (status, body) = h.post(req).await;
        assert_eq!(status, StatusCode::OK, "{}: {body}", req.path);
        assert_eq!(body, json!({"status": "ignored"}), "{}", req.path);
    }
    assert!(h.calls().is_empty());
}

#[tokio::test]
async fn unknown_and_disabled_sources_are_404() {
    let h = Harness::start("quay: {secret: env:QUAY}", false).await;
    let (status, body) = h.post(&Req::new("/webhook/gitlab", "{}".to_owned())).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"], "unknown webhook source \"gitlab\"");
    let (status, body) = h
        .post(&Req::new(
            "/webhook/dockerhub/hub-secret",
            fixture("dockerhub.json"),
        ))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"], "webhook source dockerhub is not configured");
    let response = h
        .client
        .get(format!("{}/webhook/quay", h.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn on_push_failure_is_502_and_the_retry_is_not_a_duplicate() {
    let h = Harness::start(ALL_SOURCES, true).await;
    let case = &cases()[0];
    for _ in 0..2 {
        let (status, body) = h.post(&case.good).await;
        assert_eq!(status, StatusCode::BAD_GATEWAY);
        assert_eq!(body, json!({"error": "poll-registry is unavailable"}));
    }
    assert_eq!(h.calls().len(), 2);
}

#[tokio::test]
async fn image_updater_urls_keep_working() {
    let h = Harness::start(ALL_SOURCES, false).await;
    let hub = Req::new(
        "/webhook?type=docker.io&secret=hub-secret",
        fixture("dockerhub.json"),
    );
    assert_eq!(h.post(&hub).await.0, StatusCode::OK);
    let acr = Req::new("/webhook?secret=acr-secret", fixture("acr.json"))
        .header("x-registry-type", "aliyun-acr");
    assert_eq!(h.post(&acr).await.0, StatusCode::OK);
    let calls = h.calls();
    assert_eq!(calls[0][0].source, "dockerhub");
    assert_eq!(calls[1][0].source, "acr");
    assert_eq!(
        calls[1][0].registry.as_deref(),
        Some("registry.cn-hangzhou.aliyuncs.com")
    );
    let (status, _) = h
        .post(&Req::new("/webhook?type=gitlab", "{}".to_owned()))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
