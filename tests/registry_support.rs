//! Registry test helpers: [`Services`] starts Debian's docker-registry
//! through `infra/local/registry.sh` (and stops it on drop); [`Pusher`]
//! uploads synthetic images through the Distribution API — OCI and Docker
//! schema 2 manifests, multi-platform indexes, chosen `created` times.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use base64::Engine as _;
use serde_json::json;
use sha2::{Digest as _, Sha256};

/// `sha256:<hex>`.
pub fn digest_of(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// Registries started by `infra/local/registry.sh`, stopped on drop.
pub struct Services {
    dir: tempfile::TempDir,
    env: HashMap<String, String>,
}

impl Services {
    /// Starts the given flavours (`anon`, `basic`, `bearer`). A TTL makes
    /// the processes exit on their own should this test process die.
    pub fn start(flavours: &[&str]) -> Result<Self> {
        Self::start_with_env(flavours, &[])
    }

    /// [`Services::start`] with extra environment for registry.sh (e.g.
    /// `UPDRAFT_REGISTRY_NOTIFY_URL`).
    pub fn start_with_env(flavours: &[&str], env: &[(&str, &str)]) -> Result<Self> {
        let dir = tempfile::tempdir().context("temp dir")?;
        let script = repo_root().join("infra/local/registry.sh");
        let output = Command::new(&script)
            .arg("start")
            .arg(dir.path())
            .args(flavours)
            .env("UPDRAFT_SERVICE_TTL", "600")
            .envs(env.iter().copied())
            .output()
            .with_context(|| format!("cannot run {}", script.display()))?;
        let mut services = Self {
            env: HashMap::new(),
            dir,
        };
        if !output.status.success() {
            bail!(
                "{} start failed ({}):\n{}",
                script.display(),
                output.status,
                String::from_utf8_lossy(&output.stderr)
            );
        }
        let text = std::fs::read_to_string(services.dir.path().join("registry.env"))
            .context("registry.env")?;
        services.env = text
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Ok(services)
    }

    /// A value of registry.env (`ANON_URL`, `BEARER_URL`, …).
    pub fn get(&self, key: &str) -> String {
        self.env
            .get(key)
            .cloned()
            .unwrap_or_else(|| panic!("registry.env has no {key}: {:?}", self.env))
    }

    /// The state directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Lines of the token server's log that record an issued token.
    pub fn tokens_issued(&self) -> usize {
        std::fs::read_to_string(self.dir.path().join("token.log"))
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains("\"issued\""))
            .count()
    }

    /// Access-log lines of a flavour's registry containing `needle`
    /// (e.g. `"GET /v2/team/app/tags/list`).
    pub fn access_log_count(&self, flavour: &str, needle: &str) -> usize {
        std::fs::read_to_string(self.dir.path().join(format!("{flavour}.log")))
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains("HTTP/1.1\"") && l.contains(needle))
            .count()
    }
}

impl Services {
    /// Read requests (`GET`/`HEAD` on `/v2/`) in a flavour's access log: what
    /// the registry itself saw of a client (the pusher only POSTs and PUTs).
    pub fn access_log_reads(&self, flavour: &str) -> usize {
        std::fs::read_to_string(self.dir.path().join(format!("{flavour}.log")))
            .unwrap_or_default()
            .lines()
            .filter(|l| {
                l.contains("HTTP/1.1\"") && (l.contains("\"GET /v2") || l.contains("\"HEAD /v2"))
            })
            .count()
    }
}

impl Services {
    /// A pusher for a flavour's registry (`anon`, `basic`, `bearer`),
    /// authenticated as the test user where the flavour needs it.
    #[allow(dead_code)] // it/registry.rs builds its pushers itself
    pub fn pusher(&self, flavour: &str) -> Pusher {
        let (user, password) = (self.get("REGISTRY_USER"), self.get("REGISTRY_PASSWORD"));
        match flavour {
            "basic" => Pusher::new(&self.get("BASIC_URL"), PushAuth::Basic { user, password }),
            "bearer" => Pusher::new(
                &self.get("BEARER_URL"),
                PushAuth::Bearer {
                    token_url: self.get("TOKEN_URL"),
                    service: self.get("TOKEN_SERVICE"),
                    user,
                    password,
                },
            ),
            _ => Pusher::new(&self.get("ANON_URL"), PushAuth::None),
        }
    }
}

impl Drop for Services {
    fn drop(&mut self) {
        let _ = Command::new(repo_root().join("infra/local/registry.sh"))
            .arg("stop")
            .arg(self.dir.path())
            .status();
    }
}

