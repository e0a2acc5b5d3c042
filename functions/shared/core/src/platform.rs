//! Owns [`Platform`] (`os/arch[/variant]`) and Image Updater's rule for
//! whether a manifest's platform is one the user wants ([`matches_any`]).
//!
//! Rules (registry-scanner `ManifestOptions.WantsPlatform`): an empty wanted
//! set accepts every platform; otherwise the platform must be wanted exactly,
//! or, when it has a variant, its `os/arch` without variant must be wanted
//! (`linux/arm` accepts `linux/arm/v7`, but `linux/arm/v7` does not accept
//! `linux/arm`).

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// A platform that cannot be parsed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error(
    "platform '{value}' is not os/arch[/variant] (e.g. linux/amd64 or linux/arm/v7): {problem}"
)]
pub struct PlatformError {
    /// The value as given.
    pub value: String,
    /// What is wrong.
    pub problem: &'static str,
}

/// An image platform.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Platform {
    /// Operating system, e.g. `linux`.
    pub os: String,
    /// CPU architecture, e.g. `arm64`.
    pub arch: String,
    /// Architecture variant, e.g. `v7`.
    pub variant: Option<String>,
}

impl Platform {
    /// Builds a platform from its parts (an empty variant means none).
    pub fn new(os: &str, arch: &str, variant: Option<&str>) -> Self {
        Self {
            os: os.to_string(),
            arch: arch.to_string(),
            variant: variant.filter(|v| !v.is_empty()).map(str::to_string),
        }
    }

    /// Parses `os/arch[/variant]` (surrounding whitespace ignored).
    pub fn parse(value: &str) -> Result<Self, PlatformError> {
        let trimmed = value.trim();
        let bad = |problem| PlatformError {
            value: trimmed.to_string(),
            problem,
        };
        let parts: Vec<&str> = trimmed.split('/').collect();
        let (os, arch, variant) = match parts.as_slice() {
            [os, arch] => (*os, *arch, None),
            [os, arch, variant] => (*os, *arch, Some(*variant)),
            [_] => return Err(bad("the architecture is missing")),
            _ => return Err(bad("it has more than three parts")),
        };
        let valid = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        };
        if !valid(os) {
            return Err(bad(
                "the os is empty or has characters other than letters, digits, '.', '_' and '-'",
            ));
        }
        if !valid(arch) {
            return Err(bad(
                "the architecture is empty or has characters other than letters, digits, '.', '_' and '-'",
            ));
        }
        if let Some(variant) = variant
            && !valid(variant)
        {
            return Err(bad(
                "the variant is empty or has characters other than letters, digits, '.', '_' and '-'",
            ));
        }
        Ok(Self::new(os, arch, variant))
    }

    /// Parses a comma-separated list; entries are trimmed and empty entries
    /// skipped (the `<alias>.platforms` annotation form).
    pub fn parse_list(value: &str) -> Result<Vec<Self>, PlatformError> {
        value
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(Self::parse)
            .collect()
    }

    /// The platform this program was built for, in OCI/Go names
    /// (`linux/amd64`, `darwin/arm64`, …): Image Updater's default when no
    /// platform is configured. A compile-time constant, not a system query.
    pub fn host() -> Self {
        Self::new(
            go_os(std::env::consts::OS),
            go_arch(std::env::consts::ARCH),
            None,
        )
    }

    /// The same platform without its variant.
    pub fn without_variant(&self) -> Self {
        Self {
            variant: None,
            ..self.clone()
        }
    }
}

/// Go's `GOOS` for a Rust `target_os`.
fn go_os(os: &str) -> &str {
    match os {
        "macos" => "darwin",
        other => other,
    }
}

/// Go's `GOARCH` for a Rust `target_arch`.
fn go_arch(arch: &str) -> &str {
    let little = cfg!(target_endian = "little");
    match arch {
        "x86_64" => "amd64",
        "x86" => "386",
        "aarch64" => "arm64",
        "powerpc64" if little => "ppc64le",
        "powerpc64" => "ppc64",
        "mips64" if little => "mips64le",
        "mips" if little => "mipsle",
        "loongarch64" => "loong64",
        "wasm32" => "wasm",
        other => other,
    }
}

