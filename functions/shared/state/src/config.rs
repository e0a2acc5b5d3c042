//! Owns the store URL: which backend, where in it, and the rule that
//! credentials come from the environment only — a URL that carries one is
//! refused without echoing it.

use std::fmt;
use std::path::PathBuf;

use url::Url;

use crate::error::StateError;

/// The store used when none is configured: files under `.updraft/state`,
/// relative to the working directory.
pub const DEFAULT_URL: &str = "file://.updraft/state";

/// Where the AWS backend's credentials come from.
pub(crate) const AWS_ENV: &str = "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN \
                                  or the AWS container/web-identity/instance credentials";
/// Where the Alibaba OSS backend's credentials come from.
pub(crate) const OSS_ENV: &str =
    "ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET, ALIBABA_CLOUD_SECURITY_TOKEN";

/// The backend a store URL selects (no credentials in it: they come from
/// the environment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    /// Local files under `root` (may be relative).
    File {
        /// The directory holding the documents.
        root: PathBuf,
    },
    /// Process memory. Stores opened with the same `name` share their
    /// objects (like two clients of one bucket); an unnamed one is private.
    Memory {
        /// The shared store's name.
        name: Option<String>,
    },
    /// AWS S3 or an S3-compatible server (MinIO, moto): path-style requests
    /// to a custom endpoint, virtual-hosted style to AWS.
    S3 {
        /// The bucket.
        bucket: String,
        /// A custom endpoint (`http(s)://host[:port]`), or AWS when absent.
        endpoint: Option<String>,
        /// The signing region; the environment's or `us-east-1` when absent.
        region: Option<String>,
        /// Whether `http://` endpoints are allowed.
        allow_http: bool,
    },
    /// Alibaba Cloud OSS through its S3-compatible API: virtual-hosted
    /// style only, no conditional writes.
    Oss {
        /// The bucket.
        bucket: String,
        /// The bucket's own endpoint (`https://BUCKET.s3.oss-REGION.aliyuncs.com`
        /// or a custom domain bound to the bucket).
        endpoint: String,
        /// The signing region, e.g. `cn-hangzhou`.
        region: String,
        /// Whether `http://` endpoints are allowed.
        allow_http: bool,
    },
}

impl Backend {
    /// A short name: `file`, `memory`, `s3` or `oss`.
    pub fn kind(&self) -> &'static str {
        match self {
            Backend::File { .. } => "file",
            Backend::Memory { .. } => "memory",
            Backend::S3 { .. } => "s3",
            Backend::Oss { .. } => "oss",
        }
    }
}

/// A parsed store URL. Its `Display` is the canonical URL, safe to log.
#[derive(Clone, PartialEq, Eq)]
pub struct StoreUrl {
    backend: Backend,
    prefix: Vec<String>,
    display: String,
}

impl fmt::Display for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display)
    }
}

impl fmt::Debug for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StoreUrl({})", self.display)
    }
}

