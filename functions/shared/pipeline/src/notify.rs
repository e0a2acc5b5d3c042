//! Owns notifications: the `notify:` targets of `updraft.yaml` (a generic
//! JSON webhook, a Slack incoming webhook, a DingTalk custom robot), what a
//! [`Notice`] looks like in each, and sending it — when a change waits for
//! approval and when approvals are decided.
//!
//! Webhook URLs carry tokens, so a URL is only ever shown as its origin
//! (`https://hooks.slack.com`); errors are scrubbed of every resolved secret
//! (URL path and query, header values, the DingTalk signing secret) even
//! when a server echoes them back. Each target gets 10 s in all and at most
//! one retry, on HTTP 5xx or when the connection could not be made.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, USER_AGENT};
use reqwest::{StatusCode, Url};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::events::API_VERSION;

/// How long one target may take, retry included.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// The pause before the one retry.
const RETRY_DELAY: Duration = Duration::from_millis(250);

/// Slack refuses a section text longer than this.
const SLACK_TEXT_LIMIT: usize = 3000;

/// Changes listed one by one before "… and N more".
const LISTED_CHANGES: usize = 20;

/// At most this much of an answer is read.
const ANSWER_LIMIT: usize = 64 * 1024;

/// At most this much of an answer is quoted in an error.
const QUOTE_LIMIT: usize = 200;

/// The `kind` of a webhook [`Notice`].
const NOTICE_KIND: &str = "Notice";

/// Where to send: one item of the `notify:` list of `updraft.yaml`.
///
/// `url` (and `secret`, and header values written as `env:`/`file:`) are
/// references resolved when sending; the caller's configuration checks
/// refuse a literal URL.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyTarget {
    /// The format and protocol.
    pub kind: NotifyKind,
    /// Reference to the URL (`env:SLACK_URL`, `file:path`).
    pub url: String,
    /// DingTalk only: reference to the robot's signing secret ("加签").
    #[serde(default)]
    pub secret: Option<String>,
    /// Webhook only: extra request headers; a value may be an `env:`/`file:`
    /// reference.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

impl fmt::Debug for NotifyTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // References name where a secret is; a literal might be the secret.
        let headers: BTreeMap<&str, &str> = self
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), shown(v)))
            .collect();
        f.debug_struct("NotifyTarget")
            .field("kind", &self.kind)
            .field("url", &shown(&self.url))
            .field("secret", &self.secret.as_deref().map(shown))
            .field("headers", &headers)
            .finish()
    }
}

/// The kind of a [`NotifyTarget`] (`webhook`, `slack`, `dingtalk`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NotifyKind {
    /// POST of the [`Notice`] as JSON, with configured headers.
    Webhook,
    /// A Slack incoming webhook (`text` and Block Kit `blocks`).
    Slack,
    /// A DingTalk custom robot (markdown message, optional signing).
    Dingtalk,
}

impl fmt::Display for NotifyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Webhook => "webhook",
            Self::Slack => "slack",
            Self::Dingtalk => "dingtalk",
        })
    }
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notice {
    /// `pending`, `approved`, `rejected`, `synced`, `failed`, `gated` or
    /// `rollback`.
    pub event: String,
    /// The application, `namespace/name`.
    pub application: String,
    /// The environment (`staging`, `production`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// The Git repository written to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// The branch written to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// The commit (full or short).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// The image changes concerned.
    #[serde(default)]
    pub changes: Vec<NoticeChange>,
    /// One human sentence, e.g. "argocd/app-helm-staging waits for
    /// approval: echo-server v1.0.0 → v1.1.0 (commit abc1234); approve with
    /// `updraft approve argocd/app-helm-staging`".
    pub message: String,
    /// When, RFC 3339.
    pub at: String,
}

/// One image change of a [`Notice`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NoticeChange {
    /// The image (`ghcr.io/acme/echo-server` or its alias).
    pub image: String,
    /// The tag before, when there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_tag: Option<String>,
    /// The tag after.
    pub new_tag: String,
}

/// The request body for `kind` (pure; what [`send`] posts).
pub fn body(kind: NotifyKind, notice: &Notice) -> Value {
    match kind {
        NotifyKind::Webhook => webhook_body(notice),
        NotifyKind::Slack => slack_body(notice),
        NotifyKind::Dingtalk => dingtalk_body(notice),
    }
}

/// Sends `notice` to every target, concurrently; returns one error per
/// target that failed (in target order, numbered from 1), empty when all
/// were sent. `resolve` turns a reference (`env:NAME`, `file:PATH`) into
/// its value.
///
/// References are resolved and bodies built when this is called; the
/// returned future owns everything it needs (it is `Send + 'static`, so it
/// can be awaited or spawned).
pub fn send(
    client: &reqwest::Client,
    targets: &[NotifyTarget],
    notice: &Notice,
    resolve: &dyn Fn(&str) -> Result<String, String>,
) -> impl Future<Output = Vec<String>> + Send + use<> {
    let client = client.clone();
    let prepared: Vec<Result<Prepared, String>> = targets
        .iter()
        .enumerate()
        .map(|(i, target)| prepare(i + 1, target, notice, resolve))
        .collect();
    async move {
        let client = &client;
        let sends = prepared.into_iter().map(|p| async move {
            match p {
                Ok(p) => deliver(client, p).await,
                Err(e) => Err(e),
            }
        });
        futures::future::join_all(sends)
            .await
            .into_iter()
            .filter_map(Result::err)
            .collect()
    }
}