/// How the pusher authenticates.
#[derive(Clone)]
pub enum PushAuth {
    /// Anonymous.
    None,
    /// Basic.
    Basic { user: String, password: String },
    /// A push token from the token server, got with Basic credentials.
    Bearer {
        token_url: String,
        service: String,
        user: String,
        password: String,
    },
}

/// Manifest format of a pushed image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Oci,
    Docker,
}

/// A synthetic image.
#[derive(Clone, Debug)]
pub struct ImageSpec {
    pub created: Option<String>,
    pub os: String,
    pub arch: String,
    pub variant: Option<String>,
    pub labels: Vec<(String, String)>,
    pub format: Format,
}

impl ImageSpec {
    /// `linux/<arch>` OCI image built at `created`.
    pub fn new(created: &str, platform: &str) -> Self {
        let parts: Vec<&str> = platform.split('/').collect();
        Self {
            created: Some(created.to_string()),
            os: parts[0].to_string(),
            arch: parts[1].to_string(),
            variant: parts.get(2).map(|v| v.to_string()),
            labels: Vec::new(),
            format: Format::Oci,
        }
    }

    pub fn docker(mut self) -> Self {
        self.format = Format::Docker;
        self
    }

    pub fn label(mut self, key: &str, value: &str) -> Self {
        self.labels.push((key.to_string(), value.to_string()));
        self
    }
}

/// What a push produced.
#[derive(Clone, Debug)]
pub struct Pushed {
    pub digest: String,
    pub config_digest: String,
    pub media_type: String,
    pub bytes: Vec<u8>,
}

/// Uploads blobs and manifests with plain Distribution API calls.
pub struct Pusher {
    http: reqwest::Client,
    base: String,
    auth: PushAuth,
}

impl Pusher {
    pub fn new(base: &str, auth: PushAuth) -> Self {
        Self {
            http: reqwest::Client::new(),
            base: base.trim_end_matches('/').to_string(),
            auth,
        }
    }

