//! Owns [`ArgoClient`]: Updraft's client of the Argo CD REST API
//! (grpc-gateway JSON under `/api/v1`, `Authorization: Bearer <token>`).
//!
//! It lists and reads Applications, refreshes them (a `GET` with
//! `?refresh=normal|hard`, which blocks until the controller has reconciled,
//! so it is always bounded by a timeout), syncs them with the server's exact
//! wire format, waits for the sync operation, runs resource actions (Argo
//! Rollouts `promote-full` / `resume`) through the v2 endpoint with a
//! fallback to the deprecated v1 one, and updates the spec for the `argocd`
//! write-back method (`PUT …/spec` with the full spec, as Image Updater
//! does). TLS certificates are verified unless `insecure` is set.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde_json::Value;
use tracing::{debug, warn};
use url::Url;

use crate::error::ArgoError;
use crate::model::{
    ActionApi, ActionEndpoint, AppName, ApplicationTree, ErrorBody, LiveApplication,
    OperationPhase, OperationState, ResourceActionRunRequestV2, ResourceNode, ResourceRef,
    SessionCreateRequest, SessionResponse, SyncOptionItems, SyncOptions, SyncRequest,
};
use crate::spec::SpecPatch;
use updraft_core::Secret;

/// Settings of an [`ArgoClient`].
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Skip TLS certificate and host name verification (self-signed
    /// argocd-server). Off by default.
    pub insecure: bool,
    /// Extra root certificates (PEM bundles) to trust.
    pub extra_root_certificates: Vec<Vec<u8>>,
    /// Bound on connecting.
    pub connect_timeout: Duration,
    /// Bound on one request (a refresh has its own bound).
    pub request_timeout: Duration,
    /// The longest pause between two polls of
    /// [`ArgoClient::wait_for_operation`]: it polls after 250 ms, then
    /// doubles the pause up to this bound, so a quick sync is seen quickly
    /// and a long one costs few requests.
    pub poll_interval: Duration,
    /// Which resource-action endpoint to use.
    pub action_api: ActionApi,
    /// The `User-Agent` header.
    pub user_agent: String,
}

/// The first pause of [`ArgoClient::wait_for_operation`].
const FIRST_POLL: Duration = Duration::from_millis(250);

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            insecure: false,
            extra_root_certificates: Vec::new(),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            poll_interval: Duration::from_secs(2),
            action_api: ActionApi::Auto,
            user_agent: concat!("updraft/", env!("CARGO_PKG_VERSION")).to_string(),
        }
    }
}

/// A client of one Argo CD server. Cheap to share behind an `Arc`; `Debug`
/// never shows the token.
pub struct ArgoClient {
    base: Url,
    server: String,
    token: Secret,
    http: reqwest::Client,
    options: ClientOptions,
    /// Set once the server was found to lack the v2 action endpoint.
    v2_missing: AtomicBool,
}

impl std::fmt::Debug for ArgoClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArgoClient")
            .field("server", &self.server)
            .field("token", &self.token)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// What a request is for: the words of its errors.
struct Call<'a> {
    what: String,
    app: Option<&'a AppName>,
    rbac: &'a str,
    timeout: Duration,
}

impl ArgoClient {
    /// A client of `server` (e.g. `https://argocd.example.com`, optionally
    /// with the `--rootpath` prefix) that sends `token` as a bearer token.
    pub fn new(server: &str, token: Secret, options: ClientOptions) -> Result<Self, ArgoError> {
        if token.is_empty() {
            return Err(ArgoError::Config {
                problem: format!("the Argo CD token for {server} is empty"),
            });
        }
        Self::build(server, token, options)
    }