// ---------------------------------------------------------------------------
// Bodies.

fn webhook_body(notice: &Notice) -> Value {
    let mut out = Map::new();
    out.insert("apiVersion".into(), Value::String(API_VERSION.into()));
    out.insert("kind".into(), Value::String(NOTICE_KIND.into()));
    if let Ok(Value::Object(fields)) = serde_json::to_value(notice) {
        out.extend(fields);
    }
    Value::Object(out)
}

fn slack_body(notice: &Notice) -> Value {
    let (emoji, _) = look(&notice.event);
    let lead = slack_escape(&lead(notice));
    let mut section = format!("{emoji} {lead}");
    for line in change_lines(notice, |c| {
        let image = slack_escape(&c.image);
        let new = slack_escape(&c.new_tag);
        match &c.old_tag {
            Some(old) => format!("• `{image}` `{}` → `{new}`", slack_escape(old)),
            None => format!("• `{image}` → `{new}`"),
        }
    }) {
        section.push('\n');
        section.push_str(&line);
    }
    let mut blocks = vec![json!({
        "type": "section",
        "text": {"type": "mrkdwn", "text": clip(&section, SLACK_TEXT_LIMIT)},
    })];
    let details: Vec<String> = details(notice)
        .into_iter()
        .map(|d| match d {
            Detail::Commit(c) => format!("commit `{}`", slack_escape(&c)),
            Detail::Plain(t) => slack_escape(&t),
        })
        .collect();
    if !details.is_empty() {
        blocks.push(json!({
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": clip(&details.join(" · "), SLACK_TEXT_LIMIT)}],
        }));
    }
    json!({"text": clip(&lead, SLACK_TEXT_LIMIT), "blocks": blocks})
}

fn dingtalk_body(notice: &Notice) -> Value {
    let (emoji, phrase) = look(&notice.event);
    let subject = match notice.environment.as_deref().map(str::trim) {
        Some(env) if !env.is_empty() => format!("{} ({env}) {phrase}", notice.application),
        _ => format!("{} {phrase}", notice.application),
    };
    let mut text = format!("#### {emoji} {subject}\n\n{}", lead(notice));
    let lines = change_lines(notice, |c| match &c.old_tag {
        Some(old) => format!("- **{}** {old} → {}", c.image, c.new_tag),
        None => format!("- **{}** → {}", c.image, c.new_tag),
    });
    if !lines.is_empty() {
        text.push_str("\n\n");
        text.push_str(&lines.join("\n"));
    }
    let details: Vec<String> = details(notice)
        .into_iter()
        .map(|d| match d {
            Detail::Commit(c) => format!("commit {c}"),
            Detail::Plain(t) => t,
        })
        .collect();
    if !details.is_empty() {
        text.push_str("\n\n###### ");
        text.push_str(&details.join(" · "));
    }
    json!({
        "msgtype": "markdown",
        "markdown": {"title": format!("Updraft: {subject}"), "text": text},
    })
}

/// The emoji and the phrase ("waits for approval") of an event.
fn look(event: &str) -> (&'static str, String) {
    let (emoji, phrase) = match event {
        "pending" => ("⏳", "waits for approval"),
        "approved" => ("✅", "approved"),
        "rejected" => ("🚫", "rejected"),
        "synced" => ("🚀", "synced"),
        "failed" => ("❌", "failed"),
        "gated" => ("⏸️", "held by a gate"),
        "rollback" => ("↩️", "rolled back"),
        other => return ("ℹ️", other.to_string()),
    };
    (emoji, phrase.to_string())
}

/// The message, or a sentence made from the event when it is empty.
fn lead(notice: &Notice) -> String {
    if notice.message.trim().is_empty() {
        format!("{} {}", notice.application, look(&notice.event).1)
    } else {
        notice.message.clone()
    }
}

/// One line per change, at most [`LISTED_CHANGES`], then "… and N more".
fn change_lines(notice: &Notice, line: impl Fn(&NoticeChange) -> String) -> Vec<String> {
    let mut lines: Vec<String> = notice
        .changes
        .iter()
        .take(LISTED_CHANGES)
        .map(line)
        .collect();
    let more = notice.changes.len().saturating_sub(LISTED_CHANGES);
    if more > 0 {
        lines.push(format!("… and {more} more"));
    }
    lines
}

enum Detail {
    Commit(String),
    Plain(String),
}

/// Commit (short), repository, branch — those present.
fn details(notice: &Notice) -> Vec<Detail> {
    let present = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let mut out = Vec::new();
    if let Some(commit) = present(&notice.commit) {
        out.push(Detail::Commit(short_commit(&commit)));
    }
    if let Some(repo) = present(&notice.repository) {
        out.push(Detail::Plain(repo));
    }
    if let Some(branch) = present(&notice.branch) {
        out.push(Detail::Plain(branch));
    }
    out
}

