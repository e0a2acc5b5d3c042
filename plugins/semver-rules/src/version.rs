//! Lenient version parsing and semver 2.0 ordering, as Masterminds/semver v3's `NewVersion`.
//!
//! Masterminds v3.4 (`CoerceNewVersion = true`, the default Image Updater runs
//! with) accepts `^v?N(.N)?(.N)?(-PRE)?(+BUILD)?$` where `N` is `[0-9]+` (leading
//! zeros allowed, value must fit in `u64`), a missing minor or patch counts as 0,
//! every pre-release identifier is `[0-9A-Za-z-]+` and, when purely numeric, has
//! no leading zero, and every build identifier is `[0-9A-Za-z-]+`. Only a
//! lowercase `v` prefix is accepted. Parsing borrows from the input and never
//! allocates.

use std::cmp::Ordering;
use std::fmt;

/// A parsed version. Borrows its pre-release and build metadata from the text
/// it was parsed from.
///
/// Equality and ordering follow semver 2.0 precedence: build metadata is
/// ignored, so `1.0.0+a == 1.0.0+b`.
#[derive(Debug, Clone, Copy)]
pub struct Version<'a> {
    /// Major number.
    pub major: u64,
    /// Minor number (0 when the text had none).
    pub minor: u64,
    /// Patch number (0 when the text had none).
    pub patch: u64,
    /// Pre-release identifiers without the leading `-`; empty when absent.
    pub pre: &'a str,
    /// Build metadata without the leading `+`; empty when absent.
    pub build: &'a str,
}

/// Why a text is not a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionError {
    /// The text does not have the shape of a version.
    Invalid,
    /// A major, minor or patch number does not fit in 64 bits.
    Overflow,
    /// A numeric pre-release identifier has a leading zero (`1.0.0-01`).
    LeadingZero,
}

impl fmt::Display for VersionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            VersionError::Invalid => "not a semantic version",
            VersionError::Overflow => "version number out of range",
            VersionError::LeadingZero => "numeric pre-release identifier with a leading zero",
        })
    }
}

impl std::error::Error for VersionError {}

impl<'a> Version<'a> {
    /// Parses `text` leniently (optional `v`, partial `1` / `1.2`).
    pub fn parse(text: &'a str) -> Result<Version<'a>, VersionError> {
        let bytes = text.as_bytes();
        let mut pos = usize::from(bytes.first() == Some(&b'v'));

        let major = number(bytes, &mut pos)?.ok_or(VersionError::Invalid)?;
        let mut minor = 0;
        let mut patch = 0;
        if let Some(n) = dotted_number(bytes, &mut pos)? {
            minor = n;
            if let Some(n) = dotted_number(bytes, &mut pos)? {
                patch = n;
            }
        }

        let mut pre = "";
        if bytes.get(pos) == Some(&b'-') {
            let start = pos + 1;
            let end = identifiers_end(bytes, start).ok_or(VersionError::Invalid)?;
            pre = &text[start..end];
            pos = end;
        }
        let mut build = "";
        if bytes.get(pos) == Some(&b'+') {
            let start = pos + 1;
            let end = identifiers_end(bytes, start).ok_or(VersionError::Invalid)?;
            build = &text[start..end];
            pos = end;
        }
        if pos != bytes.len() {
            return Err(VersionError::Invalid);
        }
        if !pre.is_empty() {
            validate_prerelease(pre)?;
        }
        Ok(Version {
            major,
            minor,
            patch,
            pre,
            build,
        })
    }

    /// Whether the version carries a pre-release (`1.2.3-rc.1`).
    pub fn is_prerelease(&self) -> bool {
        !self.pre.is_empty()
    }

    /// Compares `major.minor.patch` only.
    pub(crate) fn cmp_core(&self, other: &Version<'_>) -> Ordering {
        (self.major, self.minor, self.patch).cmp(&(other.major, other.minor, other.patch))
    }

    /// Semver precedence against a version with another lifetime.
    pub fn precedence(&self, other: &Version<'_>) -> Ordering {
        self.cmp_core(other)
            .then_with(|| match (self.pre.is_empty(), other.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => compare_prerelease(self.pre, other.pre),
            })
    }
}

impl PartialEq for Version<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.precedence(other) == Ordering::Equal
    }
}

impl Eq for Version<'_> {}

impl PartialOrd for Version<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Version<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.precedence(other)
    }
}

/// Prints the canonical form (`1.2.0-rc.1+build`), without any `v` prefix.
impl fmt::Display for Version<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        if !self.pre.is_empty() {
            write!(f, "-{}", self.pre)?;
        }
        if !self.build.is_empty() {
            write!(f, "+{}", self.build)?;
        }
        Ok(())
    }
}

/// Reads `[0-9]+` at `pos`. `Ok(None)` when there is no digit there.
fn number(bytes: &[u8], pos: &mut usize) -> Result<Option<u64>, VersionError> {
    let start = *pos;
    let mut value: u64 = 0;
    let mut overflow = false;
    while let Some(&b) = bytes.get(*pos) {
        if !b.is_ascii_digit() {
            break;
        }
        match value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(b - b'0')))
        {
            Some(v) => value = v,
            None => overflow = true,
        }
        *pos += 1;
    }
    if *pos == start {
        Ok(None)
    } else if overflow {
        Err(VersionError::Overflow)
    } else {
        Ok(Some(value))
    }
}