    /// Logs in with a user name and password (`POST /api/v1/session`) and
    /// returns a client that uses the session token.
    pub async fn login(
        server: &str,
        username: &str,
        password: &Secret,
        options: ClientOptions,
    ) -> Result<Self, ArgoError> {
        let anonymous = Self::build(server, Secret::new(""), options)?;
        let url = anonymous.url(&["api", "v1", "session"], &[]);
        let body = SessionCreateRequest {
            username: username.to_string(),
            password: password.expose().to_string(),
        };
        let call = Call {
            what: format!("login as {username}"),
            app: None,
            rbac: "login",
            timeout: anonymous.options.request_timeout,
        };
        let value = match anonymous.send(Method::POST, url, Some(&body), &call).await {
            Ok(value) => value,
            Err(ArgoError::Unauthorized { server, message }) => {
                return Err(ArgoError::Login {
                    server,
                    username: username.to_string(),
                    message,
                });
            }
            Err(other) => return Err(other),
        };
        let session: SessionResponse =
            serde_json::from_value(value).map_err(|e| anonymous.decode_error(&call, &e))?;
        if session.token.is_empty() {
            return Err(ArgoError::Login {
                server: anonymous.server.clone(),
                username: username.to_string(),
                message: "the server returned no token".to_string(),
            });
        }
        Ok(Self {
            token: Secret::new(session.token),
            ..anonymous
        })
    }