impl StoreUrl {
    /// Parses a store URL:
    ///
    /// - `file://PATH` or a bare `PATH` (relative paths allowed);
    /// - `memory://` (private) or `memory://NAME` (shared in this process);
    /// - `s3://BUCKET[/PREFIX][?endpoint=URL&region=REGION&allow_http=true]`;
    /// - `oss://BUCKET[/PREFIX][?endpoint=URL&region=REGION]`.
    ///
    /// A URL with user information or a query key that looks like a
    /// credential (`secret_access_key`, `token`, `password`…) is refused with
    /// [`StateError::SecretInUrl`], which names the key but never the value.
    pub fn parse(input: &str) -> Result<Self, StateError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(invalid(input, "it is empty"));
        }
        let Some((scheme, rest)) = input.split_once("://") else {
            return Self::file(input, input);
        };
        match scheme.to_ascii_lowercase().as_str() {
            "file" => Self::file(input, rest),
            "memory" => Self::memory(input, rest),
            "s3" | "oss" => Self::bucket(input),
            other => Err(invalid(
                &redact(input),
                &format!("unknown scheme `{other}`"),
            )),
        }
    }

    /// The backend.
    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    /// The key prefix inside the bucket (empty for files and memory).
    pub fn prefix(&self) -> &[String] {
        &self.prefix
    }

    fn file(input: &str, path: &str) -> Result<Self, StateError> {
        if path.is_empty() {
            return Err(invalid(input, "the path is empty"));
        }
        if path.chars().any(|c| c.is_control()) {
            return Err(invalid(input, "the path contains a control character"));
        }
        Ok(Self {
            backend: Backend::File {
                root: PathBuf::from(path),
            },
            prefix: Vec::new(),
            display: format!("file://{path}"),
        })
    }

    fn memory(input: &str, name: &str) -> Result<Self, StateError> {
        let name = name.trim_end_matches('/');
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(invalid(
                input,
                "a memory store name may use only letters, digits, `-`, `_` and `.`",
            ));
        }
        Ok(Self {
            backend: Backend::Memory {
                name: (!name.is_empty()).then(|| name.to_string()),
            },
            prefix: Vec::new(),
            display: format!("memory://{name}"),
        })
    }

    fn bucket(input: &str) -> Result<Self, StateError> {
        let shown = redact(input);
        let url = Url::parse(input).map_err(|e| invalid(&shown, &e.to_string()))?;
        let scheme = url.scheme().to_string();
        let env = if scheme == "oss" { OSS_ENV } else { AWS_ENV };
        if !url.username().is_empty() || url.password().is_some() {
            return Err(StateError::SecretInUrl {
                url: shown,
                what: "user information (`user:password@`)".into(),
                env,
            });
        }
        // Refuse credentials before anything else, so that no later error
        // message is built from a URL that carries one.
        for (key, _) in url.query_pairs() {
            if looks_secret(&key) {
                return Err(StateError::SecretInUrl {
                    url: shown,
                    what: key.into_owned(),
                    env,
                });
            }
        }
        if url.fragment().is_some() {
            return Err(invalid(&shown, "a `#fragment` is not allowed"));
        }
        let bucket = url.host_str().unwrap_or_default().to_string();
        check_bucket(&shown, &bucket)?;
        if url.port().is_some() {
            return Err(invalid(
                &shown,
                "the bucket takes no port; put the server in `endpoint=`",
            ));
        }
        // The raw path: `Url` would resolve `..` away silently.
        let raw_path = input
            .split(['?', '#'])
            .next()
            .and_then(|s| s.split_once("://"))
            .and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]))
            .unwrap_or_default();
        let mut prefix = Vec::new();
        for segment in raw_path.split('/').filter(|s| !s.is_empty()) {
            if segment == "." || segment == ".." || segment.contains('%') {
                return Err(invalid(
                    &shown,
                    "prefix segments may not be `.`, `..` or percent-encoded",
                ));
            }
            prefix.push(segment.to_string());
        }

        let (mut endpoint, mut region, mut allow_http) = (None, None, None);
        for (key, value) in url.query_pairs() {
            let slot = match key.as_ref() {
                "endpoint" => &mut endpoint,
                "region" => &mut region,
                "allow_http" => &mut allow_http,
                other => {
                    return Err(invalid(
                        &shown,
                        &format!(
                            "unknown query key `{other}` (allowed: endpoint, region, allow_http)"
                        ),
                    ));
                }
            };
            if slot.replace(value.into_owned()).is_some() {
                return Err(invalid(&shown, &format!("`{key}` is given twice")));
            }
        }
        let allow_http = match allow_http.as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => {
                return Err(invalid(
                    &shown,
                    &format!("allow_http must be true or false, not `{other}`"),
                ));
            }
        };
        if let Some(r) = &region
            && (r.is_empty()
                || !r
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        {
            return Err(invalid(&shown, &format!("`{r}` is not a region name")));
        }
        let endpoint = match endpoint {
            Some(e) => Some(check_endpoint(&shown, &e, allow_http, env)?),
            None => None,
        };

        let mut query = Vec::new();
        let backend = if scheme == "oss" {
            let region = match region.or_else(|| endpoint.as_ref().and_then(|e| oss_region(e))) {
                Some(r) => r,
                None => {
                    return Err(invalid(
                        &shown,
                        "oss:// needs `region=` (e.g. cn-hangzhou) or an aliyuncs.com endpoint",
                    ));
                }
            };
            let endpoint = oss_endpoint(
                &bucket,
                endpoint
                    .as_deref()
                    .unwrap_or(&format!("https://s3.oss-{region}.aliyuncs.com")),
            );
            check_endpoint(&shown, &endpoint, allow_http, env)?;
            query.push(format!("endpoint={endpoint}"));
            query.push(format!("region={region}"));
            Backend::Oss {
                bucket: bucket.clone(),
                endpoint,
                region,
                allow_http,
            }
        } else {
            if let Some(e) = &endpoint {
                query.push(format!("endpoint={e}"));
            }
            if let Some(r) = &region {
                query.push(format!("region={r}"));
            }
            Backend::S3 {
                bucket: bucket.clone(),
                endpoint,
                region,
                allow_http,
            }
        };
        if allow_http {
            query.push("allow_http=true".into());
        }
        let mut display = format!("{scheme}://{bucket}");
        for p in &prefix {
            display.push('/');
            display.push_str(p);
        }
        if !query.is_empty() {
            display.push('?');
            display.push_str(&query.join("&"));
        }
        Ok(Self {
            backend,
            prefix,
            display,
        })
    }
}

