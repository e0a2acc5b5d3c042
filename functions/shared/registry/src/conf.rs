//! Owns the registry configuration: Image Updater's `registries.conf` format
//! ([`RegistriesConf`], [`RegistryConf`]: what users write, strict — an
//! unknown key is an error) and its validated form ([`Registries`],
//! [`Endpoint`]) with the lookup that picks the endpoint for an image.
//!
//! ```yaml
//! registries:
//! - name: Private registry
//!   api_url: https://registry.example.com
//!   prefix: registry.example.com
//!   credentials: env:REGISTRY_CREDS     # or file:, ext:, dockerconfig:
//!   credsexpire: 5h
//!   defaultns: library
//!   default: false
//!   insecure: false
//!   limit: 20                           # requests per second; 0 = unlimited
//!   tagsortmode: none                   # or latest-first / latest-last
//! ```
//!
//! [`RegistryConf`] is also what the `registries:` list of updraft.yaml holds
//! (embed a `Vec<RegistryConf>` and call [`Registries::from_entries`]).
//!
//! Lookup ([`Registries::endpoint_for`]), as Image Updater's
//! `GetRegistryEndpoint`:
//! 1. no registry in the image (Docker Hub short form) → the default
//!    endpoint;
//! 2. otherwise the configured endpoint with the **longest** prefix matching
//!    `<registry>/<image name>`;
//! 3. otherwise an inferred endpoint `https://<registry>`, 20 requests/s, no
//!    credentials.
//!
//! Built in: `docker.io` → `https://registry-1.docker.io`, `defaultns:
//! library`, default, 10 requests/s. A configured entry with prefix
//! `docker.io` replaces it; a configured `default: true` entry takes the
//! default role from it.
//!
//! Deliberate differences from Image Updater, each a fix:
//! - a prefix matches only at a path boundary (`gcr.io/team` matches
//!   `gcr.io/team/app`, not `gcr.io/teamx/app`); Image Updater uses a plain
//!   string prefix, and checks an exact registry-host match before the
//!   longest prefix, so a more specific `gcr.io/team` entry lost to `gcr.io`;
//! - an entry without a prefix must be the default (Image Updater silently
//!   made it a catch-all);
//! - `api_url` must be an `http(s)://` URL without user info, query or
//!   fragment; `tagsortmode: unsorted` is accepted as a synonym of `none`.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use serde::{Deserialize, Serialize};

use crate::credentials::CredentialSpec;
use crate::error::RegistryError;

/// Docker Hub's prefix.
pub const DOCKER_HUB_PREFIX: &str = "docker.io";
/// Docker Hub's API endpoint.
pub const DOCKER_HUB_API: &str = "https://registry-1.docker.io";
/// Requests per second for Docker Hub (built in), as Image Updater.
pub const DOCKER_HUB_LIMIT: u32 = 10;
/// Requests per second for an endpoint inferred from an image's registry.
pub const INFERRED_LIMIT: u32 = 20;

/// The `registries.conf` document.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistriesConf {
    /// The registry entries.
    #[serde(default)]
    pub registries: Vec<RegistryConf>,
}

/// One entry of `registries.conf`, exactly as written (validated by
/// [`Registries::from_entries`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryConf {
    /// Display name (required).
    #[serde(default)]
    pub name: String,
    /// Base URL of the registry API, e.g. `https://registry-1.docker.io`
    /// (required; a trailing `/` is ignored).
    #[serde(default)]
    pub api_url: String,
    /// Image prefix this entry serves, e.g. `gcr.io` or `gcr.io/team`
    /// (required unless `default: true`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub prefix: String,
    /// Accepted for compatibility and ignored, as in Image Updater (the
    /// client always checks `/v2/`, once per client).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ping: Option<bool>,
    /// Registry-level credential reference (`env:`, `file:`, `ext:`,
    /// `dockerconfig:`; see [`CredentialSpec`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<String>,
    /// How long resolved credentials are reused, as a Go duration (`5h`,
    /// `30m`) or integer nanoseconds; unset = until the process ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credsexpire: Option<ConfDuration>,
    /// Namespace prepended to one-component image names (`library`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub defaultns: Option<String>,
    /// Whether images without a registry use this entry (at most one).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub default: bool,
    /// Skip TLS certificate verification (never the default).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub insecure: bool,
    /// Requests per second to this registry; unset, 0 or negative =
    /// unlimited (Image Updater's code, whatever its docs say).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    /// `none`/empty, `latest-first` or `latest-last`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tagsortmode: Option<String>,
}