    fn build(server: &str, token: Secret, options: ClientOptions) -> Result<Self, ArgoError> {
        let mut base = Url::parse(server).map_err(|e| ArgoError::Config {
            problem: format!("the Argo CD server `{server}` is not a URL: {e}"),
        })?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(ArgoError::Config {
                problem: format!("the Argo CD server `{server}` must be an http(s) URL"),
            });
        }
        // Credentials never belong in the URL (they would end up in errors).
        if !base.username().is_empty() || base.password().is_some() {
            return Err(ArgoError::Config {
                problem: "the Argo CD server URL must not contain a user name or password; \
                          pass a token instead"
                    .to_string(),
            });
        }
        base.set_query(None);
        base.set_fragment(None);
        let shown = base.as_str().trim_end_matches('/').to_string();
        let mut builder = reqwest::Client::builder()
            .connect_timeout(options.connect_timeout)
            .timeout(options.request_timeout)
            .user_agent(options.user_agent.clone());
        if options.insecure {
            warn!(server = %shown, "TLS certificate verification is off for this Argo CD server (insecure)");
            builder = builder
                .tls_danger_accept_invalid_certs(true)
                .tls_danger_accept_invalid_hostnames(true);
        }
        for pem in &options.extra_root_certificates {
            let certs =
                reqwest::Certificate::from_pem_bundle(pem).map_err(|e| ArgoError::Config {
                    problem: format!("an extra CA bundle for {shown} is not PEM: {e}"),
                })?;
            builder = builder.tls_certs_merge(certs);
        }
        let http = builder.build().map_err(|e| ArgoError::Config {
            problem: format!(
                "cannot set up HTTP for {shown}: {}",
                updraft_net::describe(&e)
            ),
        })?;
        Ok(Self {
            base,
            server: shown,
            token,
            http,
            options,
            v2_missing: AtomicBool::new(false),
        })
    }

    /// The server, as errors name it.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// The options in use.
    pub fn options(&self) -> &ClientOptions {
        &self.options
    }

    /// `GET /api/v1/applications`: the Applications the token may see,
    /// optionally only those of `project`, matching the label `selector`
    /// (e.g. `argocd-image-updater.argoproj.io/enabled=true`), in
    /// `app_namespace`.
    pub async fn list_applications(
        &self,
        project: Option<&str>,
        selector: Option<&str>,
        app_namespace: Option<&str>,
    ) -> Result<Vec<LiveApplication>, ArgoError> {
        let mut query = Vec::new();
        if let Some(project) = project {
            query.push(("projects", project));
        }
        if let Some(selector) = selector {
            query.push(("selector", selector));
        }
        if let Some(namespace) = app_namespace {
            query.push(("appNamespace", namespace));
        }
        let url = self.url(&["api", "v1", "applications"], &query);
        let call = Call {
            what: "list applications".to_string(),
            app: None,
            rbac: "get",
            timeout: self.options.request_timeout,
        };
        let value = self.send(Method::GET, url, None::<&()>, &call).await?;
        // A Go nil slice: `"items": null` when nothing matches.
        let items = match value.get("items") {
            None | Some(Value::Null) => return Ok(Vec::new()),
            Some(Value::Array(items)) => items,
            Some(_) => {
                return Err(ArgoError::Decode {
                    server: self.server.clone(),
                    what: call.what,
                    problem: "`items` is not a list".to_string(),
                });
            }
        };
        items
            .iter()
            .map(|item| LiveApplication::from_json(item).map_err(|e| self.decode_error(&call, &e)))
            .collect()
    }

    /// `GET /api/v1/applications/{name}`: one Application (`app` is `name`
    /// or `namespace/name`, see [`AppName`]).
    pub async fn get_application(
        &self,
        app: impl Into<AppName>,
    ) -> Result<LiveApplication, ArgoError> {
        let app = app.into();
        let call = Call {
            what: format!("get application {app}"),
            app: Some(&app),
            rbac: "get",
            timeout: self.options.request_timeout,
        };
        let value = self.get_app_json(&app, None, &call).await?;
        LiveApplication::from_json(&value).map_err(|e| self.decode_error(&call, &e))
    }

    /// Asks Argo CD to re-read git (`hard` also drops the repo-server's
    /// manifest cache) and returns the reconciled Application. The server
    /// blocks until the controller has reconciled, so the call is bounded
    /// by `timeout`; exceeding it is [`ArgoError::Timeout`].
    pub async fn refresh(
        &self,
        app: impl Into<AppName>,
        hard: bool,
        timeout: Duration,
    ) -> Result<LiveApplication, ArgoError> {
        let app = app.into();
        let mode = if hard { "hard" } else { "normal" };
        let call = Call {
            what: format!("{mode} refresh of application {app}"),
            app: Some(&app),
            rbac: "get",
            timeout,
        };
        let value = self.get_app_json(&app, Some(mode), &call).await?;
        LiveApplication::from_json(&value).map_err(|e| self.decode_error(&call, &e))
    }

    /// `POST /api/v1/applications/{name}/sync`. Returns the Application
    /// with the operation requested; follow with
    /// [`ArgoClient::wait_for_operation`].
    pub async fn sync(
        &self,
        app: impl Into<AppName>,
        options: &SyncOptions,
    ) -> Result<LiveApplication, ArgoError> {
        let app = app.into();
        let body = SyncRequest {
            name: app.name.clone(),
            // `body: "*"`: the server reads appNamespace from the body only.
            app_namespace: app.namespace.clone(),
            revision: options.revision.clone(),
            prune: options.prune,
            dry_run: options.dry_run,
            sync_options: (!options.sync_options.is_empty()).then(|| SyncOptionItems {
                items: options.sync_options.clone(),
            }),
        };
        let url = self.url(&["api", "v1", "applications", &app.name, "sync"], &[]);
        let call = Call {
            what: format!("sync of application {app}"),
            app: Some(&app),
            rbac: "sync",
            timeout: self.options.request_timeout,
        };
        let value = self.send(Method::POST, url, Some(&body), &call).await?;
        LiveApplication::from_json(&value).map_err(|e| self.decode_error(&call, &e))
    }

    /// Polls the Application until its operation is over (the top-level
    /// `operation` is gone and `status.operationState.phase` is terminal),
    /// for at most `timeout`. `Succeeded` returns the state; `Failed` and
    /// `Error` are [`ArgoError::SyncFailed`] with the operation's message.
    pub async fn wait_for_operation(
        &self,
        app: impl Into<AppName>,
        timeout: Duration,
    ) -> Result<OperationState, ArgoError> {
        let app = app.into();
        let deadline = Instant::now() + timeout;
        let timed_out = || ArgoError::Timeout {
            server: self.server.clone(),
            what: format!("waiting for the operation on application {app}"),
            after: timeout,
        };
        let mut pause = FIRST_POLL.min(self.options.poll_interval);
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(timed_out());
            }
            let call = Call {
                what: format!("get application {app}"),
                app: Some(&app),
                rbac: "get",
                timeout: remaining.min(self.options.request_timeout),
            };
            let value = match self.get_app_json(&app, None, &call).await {
                Ok(value) => value,
                Err(ArgoError::Timeout { .. }) => return Err(timed_out()),
                Err(other) => return Err(other),
            };
            let live =
                LiveApplication::from_json(&value).map_err(|e| self.decode_error(&call, &e))?;
            match (&live.operation, live.status.operation_state) {
                (None, None) => {
                    return Err(ArgoError::NoOperation {
                        server: self.server.clone(),
                        app: app.to_string(),
                    });
                }
                (None, Some(state)) if state.phase.is_terminal() => {
                    debug!(server = %self.server, app = %app, phase = %state.phase, "operation finished");
                    return match state.phase {
                        OperationPhase::Succeeded => Ok(state),
                        phase => Err(ArgoError::SyncFailed {
                            server: self.server.clone(),
                            app: app.to_string(),
                            phase,
                            message: state.message.unwrap_or_default(),
                        }),
                    };
                }
                _ => {}
            }
            let remaining = deadline.saturating_duration_since(Instant::now());
            tokio::time::sleep(pause.min(remaining)).await;
            pause = (pause * 2).min(self.options.poll_interval);
        }
    }

    /// Runs a resource action (e.g. Argo Rollouts `promote-full` or
    /// `resume`) on a resource of the Application. With [`ActionApi::Auto`]
    /// it tries `…/resource/actions/v2` (Argo CD ≥ 3.2) and falls back to
    /// the deprecated `…/resource/actions` (action name as a JSON string
    /// body) when the server has no v2 route. Returns the endpoint used.
    pub async fn run_resource_action(
        &self,
        app: impl Into<AppName>,
        resource: &ResourceRef,
        action: &str,
    ) -> Result<ActionEndpoint, ArgoError> {
        let app = app.into();
        match self.options.action_api {
            ActionApi::V1 => self.run_action_v1(&app, resource, action).await,
            ActionApi::V2 => self.run_action_v2(&app, resource, action).await,
            ActionApi::Auto if self.v2_missing.load(Ordering::Relaxed) => {
                self.run_action_v1(&app, resource, action).await
            }
            ActionApi::Auto => match self.run_action_v2(&app, resource, action).await {
                Err(error) if route_missing(&error) => {
                    debug!(server = %self.server, "no v2 resource-action endpoint; trying v1");
                    let used = self.run_action_v1(&app, resource, action).await?;
                    self.v2_missing.store(true, Ordering::Relaxed);
                    Ok(used)
                }
                other => other,
            },
        }
    }

    async fn run_action_v2(
        &self,
        app: &AppName,
        resource: &ResourceRef,
        action: &str,
    ) -> Result<ActionEndpoint, ArgoError> {
        let body = ResourceActionRunRequestV2 {
            name: app.name.clone(),
            app_namespace: app.namespace.clone(),
            namespace: resource.namespace.clone(),
            resource_name: resource.name.clone(),
            version: resource.version.clone(),
            group: resource.group.clone(),
            kind: resource.kind.clone(),
            action: action.to_string(),
            resource_action_parameters: Vec::new(),
        };
        let url = self.url(
            &[
                "api",
                "v1",
                "applications",
                &app.name,
                "resource",
                "actions",
                "v2",
            ],
            &[],
        );
        let rbac = format!("action/{}/{}/{action}", resource.group, resource.kind);
        let call = Call {
            what: format!("action {action} on {resource} of application {app}"),
            app: Some(app),
            rbac: &rbac,
            timeout: self.options.request_timeout,
        };
        self.send(Method::POST, url, Some(&body), &call).await?;
        Ok(ActionEndpoint::V2)
    }

    async fn run_action_v1(
        &self,
        app: &AppName,
        resource: &ResourceRef,
        action: &str,
    ) -> Result<ActionEndpoint, ArgoError> {
        let mut query = vec![
            ("namespace", resource.namespace.as_str()),
            ("resourceName", resource.name.as_str()),
            ("version", resource.version.as_str()),
            ("group", resource.group.as_str()),
            ("kind", resource.kind.as_str()),
        ];
        if let Some(namespace) = &app.namespace {
            query.push(("appNamespace", namespace));
        }
        let url = self.url(
            &[
                "api",
                "v1",
                "applications",
                &app.name,
                "resource",
                "actions",
            ],
            &query,
        );
        let rbac = format!("action/{}/{}/{action}", resource.group, resource.kind);
        let call = Call {
            what: format!("action {action} on {resource} of application {app}"),
            app: Some(app),
            rbac: &rbac,
            timeout: self.options.request_timeout,
        };
        // `body: "action"`: the body is the action name as a JSON string.
        self.send(Method::POST, url, Some(&action), &call).await?;
        Ok(ActionEndpoint::V1)
    }

    /// `GET /api/v1/applications/{name}/resource-tree`: the Application's
    /// live resources (e.g. to find its `Rollout`).
    pub async fn resource_tree(
        &self,
        app: impl Into<AppName>,
    ) -> Result<Vec<ResourceNode>, ArgoError> {
        let app = app.into();
        let query: Vec<(&str, &str)> = app
            .namespace
            .as_deref()
            .map(|ns| ("appNamespace", ns))
            .into_iter()
            .collect();
        let url = self.url(
            &["api", "v1", "applications", &app.name, "resource-tree"],
            &query,
        );
        let call = Call {
            what: format!("resource tree of application {app}"),
            app: Some(&app),
            rbac: "get",
            timeout: self.options.request_timeout,
        };
        let value = self.send(Method::GET, url, None::<&()>, &call).await?;
        let tree: ApplicationTree = match value {
            Value::Null => ApplicationTree::default(),
            value => serde_json::from_value(value).map_err(|e| self.decode_error(&call, &e))?,
        };
        Ok(tree.nodes)
    }

    /// The `argocd` write-back method: reads the Application, applies
    /// `patch` to its spec **as JSON** (so fields Updraft does not model are
    /// kept), and writes the whole spec back with
    /// `PUT /api/v1/applications/{name}/spec`, as Image Updater does.
    /// Returns whether anything changed (nothing is written otherwise).
    pub async fn update_application_spec(
        &self,
        app: impl Into<AppName>,
        patch: &SpecPatch,
    ) -> Result<bool, ArgoError> {
        let app = app.into();
        let read = Call {
            what: format!("get application {app}"),
            app: Some(&app),
            rbac: "get",
            timeout: self.options.request_timeout,
        };
        let value = self.get_app_json(&app, None, &read).await?;
        let mut spec = value.get("spec").cloned().unwrap_or(Value::Null);
        let changed = patch.apply(&mut spec).map_err(|source| ArgoError::Spec {
            app: app.to_string(),
            source,
        })?;
        if !changed {
            debug!(server = %self.server, app = %app, "spec already up to date");
            return Ok(false);
        }
        let query: Vec<(&str, &str)> = app
            .namespace
            .as_deref()
            .map(|ns| ("appNamespace", ns))
            .into_iter()
            .collect();
        let url = self.url(&["api", "v1", "applications", &app.name, "spec"], &query);
        let call = Call {
            what: format!("spec update of application {app}"),
            app: Some(&app),
            rbac: "update",
            timeout: self.options.request_timeout,
        };
        self.send(Method::PUT, url, Some(&spec), &call).await?;
        Ok(true)
    }

    async fn get_app_json(
        &self,
        app: &AppName,
        refresh: Option<&str>,
        call: &Call<'_>,
    ) -> Result<Value, ArgoError> {
        let mut query = Vec::new();
        if let Some(mode) = refresh {
            query.push(("refresh", mode));
        }
        if let Some(namespace) = &app.namespace {
            query.push(("appNamespace", namespace.as_str()));
        }
        let url = self.url(&["api", "v1", "applications", &app.name], &query);
        self.send(Method::GET, url, None::<&()>, call).await
    }

    /// The URL of `segments` (each percent-encoded) under the server's base
    /// path, with `query`.
    fn url(&self, segments: &[&str], query: &[(&str, &str)]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url
    }

    async fn send<B: Serialize + ?Sized>(
        &self,
        method: Method,
        url: Url,
        body: Option<&B>,
        call: &Call<'_>,
    ) -> Result<Value, ArgoError> {
        let path = url.path().to_string();
        let mut request = self
            .http
            .request(method.clone(), url)
            .timeout(call.timeout)
            .header(reqwest::header::ACCEPT, "application/json");
        if !self.token.is_empty() {
            request = request.bearer_auth(self.token.expose());
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .map_err(|e| self.transport_error(call, &e))?;
        let status = response.status();
        debug!(server = %self.server, %method, %path, status = status.as_u16(), "argo cd request");
        let bytes = response
            .bytes()
            .await
            .map_err(|e| self.transport_error(call, &e))?;
        if status.is_success() {
            if bytes.iter().all(u8::is_ascii_whitespace) {
                return Ok(Value::Null);
            }
            return serde_json::from_slice(&bytes).map_err(|e| self.decode_error(call, &e));
        }
        Err(self.status_error(call, status, &bytes))
    }

    fn status_error(&self, call: &Call<'_>, status: StatusCode, bytes: &[u8]) -> ArgoError {
        let body: Option<ErrorBody> = serde_json::from_slice(bytes).ok();
        let message = match &body {
            Some(b) if !b.message.is_empty() => one_line(&b.message),
            Some(b) if !b.error.is_empty() => one_line(&b.error),
            _ => one_line(&String::from_utf8_lossy(bytes)),
        };
        let message = if message.is_empty() {
            status
                .canonical_reason()
                .unwrap_or("no message")
                .to_string()
        } else {
            message
        };
        let grpc_code = body.as_ref().map_or(0, |b| b.code);
        let server = self.server.clone();
        let app = call.app.map(ToString::to_string);
        match (status.as_u16(), app) {
            (401, _) => ArgoError::Unauthorized { server, message },
            (403, Some(app)) => ArgoError::PermissionDenied {
                server,
                action: call.rbac.to_string(),
                name: call.app.map(|a| a.name.clone()).unwrap_or_default(),
                app,
                message,
            },
            (403, None) => ArgoError::PermissionDenied {
                server,
                action: call.rbac.to_string(),
                app: "*".to_string(),
                name: "*".to_string(),
                message,
            },
            (404, Some(app)) => ArgoError::NotFound {
                server,
                app,
                message,
            },
            (400, Some(app)) if message.contains("another operation is already in progress") => {
                ArgoError::OperationInProgress {
                    server,
                    app,
                    message,
                }
            }
            (504, _) => ArgoError::Timeout {
                server,
                what: call.what.clone(),
                after: call.timeout,
            },
            (_, _) if grpc_code == 4 => ArgoError::Timeout {
                server,
                what: call.what.clone(),
                after: call.timeout,
            },
            (status, _) => ArgoError::Api {
                server,
                what: call.what.clone(),
                status,
                message,
            },
        }
    }

    fn transport_error(&self, call: &Call<'_>, error: &reqwest::Error) -> ArgoError {
        if error.is_timeout() {
            return ArgoError::Timeout {
                server: self.server.clone(),
                what: call.what.clone(),
                after: call.timeout,
            };
        }
        ArgoError::Transport {
            server: self.server.clone(),
            what: call.what.clone(),
            problem: updraft_net::describe(error),
        }
    }

    fn decode_error(&self, call: &Call<'_>, error: &serde_json::Error) -> ArgoError {
        ArgoError::Decode {
            server: self.server.clone(),
            what: call.what.clone(),
            problem: error.to_string(),
        }
    }
}

