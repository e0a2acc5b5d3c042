//! Version constraints with the grammar and the matching rules of Masterminds/semver v3.4.
//!
//! The parse mirrors `NewConstraint` step by step, quirks included:
//!
//! 1. Hyphen ranges (`A - B`, spaces required) are rewritten into `>= A, <= B `
//!    exactly as Masterminds' `rewriteRange` regular expression does.
//! 2. The text is split on `||` (OR); each part must be a list of comparisons
//!    separated by spaces or by a comma (AND).
//! 3. A comparison is an optional operator (`= != > < >= => <= =< ~ ~> ^`)
//!    followed by a version whose parts may be wildcards (`x`, `X`, `*`). A
//!    missing or wildcard minor/patch makes the comparison "dirty": plain `=`
//!    then falls back to `~`, and each operator has its own rule for it.
//!
//! Pre-releases: an AND group admits pre-release versions only when one of its
//! comparisons carries a pre-release itself (`>= 1.2.3-0`). The version is then
//! compared with ordinary semver precedence, so `>=1.0.0-0 <2.0.0` admits
//! `1.5.0-rc.1` (Masterminds' rule; npm would limit it to `1.0.0-*`).
//!
//! Deliberate difference: an empty (or all-blank) constraint means `*` here,
//! as Image Updater treats a missing constraint; Masterminds rejects `""`.

use std::cmp::Ordering;
use std::fmt;

use crate::version::{Version, identifiers_end, validate_prerelease};

/// Longest constraint text accepted; real constraints are a few dozen bytes.
pub const MAX_CONSTRAINT_LEN: usize = 1024;

/// A parsed constraint: OR of AND groups of comparisons.
#[derive(Debug, Clone)]
pub struct Constraint {
    text: String,
    groups: Vec<Group>,
}

#[derive(Debug, Clone)]
struct Group {
    comparators: Vec<Comparator>,
    /// One of the comparisons carries a pre-release, so pre-release versions
    /// are considered by the whole group.
    has_prerelease: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    /// No operator or `=`: equality, or `~` when dirty.
    TildeOrEqual,
    NotEqual,
    Greater,
    Less,
    GreaterEqual,
    LessEqual,
    Tilde,
    Caret,
}

#[derive(Debug, Clone)]
struct Comparator {
    op: Op,
    major: u64,
    minor: u64,
    patch: u64,
    pre: String,
    /// Some part was a wildcard or missing.
    dirty: bool,
    /// The minor part was a wildcard or missing (`1`, `1.x`).
    minor_dirty: bool,
    /// The patch part was a wildcard or missing (`1.2`, `1.2.x`).
    patch_dirty: bool,
}

/// Why a constraint could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConstraintError {
    /// The constraint as given.
    pub constraint: String,
    /// What is wrong with it.
    pub reason: String,
}

impl fmt::Display for ConstraintError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid semver constraint '{}': {}",
            self.constraint, self.reason
        )
    }
}

impl std::error::Error for ConstraintError {}

impl Constraint {
    /// Parses a constraint such as `^1.2`, `>= 1.0, < 2 || 3.x` or `1.2 - 1.4.5`.
    pub fn parse(text: &str) -> Result<Constraint, ConstraintError> {
        let fail = |reason: String| ConstraintError {
            constraint: text.to_owned(),
            reason,
        };
        if text.len() > MAX_CONSTRAINT_LEN {
            return Err(fail(format!("longer than {MAX_CONSTRAINT_LEN} bytes")));
        }
        if text.bytes().all(is_space) {
            return Ok(Constraint::any(text));
        }
        let rewritten = rewrite_ranges(text);
        let mut groups = Vec::new();
        for segment in rewritten.split("||") {
            let comparators = parse_segment(segment).map_err(fail)?;
            let has_prerelease = comparators.iter().any(|c| !c.pre.is_empty());
            groups.push(Group {
                comparators,
                has_prerelease,
            });
        }
        Ok(Constraint {
            text: text.to_owned(),
            groups,
        })
    }

    /// The constraint `*`, recorded with the given text.
    fn any(text: &str) -> Constraint {
        Constraint {
            text: text.to_owned(),
            groups: vec![Group {
                comparators: vec![Comparator {
                    op: Op::TildeOrEqual,
                    major: 0,
                    minor: 0,
                    patch: 0,
                    pre: String::new(),
                    dirty: true,
                    minor_dirty: false,
                    patch_dirty: false,
                }],
                has_prerelease: false,
            }],
        }
    }

