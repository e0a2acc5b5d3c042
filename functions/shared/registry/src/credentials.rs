//! Owns credential resolution: [`CredentialSpec`] (the reference grammar of
//! `updraft_core::credentials` plus `dockerconfig:`) and
//! [`resolve_credentials`], which turns a reference into a user and password.
//!
//! | reference | resolves to |
//! |---|---|
//! | `env:VAR` | the variable's value, `user:password` (both non-empty) |
//! | `file:/path` | the file's content, trimmed, `user:password` |
//! | `ext:/abs/script` | the first line the script prints, `user:password`; the script runs without arguments and is killed after the timeout (10 s by default, as Image Updater) |
//! | `dockerconfig:/path/config.json` | the `auths` entry of a docker `config.json` matching the registry (Updraft only) |
//! | `pullsecret:ns/name`, `secret:ns/name#field` | an error: these name Kubernetes secrets, which Updraft does not read |
//!
//! All forms accept the `<registry>=` prefix of the core grammar.
//!
//! `dockerconfig:` is what `pullsecret:` points at in Kubernetes: the
//! secret's `.dockerconfigjson` value is a docker `config.json`. Mount or
//! write it to a file and reference the file. An `auths` key matches when,
//! with `http(s)://` and a trailing `/` removed, it starts with the
//! registry's API URL or host (Image Updater's rule); an exact host match is
//! preferred, and keys are tried in sorted order so the choice is stable
//! (Image Updater took whichever map entry came first). For Docker Hub the
//! keys `https://index.docker.io/v1/`, `index.docker.io` and `docker.io` also
//! match, which is what `docker login` writes. An entry may carry `auth`
//! (base64 `user:password`) or `username` and `password`. `credHelpers` and
//! `credsStore` are not run.
//!
//! Alibaba Cloud ACR Enterprise Edition: use the instance's access
//! credentials — the fixed username and password set on the instance, or a
//! temporary token from the ACR `GetAuthorizationToken` API (username
//! `cr_temp_user`, the token as the password), produced by an `ext:` script
//! — with any of the forms above. The registry checks them as Basic
//! credentials on its token endpoint; Updraft calls no Alibaba API itself.
//!
//! Resolved values are [`Credentials`] whose password is a [`crate::Secret`];
//! no error message here quotes a value read from a variable, file or
//! script.

use std::path::PathBuf;
use std::time::Duration;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use updraft_core::credentials::{CredentialError, CredentialRef, CredentialSource};

use crate::conf::Endpoint;
use crate::error::{RegistryError, Target};
use crate::secret::Credentials;

/// The default time an `ext:` script may run.
pub const EXT_TIMEOUT: Duration = Duration::from_secs(10);

/// A credential reference: the core grammar, or `dockerconfig:<path>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum CredentialSpec {
    /// `env:`, `file:`, `ext:`, `pullsecret:` or `secret:`.
    Core(CredentialRef),
    /// `[<registry>=]dockerconfig:<path of a docker config.json>`.
    DockerConfig {
        /// The `<registry>=` prefix, if given.
        registry: Option<String>,
        /// The file.
        path: PathBuf,
    },
}

impl CredentialSpec {
    /// Parses a reference (`<registry>=` optional).
    pub fn parse(value: &str) -> Result<Self, CredentialError> {
        let trimmed = value.trim();
        let (registry, definition) = match trimmed.split_once('=') {
            Some((registry, definition)) if !registry.is_empty() => {
                (Some(registry.to_string()), definition)
            }
            _ => (None, trimmed),
        };
        if let Some((kind, path)) = definition.split_once(':')
            && kind.eq_ignore_ascii_case("dockerconfig")
        {
            if path.trim().is_empty() {
                return Err(CredentialError {
                    value: trimmed.to_string(),
                    problem: "dockerconfig: needs the path of a docker config.json file"
                        .to_string(),
                });
            }
            return Ok(Self::DockerConfig {
                registry,
                path: PathBuf::from(path.trim()),
            });
        }
        CredentialRef::parse(trimmed).map(Self::Core)
    }
}

