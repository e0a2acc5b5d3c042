//! Owns the manifest model: the four media types the client accepts, parsing
//! of image manifests, indexes and config blobs ([`Manifest`],
//! [`ImageConfig`]), digests, and the result of a tag's metadata lookup
//! ([`TagMetadata`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use updraft_core::{Candidate, Platform};

/// OCI image manifest.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image index.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// Docker image manifest, schema 2.
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker manifest list.
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// The `Accept` header for manifests: all four types. Without a type in
/// `Accept`, a registry may answer 404 for an OCI manifest or convert a
/// Docker one to schema 1 with a different digest.
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json";

/// `sha256:<hex>` of some bytes.
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// Whether `text` is a digest `algorithm:encoded` as the OCI spec allows it;
/// `sha256` must have 64 lowercase hex digits, `sha512` 128.
pub fn is_valid_digest(text: &str) -> bool {
    let Some((algorithm, encoded)) = text.split_once(':') else {
        return false;
    };
    let algorithm_ok = !algorithm.is_empty()
        && algorithm.chars().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '+' | '.' | '_' | '-')
        });
    let hex_len = |n: usize| {
        encoded.len() == n
            && encoded
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
    };
    match algorithm {
        "sha256" => hex_len(64),
        "sha512" => hex_len(128),
        _ => {
            algorithm_ok
                && !encoded.is_empty()
                && encoded
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '=' | '_' | '-'))
        }
    }
}

/// A content descriptor (config, layer or index child).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// Media type of the referenced content.
    #[serde(default)]
    pub media_type: String,
    /// Its digest.
    pub digest: String,
    /// Its size in bytes.
    #[serde(default)]
    pub size: i64,
    /// Platform (index children only).
    #[serde(default)]
    pub platform: Option<DescriptorPlatform>,
    /// Annotations.
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

/// An index child's `platform` object.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DescriptorPlatform {
    /// `os`.
    #[serde(default)]
    pub os: String,
    /// `architecture`.
    #[serde(default)]
    pub architecture: String,
    /// `variant`.
    #[serde(default)]
    pub variant: Option<String>,
}

impl DescriptorPlatform {
    /// As a [`Platform`] (`None` when os or architecture is empty).
    pub fn to_platform(&self) -> Option<Platform> {
        (!self.os.is_empty() && !self.architecture.is_empty())
            .then(|| Platform::new(&self.os, &self.architecture, self.variant.as_deref()))
    }
}

/// A manifest as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// `sha256` of the bytes as received (the digest a pull by tag
    /// resolves to).
    pub digest: String,
    /// Its media type (one of the four constants).
    pub media_type: String,
    /// The bytes as received.
    pub bytes: Vec<u8>,
    /// What it says.
    pub body: ManifestBody,
}

/// An image manifest or an index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManifestBody {
    /// A single-platform image: its config blob.
    Image {
        /// The config descriptor.
        config: Descriptor,
    },
    /// A multi-platform index / manifest list: its children.
    Index {
        /// The child manifests.
        manifests: Vec<Descriptor>,
    },
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawManifest {
    #[serde(default)]
    schema_version: Option<i64>,
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    config: Option<Descriptor>,
    #[serde(default)]
    manifests: Option<Vec<Descriptor>>,
}

/// Why a manifest could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManifestProblem {
    /// Not JSON or not a manifest.
    Invalid(String),
    /// A media type this client does not read.
    Unsupported(String),
}

impl Manifest {
    /// Parses manifest bytes; `content_type` is the response's
    /// `Content-Type` (parameters ignored). The body's `mediaType` wins
    /// over a generic content type; without either, the shape decides.
    pub fn parse(bytes: Vec<u8>, content_type: Option<&str>) -> Result<Self, ManifestProblem> {
        let raw: RawManifest = serde_json::from_slice(&bytes)
            .map_err(|e| ManifestProblem::Invalid(format!("not a JSON manifest ({e})")))?;
        if raw.schema_version == Some(1) {
            return Err(ManifestProblem::Unsupported(
                "application/vnd.docker.distribution.manifest.v1+json".to_string(),
            ));
        }
        let header_type = content_type
            .map(|c| {
                c.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            })
            .filter(|c| is_known(c));
        let media_type = match (raw.media_type.as_deref(), header_type) {
            (Some(body), _) if is_known(body) => body.to_string(),
            (Some(body), _) if !body.is_empty() => {
                return Err(ManifestProblem::Unsupported(body.to_string()));
            }
            (_, Some(header)) => header,
            _ if raw.manifests.is_some() => OCI_INDEX.to_string(),
            _ if raw.config.is_some() => OCI_MANIFEST.to_string(),
            _ => {
                return Err(ManifestProblem::Invalid(
                    "it has neither `config` nor `manifests`, and no known media type".to_string(),
                ));
            }
        };
        let body = if media_type == OCI_INDEX || media_type == DOCKER_MANIFEST_LIST {
            ManifestBody::Index {
                manifests: raw.manifests.ok_or_else(|| {
                    ManifestProblem::Invalid(format!("{media_type} without `manifests`"))
                })?,
            }
        } else {
            let config = raw.config.ok_or_else(|| {
                ManifestProblem::Invalid(format!("{media_type} without `config`"))
            })?;
            if !is_valid_digest(&config.digest) {
                return Err(ManifestProblem::Invalid(format!(
                    "config digest '{}' is malformed",
                    config.digest
                )));
            }
            ManifestBody::Image { config }
        };
        Ok(Self {
            digest: sha256_digest(&bytes),
            media_type,
            bytes,
            body,
        })
    }