/// A duration as `registries.conf` writes it: Go's `time.Duration` in YAML is
/// either a string (`5h`, `1h30m`, `1.5h`, `300ms`) or integer nanoseconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfDuration {
    /// The text as written (integers are kept as their decimal form).
    pub text: String,
    /// The parsed value.
    pub value: Duration,
}

impl Serialize for ConfDuration {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for ConfDuration {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = ConfDuration;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a Go duration such as 5h, 30m or 1h30m, or integer nanoseconds")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ConfDuration, E> {
                parse_go_duration(v)
                    .map(|value| ConfDuration {
                        text: v.to_string(),
                        value,
                    })
                    .map_err(E::custom)
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<ConfDuration, E> {
                Ok(ConfDuration {
                    text: v.to_string(),
                    value: Duration::from_nanos(v),
                })
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<ConfDuration, E> {
                u64::try_from(v)
                    .map_err(|_| E::custom(format!("duration {v} is negative")))
                    .and_then(|n| self.visit_u64(n))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// Parses a Go `time.ParseDuration` string (`300ms`, `1.5h`, `2h45m`); the
/// sign is not accepted (a negative expiry makes no sense).
pub fn parse_go_duration(text: &str) -> Result<Duration, String> {
    let bad =
        |why: &str| format!("'{text}' is not a duration ({why}; write e.g. 5h, 30m or 1h30m)");
    let s = text.trim();
    if s.is_empty() {
        return Err(bad("it is empty"));
    }
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    if s.starts_with(['-', '+']) {
        return Err(bad("a sign is not allowed"));
    }
    let mut total = 0f64;
    let mut rest = s;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, after) = rest.split_at(number_len);
        if number.is_empty() || number == "." {
            return Err(bad("a number is missing"));
        }
        let value: f64 = number.parse().map_err(|_| bad("a number is malformed"))?;
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_len);
        let nanos_per_unit = match unit {
            "ns" => 1e0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            "" => return Err(bad("a unit is missing")),
            _ => return Err(bad("the unit is not one of ns, us, ms, s, m, h")),
        };
        total += value * nanos_per_unit;
        rest = next;
    }
    if !total.is_finite() || total > u64::MAX as f64 {
        return Err(bad("it is too large"));
    }
    Ok(Duration::from_nanos(total as u64))
}

/// How the registry orders its tag list (Image Updater's `tagsortmode`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TagSortMode {
    /// No known order (the default): metadata is fetched when a strategy
    /// needs it.
    #[default]
    None,
    /// The registry lists the newest tag first.
    LatestFirst,
    /// The registry lists the newest tag last.
    LatestLast,
}

impl TagSortMode {
    /// Parses the `tagsortmode` value (case-insensitive).
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "" | "none" | "unsorted" => Some(Self::None),
            "latest-first" => Some(Self::LatestFirst),
            "latest-last" => Some(Self::LatestLast),
            _ => None,
        }
    }

    /// Whether the list order is the push order (so no metadata is needed).
    pub fn is_time_sorted(self) -> bool {
        !matches!(self, Self::None)
    }
}

/// One validated registry endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Display name.
    pub name: String,
    /// API base URL, without a trailing `/`.
    pub api_url: Url,
    /// The image prefix it serves (empty only for a configured default
    /// without prefix).
    pub prefix: String,
    /// Registry-level credentials.
    pub credentials: Option<CredentialSpec>,
    /// How long resolved credentials are reused (`None`: for the life of the
    /// client).
    pub creds_expire: Option<Duration>,
    /// Namespace for one-component image names.
    pub default_ns: Option<String>,
    /// Whether this is the default endpoint.
    pub is_default: bool,
    /// Skip TLS verification.
    pub insecure: bool,
    /// Requests per second (`None`: unlimited).
    pub limit: Option<u32>,
    /// Tag list order.
    pub tag_sort: TagSortMode,
    /// Whether the endpoint was inferred from an image rather than
    /// configured.
    pub inferred: bool,
}