/// Whether an error from the v2 action endpoint means "no such route" (an
/// Argo CD older than 3.2), so v1 is worth trying. A 404 may also mean "no
/// such Application": v1 then reports that.
fn route_missing(error: &ArgoError) -> bool {
    match error {
        ArgoError::NotFound { .. } => true,
        ArgoError::Api { status, .. } => matches!(status, 404 | 405 | 501),
        _ => false,
    }
}

/// At most 300 characters of `text` on one line.
fn one_line(text: &str) -> String {
    let line: String = text
        .trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(300)
        .collect();
    line.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(server: &str) -> ArgoClient {
        ArgoClient::new(server, Secret::new("t0ken"), ClientOptions::default()).unwrap()
    }

    #[test]
    fn urls_keep_the_root_path_and_encode_segments() {
        let c = client("https://argocd.example.com/argocd/");
        assert_eq!(c.server(), "https://argocd.example.com/argocd");
        let url = c.url(
            &["api", "v1", "applications", "a b/c"],
            &[("refresh", "hard"), ("appNamespace", "team-a")],
        );
        assert_eq!(
            url.as_str(),
            "https://argocd.example.com/argocd/api/v1/applications/a%20b%2Fc?refresh=hard&appNamespace=team-a"
        );
        let c = client("http://127.0.0.1:8080");
        assert_eq!(
            c.url(&["api", "v1", "session"], &[]).as_str(),
            "http://127.0.0.1:8080/api/v1/session"
        );
    }

    #[test]
    fn bad_configuration_is_refused() {
        let err =
            ArgoClient::new("https://a", Secret::new(""), ClientOptions::default()).unwrap_err();
        assert!(err.to_string().contains("token"), "{err}");
        let err =
            ArgoClient::new("ftp://a", Secret::new("t"), ClientOptions::default()).unwrap_err();
        assert!(err.to_string().contains("http(s)"), "{err}");
        let err = ArgoClient::new("https://u:p@a", Secret::new("t"), ClientOptions::default())
            .unwrap_err();
        assert!(!err.to_string().contains(":p@"), "{err}");
    }

    #[test]
    fn debug_hides_the_token() {
        let shown = format!("{:?}", client("https://a"));
        assert!(!shown.contains("t0ken"), "{shown}");
        assert!(shown.contains("***"), "{shown}");
    }

    #[test]
    fn error_bodies_become_clear_errors() {
        let c = client("https://argocd.example.com");
        let app = AppName::new("app-helm-dev");
        let call = Call {
            what: "sync of application app-helm-dev".into(),
            app: Some(&app),
            rbac: "sync",
            timeout: Duration::from_secs(1),
        };
        let err = c.status_error(
            &call,
            StatusCode::FORBIDDEN,
            br#"{"error":"permission denied: applications, sync, default/app-helm-dev, sub: ci","code":7,"message":"permission denied: applications, sync, default/app-helm-dev, sub: ci"}"#,
        );
        let text = err.to_string();
        assert!(
            text.contains("`sync`") && text.contains("app-helm-dev"),
            "{text}"
        );
        let err = c.status_error(&call, StatusCode::BAD_REQUEST,
            br#"{"error":"another operation is already in progress","code":9,"message":"another operation is already in progress"}"#);
        assert_eq!(err.code(), "operation-in-progress");
        let err = c.status_error(&call, StatusCode::NOT_FOUND, b"Not Found\n");
        assert_eq!(err.code(), "not-found");
        let err = c.status_error(&call, StatusCode::BAD_GATEWAY, b"");
        assert!(err.to_string().contains("Bad Gateway"), "{err}");
        let err = c.status_error(
            &call,
            StatusCode::INTERNAL_SERVER_ERROR,
            br#"{"code":4,"message":"application refresh deadline exceeded"}"#,
        );
        assert_eq!(err.code(), "timeout");
    }
}
