//! Owns turning a [`StoreUrl`] into an `object_store` client: credentials
//! from the environment, the OSS settings (virtual-hosted, no conditional
//! writes and credentials the platform may rotate), timeouts and retries, and
//! the process-wide named memory stores.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Duration;

use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey, AwsCredential, S3ConditionalPut};
use object_store::client::CredentialProvider;
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::{BackoffConfig, ClientOptions, ObjectStore, RetryConfig};

use crate::config::{Backend, StoreUrl};
use crate::error::StateError;

/// Which conditional writes a backend offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    /// Create-only writes (`If-None-Match: *`, or a hard link for files).
    pub create: bool,
    /// Compare-and-swap updates (`If-Match: <etag>`).
    pub update: bool,
}

/// The credentials an OSS store signs with, replaceable while the store is
/// in use: Function Compute hands every invocation the role's current STS
/// credentials (`x-fc-access-key-*` headers), and an instance outlives the
/// token it started with. Clones share the cell. `Debug` shows the key id
/// only.
#[derive(Clone)]
pub(crate) struct RoleCredentials(Arc<RwLock<Arc<AwsCredential>>>);

impl RoleCredentials {
    fn new(credential: AwsCredential) -> RoleCredentials {
        RoleCredentials(Arc::new(RwLock::new(Arc::new(credential))))
    }

    fn current(&self) -> Arc<AwsCredential> {
        // A poisoned lock still holds a whole credential: writers only
        // swap the Arc.
        match self.0.read() {
            Ok(guard) => Arc::clone(&guard),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Signs every later request with `credential`.
    pub(crate) fn replace(&self, credential: AwsCredential) {
        let credential = Arc::new(credential);
        match self.0.write() {
            Ok(mut guard) => *guard = credential,
            Err(poisoned) => *poisoned.into_inner() = credential,
        }
    }

    /// The access key id now in use (not a secret).
    pub(crate) fn key_id(&self) -> String {
        self.current().key_id.clone()
    }
}

impl std::fmt::Debug for RoleCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoleCredentials")
            .field("key_id", &self.key_id())
            .finish_non_exhaustive()
    }
}

#[async_trait::async_trait]
impl CredentialProvider for RoleCredentials {
    type Credential = AwsCredential;

    async fn get_credential(&self) -> object_store::Result<Arc<AwsCredential>> {
        Ok(self.current())
    }
}

/// What [`build`] made: the client, its conditional writes, and for OSS the
/// replaceable credentials it signs with.
pub(crate) struct Built {
    pub store: Arc<dyn ObjectStore>,
    pub caps: Capabilities,
    pub role: Option<RoleCredentials>,
}

impl Built {
    pub(crate) fn plain(store: Arc<dyn ObjectStore>, caps: Capabilities) -> Built {
        Built {
            store,
            caps,
            role: None,
        }
    }
}

/// The environment variables the AWS backend takes: credentials, region and
/// the credential-provider settings. Location settings (endpoint, path
/// style, plain HTTP) come from the URL only, so that a stray `AWS_ENDPOINT`
/// cannot redirect the store.
const AWS_ENV_KEYS: [&str; 17] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_ENDPOINT_URL_STS",
    "AWS_METADATA_ENDPOINT",
    "AWS_IMDSV1_FALLBACK",
    "AWS_SERVER_SIDE_ENCRYPTION",
    "AWS_SSE_KMS_KEY_ID",
    "AWS_SSE_BUCKET_KEY_ENABLED",
];

fn memory_stores() -> &'static Mutex<HashMap<String, Arc<InMemory>>> {
    static STORES: OnceLock<Mutex<HashMap<String, Arc<InMemory>>>> = OnceLock::new();
    STORES.get_or_init(Default::default)
}

/// Client settings for the remote backends: a state request is small, so a
/// slow one is a stuck one; retries stay well inside a function's budget.
fn client_options(allow_http: bool) -> ClientOptions {
    ClientOptions::new()
        .with_allow_http(allow_http)
        .with_connect_timeout(Duration::from_secs(5))
        .with_timeout(Duration::from_secs(30))
}

fn retry_config() -> RetryConfig {
    RetryConfig {
        backoff: BackoffConfig {
            init_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(2),
            base: 2.0,
        },
        max_retries: 4,
        retry_timeout: Duration::from_secs(20),
    }
}