/// Whether a manifest for `have` is one of the `wanted` platforms (see the
/// module docs for the rules).
pub fn matches_any(wanted: &[Platform], have: &Platform) -> bool {
    if wanted.is_empty() || wanted.contains(have) {
        return true;
    }
    have.variant.is_some() && wanted.contains(&have.without_variant())
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.arch)?;
        if let Some(variant) = &self.variant {
            write!(f, "/{variant}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Platform {
    type Err = PlatformError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for Platform {
    type Error = PlatformError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Platform> for String {
    fn from(platform: Platform) -> Self {
        platform.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Platform {
        Platform::parse(s).unwrap()
    }

    fn set(list: &[&str]) -> Vec<Platform> {
        list.iter().map(|s| p(s)).collect()
    }

    #[test]
    fn parse_forms() {
        assert_eq!(p("linux/amd64"), Platform::new("linux", "amd64", None));
        assert_eq!(
            p(" linux/arm/v7 "),
            Platform::new("linux", "arm", Some("v7"))
        );
        assert_eq!(p("linux/arm/v7").to_string(), "linux/arm/v7");
        assert_eq!(p("windows/amd64").to_string(), "windows/amd64");
    }

    #[test]
    fn parse_errors() {
        for (input, needle) in [
            ("linux", "architecture is missing"),
            ("", "architecture is missing"),
            ("linux/", "architecture is empty"),
            ("/amd64", "os is empty"),
            ("linux/arm/", "variant is empty"),
            ("linux/arm/v7/x", "more than three parts"),
            ("linux/am d64", "architecture is empty or has characters"),
        ] {
            let err = Platform::parse(input).unwrap_err().to_string();
            assert!(err.contains(needle), "{input}: {err}");
            assert!(
                err.contains(&format!("'{}'", input.trim())),
                "{input}: {err}"
            );
        }
    }

    #[test]
    fn parse_list_skips_empty_entries() {
        assert_eq!(
            Platform::parse_list(" linux/amd64, ,linux/arm64 ,").unwrap(),
            set(&["linux/amd64", "linux/arm64"])
        );
        assert!(Platform::parse_list("").unwrap().is_empty());
        assert!(Platform::parse_list("linux/amd64,bogus").is_err());
    }

    #[test]
    fn image_updater_matching_rules() {
        let wanted = set(&["linux/arm/v7", "linux/arm/v8"]);
        assert!(matches_any(&wanted, &p("linux/arm/v7")));
        assert!(!matches_any(&wanted, &p("linux/arm/v6")));
        assert!(!matches_any(&wanted, &p("linux/arm")));
        assert!(!matches_any(&wanted, &p("linux/amd64")));

        let wanted = set(&["linux/arm", "linux/arm/v7"]);
        assert!(matches_any(&wanted, &p("linux/arm/v8")));
        assert!(matches_any(&wanted, &p("linux/arm")));

        for have in ["linux/amd64", "linux/arm/v6", "windows/amd64"] {
            assert!(matches_any(&[], &p(have)), "{have}");
        }
    }

    #[test]
    fn host_platform_uses_go_names() {
        let host = Platform::host();
        assert!(host.variant.is_none());
        assert_eq!(Platform::parse(&host.to_string()).unwrap(), host);
        assert_eq!(go_arch("x86_64"), "amd64");
        assert_eq!(go_arch("aarch64"), "arm64");
        assert_eq!(go_arch("s390x"), "s390x");
        assert_eq!(go_os("macos"), "darwin");
        assert_eq!(go_os("linux"), "linux");
    }

    #[test]
    fn serde_as_string() {
        let platform: Platform = serde_json::from_str("\"linux/arm64/v8\"").unwrap();
        assert_eq!(
            serde_json::to_string(&platform).unwrap(),
            "\"linux/arm64/v8\""
        );
        assert!(serde_json::from_str::<Platform>("\"linux\"").is_err());
    }
}