/// Reads `.[0-9]+` at `pos`, leaving `pos` alone when it is not there.
fn dotted_number(bytes: &[u8], pos: &mut usize) -> Result<Option<u64>, VersionError> {
    if bytes.get(*pos) != Some(&b'.') || !bytes.get(*pos + 1).is_some_and(u8::is_ascii_digit) {
        return Ok(None);
    }
    *pos += 1;
    number(bytes, pos)
}

/// Whether `b` may appear in a pre-release or build identifier.
pub(crate) fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-'
}

/// End of `ident(.ident)*` starting at `start`, where `ident` is
/// `[0-9A-Za-z-]+`; `None` when not even one identifier starts there.
/// Stops before a `.` that is not followed by an identifier byte, as the
/// greedy regular expression does.
pub(crate) fn identifiers_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut pos = start;
    loop {
        let ident_start = pos;
        while bytes.get(pos).is_some_and(|&b| is_ident_byte(b)) {
            pos += 1;
        }
        if pos == ident_start {
            // Only reachable for the first identifier: later ones are entered
            // only when an identifier byte follows the dot.
            return None;
        }
        if bytes.get(pos) == Some(&b'.') && bytes.get(pos + 1).is_some_and(|&b| is_ident_byte(b)) {
            pos += 1;
        } else {
            return Some(pos);
        }
    }
}

/// Masterminds' `validatePrerelease`: a numeric identifier must not start with 0.
pub(crate) fn validate_prerelease(pre: &str) -> Result<(), VersionError> {
    for ident in pre.split('.') {
        let b = ident.as_bytes();
        if b.len() > 1 && b[0] == b'0' && b.iter().all(u8::is_ascii_digit) {
            return Err(VersionError::LeadingZero);
        }
    }
    Ok(())
}

/// Compares two non-empty pre-release strings identifier by identifier.
fn compare_prerelease(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let mut left = a.split('.');
    let mut right = b.split('.');
    loop {
        match (left.next(), right.next()) {
            (None, None) => return Ordering::Equal,
            // A shorter set of identifiers has lower precedence.
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let order = compare_identifier(x, y);
                if order != Ordering::Equal {
                    return order;
                }
            }
        }
    }
}

/// Numeric identifiers (those Go's `ParseUint` accepts) compare numerically
/// and sort before alphanumeric ones; the rest compare byte-wise.
fn compare_identifier(x: &str, y: &str) -> Ordering {
    if x == y {
        return Ordering::Equal;
    }
    match (numeric_value(x), numeric_value(y)) {
        (Some(a), Some(b)) => a.cmp(&b),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => x.as_bytes().cmp(y.as_bytes()),
    }
}

fn numeric_value(ident: &str) -> Option<u64> {
    if ident.is_empty() || !ident.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    ident.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> Version<'_> {
        match Version::parse(text) {
            Ok(v) => v,
            Err(e) => panic!("{text}: {e}"),
        }
    }

    #[test]
    fn lenient_forms_are_coerced() {
        assert_eq!(v("1").to_string(), "1.0.0");
        assert_eq!(v("1.2").to_string(), "1.2.0");
        assert_eq!(v("v1.2.3").to_string(), "1.2.3");
        assert_eq!(v("01.002.0003").to_string(), "1.2.3");
        assert_eq!(v("1.2-rc.1").to_string(), "1.2.0-rc.1");
        assert_eq!(v("1-2").to_string(), "1.0.0-2");
        assert_eq!(v("1.2.3+build.5").to_string(), "1.2.3+build.5");
        assert_eq!(v("1.2.3-rc-1+b-2").pre, "rc-1");
        assert_eq!(
            v("v2.3.0-rc.0.18.g1abb7b5dd-ppc64le").pre,
            "rc.0.18.g1abb7b5dd-ppc64le"
        );
    }

    #[test]
    fn garbage_is_rejected() {
        for bad in [
            "",
            "v",
            "V1.2.3",
            "latest",
            "1.",
            "1..2",
            "1.2.3.4",
            " 1.2.3",
            "1.2.3 ",
            "1.2.3-",
            "1.2.3+",
            "1.2.3-a..b",
            "1.2.3-a.",
            "1.2.3+a_b",
            "1.2.3-ä",
            "release-1.2.3",
            "x",
            "1.x",
            "-1.2.3",
            "1.2.3-01",
            "vv1",
            "1.2.3++",
            "1.2.3-a+b+c",
        ] {
            assert!(Version::parse(bad).is_err(), "{bad:?} parsed");
        }
        assert_eq!(
            Version::parse("99999999999999999999"),
            Err(VersionError::Overflow)
        );
        assert_eq!(Version::parse("1.0.0-01"), Err(VersionError::LeadingZero));
        assert!(Version::parse("1.0.0-0").is_ok());
        assert!(Version::parse("1.0.0-0a").is_ok());
        assert!(Version::parse("1.0.0+01").is_ok());
    }

    #[test]
    fn precedence_follows_semver_2() {
        let ordered = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "1.0.1",
            "1.1.0",
            "2.0.0",
            "10.0.0",
        ];
        for pair in ordered.windows(2) {
            assert!(v(pair[0]) < v(pair[1]), "{} < {}", pair[0], pair[1]);
        }
        assert_eq!(v("1.0.0+a"), v("1.0.0+b"));
        assert_eq!(v("v1.0"), v("1.0.0"));
        // ASCII order: upper case sorts before lower case.
        assert!(v("1.2.3-BETA") < v("1.2.3-alpha"));
        // A number too large for u64 is compared as text (after all numbers).
        assert!(v("1.0.0-99999999999999999999") > v("1.0.0-5"));
    }
}
