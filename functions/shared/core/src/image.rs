//! Owns [`ImageRef`]: an image reference parsed exactly as Argo CD Image
//! Updater's `NewFromIdentifier` does.
//!
//! Form: `[<alias>=]<image>[:<tag or version constraint>][@<digest>]`.
//!
//! Parsing first tries the `distribution/reference` grammar
//! (`ParseNormalizedNamed`): Docker Hub names are normalised, `docker.io` is
//! kept as the registry only when the text literally starts with `docker.io`,
//! and the `library/` that normalisation adds for Docker Hub is removed again
//! unless the text started with `library/`. When that grammar refuses the text
//! (a version constraint such as `~1.26` in the tag position, a short digest),
//! a fallback splitter is used: the registry is the first path component if it
//! contains `.` or `:` or is `localhost`, the tag follows the last `:` of the
//! last path component and the digest follows the `@`.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Docker Hub's registry host, implied when a reference names no registry.
pub const DOCKER_HUB: &str = "docker.io";

/// An image reference that cannot be parsed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ImageRefError {
    /// Nothing but whitespace.
    #[error("image reference is empty (write [<alias>=]<image>[:<tag or constraint>])")]
    Empty,
    /// The text is not an image reference; `problem` says why.
    #[error("\"{input}\" is not a valid image reference: {problem}")]
    Invalid {
        /// The reference as given.
        input: String,
        /// What is wrong and how to fix it.
        problem: String,
    },
}

/// A parsed image reference.
///
/// `registry` is `None` for Docker Hub unless the text said `docker.io`
/// (Image Updater's `RegistryURL == ""`). `tag` holds the tag *or* the version
/// constraint written in the tag position (`nginx:~1.26` → `~1.26`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ImageRef {
    alias: Option<String>,
    registry: Option<String>,
    name: String,
    tag: Option<String>,
    digest: Option<String>,
}

impl ImageRef {
    /// Parses `[<alias>=]<image>[:<tag or constraint>][@<digest>]`.
    ///
    /// Surrounding whitespace is ignored, as is whitespace around the `=`;
    /// whitespace elsewhere is only allowed inside a constraint
    /// (`foo:>=1.0 <2`).
    pub fn parse(input: &str) -> Result<Self, ImageRefError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(ImageRefError::Empty);
        }
        let invalid = |problem: String| ImageRefError::Invalid {
            input: trimmed.to_string(),
            problem,
        };
        let (alias, reference) = match split_alias(trimmed) {
            Some((alias, rest)) => (alias.trim(), rest.trim()),
            None => ("", trimmed),
        };
        if reference.is_empty() {
            return Err(invalid(
                "the image after '=' is empty (write <alias>=<image>)".to_string(),
            ));
        }
        if alias.chars().any(char::is_whitespace) {
            return Err(invalid(format!(
                "the alias '{alias}' contains whitespace (remove it)"
            )));
        }
        let alias = (!alias.is_empty()).then(|| alias.to_string());
        let parts = match parse_normalized(reference) {
            Some(parts) => parts,
            None => parse_fallback(reference).map_err(invalid)?,
        };
        Ok(Self {
            alias,
            registry: parts.registry,
            name: parts.name,
            tag: parts.tag,
            digest: parts.digest,
        })
    }

    /// The alias (`echoserver` in `echoserver=repo/echo`), if any.
    pub fn alias(&self) -> Option<&str> {
        self.alias.as_deref()
    }

    /// The registry as written, `None` for implied Docker Hub.
    pub fn registry(&self) -> Option<&str> {
        self.registry.as_deref()
    }

    /// The registry host, `docker.io` when none was written.
    pub fn registry_host(&self) -> &str {
        self.registry.as_deref().unwrap_or(DOCKER_HUB)
    }

    /// The repository path without registry (`jannfis/test-image`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The tag or version constraint, if any.
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The digest (`sha256:…`), if any.
    pub fn digest(&self) -> Option<&str> {
        self.digest.as_deref()
    }

    /// The version constraint written in the tag position, if any
    /// (`nginx:~1.26` → `~1.26`; for the digest strategy, the tag to watch).
    pub fn constraint(&self) -> Option<&str> {
        self.tag()
    }

    /// `registry/name` (just `name` for implied Docker Hub), as Image
    /// Updater's `GetFullNameWithoutTag`.
    pub fn full_name(&self) -> String {
        match &self.registry {
            Some(registry)
                if !self
                    .name
                    .strip_prefix(registry.as_str())
                    .is_some_and(|rest| rest.starts_with('/')) =>
            {
                format!("{registry}/{}", self.name)
            }
            _ => self.name.clone(),
        }
    }

    /// `registry/name[:tag][@digest]`, as `GetFullNameWithTag`.
    pub fn full_name_with_tag(&self) -> String {
        let mut out = self.full_name();
        if let Some(tag) = &self.tag {
            out.push(':');
            out.push_str(tag);
        }
        if let Some(digest) = &self.digest {
            out.push('@');
            out.push_str(digest);
        }
        out
    }

    /// `tag[@digest]`, with `latest` standing in for a missing tag when there
    /// is a digest; empty when there is neither (as `GetTagWithDigest`).
    pub fn tag_with_digest(&self) -> String {
        match (&self.tag, &self.digest) {
            (Some(tag), Some(digest)) => format!("{tag}@{digest}"),
            (None, Some(digest)) => format!("latest@{digest}"),
            (Some(tag), None) => tag.clone(),
            (None, None) => String::new(),
        }
    }

    /// The same image with another tag and digest (alias kept).
    pub fn with_tag(&self, tag: Option<&str>, digest: Option<&str>) -> Self {
        Self {
            tag: tag.filter(|t| !t.is_empty()).map(str::to_string),
            digest: digest.filter(|d| !d.is_empty()).map(str::to_string),
            ..self.clone()
        }
    }

    /// The same image with this alias (`None` removes it).
    pub fn with_alias(&self, alias: Option<&str>) -> Self {
        Self {
            alias: alias.filter(|a| !a.is_empty()).map(str::to_string),
            ..self.clone()
        }
    }

    /// Whether both name the same repository (registry and name), ignoring
    /// alias, tag and digest.
    pub fn same_repository(&self, other: &Self) -> bool {
        self.registry == other.registry && self.name == other.name
    }
}