impl std::fmt::Display for CredentialSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Core(reference) => reference.fmt(f),
            Self::DockerConfig { registry, path } => {
                if let Some(registry) = registry {
                    write!(f, "{registry}=")?;
                }
                write!(f, "dockerconfig:{}", path.display())
            }
        }
    }
}

impl TryFrom<String> for CredentialSpec {
    type Error = CredentialError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<CredentialSpec> for String {
    fn from(spec: CredentialSpec) -> Self {
        spec.to_string()
    }
}

impl std::str::FromStr for CredentialSpec {
    type Err = CredentialError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Resolves a reference for an endpoint. `ext_timeout` bounds `ext:`
/// scripts.
pub async fn resolve_credentials(
    spec: &CredentialSpec,
    endpoint: &Endpoint,
    ext_timeout: Duration,
) -> Result<Credentials, RegistryError> {
    let fail = |problem: String| RegistryError::Credentials {
        target: Target::registry(endpoint.api()),
        reference: spec.to_string(),
        problem,
    };
    match spec {
        CredentialSpec::Core(reference) => match &reference.source {
            CredentialSource::Env { variable } => {
                let value = std::env::var(variable).map_err(|_| {
                    fail(format!(
                        "environment variable {variable} is not set (or not UTF-8); set it to <user>:<password>"
                    ))
                })?;
                Credentials::parse_user_pass(&value).ok_or_else(|| {
                    fail(format!(
                        "the value of {variable} is not <user>:<password> with both parts non-empty"
                    ))
                })
            }
            CredentialSource::File { path } => {
                let text = tokio::fs::read_to_string(path)
                    .await
                    .map_err(|e| fail(format!("cannot read {path}: {e}")))?;
                Credentials::parse_user_pass(text.trim()).ok_or_else(|| {
                    fail(format!(
                        "{path} does not hold <user>:<password> with both parts non-empty"
                    ))
                })
            }
            CredentialSource::Ext { path } => run_script(path, ext_timeout).await.map_err(fail),
            CredentialSource::PullSecret { .. } => Err(fail(
                "pullsecret: names a Kubernetes secret, which Updraft does not read (it does not run in Kubernetes); write the secret's .dockerconfigjson value to a file and use dockerconfig:/path/to/config.json".to_string(),
            )),
            CredentialSource::Secret { .. } => Err(fail(
                "secret: names a Kubernetes secret, which Updraft does not read (it does not run in Kubernetes); write the field's <user>:<password> value to a file and use file:/path, or put it in a variable and use env:NAME".to_string(),
            )),
        },
        CredentialSpec::DockerConfig { path, .. } => {
            let text = tokio::fs::read_to_string(path)
                .await
                .map_err(|e| fail(format!("cannot read {}: {e}", path.display())))?;
            docker_config_credentials(&text, endpoint).map_err(|problem| {
                fail(format!("{}: {problem}", path.display()))
            })
        }
    }
}

/// Runs an `ext:` script: first stdout line `user:password`.
async fn run_script(path: &str, timeout: Duration) -> Result<Credentials, String> {
    let mut command = tokio::process::Command::new(path);
    command
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true);
    // A script written just before (tests, init containers) can still be
    // open for writing in a concurrently forked process: retry "text file
    // busy" briefly.
    let mut busy_retries = 0;
    let child = loop {
        match command.spawn() {
            Ok(child) => break child,
            Err(e) if e.raw_os_error() == Some(ETXTBSY) && busy_retries < 20 => {
                busy_retries += 1;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            Err(e) => {
                return Err(format!(
                    "cannot run {path}: {e} (it must exist and be executable)"
                ));
            }
        }
    };
    let output = match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Ok(Ok(output)) => output,
        Ok(Err(e)) => return Err(format!("{path} failed: {e}")),
        Err(_) => {
            return Err(format!(
                "{path} did not finish within {} s and was killed",
                timeout.as_secs_f64()
            ));
        }
    };
    if !output.status.success() {
        return Err(format!(
            "{path} exited with {} (its output is not shown: it may hold secrets)",
            output.status
        ));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().next().unwrap_or("").trim();
    Credentials::parse_user_pass(line).ok_or_else(|| {
        format!("the first line {path} printed is not <user>:<password> with both parts non-empty")
    })
}

/// `ETXTBSY` on Linux and the BSDs.
const ETXTBSY: i32 = 26;

/// Docker Hub's `auths` keys (what `docker login` writes).
const DOCKER_HUB_KEYS: &[&str] = &[
    "index.docker.io/v1",
    "index.docker.io",
    "docker.io",
    "registry-1.docker.io",
];

/// Picks the `auths` entry for an endpoint from a docker `config.json`.
fn docker_config_credentials(text: &str, endpoint: &Endpoint) -> Result<Credentials, String> {
    #[derive(Deserialize)]
    struct Config {
        #[serde(default)]
        auths: Option<std::collections::BTreeMap<String, Entry>>,
    }
    #[derive(Deserialize)]
    struct Entry {
        #[serde(default)]
        auth: Option<String>,
        #[serde(default)]
        username: Option<String>,
        #[serde(default)]
        password: Option<String>,
    }
    // serde_json's messages quote no input beyond a position.
    let config: Config =
        serde_json::from_str(text).map_err(|e| format!("not a docker config.json ({e})"))?;
    let auths = config
        .auths
        .ok_or_else(|| "has no `auths` object".to_string())?;
    let strip = |s: &str| {
        s.trim()
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_ascii_lowercase()
    };
    let api = strip(endpoint.api_url.as_str());
    let host = endpoint.host().to_ascii_lowercase();
    let hub = endpoint.prefix == crate::conf::DOCKER_HUB_PREFIX || host == "registry-1.docker.io";
    // Rank: exact host (0), Docker Hub alias (1), prefix match (2).
    let rank = |key: &str| -> Option<u8> {
        let key = strip(key);
        if key == host || key == api {
            Some(0)
        } else if hub && DOCKER_HUB_KEYS.contains(&key.as_str()) {
            Some(1)
        } else if key.starts_with(&api) || key.starts_with(&host) {
            Some(2)
        } else {
            None
        }
    };
    let (key, entry) = auths
        .iter()
        .filter_map(|(key, entry)| rank(key).map(|r| (r, key, entry)))
        .min_by_key(|(r, key, _)| (*r, (*key).clone()))
        .map(|(_, key, entry)| (key, entry))
        .ok_or_else(|| {
            format!(
                "no `auths` entry for {host} (keys present: {})",
                auths.keys().cloned().collect::<Vec<_>>().join(", ")
            )
        })?;
    if let Some(auth) = entry.auth.as_deref().filter(|a| !a.is_empty()) {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(auth.trim())
            .map_err(|_| format!("the `auth` of entry '{key}' is not base64"))?;
        let decoded = String::from_utf8(decoded)
            .map_err(|_| format!("the `auth` of entry '{key}' is not UTF-8"))?;
        return Credentials::parse_user_pass(&decoded).ok_or_else(|| {
            format!("the `auth` of entry '{key}' does not decode to <user>:<password>")
        });
    }
    match (entry.username.as_deref(), entry.password.as_deref()) {
        (Some(user), Some(pass)) if !user.is_empty() && !pass.is_empty() => {
            Ok(Credentials::new(user, pass))
        }
        _ => Err(format!(
            "entry '{key}' has neither `auth` nor `username` and `password` (credential helpers are not supported)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conf::Registries;

    fn endpoint(url: &str) -> Endpoint {
        let yaml = format!("registries:\n- name: t\n  api_url: {url}\n  prefix: t.example\n");
        let r = Registries::parse(&yaml, "t").unwrap();
        (*r.endpoint_for(Some("t.example"), "x").unwrap()).clone()
    }

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    #[test]
    fn parses_dockerconfig_and_core_forms() {
        let s = CredentialSpec::parse("reg.example=dockerconfig:/run/cfg.json").unwrap();
        assert_eq!(
            s,
            CredentialSpec::DockerConfig {
                registry: Some("reg.example".into()),
                path: "/run/cfg.json".into()
            }
        );
        assert_eq!(s.to_string(), "reg.example=dockerconfig:/run/cfg.json");
        assert!(matches!(
            CredentialSpec::parse("env:X").unwrap(),
            CredentialSpec::Core(_)
        ));
        assert!(CredentialSpec::parse("dockerconfig:").is_err());
        assert!(CredentialSpec::parse("nope:x").is_err());
    }

    #[test]
    fn docker_config_matching() {
        let e = endpoint("https://registry.example.com:5000");
        let json = format!(
            r#"{{"auths":{{"other.example":{{"auth":"{}"}},"https://registry.example.com:5000/":{{"auth":"{}"}}}}}}"#,
            b64("wrong:x"),
            b64("robot:s3cret")
        );
        let c = docker_config_credentials(&json, &e).unwrap();
        assert_eq!(c.username, "robot");
        assert_eq!(c.password.expose(), "s3cret");

        let json = r#"{"auths":{"registry.example.com:5000":{"username":"u","password":"p"}}}"#;
        assert_eq!(docker_config_credentials(json, &e).unwrap().username, "u");

        let err = docker_config_credentials(r#"{"auths":{"x.io":{}}}"#, &e).unwrap_err();
        assert!(
            err.contains("no `auths` entry for registry.example.com:5000"),
            "{err}"
        );
        let err = docker_config_credentials(
            r#"{"auths":{"registry.example.com:5000":{"auth":"!!"}}}"#,
            &e,
        )
        .unwrap_err();
        assert!(err.contains("not base64"), "{err}");

        let hub = Endpoint::docker_hub();
        let json = format!(
            r#"{{"auths":{{"https://index.docker.io/v1/":{{"auth":"{}"}}}}}}"#,
            b64("hubuser:hubpass")
        );
        assert_eq!(
            docker_config_credentials(&json, &hub).unwrap().username,
            "hubuser"
        );
    }

    #[tokio::test]
    async fn env_file_and_ext_sources() {
        let e = endpoint("https://registry.example.com");
        let dir = tempfile::tempdir().unwrap();

        let file = dir.path().join("creds");
        std::fs::write(&file, "  fileuser:filepass\n").unwrap();
        let spec = CredentialSpec::parse(&format!("file:{}", file.display())).unwrap();
        let c = resolve_credentials(&spec, &e, EXT_TIMEOUT).await.unwrap();
        assert_eq!(
            (c.username.as_str(), c.password.expose()),
            ("fileuser", "filepass")
        );

        std::fs::write(&file, "no-colon-secret-value").unwrap();
        let err = resolve_credentials(&spec, &e, EXT_TIMEOUT)
            .await
            .unwrap_err()
            .to_string();
        assert!(!err.contains("no-colon-secret-value"), "{err}");
        assert!(err.contains("does not hold <user>:<password>"), "{err}");

        let spec = CredentialSpec::parse("env:UPDRAFT_REGISTRY_TEST_UNSET_VAR").unwrap();
        let err = resolve_credentials(&spec, &e, EXT_TIMEOUT)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("UPDRAFT_REGISTRY_TEST_UNSET_VAR is not set"),
            "{err}"
        );
        assert!(err.contains("https://registry.example.com"), "{err}");

        let script = dir.path().join("creds.sh");
        std::fs::write(
            &script,
            "#!/bin/sh\necho scriptuser:scriptpass\necho ignored\n",
        )
        .unwrap();
        make_executable(&script);
        let spec = CredentialSpec::parse(&format!("ext:{}", script.display())).unwrap();
        let c = resolve_credentials(&spec, &e, EXT_TIMEOUT).await.unwrap();
        assert_eq!(c.username, "scriptuser");

        let slow = dir.path().join("slow.sh");
        std::fs::write(&slow, "#!/bin/sh\nsleep 30\necho a:b\n").unwrap();
        make_executable(&slow);
        let spec = CredentialSpec::parse(&format!("ext:{}", slow.display())).unwrap();
        let started = std::time::Instant::now();
        let err = resolve_credentials(&spec, &e, Duration::from_millis(300))
            .await
            .unwrap_err()
            .to_string();
        assert!(started.elapsed() < Duration::from_secs(10));
        assert!(err.contains("did not finish"), "{err}");

        let spec = CredentialSpec::parse("pullsecret:argocd/regcred").unwrap();
        let err = resolve_credentials(&spec, &e, EXT_TIMEOUT)
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("dockerconfig:"), "{err}");
    }

    fn make_executable(path: &std::path::Path) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}