impl Endpoint {
    /// The built-in Docker Hub endpoint.
    pub fn docker_hub() -> Self {
        Self {
            name: "Docker Hub".to_string(),
            api_url: docker_hub_url(),
            prefix: DOCKER_HUB_PREFIX.to_string(),
            credentials: None,
            creds_expire: None,
            default_ns: Some("library".to_string()),
            is_default: true,
            insecure: false,
            limit: Some(DOCKER_HUB_LIMIT),
            tag_sort: TagSortMode::None,
            inferred: false,
        }
    }

    /// An endpoint for an unconfigured registry host: `https://<host>`,
    /// [`INFERRED_LIMIT`] requests/s, no credentials.
    pub fn inferred(registry: &str) -> Result<Self, RegistryError> {
        let api_url = parse_api_url(&format!("https://{registry}")).map_err(|problem| {
            RegistryError::Config {
                origin: format!("image registry '{registry}'"),
                problem: format!("cannot infer an API URL: {problem}"),
            }
        })?;
        Ok(Self {
            name: registry.to_string(),
            api_url,
            prefix: registry.to_string(),
            credentials: None,
            creds_expire: None,
            default_ns: None,
            is_default: false,
            insecure: false,
            limit: Some(INFERRED_LIMIT),
            tag_sort: TagSortMode::None,
            inferred: true,
        })
    }

    /// The API URL as text, without a trailing `/` (what error messages
    /// show).
    pub fn api(&self) -> String {
        self.api_url.as_str().trim_end_matches('/').to_string()
    }

    /// `host[:port]` of the API URL.
    pub fn host(&self) -> String {
        match (self.api_url.host_str(), self.api_url.port()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (Some(host), None) => host.to_string(),
            _ => String::new(),
        }
    }

    /// The repository path for an image name: `defaultns` is prepended to a
    /// one-component name (`nginx` → `library/nginx`).
    pub fn repository(&self, image_name: &str) -> String {
        match &self.default_ns {
            Some(ns) if !ns.is_empty() && !image_name.contains('/') => {
                format!("{ns}/{image_name}")
            }
            _ => image_name.to_string(),
        }
    }

    /// Whether this is Azure Container Registry (its token scope differs).
    pub fn is_azure(&self) -> bool {
        self.api_url
            .host_str()
            .is_some_and(|h| h.to_ascii_lowercase().ends_with(".azurecr.io"))
    }
}

/// [`DOCKER_HUB_API`] as a URL. The constant parses; this is not input.
#[allow(clippy::expect_used)]
fn docker_hub_url() -> Url {
    Url::parse(DOCKER_HUB_API).expect("DOCKER_HUB_API is a valid URL")
}