/// The first 7 hex digits of a full commit id; anything else as it is.
fn short_commit(commit: &str) -> String {
    crate::sync::short_to(commit, 7).to_string()
}

/// Slack's three control characters.
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// At most `max` characters, the last one `…` when cut.
fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

// ---------------------------------------------------------------------------
// Sending.

/// A target ready to send: URL (signed), headers, body, and what to scrub
/// from errors.
struct Prepared {
    index: usize,
    kind: NotifyKind,
    url: Url,
    origin: String,
    headers: HeaderMap,
    body: Vec<u8>,
    secrets: Secrets,
}

fn is_reference(text: &str) -> bool {
    let text = text.trim_start();
    text.starts_with("env:") || text.starts_with("file:")
}

/// A reference as it is; anything else hidden.
fn shown(text: &str) -> &str {
    if is_reference(text) {
        text
    } else {
        "<literal>"
    }
}

fn prepare(
    index: usize,
    target: &NotifyTarget,
    notice: &Notice,
    resolve: &dyn Fn(&str) -> Result<String, String>,
) -> Result<Prepared, String> {
    let kind = target.kind;
    let fail = |what: String| format!("notify target {index} ({kind}): {what}");
    if kind != NotifyKind::Webhook && !target.headers.is_empty() {
        return Err(fail("headers are only for kind webhook".into()));
    }
    if kind != NotifyKind::Dingtalk && target.secret.is_some() {
        return Err(fail("secret is only for kind dingtalk".into()));
    }

    let mut secrets = Secrets::default();
    let raw = resolve(&target.url).map_err(|e| fail(format!("url: {e}")))?;
    let raw = raw.trim();
    secrets.add(raw);
    let mut url = Url::parse(raw).map_err(|e| {
        fail(format!(
            "url: the value of {} is not a URL ({e})",
            shown(&target.url)
        ))
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(fail(format!(
            "url: the value of {} is not an http(s) URL",
            shown(&target.url)
        )));
    }
    secrets.add_url(&url);
    let origin = url.origin().ascii_serialization();

    if let Some(secret_ref) = &target.secret {
        let secret = resolve(secret_ref).map_err(|e| fail(format!("secret: {e}")))?;
        if secret.is_empty() {
            return Err(fail(format!("secret: {} is empty", shown(secret_ref))));
        }
        secrets.add(&secret);
        let timestamp = chrono::Utc::now().timestamp_millis();
        let sign = dingtalk_sign(&secret, timestamp);
        secrets.add(&sign);
        url.query_pairs_mut()
            .append_pair("timestamp", &timestamp.to_string())
            .append_pair("sign", &sign);
    }

    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(
        USER_AGENT,
        HeaderValue::from_static(concat!("updraft/", env!("CARGO_PKG_VERSION"))),
    );
    for (name, value) in &target.headers {
        let header = HeaderName::from_bytes(name.trim().as_bytes())
            .map_err(|_| fail(format!("header {name:?} is not a valid header name")))?;
        let value = if is_reference(value) {
            resolve(value.trim()).map_err(|e| fail(format!("header {name}: {e}")))?
        } else {
            value.clone()
        };
        secrets.add(&value);
        let mut value = HeaderValue::from_str(&value).map_err(|_| {
            fail(format!(
                "header {name}: the value is not a valid header value"
            ))
        })?;
        value.set_sensitive(true);
        headers.insert(header, value);
    }

    let body = serde_json::to_vec(&body(kind, notice))
        .map_err(|e| fail(format!("cannot encode the notice ({e})")))?;
    Ok(Prepared {
        index,
        kind,
        url,
        origin,
        headers,
        body,
        secrets,
    })
}

/// Why one attempt failed, and whether another is worth it.
struct Failure {
    detail: String,
    retryable: bool,
}

async fn deliver(client: &reqwest::Client, p: Prepared) -> Result<(), String> {
    let started = tokio::time::Instant::now();
    let mut retried = false;
    loop {
        let budget = TIMEOUT.saturating_sub(started.elapsed());
        let failure = match attempt(client, &p, budget).await {
            Ok(()) => {
                tracing::debug!(target_index = p.index, kind = %p.kind, origin = %p.origin, "notification sent");
                return Ok(());
            }
            Err(failure) => failure,
        };
        let left = TIMEOUT.saturating_sub(started.elapsed());
        if failure.retryable && !retried && left > RETRY_DELAY * 2 {
            retried = true;
            tokio::time::sleep(RETRY_DELAY).await;
            continue;
        }
        let after = if retried { " (after one retry)" } else { "" };
        return Err(format!(
            "notify target {}: the {} notification to {} failed: {}{after}",
            p.index,
            p.kind,
            p.origin,
            p.secrets.redact(&failure.detail)
        ));
    }
}

async fn attempt(client: &reqwest::Client, p: &Prepared, budget: Duration) -> Result<(), Failure> {
    let mut response = client
        .post(p.url.clone())
        .headers(p.headers.clone())
        .body(p.body.clone())
        .timeout(budget)
        .send()
        .await
        .map_err(|e| Failure {
            retryable: e.is_connect(),
            detail: describe_error(&e),
        })?;
    let status = response.status();
    let mut answer = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                answer.extend_from_slice(&chunk);
                if answer.len() >= ANSWER_LIMIT {
                    answer.truncate(ANSWER_LIMIT);
                    break;
                }
            }
            Ok(None) => break,
            // The status said it all, unless DingTalk's answer is needed.
            Err(_) if status.is_success() && p.kind != NotifyKind::Dingtalk => break,
            Err(e) => {
                return Err(Failure {
                    retryable: false,
                    detail: describe_error(&e),
                });
            }
        }
    }
    judge(p.kind, status, &answer)
}