fn invalid(url: &str, reason: &str) -> StateError {
    StateError::InvalidUrl {
        url: url.to_string(),
        reason: reason.to_string(),
    }
}

/// The URL without user information and query: what an error may show
/// before the URL is known to be free of credentials.
fn redact(input: &str) -> String {
    let without_query = input.split(['?', '#']).next().unwrap_or_default();
    match without_query.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = match rest.find('/') {
                Some(i) => rest.split_at(i),
                None => (rest, ""),
            };
            let host = authority.rsplit('@').next().unwrap_or_default();
            format!("{scheme}://{host}{path}")
        }
        None => without_query.to_string(),
    }
}

/// Whether a query key names a credential. Deliberately broad: a false
/// positive costs a clear error, a false negative leaks a secret into logs.
pub(crate) fn looks_secret(key: &str) -> bool {
    let k = key.to_ascii_lowercase().replace(['-', '.'], "_");
    const WORDS: [&str; 13] = [
        "secret",
        "token",
        "password",
        "passwd",
        "credential",
        "signature",
        "access_key",
        "accesskey",
        "key_id",
        "keyid",
        "session",
        "auth",
        "api_key",
    ];
    k == "key"
        || k == "sk"
        || k == "ak"
        || k.starts_with("x_amz_")
        || k.starts_with("x_oss_")
        || WORDS.iter().any(|w| k.contains(w))
}

fn check_bucket(url: &str, bucket: &str) -> Result<(), StateError> {
    let ok = (3..=63).contains(&bucket.len())
        && bucket
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && bucket
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && bucket
            .chars()
            .last()
            .is_some_and(|c| c.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(invalid(
            url,
            &format!(
                "`{bucket}` is not a bucket name (3–63 lowercase letters, digits, `-` or `.`)"
            ),
        ))
    }
}

/// Validates an endpoint and returns it without a trailing slash.
fn check_endpoint(
    url: &str,
    endpoint: &str,
    allow_http: bool,
    env: &'static str,
) -> Result<String, StateError> {
    let parsed = Url::parse(endpoint).map_err(|e| {
        invalid(
            url,
            &format!("endpoint is not a URL ({e}); write it as https://host[:port]"),
        )
    })?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(StateError::SecretInUrl {
            url: url.to_string(),
            what: "user information in `endpoint`".into(),
            env,
        });
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(invalid(
            url,
            "the endpoint may not have a query or fragment",
        ));
    }
    match parsed.scheme() {
        "https" => {}
        "http" if allow_http => {}
        "http" => {
            return Err(invalid(
                url,
                "the endpoint is http://; add `allow_http=true` if that is intended",
            ));
        }
        other => {
            return Err(invalid(
                url,
                &format!("the endpoint scheme must be http or https, not `{other}`"),
            ));
        }
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(invalid(url, "the endpoint has no host"));
    }
    Ok(endpoint.trim_end_matches('/').to_string())
}

/// `cn-hangzhou` from `[BUCKET.]s3.oss-cn-hangzhou[-internal].aliyuncs.com`.
fn oss_region(endpoint: &str) -> Option<String> {
    let host = Url::parse(endpoint).ok()?.host_str()?.to_string();
    let domain = host.strip_suffix(".aliyuncs.com")?;
    let label = domain.rsplit('.').next()?;
    let region = label.strip_prefix("oss-")?;
    let region = region.strip_suffix("-internal").unwrap_or(region);
    (!region.is_empty() && region != "accelerate").then(|| region.to_string())
}