fn parse_api_url(text: &str) -> Result<Url, String> {
    let trimmed = text.trim().trim_end_matches('/');
    let url = Url::parse(trimmed).map_err(|e| format!("'{trimmed}' is not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("'{trimmed}' must start with https:// (or http://)"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("'{trimmed}' has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("the URL must not carry user info; use `credentials:` instead".to_string());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("'{trimmed}' must not have a query or fragment"));
    }
    Ok(url)
}

/// The validated set of endpoints, with Docker Hub built in.
#[derive(Debug, Clone)]
pub struct Registries {
    endpoints: Vec<Arc<Endpoint>>,
}

impl Default for Registries {
    fn default() -> Self {
        Self::builtin()
    }
}

impl Registries {
    /// Only the built-in Docker Hub endpoint.
    pub fn builtin() -> Self {
        Self {
            endpoints: vec![Arc::new(Endpoint::docker_hub())],
        }
    }

    /// Parses a `registries.conf` document; `origin` names it in errors.
    pub fn parse(yaml: &str, origin: &str) -> Result<Self, RegistryError> {
        let conf: RegistriesConf =
            serde_saphyr::from_str(yaml).map_err(|e| RegistryError::Config {
                origin: origin.to_string(),
                problem: format!(
                    "{e} (keys allowed per entry: name, api_url, prefix, ping, credentials, credsexpire, defaultns, default, insecure, limit, tagsortmode)"
                ),
            })?;
        Self::from_entries(&conf.registries, origin)
    }

    /// Reads and parses a `registries.conf` file.
    pub fn load(path: &Path) -> Result<Self, RegistryError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| RegistryError::Config {
            origin: origin.clone(),
            problem: format!("cannot read the file: {e}"),
        })?;
        Self::parse(&text, &origin)
    }

    /// Validates entries (from `registries.conf` or updraft.yaml) and adds
    /// them to the built-in Docker Hub endpoint.
    pub fn from_entries(entries: &[RegistryConf], origin: &str) -> Result<Self, RegistryError> {
        let mut configured: Vec<Endpoint> = Vec::with_capacity(entries.len());
        for (index, entry) in entries.iter().enumerate() {
            let endpoint = validate(entry).map_err(|problem| RegistryError::Config {
                origin: origin.to_string(),
                problem: format!(
                    "entry {} ({}): {problem}",
                    index + 1,
                    if entry.name.is_empty() {
                        "no name"
                    } else {
                        &entry.name
                    }
                ),
            })?;
            if let Some(other) = configured.iter().find(|e| e.prefix == endpoint.prefix) {
                return Err(RegistryError::Config {
                    origin: origin.to_string(),
                    problem: format!(
                        "entries '{}' and '{}' both have prefix '{}'; each prefix may appear once",
                        other.name, endpoint.name, endpoint.prefix
                    ),
                });
            }
            configured.push(endpoint);
        }
        let defaults: Vec<&str> = configured
            .iter()
            .filter(|e| e.is_default)
            .map(|e| e.name.as_str())
            .collect();
        if defaults.len() > 1 {
            return Err(RegistryError::Config {
                origin: origin.to_string(),
                problem: format!(
                    "only one registry may be the default, but {} are: {}",
                    defaults.len(),
                    defaults.join(", ")
                ),
            });
        }
        let mut endpoints = Vec::with_capacity(configured.len() + 1);
        if !configured.iter().any(|e| e.prefix == DOCKER_HUB_PREFIX) {
            let mut hub = Endpoint::docker_hub();
            hub.is_default = defaults.is_empty();
            endpoints.push(Arc::new(hub));
        }
        endpoints.extend(configured.into_iter().map(Arc::new));
        if !endpoints.iter().any(|e| e.is_default) {
            // A configured docker.io entry without `default: true` still
            // serves images without a registry, as the built-in one did.
            if let Some(hub) = endpoints.iter_mut().find(|e| e.prefix == DOCKER_HUB_PREFIX) {
                let mut replaced = (**hub).clone();
                replaced.is_default = true;
                *hub = Arc::new(replaced);
            }
        }
        Ok(Self { endpoints })
    }

    /// Every endpoint (Docker Hub first unless configured).
    pub fn endpoints(&self) -> &[Arc<Endpoint>] {
        &self.endpoints
    }

    /// The default endpoint (for images without a registry), if any.
    pub fn default_endpoint(&self) -> Option<&Arc<Endpoint>> {
        self.endpoints.iter().find(|e| e.is_default)
    }

    /// The endpoint for an image: see the module docs for the rules.
    /// `registry` is the image's registry host (`None` or empty for Docker
    /// Hub short names), `name` its path inside the registry.
    pub fn endpoint_for(
        &self,
        registry: Option<&str>,
        name: &str,
    ) -> Result<Arc<Endpoint>, RegistryError> {
        let registry = registry.unwrap_or("").trim();
        if registry.is_empty() {
            return self
                .default_endpoint()
                .cloned()
                .ok_or_else(|| RegistryError::Config {
                    origin: "registries".to_string(),
                    problem: format!(
                        "image '{name}' names no registry and no registry is the default; set `default: true` on one entry"
                    ),
                });
        }
        let full = format!("{registry}/{name}");
        let best = self
            .endpoints
            .iter()
            .filter(|e| !e.prefix.is_empty() && prefix_matches(&e.prefix, &full))
            .max_by_key(|e| e.prefix.trim_end_matches('/').len());
        match best {
            Some(endpoint) => Ok(endpoint.clone()),
            None => Ok(Arc::new(Endpoint::inferred(registry)?)),
        }
    }
}

/// `prefix` matches `full` at a path boundary.
fn prefix_matches(prefix: &str, full: &str) -> bool {
    let prefix = prefix.trim_end_matches('/');
    full == prefix
        || full
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('/'))
}