impl std::fmt::Display for ImageRef {
    /// `[alias=]registry/name[:tag][@digest]`, as Image Updater's `String()`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(alias) = &self.alias {
            write!(f, "{alias}=")?;
        }
        f.write_str(&self.full_name_with_tag())
    }
}

impl std::str::FromStr for ImageRef {
    type Err = ImageRefError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for ImageRef {
    type Error = ImageRefError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<ImageRef> for String {
    fn from(image: ImageRef) -> Self {
        image.to_string()
    }
}

/// Splits `alias=image` at the first `=` that is not part of a constraint
/// operator (`>=`, `<=`, `!=`, `:=`), so that `nginx:>=1.0` has no alias.
/// Image Updater splits at the first `=` whatever precedes it.
fn split_alias(text: &str) -> Option<(&str, &str)> {
    let mut previous = None;
    for (index, c) in text.char_indices() {
        if c == '=' && !matches!(previous, Some('<' | '>' | '!' | '=' | ':')) {
            return Some((&text[..index], &text[index + 1..]));
        }
        previous = Some(c);
    }
    None
}

/// The pieces of a reference without its alias.
#[derive(Debug, PartialEq, Eq)]
struct Parts {
    registry: Option<String>,
    name: String,
    tag: Option<String>,
    digest: Option<String>,
}

/// `distribution/reference.ParseNormalizedNamed` plus Image Updater's
/// post-processing; `None` where the grammar refuses the text.
fn parse_normalized(reference: &str) -> Option<Parts> {
    if reference.len() == 64
        && reference
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        return None;
    }
    let (domain, remainder) = split_docker_domain(reference);
    let remote_name = remainder.split(':').next().unwrap_or_default();
    if remote_name.to_lowercase() != remote_name {
        return None;
    }
    // reference := name [":" tag] ["@" digest], name := domain "/" path
    let (before_digest, digest) = match remainder.split_once('@') {
        Some((before, digest)) => (before, Some(digest)),
        None => (remainder.as_str(), None),
    };
    if let Some(digest) = digest
        && !is_canonical_digest(digest)
    {
        return None;
    }
    let (path, tag) = split_tag(before_digest);
    if let Some(tag) = tag
        && !is_reference_tag(tag)
    {
        return None;
    }
    if !is_reference_domain(&domain) || !is_reference_path(path) {
        return None;
    }
    if domain.len() + 1 + path.len() > 255 {
        return None;
    }
    let is_hub = domain == DOCKER_HUB;
    let registry = (!is_hub || reference.starts_with(DOCKER_HUB)).then(|| domain.clone());
    let name = if is_hub && !reference.starts_with("library/") {
        path.strip_prefix("library/").unwrap_or(path)
    } else {
        path
    };
    Some(Parts {
        registry,
        name: name.to_string(),
        tag: tag.map(str::to_string),
        digest: digest.map(str::to_string),
    })
}

/// `splitDockerDomain` of `distribution/reference` v0.6.
fn split_docker_domain(name: &str) -> (String, String) {
    const LEGACY_DEFAULT_DOMAIN: &str = "index.docker.io";
    let (domain, remote) = match name.split_once('/') {
        None => return (DOCKER_HUB.to_string(), format!("library/{name}")),
        Some((maybe_domain, maybe_remote)) => {
            if maybe_domain == "localhost" {
                (maybe_domain, maybe_remote)
            } else if maybe_domain == LEGACY_DEFAULT_DOMAIN {
                (DOCKER_HUB, maybe_remote)
            } else if maybe_domain.contains(['.', ':'])
                || maybe_domain.to_lowercase() != maybe_domain
            {
                (maybe_domain, maybe_remote)
            } else {
                (DOCKER_HUB, name)
            }
        }
    };
    let remote = if domain == DOCKER_HUB && !remote.contains('/') {
        format!("library/{remote}")
    } else {
        remote.to_string()
    };
    (domain.to_string(), remote)
}

/// Splits `name[:tag]` where the tag separator is the last `:` after the last
/// `/`.
fn split_tag(text: &str) -> (&str, Option<&str>) {
    let last_slash = text.rfind('/');
    match text.rfind(':') {
        Some(colon) if last_slash.is_none_or(|slash| colon > slash) => {
            (&text[..colon], Some(&text[colon + 1..]))
        }
        _ => (text, None),
    }
}

/// `tag := [\w][\w.-]{0,127}`
fn is_reference_tag(tag: &str) -> bool {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut chars = tag.chars();
    match chars.next() {
        Some(first) if word(first) => {}
        _ => return false,
    }
    tag.len() <= 128 && chars.all(|c| word(c) || c == '.' || c == '-')
}

/// `domain := host [":" port]`, host a domain name, IPv4 or `[IPv6]`.
fn is_reference_domain(domain: &str) -> bool {
    let (host, port) = if let Some(rest) = domain.strip_prefix('[') {
        let Some((ipv6, after)) = rest.split_once(']') else {
            return false;
        };
        if ipv6.is_empty() || !ipv6.chars().all(|c| c.is_ascii_hexdigit() || c == ':') {
            return false;
        }
        match after {
            "" => return true,
            _ => match after.strip_prefix(':') {
                Some(port) => ("x", Some(port)),
                None => return false,
            },
        }
    } else {
        match domain.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (domain, None),
        }
    };
    if let Some(port) = port
        && (port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()))
    {
        return false;
    }
    host.split('.').all(|component| {
        let bytes = component.as_bytes();
        !bytes.is_empty()
            && bytes[0].is_ascii_alphanumeric()
            && bytes[bytes.len() - 1].is_ascii_alphanumeric()
            && bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
    })
}