/// OSS answers only virtual-hosted requests: the endpoint must name the
/// bucket. An `*.aliyuncs.com` endpoint gets the bucket prepended; any other
/// host is taken as a custom domain already bound to the bucket.
fn oss_endpoint(bucket: &str, endpoint: &str) -> String {
    let Ok(mut url) = Url::parse(endpoint) else {
        return endpoint.to_string();
    };
    if let Some(host) = url.host_str().map(str::to_string)
        && host.ends_with(".aliyuncs.com")
        && !host.starts_with(&format!("{bucket}."))
        && url.set_host(Some(&format!("{bucket}.{host}"))).is_err()
    {
        return endpoint.to_string();
    }
    url.as_str().trim_end_matches('/').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backend(url: &str) -> Backend {
        StoreUrl::parse(url).unwrap().backend().clone()
    }

    #[test]
    fn file_urls_keep_relative_paths() {
        assert!(
            matches!(backend(DEFAULT_URL), Backend::File { root } if root == std::path::Path::new(".updraft/state"))
        );
        assert!(
            matches!(backend("file:///var/lib/u"), Backend::File { root } if root == std::path::Path::new("/var/lib/u"))
        );
        assert!(
            matches!(backend("state"), Backend::File { root } if root == std::path::Path::new("state"))
        );
        assert!(StoreUrl::parse("file://").is_err());
    }

    #[test]
    fn memory_urls_may_be_named() {
        assert!(matches!(
            backend("memory://"),
            Backend::Memory { name: None }
        ));
        assert!(matches!(backend("memory://t1"), Backend::Memory { name: Some(n) } if n == "t1"));
        assert!(StoreUrl::parse("memory://a/b").is_err());
    }

    #[test]
    fn s3_urls_carry_endpoint_region_and_prefix() {
        let u = StoreUrl::parse(
            "s3://updraft-state/team/a?endpoint=http://127.0.0.1:5123/&region=eu-west-1&allow_http=true",
        )
        .unwrap();
        assert_eq!(u.prefix(), ["team", "a"]);
        assert_eq!(
            u.to_string(),
            "s3://updraft-state/team/a?endpoint=http://127.0.0.1:5123&region=eu-west-1&allow_http=true"
        );
        assert!(matches!(
            u.backend(),
            Backend::S3 { endpoint: Some(e), region: Some(r), allow_http: true, .. }
                if e == "http://127.0.0.1:5123" && r == "eu-west-1"
        ));
        let err = StoreUrl::parse("s3://bkt?endpoint=http://127.0.0.1:5123").unwrap_err();
        assert!(err.to_string().contains("allow_http=true"), "{err}");
        let err = StoreUrl::parse("s3://bkt?endpont=x").unwrap_err();
        assert!(
            err.to_string().contains("unknown query key `endpont`"),
            "{err}"
        );
        assert!(StoreUrl::parse("s3://B/x").is_err());
        assert!(StoreUrl::parse("s3://bkt/../x").is_err());
        assert!(StoreUrl::parse("s3://bkt?region=a&region=b").is_err());
    }

    #[test]
    fn oss_urls_are_virtual_hosted() {
        let u = StoreUrl::parse("oss://updraft-state/p?region=cn-hangzhou").unwrap();
        assert!(matches!(
            u.backend(),
            Backend::Oss { endpoint, region, .. }
                if endpoint == "https://updraft-state.s3.oss-cn-hangzhou.aliyuncs.com" && region == "cn-hangzhou"
        ));
        let u = StoreUrl::parse(
            "oss://updraft-state?endpoint=https://s3.oss-cn-shanghai-internal.aliyuncs.com",
        )
        .unwrap();
        assert!(matches!(
            u.backend(),
            Backend::Oss { endpoint, region, .. }
                if endpoint == "https://updraft-state.s3.oss-cn-shanghai-internal.aliyuncs.com" && region == "cn-shanghai"
        ));
        let u = StoreUrl::parse("oss://bkt?endpoint=https://state.example.com&region=cn-beijing")
            .unwrap();
        assert!(
            matches!(u.backend(), Backend::Oss { endpoint, .. } if endpoint == "https://state.example.com")
        );
        assert!(StoreUrl::parse("oss://bkt").is_err());
    }

    #[test]
    fn credentials_in_urls_are_refused_without_echoing_them() {
        for url in [
            "s3://bkt?secret_access_key=hunter2",
            "s3://bkt?aws_session_token=hunter2",
            "s3://bkt?X-Amz-Signature=hunter2",
            "oss://bkt?AccessKeySecret=hunter2&region=cn-hangzhou",
            "s3://AKIA:hunter2@bkt/p",
            "s3://bkt?endpoint=https://u:hunter2@minio.local",
            "s3://bkt?password=hunter2",
        ] {
            let err = StoreUrl::parse(url).unwrap_err();
            let text = err.to_string();
            assert!(
                matches!(err, StateError::SecretInUrl { .. }),
                "{url}: {text}"
            );
            assert!(!text.contains("hunter2"), "{text}");
            assert!(!format!("{err:?}").contains("hunter2"), "{err:?}");
        }
    }
}