fn validate(entry: &RegistryConf) -> Result<Endpoint, String> {
    if entry.name.trim().is_empty() {
        return Err("`name` is missing".to_string());
    }
    if entry.api_url.trim().is_empty() {
        return Err("`api_url` is missing (e.g. https://registry.example.com)".to_string());
    }
    let api_url = parse_api_url(&entry.api_url).map_err(|e| format!("api_url: {e}"))?;
    let prefix = entry.prefix.trim().to_string();
    if prefix.is_empty() && !entry.default {
        return Err(
            "`prefix` is missing (the image prefix this registry serves, e.g. gcr.io); only the `default: true` entry may omit it"
                .to_string(),
        );
    }
    let credentials = entry
        .credentials
        .as_deref()
        .filter(|c| !c.trim().is_empty())
        .map(CredentialSpec::parse)
        .transpose()
        .map_err(|e| {
            format!(
                "credentials: {e}; Updraft also accepts dockerconfig:<path of a docker config.json>"
            )
        })?;
    let tag_sort = match entry.tagsortmode.as_deref() {
        None => TagSortMode::None,
        Some(text) => TagSortMode::parse(text).ok_or_else(|| {
            format!("tagsortmode '{text}' is unknown (use none, latest-first or latest-last)")
        })?,
    };
    let limit = entry
        .limit
        .filter(|l| *l > 0)
        .map(|l| u32::try_from(l).unwrap_or(u32::MAX));
    Ok(Endpoint {
        name: entry.name.trim().to_string(),
        api_url,
        prefix,
        credentials,
        creds_expire: entry
            .credsexpire
            .as_ref()
            .map(|d| d.value)
            .filter(|d| !d.is_zero()),
        default_ns: entry
            .defaultns
            .as_deref()
            .map(|ns| ns.trim().trim_matches('/').to_string())
            .filter(|ns| !ns.is_empty()),
        is_default: entry.default,
        insecure: entry.insecure,
        limit,
        tag_sort,
        inferred: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"
registries:
- name: Docker Hub
  api_url: https://registry-1.docker.io
  ping: yes
  credentials: secret:foo/bar#creds
  credsexpire: 5h
- name: Google Container Registry
  api_url: https://gcr.io/
  prefix: gcr.io
  ping: no
  credentials: pullsecret:foo/bar
  limit: 5
- name: Team GCR
  api_url: https://gcr.io
  prefix: gcr.io/team
  credentials: env:TEAM
  tagsortmode: latest-first
  defaultns: team
- name: Local
  api_url: http://127.0.0.1:5000
  prefix: localhost:5000
  insecure: true
  credsexpire: 1h30m
"#;

    #[test]
    fn image_updater_sample_parses() {
        let conf: RegistriesConf = serde_saphyr::from_str(SAMPLE).unwrap();
        assert_eq!(conf.registries.len(), 4);
        assert_eq!(
            conf.registries[0].credsexpire.as_ref().unwrap().value,
            Duration::from_secs(5 * 3600)
        );
        assert_eq!(conf.registries[1].limit, Some(5));
        // Docker Hub entry without prefix must be the default.
        let err = Registries::from_entries(&conf.registries, "t").unwrap_err();
        assert!(err.to_string().contains("`prefix` is missing"), "{err}");
    }

    fn registries() -> Registries {
        let yaml = SAMPLE.replace(
            "  ping: yes\n",
            "  ping: yes\n  default: true\n  prefix: docker.io\n  defaultns: library\n",
        );
        Registries::parse(&yaml, "sample").unwrap()
    }

    #[test]
    fn longest_prefix_wins() {
        let r = registries();
        let e = r.endpoint_for(Some("gcr.io"), "team/app").unwrap();
        assert_eq!(e.name, "Team GCR");
        assert_eq!(e.tag_sort, TagSortMode::LatestFirst);
        let e = r.endpoint_for(Some("gcr.io"), "teamx/app").unwrap();
        assert_eq!(e.name, "Google Container Registry");
        assert_eq!(e.limit, Some(5));
        assert_eq!(e.api(), "https://gcr.io");
        let e = r.endpoint_for(None, "nginx").unwrap();
        assert_eq!(e.name, "Docker Hub");
        assert_eq!(e.repository("nginx"), "library/nginx");
        assert_eq!(e.repository("bitnami/nginx"), "bitnami/nginx");
        let e = r.endpoint_for(Some("quay.io"), "org/app").unwrap();
        assert!(e.inferred);
        assert_eq!(e.api(), "https://quay.io");
        assert_eq!(e.limit, Some(INFERRED_LIMIT));
        let e = r.endpoint_for(Some("localhost:5000"), "app").unwrap();
        assert!(e.insecure);
        assert_eq!(e.creds_expire, Some(Duration::from_secs(5400)));
        assert_eq!(e.host(), "127.0.0.1:5000");
    }

    #[test]
    fn docker_hub_is_built_in() {
        let r = Registries::builtin();
        let e = r.endpoint_for(None, "nginx").unwrap();
        assert_eq!(e.api(), DOCKER_HUB_API);
        assert_eq!(e.limit, Some(DOCKER_HUB_LIMIT));
        assert_eq!(e.default_ns.as_deref(), Some("library"));
        let e = r.endpoint_for(Some("docker.io"), "bitnami/nginx").unwrap();
        assert_eq!(e.api(), DOCKER_HUB_API);
        // A configured default takes the role from Docker Hub.
        let r = Registries::parse(
            "registries:\n- name: Mine\n  api_url: https://r.example\n  default: true\n",
            "t",
        )
        .unwrap();
        assert_eq!(r.endpoint_for(None, "app").unwrap().name, "Mine");
        assert_eq!(
            r.endpoint_for(Some("docker.io"), "x/y").unwrap().api(),
            DOCKER_HUB_API
        );
    }

    #[test]
    fn strict_and_validated() {
        for (yaml, needle) in [
            (
                "registries:\n- name: a\n  api_url: https://a\n  prefix: a\n  bogus: 1\n",
                "bogus",
            ),
            (
                "registries:\n- api_url: https://a\n  prefix: a\n",
                "`name` is missing",
            ),
            (
                "registries:\n- name: a\n  prefix: a\n",
                "`api_url` is missing",
            ),
            (
                "registries:\n- name: a\n  api_url: ftp://a\n  prefix: a\n",
                "must start with https://",
            ),
            (
                "registries:\n- name: a\n  api_url: https://u:p@a\n  prefix: a\n",
                "user info",
            ),
            (
                "registries:\n- name: a\n  api_url: https://a\n  prefix: a\n  tagsortmode: random\n",
                "tagsortmode 'random'",
            ),
            (
                "registries:\n- name: a\n  api_url: https://a\n  prefix: a\n  credentials: vault:x\n",
                "unknown credential type 'vault'",
            ),
            (
                "registries:\n- name: a\n  api_url: https://a\n  prefix: a\n  credsexpire: 5 hours\n",
                "not a duration",
            ),
            (
                "registries:\n- name: a\n  api_url: https://a\n  default: true\n- name: b\n  api_url: https://b\n  prefix: b\n  default: true\n",
                "only one registry may be the default, but 2 are: a, b",
            ),
            (
                "registries:\n- name: a\n  api_url: https://a\n  prefix: x\n- name: b\n  api_url: https://b\n  prefix: x\n",
                "both have prefix 'x'",
            ),
            ("other: 1\n", "other"),
        ] {
            let err = Registries::parse(yaml, "registries.conf").unwrap_err();
            let text = err.to_string();
            assert!(text.contains(needle), "{yaml}\n=> {text}");
            assert!(text.contains("registries.conf"), "{text}");
        }
    }

    #[test]
    fn limits_and_durations() {
        let r = Registries::parse(
            "registries:\n- name: a\n  api_url: https://a\n  prefix: a\n  limit: 0\n  credsexpire: 3600000000000\n",
            "t",
        )
        .unwrap();
        let e = r.endpoint_for(Some("a"), "x").unwrap();
        assert_eq!(e.limit, None);
        assert_eq!(e.creds_expire, Some(Duration::from_secs(3600)));
        for (text, secs) in [
            ("5h", 18000.0),
            ("1h30m", 5400.0),
            ("1.5h", 5400.0),
            ("300ms", 0.3),
            ("2m3.5s", 123.5),
            ("0", 0.0),
        ] {
            let d = parse_go_duration(text).unwrap();
            assert!((d.as_secs_f64() - secs).abs() < 1e-6, "{text}: {d:?}");
        }
        for bad in ["", "5", "h", "-5h", "5d", "1..2s"] {
            assert!(parse_go_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn round_trips_for_updraft_yaml() {
        let conf: RegistriesConf = serde_saphyr::from_str(SAMPLE).unwrap();
        let text = serde_saphyr::to_string(&conf).unwrap();
        let again: RegistriesConf = serde_saphyr::from_str(&text).unwrap();
        assert_eq!(conf, again);
    }
}