/// Whether an answer means sent.
fn judge(kind: NotifyKind, status: StatusCode, answer: &[u8]) -> Result<(), Failure> {
    if !status.is_success() {
        return Err(Failure {
            retryable: status.is_server_error(),
            detail: format!("HTTP {}{}", status.as_u16(), quote(answer)),
        });
    }
    if kind != NotifyKind::Dingtalk {
        return Ok(());
    }
    // DingTalk answers 200 and says in the body whether it worked.
    let parsed: Value = serde_json::from_slice(answer).unwrap_or(Value::Null);
    match parsed.get("errcode").and_then(Value::as_i64) {
        Some(0) => Ok(()),
        Some(code) => {
            let message = parsed
                .get("errmsg")
                .and_then(Value::as_str)
                .unwrap_or_default();
            Err(Failure {
                retryable: false,
                detail: format!(
                    "DingTalk answered errcode {code}{}",
                    quote(message.as_bytes())
                ),
            })
        }
        None => Err(Failure {
            retryable: false,
            detail: format!(
                "HTTP {} without a DingTalk errcode{}",
                status.as_u16(),
                quote(answer)
            ),
        }),
    }
}

/// ` (first line of the answer)`, or nothing when it is empty.
fn quote(answer: &[u8]) -> String {
    let text = String::from_utf8_lossy(answer);
    let one_line: String = text
        .trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if one_line.is_empty() {
        return String::new();
    }
    format!(" ({})", clip(&one_line, QUOTE_LIMIT))
}

/// A reqwest error in words, without its URL; a timeout names the budget.
fn describe_error(error: &reqwest::Error) -> String {
    let text = updraft_net::describe(error);
    if error.is_timeout() {
        text.replacen(
            "timed out",
            &format!("timed out ({} s per target)", TIMEOUT.as_secs()),
            1,
        )
    } else {
        text
    }
}

/// Resolved secrets, scrubbed from anything shown.
#[derive(Default)]
struct Secrets(Vec<String>);

impl Secrets {
    /// Shorter strings would scrub ordinary words.
    const MIN: usize = 4;

