//! `updraft run`, the local runtime, end to end through the binary: the
//! real Distribution registry (standing in for ACR through registries.conf),
//! git over smart HTTP, and the in-tree Argo CD API emulator. `--dry-run`
//! prints the diff and commits nothing; `--once` polls, resolves, commits
//! and triggers the syncs; the server mode answers `/healthz`, runs a cycle
//! per registry webhook, and stops cleanly on SIGTERM.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::git_support::git;
use support::ImageSpec;

#[path = "../registry_support.rs"]
#[allow(dead_code, clippy::duplicate_mod)]
mod support;

#[path = "../tutorial_world.rs"]
mod world;

use world::{World, free_port};

fn rev(bare: &Path, branch: &str) -> String {
    git(bare, &["rev-parse", branch]).trim().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_then_once_then_serve() {
    let port = free_port();
    let world = World::new(port).await;
    let before = rev(&world.bare(), "stable-example");

    // --dry-run: the diff, and nothing committed.
    let out = world.run(&["--once", "--dry-run"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("(dry run)"), "{stdout}");
    assert!(
        stdout.contains("+++ b/manifests/helm/echo-server/.argocd-source-app-helm-dev.yaml"),
        "{stdout}"
    );
    assert!(stdout.contains("+    value: v1.1.0"), "{stdout}");
    assert_eq!(rev(&world.bare(), "stable-example"), before);
    assert_eq!(world.emulator.sync_count("app-helm-dev"), 0);

    // --once: two commits (one per branch), Dev synced, the others pending.
    let out = world.run(&["--once", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["kind"], "PipelineReport");
    assert_eq!(report["sync"]["stats"]["commits"], 2, "{report:#}");
    let outcomes: Vec<String> = report["report"]["applications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            format!(
                "{} {}",
                a["application"].as_str().unwrap(),
                a["outcome"].as_str().unwrap()
            )
        })
        .collect();
    assert!(
        outcomes.contains(&"argocd/app-helm-dev synced".to_string()),
        "{outcomes:?}"
    );
    assert!(
        outcomes.contains(&"argocd/app-helm-staging pending".to_string()),
        "{outcomes:?}"
    );
    assert!(
        outcomes.contains(&"argocd/app-helm-production pending".to_string()),
        "{outcomes:?}"
    );
    assert_ne!(rev(&world.bare(), "stable-example"), before);

    // `updraft pending` from another process sees them.
    let out = updraft_tests::updraft(
        &["pending", "--config", world.config.to_str().unwrap()],
        None,
    )
    .unwrap();
    let pending = String::from_utf8_lossy(&out.stdout);
    assert!(pending.contains("argocd/app-helm-staging"), "{pending}");
    assert!(
        pending.contains("v1.0.0 → v1.1.0") || pending.contains("(none) → v1.1.0"),
        "{pending}"
    );

    // Server mode: /healthz, approvals with the token, registry webhooks,
    // clean stop.
    let mut child = world
        .serve_command()
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let mut up = false;
    for _ in 0..100 {
        if let Ok(r) = http.get(format!("{base}/healthz")).send().await
            && r.status() == 200
        {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(up, "updraft run did not come up");
    let approved: Value = http
        .post(format!("{base}/approvals/argocd/app-helm-staging/approve"))
        .bearer_auth("approve-me")
        .json(&serde_json::json!({"by": "erin"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(approved["outcome"], "synced", "{approved}");
    assert_eq!(world.emulator.sync_count("app-helm-staging"), 1);

    // A push to the registry: its notification reaches /webhook/distribution,
    // the cycle commits the new tag once, Dev is synced again.
    let tip = rev(&world.bare(), "stable-example");
    world
        .pusher
        .image(
            "cidemo/echo-server",
            Some("v1.3.0"),
            &ImageSpec::new("2026-11-26T10:00:00Z", "linux/amd64"),
        )
        .await
        .unwrap();
    let source = "stable-example:manifests/helm/echo-server/.argocd-source-app-helm-dev.yaml";
    let mut landed = false;
    for _ in 0..300 {
        if rev(&world.bare(), "stable-example") != tip
            && git(&world.bare(), &["show", source]).contains("v1.3.0")
        {
            landed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(landed, "the registry notification did not lead to a commit");
    // The cycle is over: nothing runs, nothing waits, cycles were counted.
    let mut idle = Value::Null;
    for _ in 0..100 {
        idle = http
            .get(format!("{base}/cycles"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if idle["running"] == false && idle["queued"] == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        (&idle["running"], &idle["queued"]),
        (&Value::Bool(false), &Value::from(0)),
        "{idle}"
    );
    assert!(idle["finished"].as_u64().is_some_and(|n| n >= 1), "{idle}");
    // Give late or repeated deliveries time: still exactly one commit.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        git(
            &world.bare(),
            &["rev-list", "--count", &format!("{tip}..stable-example")]
        )
        .trim(),
        "1"
    );
    assert_eq!(world.emulator.sync_count("app-helm-dev"), 2);

    // Two overlapping deliveries of the same push (a registry retrying, two
    // registry replicas) besides the registry's own: exactly one commit.
    let tip = rev(&world.bare(), "stable-example");
    let pushed = world
        .pusher
        .image(
            "cidemo/echo-server",
            Some("v1.4.0"),
            &ImageSpec::new("2026-11-26T11:00:00Z", "linux/amd64"),
        )
        .await
        .unwrap();
    let host = world.registry_host.clone();
    let notification = serde_json::json!({"events": [{
        "id": "a1", "timestamp": "2026-11-26T11:00:01Z", "action": "push",
        "target": {
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": pushed.digest, "repository": "cidemo/echo-server", "tag": "v1.4.0",
            "url": format!("http://{host}/v2/cidemo/echo-server/manifests/{}", pushed.digest),
        },
        "request": {"id": "r1", "addr": "127.0.0.1:1", "host": host, "method": "PUT", "useragent": "test"},
        "actor": {}, "source": {"addr": "test", "instanceID": "i1"},
    }]});
    let deliver = || {
        http.post(format!("{base}/webhook/distribution"))
            .bearer_auth("dist-token")
            .header(
                "content-type",
                "application/vnd.docker.distribution.events.v1+json",
            )
            .json(&notification)
            .send()
    };
    let (a, b) = tokio::join!(deliver(), deliver());
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!((a.status().as_u16(), b.status().as_u16()), (200, 200));
    // One is queued (answered at once), the other a duplicate of it (or
    // both join one waiting cycle).
    let answers: Vec<Value> = vec![a.json().await.unwrap(), b.json().await.unwrap()];
    assert!(
        answers.iter().any(|v| v["cycles"][0]["status"] == "queued"),
        "{answers:?}"
    );
    let mut landed = false;
    for _ in 0..300 {
        if git(&world.bare(), &["show", source]).contains("v1.4.0") {
            landed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(landed, "the webhook deliveries did not lead to a commit");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        git(
            &world.bare(),
            &["rev-list", "--count", &format!("{tip}..stable-example")]
        )
        .trim(),
        "1"
    );

    let wrong = http
        .post(format!("{base}/webhook/distribution"))
        .bearer_auth("not-the-token")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);

    // SIGTERM: a clean stop.
    let pid = child.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let status = tokio::task::spawn_blocking(move || {
        let status = child.wait().unwrap();
        let mut stderr = String::new();
        use std::io::Read;
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        (status, stderr)
    })
    .await
    .unwrap();
    assert!(status.0.success(), "{}", status.1);
    assert!(status.1.contains("stopped"), "{}", status.1);
}

/// Every request reaching the store was signed with `key_id` and `token`.
fn assert_signed_by(signed: &[crate::state::SignedBy], key_id: &str, token: &str) {
    assert!(
        signed
            .iter()
            .all(|s| s.key_id == key_id && s.token.as_deref() == Some(token)),
        "{signed:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn function_compute_adapter_runs_the_pipeline_on_a_timer_event() {
    let world = World::new(free_port()).await;
    // State in OSS (moto addressed the OSS way), behind a recorder of who
    // signed each request: FC's per-request STS credentials must be used.
    let recorder = crate::state::SigningRecorder::start().await;
    let config = std::fs::read_to_string(&world.config).unwrap();
    let (_, rest) = config.split_once('\n').unwrap();
    std::fs::write(
        &world.config,
        format!(
            "state: \"oss://updraft-it/fc-{port}?endpoint={endpoint}/updraft-it&region=cn-hangzhou&allow_http=true\"\n{rest}",
            port = std::process::id(),
            endpoint = recorder.endpoint,
        ),
    )
    .unwrap();
    let port = free_port();
    let mut child = Command::new(updraft_tests::updraft_bin().unwrap())
        .arg("fc")
        .env("FC_CUSTOM_LISTEN_PORT", port.to_string())
        .env("UPDRAFT_FUNCTION", "pipeline")
        .env("UPDRAFT_CONFIG", &world.config)
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", "STS.at-start")
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "secret-at-start")
        .env("ALIBABA_CLOUD_SECURITY_TOKEN", "CAIS-at-start")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let mut up = false;
    for _ in 0..100 {
        if let Ok(r) = http.get(format!("{base}/healthz")).send().await
            && r.status() == 200
        {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(up, "updraft fc did not come up");
    let init = http
        .post(format!("{base}/initialize"))
        .send()
        .await
        .unwrap();
    assert_eq!(init.status(), 200);
    // A timer trigger's event, as Function Compute sends it.
    let timer = serde_json::json!({
        "triggerTime": "2026-11-26T10:00:00Z",
        "triggerName": "every-5-minutes",
        "payload": "",
    });
    recorder.take();
    let response = http
        .post(format!("{base}/invoke"))
        .header("x-fc-request-id", "req-123")
        .header("x-fc-access-key-id", "STS.first")
        .header("x-fc-access-key-secret", "secret-first")
        .header("x-fc-security-token", "CAIS-first")
        .json(&timer)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let report: Value = response.json().await.unwrap();
    assert_eq!(report["kind"], "PipelineReport", "{report}");
    assert_eq!(report["sync"]["stats"]["commits"], 2, "{report:#}");
    assert_eq!(world.emulator.sync_count("app-helm-dev"), 1);
    let signed = recorder.take();
    assert!(signed.len() > 5, "{signed:?}");
    assert_signed_by(&signed, "STS.first", "CAIS-first");
    // The HTTP trigger (approvals here) carries rotated credentials.
    let pending = http
        .get(format!("{base}/approvals"))
        .bearer_auth("approve-me")
        .header("x-fc-access-key-id", "STS.second")
        .header("x-fc-access-key-secret", "secret-second")
        .header("x-fc-security-token", "CAIS-second")
        .send()
        .await
        .unwrap();
    assert_eq!(pending.status(), 200);
    let pending: Value = pending.json().await.unwrap();
    assert_eq!(pending.as_array().map(Vec::len), Some(2), "{pending}");
    let signed = recorder.take();
    assert!(!signed.is_empty());
    assert_signed_by(&signed, "STS.second", "CAIS-second");
    // A broken event: FC's failure shape.
    let bad = http
        .post(format!("{base}/invoke"))
        .json(&serde_json::json!({"apiVersion": "updraft.dev/v1alpha1", "kind": "SyncRequest"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 404);
    assert_eq!(bad.headers()["x-fc-status"], "404");
    let body: Value = bad.json().await.unwrap();
    assert_eq!(body["errorType"], "BadEvent", "{body}");
    let _ = child.kill();
    let _ = child.wait();
}

#[path = "../../functions/shared/runtime/tests/support/runtime_api.rs"]
mod runtime_api;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lambda_adapter_runs_the_pipeline_on_a_schedule_event() {
    let world = World::new(free_port()).await;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let api = listener.local_addr().unwrap().to_string();
    let (emulator, mut received) = runtime_api::start_emulator(listener).await;
    // An EventBridge schedule, as Lambda delivers it.
    emulator.push(
        "req-schedule",
        serde_json::json!({
            "version": "0", "id": "53dc4d37", "detail-type": "Scheduled Event",
            "source": "aws.events", "account": "123456789012",
            "time": "2026-11-26T10:00:00Z", "region": "us-east-1",
            "resources": ["arn:aws:events:us-east-1:123456789012:rule/updraft"],
            "detail": {}
        }),
    );
    let mut child = Command::new(updraft_tests::updraft_bin().unwrap())
        .arg("lambda")
        .env("AWS_LAMBDA_RUNTIME_API", &api)
        .env("AWS_LAMBDA_FUNCTION_NAME", "updraft-pipeline")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("UPDRAFT_FUNCTION", "pipeline")
        .env("UPDRAFT_CONFIG", &world.config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let outcome = tokio::time::timeout(Duration::from_secs(120), received.recv())
        .await
        .expect("the Lambda runtime reported nothing within 120 s")
        .expect("emulator gone");
    let _ = child.kill();
    let _ = child.wait();
    let runtime_api::Outcome::Response(id, report) = outcome else {
        panic!("expected a response, got {outcome:?}");
    };
    assert_eq!(id, "req-schedule");
    assert_eq!(report["kind"], "PipelineReport", "{report}");
    assert_eq!(report["sync"]["stats"]["commits"], 2, "{report:#}");
    assert_eq!(world.emulator.sync_count("app-helm-dev"), 1);
}