    /// The text the constraint was parsed from.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Masterminds' `Check`: pre-release versions pass only through a group
    /// that names a pre-release itself.
    pub fn matches(&self, version: &Version<'_>) -> bool {
        self.check(version, false)
    }

    /// `Check` with `IncludePrerelease = true`: pre-release versions are
    /// judged by their precedence like any other.
    pub fn matches_including_prereleases(&self, version: &Version<'_>) -> bool {
        self.check(version, true)
    }

    fn check(&self, version: &Version<'_>, include_prerelease: bool) -> bool {
        self.groups.iter().any(|group| {
            let include = include_prerelease || group.has_prerelease;
            group.comparators.iter().all(|c| c.check(version, include))
        })
    }
}

impl fmt::Display for Constraint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::str::FromStr for Constraint {
    type Err = ConstraintError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Constraint::parse(s)
    }
}

impl Comparator {
    fn con(&self) -> Version<'_> {
        Version {
            major: self.major,
            minor: self.minor,
            patch: self.patch,
            pre: &self.pre,
            build: "",
        }
    }

    /// One comparison, as Masterminds' `constraint*` functions.
    fn check(&self, v: &Version<'_>, include_prerelease: bool) -> bool {
        if v.is_prerelease() && !include_prerelease {
            return false;
        }
        match self.op {
            Op::TildeOrEqual if self.dirty => self.tilde(v),
            Op::TildeOrEqual => v.precedence(&self.con()) == Ordering::Equal,
            Op::NotEqual => self.not_equal(v),
            Op::Greater => self.greater(v),
            Op::Less => v.precedence(&self.con()) == Ordering::Less,
            Op::GreaterEqual => v.precedence(&self.con()) != Ordering::Less,
            Op::LessEqual => self.less_equal(v),
            Op::Tilde => self.tilde(v),
            Op::Caret => self.caret(v),
        }
    }

    fn not_equal(&self, v: &Version<'_>) -> bool {
        if self.dirty {
            if self.major != v.major {
                return true;
            }
            if self.minor != v.minor && !self.minor_dirty {
                return true;
            } else if self.minor_dirty {
                return false;
            } else if self.patch != v.patch && !self.patch_dirty {
                return true;
            } else if self.patch_dirty {
                if v.is_prerelease() || !self.pre.is_empty() {
                    return v.pre != self.pre;
                }
                return false;
            }
        }
        v.precedence(&self.con()) != Ordering::Equal
    }

    fn greater(&self, v: &Version<'_>) -> bool {
        if self.dirty {
            if v.major > self.major {
                return true;
            } else if v.major < self.major || self.minor_dirty {
                // `>11` is not met by 11.1.0: it needs 12 or higher.
                return false;
            } else if self.patch_dirty {
                // `>11.1` is not met by 11.1.1 but by 11.2.0.
                return v.minor > self.minor;
            }
        }
        v.precedence(&self.con()) == Ordering::Greater
    }

    fn less_equal(&self, v: &Version<'_>) -> bool {
        if !self.dirty {
            return v.precedence(&self.con()) != Ordering::Greater;
        }
        if v.major > self.major {
            return false;
        }
        v.major != self.major || v.minor <= self.minor || self.minor_dirty
    }

    /// `~1.2.3` → `>=1.2.3 <1.3.0`; `~1.2` → `>=1.2.0 <1.3.0`; `~1` → `>=1 <2`;
    /// `~*` (and `~0.0.0`) → any.
    fn tilde(&self, v: &Version<'_>) -> bool {
        if v.precedence(&self.con()) == Ordering::Less {
            return false;
        }
        if self.major == 0
            && self.minor == 0
            && self.patch == 0
            && !self.minor_dirty
            && !self.patch_dirty
        {
            return true;
        }
        if v.major != self.major {
            return false;
        }
        v.minor == self.minor || self.minor_dirty
    }

    /// `^1.2.3` → `>=1.2.3 <2.0.0`; `^0.2.3` → `>=0.2.3 <0.3.0`;
    /// `^0.0.3` → `>=0.0.3 <0.0.4`; `^0.0` → `>=0.0.0 <0.1.0`; `^0` → `<1.0.0`.
    fn caret(&self, v: &Version<'_>) -> bool {
        if v.precedence(&self.con()) == Ordering::Less {
            return false;
        }
        if self.major > 0 || self.minor_dirty {
            return v.major == self.major;
        }
        if v.major > 0 {
            return false;
        }
        if self.minor > 0 || self.patch_dirty {
            return v.minor == self.minor;
        }
        if v.minor > 0 {
            return false;
        }
        v.patch == self.patch
    }
}