    /// Whether it is an index / manifest list.
    pub fn is_index(&self) -> bool {
        matches!(self.body, ManifestBody::Index { .. })
    }
}

fn is_known(media_type: &str) -> bool {
    matches!(
        media_type,
        OCI_MANIFEST | OCI_INDEX | DOCKER_MANIFEST | DOCKER_MANIFEST_LIST
    )
}

/// What the client reads from a config blob.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageConfig {
    /// `created` as signed nanoseconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<i64>,
    /// `os/architecture[/variant]`, when the config names them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    /// `config.Labels`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

impl ImageConfig {
    /// Parses a config blob. A missing or empty `created` is `None`; one
    /// that is not RFC 3339 is an error.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        #[derive(Deserialize)]
        struct Raw {
            #[serde(default)]
            created: Option<String>,
            #[serde(default)]
            os: Option<String>,
            #[serde(default)]
            architecture: Option<String>,
            #[serde(default)]
            variant: Option<String>,
            #[serde(default)]
            config: Option<RawInner>,
        }
        #[derive(Deserialize)]
        struct RawInner {
            #[serde(default, rename = "Labels")]
            labels: Option<BTreeMap<String, String>>,
        }
        let raw: Raw =
            serde_json::from_slice(bytes).map_err(|e| format!("not a JSON image config ({e})"))?;
        let created = match raw.created.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => Some(parse_created(text)?),
        };
        let platform = match (raw.os.as_deref(), raw.architecture.as_deref()) {
            (Some(os), Some(arch)) if !os.is_empty() && !arch.is_empty() => {
                Some(Platform::new(os, arch, raw.variant.as_deref()))
            }
            _ => None,
        };
        Ok(Self {
            created,
            platform,
            labels: raw.config.and_then(|c| c.labels).unwrap_or_default(),
        })
    }
}

/// RFC 3339 (with any fraction) → nanoseconds since the epoch.
pub fn parse_created(text: &str) -> Result<i64, String> {
    let time = chrono::DateTime::parse_from_rfc3339(text)
        .map_err(|e| format!("`created` '{text}' is not an RFC 3339 time ({e})"))?;
    time.timestamp_nanos_opt()
        .ok_or_else(|| format!("`created` '{text}' is outside the years 1677–2262"))
}

/// One image (platform manifest) inspected for a tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageMetadata {
    /// The image manifest's digest.
    pub digest: String,
    /// Its config blob's digest.
    pub config_digest: String,
    /// The platform (from the index entry, else from the config).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    /// Config `created`, nanoseconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<i64>,
    /// Config labels.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

/// Everything known about a tag after its metadata was fetched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagMetadata {
    /// The tag.
    pub tag: String,
    /// Digest of the manifest or index the tag points to.
    pub digest: String,
    /// Its media type.
    pub media_type: String,
    /// Newest `created` over the matching images (Image Updater's rule for
    /// indexes); `None` when no image matched or none had `created`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<i64>,
    /// Whether any image matched the wanted platforms. When `false`, Image
    /// Updater skips the tag; `images` is then empty and `created` `None`.
    pub platform_matched: bool,
    /// Every platform the tag offers (index entries, or the config's).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub available_platforms: Vec<Platform>,
    /// The matching images, with their metadata.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<ImageMetadata>,
}

impl TagMetadata {
    /// The labels of the newest matching image.
    pub fn labels(&self) -> BTreeMap<String, String> {
        self.images
            .iter()
            .max_by_key(|i| i.created)
            .map(|i| i.labels.clone())
            .unwrap_or_default()
    }