/// Builds the client for `url`, reading credentials from `env`.
pub(crate) fn build(url: &StoreUrl, env: &HashMap<String, String>) -> Result<Built, StateError> {
    let open_err = |source: Box<dyn std::error::Error + Send + Sync>| StateError::Open {
        url: url.to_string(),
        source,
    };
    match url.backend() {
        Backend::File { root } => {
            std::fs::create_dir_all(root).map_err(|e| open_err(Box::new(e)))?;
            let store =
                LocalFileSystem::new_with_prefix(root).map_err(|e| open_err(Box::new(e)))?;
            Ok(Built::plain(
                Arc::new(store),
                Capabilities {
                    create: true,
                    update: false,
                },
            ))
        }
        Backend::Memory { name } => {
            let store = match name {
                None => Arc::new(InMemory::new()),
                Some(name) => {
                    let mut stores = memory_stores()
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    stores.entry(name.clone()).or_default().clone()
                }
            };
            Ok(Built::plain(
                store,
                Capabilities {
                    create: true,
                    update: true,
                },
            ))
        }
        Backend::S3 {
            bucket,
            endpoint,
            region,
            allow_http,
        } => {
            let mut b = AmazonS3Builder::new();
            for key in AWS_ENV_KEYS {
                if let Some(value) = env.get(key)
                    && let Ok(config_key) = key.to_ascii_lowercase().parse::<AmazonS3ConfigKey>()
                {
                    b = b.with_config(config_key, value);
                }
            }
            b = b
                .with_bucket_name(bucket)
                .with_client_options(client_options(*allow_http))
                .with_retry(retry_config())
                .with_conditional_put(S3ConditionalPut::ETagMatch);
            if let Some(region) = region {
                b = b.with_region(region);
            }
            b = match endpoint {
                // MinIO, moto and other servers: path style.
                Some(endpoint) => b
                    .with_endpoint(endpoint)
                    .with_virtual_hosted_style_request(false),
                // AWS: virtual-hosted unless the bucket name has dots (TLS).
                None => b.with_virtual_hosted_style_request(!bucket.contains('.')),
            };
            let store = b.build().map_err(|e| open_err(Box::new(e)))?;
            Ok(Built::plain(
                Arc::new(store),
                Capabilities {
                    create: true,
                    update: true,
                },
            ))
        }
        Backend::Oss {
            bucket,
            endpoint,
            region,
            allow_http,
        } => {
            let id = env.get("ALIBABA_CLOUD_ACCESS_KEY_ID");
            let secret = env.get("ALIBABA_CLOUD_ACCESS_KEY_SECRET");
            let (Some(id), Some(secret)) = (id, secret) else {
                let missing: Vec<&str> = [
                    ("ALIBABA_CLOUD_ACCESS_KEY_ID", id.is_none()),
                    ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", secret.is_none()),
                ]
                .into_iter()
                .filter_map(|(k, m)| m.then_some(k))
                .collect();
                return Err(StateError::MissingCredentials {
                    url: url.to_string(),
                    missing: missing.join(" and "),
                });
            };
            let role = RoleCredentials::new(AwsCredential {
                key_id: id.clone(),
                secret_key: secret.clone(),
                token: env.get("ALIBABA_CLOUD_SECURITY_TOKEN").cloned(),
            });
            let store = AmazonS3Builder::new()
                .with_bucket_name(bucket)
                // The endpoint already names the bucket: OSS refuses
                // path-style requests (SecondLevelDomainForbidden).
                .with_endpoint(endpoint)
                .with_virtual_hosted_style_request(true)
                .with_region(region)
                .with_credentials(Arc::new(role.clone()))
                // OSS documents no conditional PutObject: make Create and
                // Update fail loudly rather than silently overwrite.
                .with_conditional_put(S3ConditionalPut::Disabled)
                .with_client_options(client_options(*allow_http))
                .with_retry(retry_config())
                .build()
                .map_err(|e| open_err(Box::new(e)))?;
            Ok(Built {
                store: Arc::new(store),
                caps: Capabilities {
                    create: false,
                    update: false,
                },
                role: Some(role),
            })
        }
    }
}