/// Go's `\s`: `[\t\n\f\r ]`.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0c' | b'\r')
}

/// Characters of a version part in a constraint: `[0-9|x|X|\*]` (the `|` is
/// literal inside Masterminds' character class).
fn is_part_byte(b: u8) -> bool {
    b.is_ascii_digit() || matches!(b, b'|' | b'x' | b'X' | b'*')
}

fn is_op_byte(b: u8) -> bool {
    matches!(b, b'=' | b'!' | b'<' | b'>' | b'~' | b'^')
}

fn is_wildcard(part: &str) -> bool {
    matches!(part, "x" | "X" | "*")
}

fn skip_spaces(b: &[u8], mut pos: usize) -> usize {
    while b.get(pos).copied().is_some_and(is_space) {
        pos += 1;
    }
    pos
}

/// End of the greedy match of Masterminds' constraint-version pattern
/// `v?P(\.P)?(\.P)?(-PRE)?(\+BUILD)?` (where `P` is `[0-9|xX*]+`) at `start`.
fn version_pattern_end(b: &[u8], start: usize) -> Option<usize> {
    let mut pos = start;
    if b.get(pos) == Some(&b'v') {
        pos += 1;
    }
    let part_start = pos;
    while b.get(pos).copied().is_some_and(is_part_byte) {
        pos += 1;
    }
    if pos == part_start {
        return None;
    }
    for _ in 0..2 {
        if b.get(pos) == Some(&b'.') && b.get(pos + 1).copied().is_some_and(is_part_byte) {
            pos += 1;
            while b.get(pos).copied().is_some_and(is_part_byte) {
                pos += 1;
            }
        } else {
            break;
        }
    }
    for sigil in [b'-', b'+'] {
        if b.get(pos) == Some(&sigil)
            && let Some(end) = identifiers_end(b, pos + 1)
        {
            pos = end;
        }
    }
    Some(pos)
}

fn is_version_pattern(text: &str) -> bool {
    version_pattern_end(text.as_bytes(), 0) == Some(text.len())
}

/// Masterminds' `rewriteRange`: every match of `\s*(V)\s+-\s+(V)\s*` becomes
/// `>= A, <= B ` (replacing the first occurrence of the matched text, as
/// `strings.Replace(o, match, t, 1)` does).
fn rewrite_ranges(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = text.to_owned();
    let mut from = 0;
    while let Some((start, end, left, right)) = next_range(b, from) {
        let replacement = format!(
            ">= {}, <= {} ",
            &text[left.0..left.1],
            &text[right.0..right.1]
        );
        out = out.replacen(&text[start..end], &replacement, 1);
        from = end;
    }
    out
}

type Span = (usize, usize);

/// The leftmost hyphen-range match at or after `from`: (start, end, A, B).
fn next_range(b: &[u8], from: usize) -> Option<(usize, usize, Span, Span)> {
    for start in from..b.len() {
        let left_start = skip_spaces(b, start);
        // The left version must run right up to the spaces before the hyphen.
        let mut left_end = left_start;
        while b.get(left_end).is_some_and(|&c| !is_space(c)) {
            left_end += 1;
        }
        let hyphen = skip_spaces(b, left_end);
        if hyphen == left_end
            || b.get(hyphen) != Some(&b'-')
            || !b.get(hyphen + 1).copied().is_some_and(is_space)
            || version_pattern_end(b, left_start) != Some(left_end)
        {
            continue;
        }
        let right_start = skip_spaces(b, hyphen + 1);
        let Some(right_end) = version_pattern_end(b, right_start) else {
            continue;
        };
        let end = skip_spaces(b, right_end);
        return Some((start, end, (left_start, left_end), (right_start, right_end)));
    }
    None
}