/// `path := component ("/" component)*`, each component
/// `[a-z0-9]+ (([._]|__|[-]+) [a-z0-9]+)*`.
fn is_reference_path(path: &str) -> bool {
    path.split('/').all(is_path_component)
}

fn is_path_component(component: &str) -> bool {
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let bytes = component.as_bytes();
    if bytes.is_empty() || !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        if alnum(bytes[i]) {
            i += 1;
            continue;
        }
        // A separator run: ".", "_", "__" or one or more "-".
        let start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let sep = &component[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|b| b == b'-');
        if !ok {
            return false;
        }
    }
    true
}

/// A digest `digest.Parse` accepts: a registered algorithm with its exact
/// lowercase hex length.
fn is_canonical_digest(digest: &str) -> bool {
    let Some((algorithm, hex)) = digest.split_once(':') else {
        return false;
    };
    let want = match algorithm {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        _ => return false,
    };
    hex.len() == want && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A digest in the looser form the fallback accepts:
/// `<algorithm>:<hex>`, the algorithm `[A-Za-z][A-Za-z0-9]*` components joined
/// by `+`, `.`, `_` or `-`.
pub(crate) fn is_loose_digest(digest: &str) -> bool {
    let Some((algorithm, hex)) = digest.split_once(':') else {
        return false;
    };
    let algorithm_ok = algorithm.split(['+', '.', '_', '-']).all(|component| {
        let mut chars = component.chars();
        chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric())
    });
    algorithm_ok && !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Image Updater's legacy splitter, used when the grammar above refuses the
/// text. Returns a problem description on failure.
fn parse_fallback(reference: &str) -> Result<Parts, String> {
    let (registry, remainder) = match reference.split_once('/') {
        Some((first, rest)) if first.contains(['.', ':']) || first == "localhost" => {
            (Some(first), rest)
        }
        _ => (None, reference),
    };
    if let Some(registry) = registry {
        let ok = registry
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':' | '[' | ']'));
        if !ok {
            return Err(format!(
                "the registry '{registry}' may only hold letters, digits, '.', '-', '_' and ':<port>'"
            ));
        }
    }
    let (before_digest, digest) = match remainder.split_once('@') {
        Some((before, digest)) => (before, Some(digest)),
        None => (remainder, None),
    };
    if let Some(digest) = digest
        && !is_loose_digest(digest)
    {
        return Err(format!(
            "the digest '{digest}' is not <algorithm>:<hex> (e.g. sha256:2c26b46b…)"
        ));
    }
    let (name, tag) = split_tag(before_digest);
    if name.is_empty() {
        return Err("the repository name is empty".to_string());
    }
    if !is_reference_path(name) {
        let problem = if name.to_lowercase() != name {
            "must be lowercase"
        } else {
            "may only hold lowercase letters, digits, '/' and the separators '.', '_', '__' and '-' between them"
        };
        return Err(format!("the repository name '{name}' {problem}"));
    }
    if let Some(tag) = tag {
        if tag.trim().is_empty() {
            return Err(
                "the tag after ':' is empty (remove the ':' or write a tag or constraint)"
                    .to_string(),
            );
        }
        if tag.trim() != tag
            || tag
                .chars()
                .any(|c| c.is_control() || (c.is_whitespace() && c != ' '))
        {
            return Err(format!(
                "the tag or constraint '{tag}' has stray whitespace (only single spaces between constraint terms are allowed)"
            ));
        }
    }
    Ok(Parts {
        registry: registry.map(str::to_string),
        name: name.to_string(),
        tag: tag.map(str::to_string),
        digest: digest.map(str::to_string),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:1234567890abcdef1234567890abcdef1234567890abcdef1234567890abcdef";

    /// (input, registry, name, tag, digest, alias)
    type Row = (
        &'static str,
        Option<&'static str>,
        &'static str,
        Option<&'static str>,
        Option<&'static str>,
        Option<&'static str>,
    );

    fn check(rows: &[Row]) {
        for (input, registry, name, tag, digest, alias) in rows {
            let image = ImageRef::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(image.registry(), *registry, "registry of {input}");
            assert_eq!(image.name(), *name, "name of {input}");
            assert_eq!(image.tag(), *tag, "tag of {input}");
            assert_eq!(image.digest(), *digest, "digest of {input}");
            assert_eq!(image.alias(), *alias, "alias of {input}");
        }
    }

    #[test]
    fn image_updater_parsing_table() {
        check(&[
            (
                "jannfis/test-image:0.1",
                None,
                "jannfis/test-image",
                Some("0.1"),
                None,
                None,
            ),
            ("test-image", None, "test-image", None, None, None),
            (
                "library/test-image",
                None,
                "library/test-image",
                None,
                None,
                None,
            ),
            (
                "docker.io/jannfis/test-image:0.1",
                Some("docker.io"),
                "jannfis/test-image",
                Some("0.1"),
                None,
                None,
            ),
            (
                "harbor.example.com/library/test-image:0.1",
                Some("harbor.example.com"),
                "library/test-image",
                Some("0.1"),
                None,
                None,
            ),
            (
                "gcr.io/jannfis/test-image@sha256:abcde",
                Some("gcr.io"),
                "jannfis/test-image",
                None,
                Some("sha256:abcde"),
                None,
            ),
            (
                "gcr.io/jannfis/test-image:test-tag@sha256:abcde",
                Some("gcr.io"),
                "jannfis/test-image",
                Some("test-tag"),
                Some("sha256:abcde"),
                None,
            ),
            (
                "jannfis/orig-image=gcr.io/jannfis/test-image:0.1",
                Some("gcr.io"),
                "jannfis/test-image",
                Some("0.1"),
                None,
                Some("jannfis/orig-image"),
            ),
            (
                "ghcr.io:4567/jannfis/orig-image=gcr.io:1234/jannfis/test-image:0.1",
                Some("gcr.io:1234"),
                "jannfis/test-image",
                Some("0.1"),
                None,
                Some("ghcr.io:4567/jannfis/orig-image"),
            ),
            (
                "classic-web=registry:5000/classic-web",
                Some("registry:5000"),
                "classic-web",
                None,
                None,
                Some("classic-web"),
            ),
        ]);
    }

    #[test]
    fn tag_with_digest_and_full_names() {
        let digest_only = ImageRef::parse("gcr.io/jannfis/test-image@sha256:abcde").unwrap();
        assert_eq!(digest_only.tag_with_digest(), "latest@sha256:abcde");
        assert_eq!(
            digest_only.full_name_with_tag(),
            "gcr.io/jannfis/test-image@sha256:abcde"
        );
        assert_eq!(digest_only.full_name(), "gcr.io/jannfis/test-image");

        let both = ImageRef::parse("gcr.io/jannfis/test-image:test-tag@sha256:abcde").unwrap();
        assert_eq!(both.tag_with_digest(), "test-tag@sha256:abcde");
        assert_eq!(
            both.full_name_with_tag(),
            "gcr.io/jannfis/test-image:test-tag@sha256:abcde"
        );

        let plain = ImageRef::parse("jannfis/test-image:0.1").unwrap();
        assert_eq!(plain.full_name_with_tag(), "jannfis/test-image:0.1");
        assert_eq!(plain.full_name(), "jannfis/test-image");
        assert_eq!(plain.tag_with_digest(), "0.1");
        assert_eq!(plain.registry_host(), "docker.io");

        let none = ImageRef::parse("test-image").unwrap();
        assert_eq!(none.tag_with_digest(), "");
    }

    #[test]
    fn valid_long_digest_goes_through_the_grammar() {
        let image = ImageRef::parse(&format!(
            "gcr.io/jannfis/test-image:latest-bookworm@{DIGEST}"
        ))
        .unwrap();
        assert_eq!(image.tag(), Some("latest-bookworm"));
        assert_eq!(image.digest(), Some(DIGEST));
        assert_eq!(image.tag_with_digest(), format!("latest-bookworm@{DIGEST}"));
        let image = ImageRef::parse(&format!("gcr.io/jannfis/test-image@{DIGEST}")).unwrap();
        assert_eq!(image.tag(), None);
        assert_eq!(image.tag_with_digest(), format!("latest@{DIGEST}"));
    }

    #[test]
    fn docker_hub_normalisation() {
        check(&[
            ("nginx", None, "nginx", None, None, None),
            ("nginx:1.25", None, "nginx", Some("1.25"), None, None),
            (
                "docker.io/nginx:1.25",
                Some("docker.io"),
                "nginx",
                Some("1.25"),
                None,
                None,
            ),
            // library/ is removed for Docker Hub unless the text starts with it
            (
                "docker.io/library/nginx",
                Some("docker.io"),
                "nginx",
                None,
                None,
                None,
            ),
            (
                "library/nginx:1",
                None,
                "library/nginx",
                Some("1"),
                None,
                None,
            ),
            // the legacy index host is Docker Hub, and not written back
            (
                "index.docker.io/foo/bar:1",
                None,
                "foo/bar",
                Some("1"),
                None,
                None,
            ),
            (
                "localhost/foo:1",
                Some("localhost"),
                "foo",
                Some("1"),
                None,
                None,
            ),
            (
                "localhost:5000/foo/bar",
                Some("localhost:5000"),
                "foo/bar",
                None,
                None,
                None,
            ),
            (
                "10.0.0.1:5000/app:v2",
                Some("10.0.0.1:5000"),
                "app",
                Some("v2"),
                None,
                None,
            ),
            (
                "[::1]:5000/app:v2",
                Some("[::1]:5000"),
                "app",
                Some("v2"),
                None,
                None,
            ),
            (
                "demo-test-registry.cn-hangzhou.cr.aliyuncs.com/cidemo/echo-server",
                Some("demo-test-registry.cn-hangzhou.cr.aliyuncs.com"),
                "cidemo/echo-server",
                None,
                None,
                None,
            ),
            (
                "my.registry/library/nested/repo:v1.0.0",
                Some("my.registry"),
                "library/nested/repo",
                Some("v1.0.0"),
                None,
                None,
            ),
        ]);
    }

    #[test]
    fn constraints_use_the_fallback_splitter() {
        check(&[
            ("nginx:~1.26", None, "nginx", Some("~1.26"), None, None),
            ("foo:1.x", None, "foo", Some("1.x"), None, None),
            ("foo:>=1.0 <2", None, "foo", Some(">=1.0 <2"), None, None),
            ("foo:^1.2.3", None, "foo", Some("^1.2.3"), None, None),
            (
                "foo:>=1.0, <2 || 3.x",
                None,
                "foo",
                Some(">=1.0, <2 || 3.x"),
                None,
                None,
            ),
            (
                "x=ghcr.io/org/app:1.X.X",
                Some("ghcr.io"),
                "org/app",
                Some("1.X.X"),
                None,
                Some("x"),
            ),
            (
                "registry:5000/foo:~1",
                Some("registry:5000"),
                "foo",
                Some("~1"),
                None,
                None,
            ),
            (
                "localhost/foo:~1",
                Some("localhost"),
                "foo",
                Some("~1"),
                None,
                None,
            ),
            // a constraint keeps library/ (Image Updater's fallback does not normalise)
            (
                "docker.io/library/nginx:~1.26",
                Some("docker.io"),
                "library/nginx",
                Some("~1.26"),
                None,
                None,
            ),
            (
                "some/image:latest",
                None,
                "some/image",
                Some("latest"),
                None,
                None,
            ),
        ]);
        let image = ImageRef::parse("nginx:~1.26").unwrap();
        assert_eq!(image.constraint(), Some("~1.26"));
    }

    #[test]
    fn comparison_operators_are_not_alias_separators() {
        check(&[
            ("nginx:>=1.0", None, "nginx", Some(">=1.0"), None, None),
            (
                "nginx:<=2, !=1.5",
                None,
                "nginx",
                Some("<=2, !=1.5"),
                None,
                None,
            ),
            ("nginx:=1.2", None, "nginx", Some("=1.2"), None, None),
            (
                "web=nginx:>=1.0",
                None,
                "nginx",
                Some(">=1.0"),
                None,
                Some("web"),
            ),
        ]);
    }

    #[test]
    fn alias_and_whitespace_handling() {
        let image = ImageRef::parse("  echoserver = repo/echo:1.0  ").unwrap();
        assert_eq!(image.alias(), Some("echoserver"));
        assert_eq!(image.name(), "repo/echo");
        // an empty alias is no alias
        let image = ImageRef::parse("=repo/echo").unwrap();
        assert_eq!(image.alias(), None);
        // only the first '=' splits
        let err = ImageRef::parse("invalid==foo").unwrap_err();
        assert!(matches!(err, ImageRefError::Invalid { .. }));
    }

    #[test]
    fn errors_name_the_input_and_the_problem() {
        assert_eq!(ImageRef::parse("").unwrap_err(), ImageRefError::Empty);
        assert_eq!(ImageRef::parse("   ").unwrap_err(), ImageRefError::Empty);
        let cases = [
            ("alias=", "after '=' is empty"),
            ("my alias=nginx", "alias 'my alias' contains whitespace"),
            ("foo bar:1", "repository name 'foo bar'"),
            ("Foo/Bar:1", "must be lowercase"),
            ("foo:", "tag after ':' is empty"),
            ("foo:1\t2", "stray whitespace"),
            ("foo@sha256", "digest 'sha256'"),
            ("foo@sha256:xyz", "digest 'sha256:xyz'"),
            ("gcr.io/", "repository name is empty"),
            ("foo//bar", "repository name 'foo//bar'"),
            ("-foo", "repository name '-foo'"),
            ("foo$:1", "repository name 'foo$'"),
            ("bad!host.io/foo", "registry 'bad!host.io'"),
        ];
        for (input, needle) in cases {
            let err = ImageRef::parse(input).unwrap_err().to_string();
            assert!(err.contains(needle), "{input}: {err}");
            assert!(
                err.contains(&format!("\"{}\"", input.trim())),
                "{input}: {err}"
            );
        }
    }

    #[test]
    fn display_round_trips() {
        for input in [
            "jannfis/argocd=jannfis/orig-image:0.1",
            "jannfis/argocd=gcr.io/jannfis/orig-image:0.1",
            "jannfis/argocd=gcr.io/jannfis/orig-image",
            "nginx:~1.26",
            "foo:>=1.0 <2",
            "gcr.io/jannfis/test-image:test-tag@sha256:abcde",
            "docker.io/jannfis/test-image:0.1",
        ] {
            let image = ImageRef::parse(input).unwrap();
            assert_eq!(image.to_string(), input);
            assert_eq!(ImageRef::parse(&image.to_string()).unwrap(), image);
        }
        // normalised forms are stable
        let image = ImageRef::parse("docker.io/library/nginx:1").unwrap();
        assert_eq!(image.to_string(), "docker.io/nginx:1");
        assert_eq!(ImageRef::parse(&image.to_string()).unwrap(), image);
    }

    #[test]
    fn with_tag_and_alias() {
        let image = ImageRef::parse("x=gcr.io/a/b:~1").unwrap();
        let pinned = image.with_tag(Some("1.2.3"), Some("sha256:abc"));
        assert_eq!(pinned.to_string(), "x=gcr.io/a/b:1.2.3@sha256:abc");
        assert!(pinned.same_repository(&image));
        assert_eq!(image.with_alias(None).to_string(), "gcr.io/a/b:~1");
        assert_eq!(image.with_tag(None, None).tag_with_digest(), "");
    }

    #[test]
    fn full_name_does_not_repeat_the_registry() {
        let image = ImageRef {
            alias: None,
            registry: Some("docker.io".into()),
            name: "docker.io/jannfis/test-image".into(),
            tag: Some("0.1".into()),
            digest: None,
        };
        assert_eq!(image.full_name(), "docker.io/jannfis/test-image");
        assert_eq!(
            image.full_name_with_tag(),
            "docker.io/jannfis/test-image:0.1"
        );
    }

    #[test]
    fn serde_as_string() {
        let image: ImageRef = serde_json::from_str("\"e=gcr.io/a/b:1\"").unwrap();
        assert_eq!(image.alias(), Some("e"));
        assert_eq!(serde_json::to_string(&image).unwrap(), "\"e=gcr.io/a/b:1\"");
        assert!(serde_json::from_str::<ImageRef>("\"Bad Name\"").is_err());
    }

    #[test]
    fn loose_digest_grammar() {
        assert!(is_loose_digest("sha256:abcde"));
        assert!(is_loose_digest("sha256+b64u.x:ABCDEF01"));
        assert!(!is_loose_digest("sha256:"));
        assert!(!is_loose_digest(":abc"));
        assert!(!is_loose_digest("1sha:abc"));
        assert!(!is_loose_digest("sha256:xyz"));
    }

    #[test]
    fn grammar_helpers() {
        assert!(is_path_component("a__b"));
        assert!(is_path_component("a---b"));
        assert!(!is_path_component("a___b"));
        assert!(!is_path_component("a._b"));
        assert!(is_reference_tag("v1.0_rc-1"));
        assert!(!is_reference_tag(".v1"));
        assert!(!is_reference_tag(&"a".repeat(129)));
        assert!(is_reference_domain("registry:5000"));
        assert!(!is_reference_domain("registry:"));
        assert!(!is_reference_domain("-bad.io"));
        assert!(!is_reference_domain("[zz]"));
    }
}