    /// As a [`Candidate`] for the strategy plugins: digest, `created` and
    /// the matching platforms.
    pub fn to_candidate(&self) -> Candidate {
        let mut platforms: Vec<String> = self
            .images
            .iter()
            .filter_map(|i| i.platform.as_ref().map(Platform::to_string))
            .collect();
        platforms.sort();
        platforms.dedup();
        Candidate {
            name: self.tag.clone(),
            digest: Some(self.digest.clone()),
            created: self.created,
            platforms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests() {
        assert_eq!(
            sha256_digest(b""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert!(is_valid_digest(&sha256_digest(b"x")));
        assert!(!is_valid_digest("sha256:abc"));
        assert!(!is_valid_digest(
            "sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"
        ));
        assert!(!is_valid_digest("latest"));
        assert!(is_valid_digest("blake3:abcdef"));
    }

    #[test]
    fn parses_the_four_types() {
        let cfg = sha256_digest(b"cfg");
        let image = format!(
            r#"{{"schemaVersion":2,"mediaType":"{DOCKER_MANIFEST}","config":{{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"{cfg}","size":3}},"layers":[]}}"#
        );
        let m = Manifest::parse(image.clone().into_bytes(), None).unwrap();
        assert_eq!(m.media_type, DOCKER_MANIFEST);
        assert_eq!(m.digest, sha256_digest(image.as_bytes()));
        assert!(matches!(&m.body, ManifestBody::Image { config } if config.digest == cfg));

        // OCI manifests may omit mediaType: the header decides.
        let oci = format!(r#"{{"schemaVersion":2,"config":{{"digest":"{cfg}","size":3}}}}"#);
        let m = Manifest::parse(
            oci.into_bytes(),
            Some(&format!("{OCI_MANIFEST}; charset=utf-8")),
        )
        .unwrap();
        assert_eq!(m.media_type, OCI_MANIFEST);

        let index = format!(
            r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"{OCI_MANIFEST}","digest":"{cfg}","size":1,"platform":{{"os":"linux","architecture":"arm","variant":"v7"}}}}]}}"#
        );
        let m = Manifest::parse(index.into_bytes(), Some("application/json")).unwrap();
        assert_eq!(m.media_type, OCI_INDEX);
        let ManifestBody::Index { manifests } = &m.body else {
            panic!("index expected")
        };
        assert_eq!(
            manifests[0].platform.as_ref().unwrap().to_platform(),
            Some(Platform::new("linux", "arm", Some("v7")))
        );

        let list =
            format!(r#"{{"schemaVersion":2,"mediaType":"{DOCKER_MANIFEST_LIST}","manifests":[]}}"#);
        assert!(Manifest::parse(list.into_bytes(), None).unwrap().is_index());
    }

    #[test]
    fn rejects_what_it_cannot_read() {
        assert!(matches!(
            Manifest::parse(br#"{"schemaVersion":1,"name":"x"}"#.to_vec(), None),
            Err(ManifestProblem::Unsupported(_))
        ));
        assert!(matches!(
            Manifest::parse(br#"{"mediaType":"application/vnd.example+json"}"#.to_vec(), None),
            Err(ManifestProblem::Unsupported(t)) if t == "application/vnd.example+json"
        ));
        assert!(matches!(
            Manifest::parse(br#"{"schemaVersion":2,"#.to_vec(), None),
            Err(ManifestProblem::Invalid(_))
        ));
        assert!(matches!(
            Manifest::parse(
                br#"{"schemaVersion":2,"config":{"digest":"nope"}}"#.to_vec(),
                None
            ),
            Err(ManifestProblem::Invalid(_))
        ));
    }

    #[test]
    fn config_blob_fields() {
        let c = ImageConfig::parse(
            br#"{"created":"2024-02-01T00:00:00.5Z","os":"linux","architecture":"arm64","variant":"v8","config":{"Labels":{"org.opencontainers.image.version":"1.2.3"}}}"#,
        )
        .unwrap();
        assert_eq!(c.created, Some(1_706_745_600_500_000_000));
        assert_eq!(
            c.platform,
            Some(Platform::new("linux", "arm64", Some("v8")))
        );
        assert_eq!(c.labels["org.opencontainers.image.version"], "1.2.3");
        let c = ImageConfig::parse(br#"{"config":{"Labels":null}}"#).unwrap();
        assert_eq!(c, ImageConfig::default());
        assert!(
            ImageConfig::parse(br#"{"created":"yesterday"}"#)
                .unwrap_err()
                .contains("RFC 3339")
        );
        assert_eq!(
            parse_created("2024-02-01T01:00:00+01:00").unwrap(),
            1_706_745_600_000_000_000
        );
        assert_eq!(parse_created("1970-01-01T00:00:00Z").unwrap(), 0);
    }
}