/// Parses one `||`-separated part: comparisons separated by spaces or a comma.
fn parse_segment(segment: &str) -> Result<Vec<Comparator>, String> {
    let improper = || {
        format!(
            "'{}' is not a version comparison (such as '^1.2', '>=1.0 <2' or '1.x')",
            segment.trim()
        )
    };
    let b = segment.as_bytes();
    let mut comparators = Vec::new();
    let mut pos = skip_spaces(b, 0);
    loop {
        let op_start = pos;
        while b.get(pos).copied().is_some_and(is_op_byte) {
            pos += 1;
        }
        let op = match &segment[op_start..pos] {
            "" | "=" => Op::TildeOrEqual,
            "!=" => Op::NotEqual,
            ">" => Op::Greater,
            "<" => Op::Less,
            ">=" | "=>" => Op::GreaterEqual,
            "<=" | "=<" => Op::LessEqual,
            "~" | "~>" => Op::Tilde,
            "^" => Op::Caret,
            _ => return Err(improper()),
        };
        pos = skip_spaces(b, pos);
        let version_start = pos;
        while b.get(pos).is_some_and(|&c| !is_space(c) && c != b',') {
            pos += 1;
        }
        let version = &segment[version_start..pos];
        if !is_version_pattern(version) {
            return Err(improper());
        }
        comparators.push(parse_comparator(op, version)?);

        pos = skip_spaces(b, pos);
        if pos == b.len() {
            return Ok(comparators);
        }
        if b[pos] == b',' {
            pos = skip_spaces(b, pos + 1);
        }
    }
}

/// Masterminds' `parseConstraint` for one already validated comparison.
fn parse_comparator(op: Op, text: &str) -> Result<Comparator, String> {
    let bad = || format!("'{text}' is not a valid version");
    let b = text.as_bytes();
    let mut pos = usize::from(b.first() == Some(&b'v'));
    let mut parts: [Option<&str>; 3] = [None; 3];
    for (i, part) in parts.iter_mut().enumerate() {
        if i > 0 {
            if b.get(pos) == Some(&b'.') && b.get(pos + 1).copied().is_some_and(is_part_byte) {
                pos += 1;
            } else {
                break;
            }
        }
        let start = pos;
        while b.get(pos).copied().is_some_and(is_part_byte) {
            pos += 1;
        }
        *part = Some(&text[start..pos]);
    }
    let pre = match b.get(pos) {
        Some(b'-') => {
            let end = identifiers_end(b, pos + 1).ok_or_else(bad)?;
            &text[pos + 1..end]
        }
        _ => "",
    };
    let number = |part: &str| -> Result<u64, String> {
        if part.is_empty() || !part.bytes().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        part.parse::<u64>().map_err(|_| bad())
    };
    let dirty_part = |part: Option<&str>| part.is_none_or(is_wildcard);

    let [major, minor, patch] = parts;
    let major = major.ok_or_else(bad)?;
    let mut c = Comparator {
        op,
        major: 0,
        minor: 0,
        patch: 0,
        pre: pre.to_owned(),
        dirty: false,
        minor_dirty: false,
        patch_dirty: false,
    };
    if is_wildcard(major) {
        c.dirty = true;
    } else if dirty_part(minor) {
        c.major = number(major)?;
        c.dirty = true;
        c.minor_dirty = true;
    } else if dirty_part(patch) {
        c.major = number(major)?;
        c.minor = number(minor.unwrap_or_default())?;
        c.dirty = true;
        c.patch_dirty = true;
    } else {
        let v = Version::parse(text).map_err(|_| bad())?;
        c.major = v.major;
        c.minor = v.minor;
        c.patch = v.patch;
        return Ok(c);
    }
    validate_prerelease(pre).map_err(|_| bad())?;
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_rewritten_like_masterminds() {
        for (input, expected) in [
            ("2 - 3", ">= 2, <= 3 "),
            ("2 - 3, 2 - 3", ">= 2, <= 3 ,>= 2, <= 3 "),
            ("2 - 3, 4.0.0 - 5.1", ">= 2, <= 3 ,>= 4.0.0, <= 5.1 "),
            ("2 - 3 4.0.0 - 5.1", ">= 2, <= 3 >= 4.0.0, <= 5.1 "),
            ("1.0.0 - 2.0.0 <=2.0.0", ">= 1.0.0, <= 2.0.0 <=2.0.0"),
            ("1.2-1.4", "1.2-1.4"),
        ] {
            assert_eq!(rewrite_ranges(input), expected, "{input}");
        }
    }
}