    async fn authorization(&self, repo: &str) -> Result<Option<String>> {
        match &self.auth {
            PushAuth::None => Ok(None),
            PushAuth::Basic { user, password } => Ok(Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
            ))),
            PushAuth::Bearer {
                token_url,
                service,
                user,
                password,
            } => {
                let response: serde_json::Value = self
                    .http
                    .get(format!(
                        "{token_url}?service={service}&scope=repository:{repo}:pull,push"
                    ))
                    .basic_auth(user, Some(password))
                    .send()
                    .await?
                    .error_for_status()?
                    .json()
                    .await?;
                let token = response["token"].as_str().context("no token")?;
                Ok(Some(format!("Bearer {token}")))
            }
        }
    }

    fn with_auth(
        &self,
        rb: reqwest::RequestBuilder,
        auth: &Option<String>,
    ) -> reqwest::RequestBuilder {
        match auth {
            Some(a) => rb.header("Authorization", a),
            None => rb,
        }
    }

    /// Uploads a blob (monolithic POST + PUT); returns its digest.
    pub async fn blob(&self, repo: &str, bytes: &[u8]) -> Result<String> {
        let auth = self.authorization(repo).await?;
        let digest = digest_of(bytes);
        let started = self
            .with_auth(
                self.http
                    .post(format!("{}/v2/{repo}/blobs/uploads/", self.base)),
                &auth,
            )
            .send()
            .await?;
        if started.status().as_u16() != 202 {
            bail!("blob upload start: HTTP {}", started.status());
        }
        let location = started
            .headers()
            .get("Location")
            .and_then(|v| v.to_str().ok())
            .context("no Location")?
            .to_string();
        let location = if location.starts_with("http") {
            location
        } else {
            format!("{}{location}", self.base)
        };
        let sep = if location.contains('?') { '&' } else { '?' };
        let done = self
            .with_auth(
                self.http
                    .put(format!("{location}{sep}digest={digest}"))
                    .header("Content-Type", "application/octet-stream")
                    .body(bytes.to_vec()),
                &auth,
            )
            .send()
            .await?;
        if done.status().as_u16() != 201 {
            bail!("blob upload: HTTP {}", done.status());
        }
        Ok(digest)
    }

    /// PUTs a manifest under a tag or digest; returns its digest.
    pub async fn manifest(
        &self,
        repo: &str,
        reference: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<String> {
        let auth = self.authorization(repo).await?;
        let response = self
            .with_auth(
                self.http
                    .put(format!("{}/v2/{repo}/manifests/{reference}", self.base))
                    .header("Content-Type", media_type)
                    .body(bytes.to_vec()),
                &auth,
            )
            .send()
            .await?;
        let status = response.status();
        if status.as_u16() != 201 {
            bail!(
                "manifest PUT {repo}:{reference}: HTTP {status}: {}",
                response.text().await.unwrap_or_default()
            );
        }
        Ok(digest_of(bytes))
    }

    /// Pushes one image (config + one layer + manifest); tags it when
    /// `tag` is given, otherwise pushes it by digest.
    pub async fn image(&self, repo: &str, tag: Option<&str>, spec: &ImageSpec) -> Result<Pushed> {
        let layer = format!("layer of {repo} {:?} {:?}", tag, spec.created).into_bytes();
        let layer_digest = self.blob(repo, &layer).await?;
        let mut config = json!({
            "architecture": spec.arch,
            "os": spec.os,
            "rootfs": {"type": "layers", "diff_ids": [digest_of(&layer)]},
            "config": {
                "Labels": spec.labels.iter().cloned().collect::<HashMap<_, _>>()
            }
        });
        if let Some(created) = &spec.created {
            config["created"] = json!(created);
        }
        if let Some(variant) = &spec.variant {
            config["variant"] = json!(variant);
        }
        let config_bytes = serde_json::to_vec(&config)?;
        let config_digest = self.blob(repo, &config_bytes).await?;
        let (media_type, config_type, layer_type) = match spec.format {
            Format::Oci => (
                "application/vnd.oci.image.manifest.v1+json",
                "application/vnd.oci.image.config.v1+json",
                "application/vnd.oci.image.layer.v1.tar+gzip",
            ),
            Format::Docker => (
                "application/vnd.docker.distribution.manifest.v2+json",
                "application/vnd.docker.container.image.v1+json",
                "application/vnd.docker.image.rootfs.diff.tar.gzip",
            ),
        };
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": media_type,
            "config": {"mediaType": config_type, "digest": config_digest, "size": config_bytes.len()},
            "layers": [{"mediaType": layer_type, "digest": layer_digest, "size": layer.len()}]
        });
        let bytes = serde_json::to_vec(&manifest)?;
        let reference = match tag {
            Some(tag) => tag.to_string(),
            None => digest_of(&bytes),
        };
        let digest = self.manifest(repo, &reference, media_type, &bytes).await?;
        Ok(Pushed {
            digest,
            config_digest,
            media_type: media_type.to_string(),
            bytes,
        })
    }

    /// Pushes the children by digest, then an index (OCI) or manifest list
    /// (Docker) under `tag`. With `attestation`, adds a buildx-style
    /// `unknown/unknown` attestation entry.
    pub async fn index(
        &self,
        repo: &str,
        tag: &str,
        children: &[ImageSpec],
        format: Format,
        attestation: bool,
    ) -> Result<(Pushed, Vec<Pushed>)> {
        let mut pushed = Vec::new();
        let mut entries = Vec::new();
        for child in children {
            let spec = ImageSpec {
                format,
                ..child.clone()
            };
            let p = self.image(repo, None, &spec).await?;
            let mut platform = json!({"os": child.os, "architecture": child.arch});
            if let Some(variant) = &child.variant {
                platform["variant"] = json!(variant);
            }
            entries.push(json!({
                "mediaType": p.media_type,
                "digest": p.digest,
                "size": p.bytes.len(),
                "platform": platform
            }));
            pushed.push(p);
        }
        if attestation {
            let spec = ImageSpec {
                created: None,
                os: "unknown".into(),
                arch: "unknown".into(),
                variant: None,
                labels: Vec::new(),
                format,
            };
            let p = self.image(repo, None, &spec).await?;
            entries.push(json!({
                "mediaType": p.media_type,
                "digest": p.digest,
                "size": p.bytes.len(),
                "platform": {"os": "unknown", "architecture": "unknown"},
                "annotations": {
                    "vnd.docker.reference.type": "attestation-manifest",
                    "vnd.docker.reference.digest": pushed.first().map(|c: &Pushed| c.digest.clone()).unwrap_or_default()
                }
            }));
        }
        let media_type = match format {
            Format::Oci => "application/vnd.oci.image.index.v1+json",
            Format::Docker => "application/vnd.docker.distribution.manifest.list.v2+json",
        };
        let index = json!({"schemaVersion": 2, "mediaType": media_type, "manifests": entries});
        let bytes = serde_json::to_vec(&index)?;
        let digest = self.manifest(repo, tag, media_type, &bytes).await?;
        Ok((
            Pushed {
                digest,
                config_digest: String::new(),
                media_type: media_type.to_string(),
                bytes,
            },
            pushed,
        ))
    }
}