    fn add(&mut self, secret: &str) {
        let secret = secret.trim();
        if secret.len() >= Self::MIN && !self.0.iter().any(|s| s == secret) {
            self.0.push(secret.to_string());
            // Longest first, so a URL goes before its pieces.
            self.0.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }

    /// The URL, its path, query, long path segments, query values and
    /// password.
    fn add_url(&mut self, url: &Url) {
        self.add(url.as_str());
        if url.path().len() > 1 {
            self.add(url.path());
        }
        if let Some(query) = url.query() {
            self.add(&format!("{}?{query}", url.path()));
            self.add(query);
        }
        if let Some(segments) = url.path_segments() {
            for segment in segments.filter(|s| s.len() >= 8) {
                self.add(segment);
            }
        }
        for (_, value) in url.query_pairs() {
            self.add(&value);
        }
        if let Some(password) = url.password() {
            self.add(password);
        }
    }

    fn redact(&self, text: &str) -> String {
        self.0.iter().fold(text.to_string(), |text, secret| {
            text.replace(secret.as_str(), "…")
        })
    }
}

// ---------------------------------------------------------------------------
// DingTalk signing: HMAC-SHA256 (RFC 2104 over sha2; the workspace has no
// `hmac` crate) and base64 (RFC 4648; `base64` is not a dependency here).

/// `base64(HMAC-SHA256(secret, "{timestamp}\n{secret}"))`, not yet
/// URL-encoded (the query serializer does that).
fn dingtalk_sign(secret: &str, timestamp_ms: i64) -> String {
    let to_sign = format!("{timestamp_ms}\n{secret}");
    base64(&hmac_sha256(secret.as_bytes(), to_sign.as_bytes()))
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block.map(|b| b ^ 0x36));
    inner.update(message);
    let inner = inner.finalize();
    let mut outer = Sha256::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner);
    outer.finalize().into()
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};

    use axum::Router;
    use axum::body::Bytes;
    use axum::extract::State;
    use axum::http::{HeaderMap as AxumHeaders, StatusCode as AxumStatus, Uri};
    use axum::response::IntoResponse;

    use super::*;

    fn notice() -> Notice {
        Notice {
            event: "pending".into(),
            application: "argocd/app-helm-staging".into(),
            environment: Some("staging".into()),
            repository: Some("https://github.com/acme/gitops".into()),
            branch: Some("main".into()),
            commit: Some("abc1234def5678abc1234def5678abc1234def56".into()),
            changes: vec![NoticeChange {
                image: "echo-server".into(),
                old_tag: Some("v1.0.0".into()),
                new_tag: "v1.1.0".into(),
            }],
            message: "argocd/app-helm-staging waits for approval: echo-server v1.0.0 → v1.1.0 \
                      (commit abc1234); approve with `updraft approve argocd/app-helm-staging`"
                .into(),
            at: "2026-05-01T10:00:00Z".into(),
        }
    }

    // --- pure ------------------------------------------------------------

    #[test]
    fn hmac_sha256_matches_rfc_4231() {
        let cases: [(Vec<u8>, &[u8], &str); 4] = [
            (
                vec![0x0b; 20],
                b"Hi There",
                "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
            ),
            (
                b"Jefe".to_vec(),
                b"what do ya want for nothing?",
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
            ),
            (
                vec![0xaa; 20],
                &[0xdd; 50],
                "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
            ),
            (
                vec![0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First",
                "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
            ),
        ];
        for (key, data, expected) in cases {
            assert_eq!(hex::encode(hmac_sha256(&key, data)), expected);
        }
    }

    #[test]
    fn base64_matches_rfc_4648() {
        for (input, expected) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), expected);
        }
    }

    #[test]
    fn dingtalk_sign_matches_an_independent_computation() {
        // Python: base64.b64encode(hmac.new(s, f"{ts}\n{s}", sha256).digest())
        let sign = dingtalk_sign("SEC0123456789abcdef", 1_700_000_000_000);
        assert_eq!(sign, "TSZbRFUuvaSQaRKUpF970OPCb2/LcQAP3wOvwZIzBZk=");
        let mut url = Url::parse("https://oapi.dingtalk.com/robot/send?access_token=x").unwrap();
        url.query_pairs_mut().append_pair("sign", &sign);
        assert!(
            url.as_str()
                .ends_with("&sign=TSZbRFUuvaSQaRKUpF970OPCb2%2FLcQAP3wOvwZIzBZk%3D"),
            "{url}"
        );
    }

    #[test]
    fn webhook_body_is_the_notice_with_api_version_and_kind() {
        let v = body(NotifyKind::Webhook, &notice());
        assert_eq!(v["apiVersion"], "updraft.dev/v1alpha1");
        assert_eq!(v["kind"], "Notice");
        assert_eq!(v["event"], "pending");
        assert_eq!(v["application"], "argocd/app-helm-staging");
        assert_eq!(v["environment"], "staging");
        assert_eq!(v["changes"][0]["oldTag"], "v1.0.0");
        assert_eq!(v["changes"][0]["newTag"], "v1.1.0");
        assert_eq!(v["at"], "2026-05-01T10:00:00Z");
        // Round trip.
        let back: Notice = serde_json::from_value(v).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, notice());

        let mut bare = notice();
        bare.environment = None;
        bare.commit = None;
        bare.changes[0].old_tag = None;
        let v = body(NotifyKind::Webhook, &bare);
        assert!(v.get("environment").is_none());
        assert!(v.get("commit").is_none());
        assert!(v["changes"][0].get("oldTag").is_none());
    }

    #[test]
    fn slack_body_has_text_section_and_context() {
        let n = notice();
        let v = body(NotifyKind::Slack, &n);
        assert_eq!(v["text"], n.message.as_str());
        assert_eq!(v["blocks"][0]["type"], "section");
        assert_eq!(v["blocks"][0]["text"]["type"], "mrkdwn");
        let section = v["blocks"][0]["text"]["text"].as_str().unwrap();
        assert!(
            section.starts_with("⏳ argocd/app-helm-staging waits"),
            "{section}"
        );
        assert!(
            section.contains("• `echo-server` `v1.0.0` → `v1.1.0`"),
            "{section}"
        );
        assert_eq!(v["blocks"][1]["type"], "context");
        assert_eq!(
            v["blocks"][1]["elements"][0],
            json!({"type": "mrkdwn", "text": "commit `abc1234` · https://github.com/acme/gitops · main"})
        );
        assert_eq!(v["blocks"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn slack_body_escapes_and_drops_an_empty_context() {
        let mut n = notice();
        n.message = "a <b> & c".into();
        n.commit = None;
        n.repository = None;
        n.branch = Some("  ".into());
        n.changes.clear();
        let v = body(NotifyKind::Slack, &n);
        assert_eq!(v["text"], "a &lt;b&gt; &amp; c");
        assert_eq!(v["blocks"][0]["text"]["text"], "⏳ a &lt;b&gt; &amp; c");
        assert_eq!(v["blocks"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn slack_body_lists_twenty_changes_then_counts() {
        let mut n = notice();
        n.event = "synced".into();
        n.changes = (0..25)
            .map(|i| NoticeChange {
                image: format!("img{i}"),
                old_tag: None,
                new_tag: "v2".into(),
            })
            .collect();
        let v = body(NotifyKind::Slack, &n);
        let section = v["blocks"][0]["text"]["text"].as_str().unwrap();
        assert!(section.starts_with("🚀 "));
        assert!(section.contains("• `img19` → `v2`"));
        assert!(!section.contains("img20"));
        assert!(section.ends_with("… and 5 more"), "{section}");
    }

    #[test]
    fn dingtalk_body_is_markdown_with_title() {
        let v = body(NotifyKind::Dingtalk, &notice());
        assert_eq!(v["msgtype"], "markdown");
        assert_eq!(
            v["markdown"]["title"],
            "Updraft: argocd/app-helm-staging (staging) waits for approval"
        );
        let text = v["markdown"]["text"].as_str().unwrap();
        assert!(
            text.starts_with("#### ⏳ argocd/app-helm-staging (staging) waits for approval\n\n"),
            "{text}"
        );
        assert!(text.contains("- **echo-server** v1.0.0 → v1.1.0"), "{text}");
        assert!(
            text.ends_with("###### commit abc1234 · https://github.com/acme/gitops · main"),
            "{text}"
        );
    }

    #[test]
    fn every_event_reads_as_a_sentence() {
        for (event, phrase) in [
            ("approved", "approved"),
            ("rejected", "rejected"),
            ("failed", "failed"),
            ("gated", "held by a gate"),
            ("rollback", "rolled back"),
            ("custom", "custom"),
        ] {
            let mut n = notice();
            n.event = event.into();
            n.environment = None;
            n.message = String::new();
            let v = body(NotifyKind::Dingtalk, &n);
            assert_eq!(
                v["markdown"]["title"],
                format!("Updraft: argocd/app-helm-staging {phrase}")
            );
            let s = body(NotifyKind::Slack, &n);
            assert!(
                s["text"]
                    .as_str()
                    .unwrap()
                    .ends_with(&format!("argocd/app-helm-staging {phrase}"))
            );
        }
    }

    #[test]
    fn targets_parse_and_debug_hides_literals() {
        let t: NotifyTarget = serde_json::from_value(json!({
            "kind": "webhook", "url": "env:HOOK",
            "headers": {"Authorization": "Bearer literal-token", "X-Ref": "env:TOKEN"},
        }))
        .unwrap();
        assert_eq!(t.kind, NotifyKind::Webhook);
        let debug = format!("{t:?}");
        assert!(
            debug.contains("env:HOOK") && debug.contains("env:TOKEN"),
            "{debug}"
        );
        assert!(!debug.contains("literal-token"), "{debug}");

        let bad = serde_json::from_value::<NotifyTarget>(json!({"kind": "teams", "url": "env:X"}));
        assert!(bad.is_err());
        let bad = serde_json::from_value::<NotifyTarget>(
            json!({"kind": "slack", "url": "env:X", "channel": "#ops"}),
        );
        assert!(bad.unwrap_err().to_string().contains("channel"));
    }

    #[test]
    fn redaction_removes_url_pieces_and_short_commits_stay() {
        let mut s = Secrets::default();
        s.add_url(
            &Url::parse("https://hooks.example.com/services/T0/B0/abcdefgh12345678?token=qwerty")
                .unwrap(),
        );
        let out =
            s.redact("Cannot POST /services/T0/B0/abcdefgh12345678?token=qwerty; token qwerty");
        assert!(
            !out.contains("abcdefgh12345678") && !out.contains("qwerty"),
            "{out}"
        );
        assert_eq!(short_commit("abc1234"), "abc1234");
        assert_eq!(short_commit("not-a-sha-but-long"), "not-a-sha-but-long");
    }

    #[test]
    fn send_is_send_and_static() {
        fn check<T: Send + 'static>(_: &T) {}
        let client = reqwest::Client::new();
        let resolve = |_: &str| Err::<String, String>("unset".into());
        let future = send(&client, &[], &notice(), &resolve);
        check(&future);
    }

    // --- over loopback ----------------------------------------------------

    #[derive(Debug, Clone)]
    struct Seen {
        path: String,
        query: Option<String>,
        headers: AxumHeaders,
        body: Value,
    }

    type Log = Arc<Mutex<Vec<Seen>>>;

    async fn record(
        State(log): State<Log>,
        uri: Uri,
        headers: AxumHeaders,
        body: Bytes,
    ) -> axum::response::Response {
        let path = uri.path().to_string();
        log.lock().unwrap().push(Seen {
            path: path.clone(),
            query: uri.query().map(str::to_string),
            headers,
            body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        });
        if path.starts_with("/dingtalk-bad") {
            axum::Json(json!({"errcode": 310000, "errmsg": "sign not match"})).into_response()
        } else if path.starts_with("/dingtalk") {
            axum::Json(json!({"errcode": 0, "errmsg": "ok"})).into_response()
        } else if path.starts_with("/down") {
            // Echoes the request line, as many error pages do.
            (
                AxumStatus::INTERNAL_SERVER_ERROR,
                format!("cannot handle {uri}"),
            )
                .into_response()
        } else if path.starts_with("/missing") {
            (AxumStatus::NOT_FOUND, "no_service").into_response()
        } else {
            "ok".into_response()
        }
    }

    async fn server() -> (String, Log) {
        let log = Log::default();
        let app = Router::new().fallback(record).with_state(log.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        (format!("http://{addr}"), log)
    }

    fn resolver(values: HashMap<&'static str, String>) -> impl Fn(&str) -> Result<String, String> {
        move |reference: &str| {
            values.get(reference).cloned().ok_or_else(|| {
                format!(
                    "environment variable {} is not set",
                    reference.trim_start_matches("env:")
                )
            })
        }
    }

    fn target(kind: NotifyKind, url: &str) -> NotifyTarget {
        NotifyTarget {
            kind,
            url: url.into(),
            secret: None,
            headers: BTreeMap::new(),
        }
    }

    fn seen(log: &Log, prefix: &str) -> Vec<Seen> {
        log.lock()
            .unwrap()
            .iter()
            .filter(|s| s.path.starts_with(prefix))
            .cloned()
            .collect()
    }

    #[tokio::test]
    async fn all_three_formats_arrive() {
        let (base, log) = server().await;
        let resolve = resolver(HashMap::from([
            ("env:HOOK_URL", format!("{base}/hook")),
            ("env:HOOK_TOKEN", "Bearer hooktoken-0001".to_string()),
            (
                "env:SLACK_URL",
                format!("{base}/services/T000/B000/slacktoken0001"),
            ),
            (
                "env:DING_URL",
                format!("{base}/dingtalk/robot/send?access_token=dingtoken0001"),
            ),
            ("env:DING_SECRET", "SECdingsecret0001".to_string()),
        ]));
        let mut hook = target(NotifyKind::Webhook, "env:HOOK_URL");
        hook.headers
            .insert("Authorization".into(), "env:HOOK_TOKEN".into());
        hook.headers.insert("X-Team".into(), "platform".into());
        let mut ding = target(NotifyKind::Dingtalk, "env:DING_URL");
        ding.secret = Some("env:DING_SECRET".into());
        let targets = [hook, target(NotifyKind::Slack, "env:SLACK_URL"), ding];
        let client = reqwest::Client::new();

        let before = chrono::Utc::now().timestamp_millis();
        let errors = send(&client, &targets, &notice(), &resolve).await;
        assert_eq!(errors, Vec::<String>::new());

        let hooks = seen(&log, "/hook");
        assert_eq!(hooks.len(), 1);
        let h = &hooks[0];
        assert_eq!(h.headers["content-type"], "application/json");
        assert_eq!(h.headers["authorization"], "Bearer hooktoken-0001");
        assert_eq!(h.headers["x-team"], "platform");
        assert_eq!(h.body["apiVersion"], "updraft.dev/v1alpha1");
        assert_eq!(h.body["kind"], "Notice");
        assert_eq!(h.body["event"], "pending");
        assert_eq!(h.body["changes"][0]["newTag"], "v1.1.0");

        let slack = seen(&log, "/services/");
        assert_eq!(slack.len(), 1);
        assert_eq!(slack[0].path, "/services/T000/B000/slacktoken0001");
        assert_eq!(slack[0].headers["content-type"], "application/json");
        assert_eq!(slack[0].body["text"], notice().message.as_str());
        assert_eq!(slack[0].body["blocks"][0]["type"], "section");
        assert_eq!(slack[0].body["blocks"][1]["type"], "context");

        let ding = seen(&log, "/dingtalk/");
        assert_eq!(ding.len(), 1);
        assert_eq!(ding[0].body["msgtype"], "markdown");
        assert!(
            ding[0].body["markdown"]["text"]
                .as_str()
                .unwrap()
                .starts_with("#### ")
        );
        let query = ding[0].query.clone().unwrap();
        assert!(
            query.starts_with("access_token=dingtoken0001&timestamp="),
            "{query}"
        );
        let pairs: HashMap<String, String> = Url::parse(&format!("http://x/?{query}"))
            .unwrap()
            .query_pairs()
            .into_owned()
            .collect();
        let timestamp: i64 = pairs["timestamp"].parse().unwrap();
        let after = chrono::Utc::now().timestamp_millis();
        assert!((before..=after).contains(&timestamp), "{timestamp}");
        // Recompute: base64(HMAC-SHA256(secret, "{timestamp}\n{secret}")).
        let secret = "SECdingsecret0001";
        let expected = base64(&hmac_sha256(
            secret.as_bytes(),
            format!("{timestamp}\n{secret}").as_bytes(),
        ));
        assert_eq!(pairs["sign"], expected);
        // URL-encoded on the wire: no raw base64 '+', '/' or '='.
        let raw_sign = query.rsplit("sign=").next().unwrap();
        assert!(!raw_sign.contains(['+', '/', '=']), "{raw_sign}");
    }

    #[tokio::test]
    async fn failures_name_kind_and_host_but_not_tokens_and_others_still_go() {
        let (base, log) = server().await;
        let host = base.clone();
        let resolve = resolver(HashMap::from([
            (
                "env:DOWN_URL",
                format!("{base}/down/downtoken0001?access_token=downquery0001"),
            ),
            (
                "env:BAD_URL",
                format!("{base}/dingtalk-bad/robot/send?access_token=badtoken0001"),
            ),
            ("env:BAD_SECRET", "SECbadsecret0001".to_string()),
            (
                "env:GONE_URL",
                format!("{base}/missing/T1/B1/gonetoken0001"),
            ),
            (
                "env:SLACK_URL",
                format!("{base}/services/T000/B000/slacktoken0001"),
            ),
        ]));
        let mut bad = target(NotifyKind::Dingtalk, "env:BAD_URL");
        bad.secret = Some("env:BAD_SECRET".into());
        let targets = [
            target(NotifyKind::Webhook, "env:DOWN_URL"),
            bad,
            target(NotifyKind::Slack, "env:GONE_URL"),
            target(NotifyKind::Slack, "env:UNSET_URL"),
            target(NotifyKind::Slack, "env:SLACK_URL"),
        ];
        let client = reqwest::Client::new();
        let errors = send(&client, &targets, &notice(), &resolve).await;
        assert_eq!(errors.len(), 4, "{errors:#?}");

        assert_eq!(
            errors[0],
            format!(
                "notify target 1: the webhook notification to {host} failed: HTTP 500 \
                 (cannot handle …) (after one retry)"
            )
        );
        assert_eq!(
            errors[1],
            format!(
                "notify target 2: the dingtalk notification to {host} failed: \
                 DingTalk answered errcode 310000 (sign not match)"
            )
        );
        assert_eq!(
            errors[2],
            format!(
                "notify target 3: the slack notification to {host} failed: HTTP 404 (no_service)"
            )
        );
        assert_eq!(
            errors[3],
            "notify target 4 (slack): url: environment variable UNSET_URL is not set"
        );
        for error in &errors {
            for token in [
                "downtoken0001",
                "downquery0001",
                "badtoken0001",
                "SECbadsecret0001",
                "gonetoken0001",
                "sign=",
                "/down",
                "/missing",
            ] {
                assert!(!error.contains(token), "{token} in {error}");
            }
        }

        // 5xx retried once; errcode and 4xx not retried; the good target sent.
        assert_eq!(seen(&log, "/down/").len(), 2);
        assert_eq!(seen(&log, "/dingtalk-bad/").len(), 1);
        assert_eq!(seen(&log, "/missing/").len(), 1);
        assert_eq!(seen(&log, "/services/").len(), 1);
    }

    #[tokio::test]
    async fn refused_connection_is_retried_once_and_reported() {
        // A port that was just free: nothing listens there.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let resolve = resolver(HashMap::from([(
            "env:SLACK_URL",
            format!("http://{addr}/services/T/B/refusedtoken0001"),
        )]));
        let client = reqwest::Client::new();
        let errors = send(
            &client,
            &[target(NotifyKind::Slack, "env:SLACK_URL")],
            &notice(),
            &resolve,
        )
        .await;
        assert_eq!(errors.len(), 1);
        let error = &errors[0];
        assert!(
            error.starts_with(&format!(
                "notify target 1: the slack notification to http://{addr} failed: cannot connect"
            )),
            "{error}"
        );
        assert!(error.ends_with("(after one retry)"), "{error}");
        assert!(!error.contains("refusedtoken0001"), "{error}");
    }

    #[tokio::test]
    async fn misplaced_fields_and_bad_values_are_reported_before_sending() {
        let resolve = resolver(HashMap::from([
            (
                "env:NOT_A_URL",
                "hooks.slack.com/services/T/B/plaintoken0001".to_string(),
            ),
            ("env:FTP_URL", "ftp://example.com/ftptoken0001".to_string()),
            ("env:OK_URL", "http://127.0.0.1:9/x".to_string()),
        ]));
        let mut slack_with_headers = target(NotifyKind::Slack, "env:OK_URL");
        slack_with_headers.headers.insert("X-A".into(), "b".into());
        let mut webhook_with_secret = target(NotifyKind::Webhook, "env:OK_URL");
        webhook_with_secret.secret = Some("env:S".into());
        let mut bad_header = target(NotifyKind::Webhook, "env:OK_URL");
        bad_header.headers.insert("Bad Name".into(), "v".into());
        let mut unset_secret = target(NotifyKind::Dingtalk, "env:OK_URL");
        unset_secret.secret = Some("env:DING_SECRET".into());
        let targets = [
            target(NotifyKind::Slack, "env:NOT_A_URL"),
            target(NotifyKind::Webhook, "env:FTP_URL"),
            slack_with_headers,
            webhook_with_secret,
            bad_header,
            unset_secret,
        ];
        let errors = send(&reqwest::Client::new(), &targets, &notice(), &resolve).await;
        assert_eq!(
            errors,
            [
                "notify target 1 (slack): url: the value of env:NOT_A_URL is not a URL \
                 (relative URL without a base)",
                "notify target 2 (webhook): url: the value of env:FTP_URL is not an http(s) URL",
                "notify target 3 (slack): headers are only for kind webhook",
                "notify target 4 (webhook): secret is only for kind dingtalk",
                "notify target 5 (webhook): header \"Bad Name\" is not a valid header name",
                "notify target 6 (dingtalk): secret: environment variable DING_SECRET is not set",
            ]
        );
    }
}
