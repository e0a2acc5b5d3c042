//! Owns glob matching with the semantics of Go's `path/filepath.Match` on
//! Unix, which Image Updater uses for `ImageUpdater` name patterns and for
//! `ignore-tags`.
//!
//! Syntax: `*` matches any run of characters except `/`; `?` matches one
//! character except `/`; `[abc]`, `[a-z]` and `[^a-z]` are character classes
//! (a class may match `/`); `\x` matches `x` literally. Everything else
//! matches itself. A pattern must match the whole name.
//!
//! Unlike Go, a malformed pattern is rejected when it is compiled
//! ([`Glob::new`]) rather than at the first match that reaches the bad part.

use thiserror::Error;

/// A malformed glob pattern.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error(
    "glob pattern '{pattern}' is malformed: {reason} (use *, ? and [...] classes; write \\x for a literal x)"
)]
pub struct GlobError {
    /// The pattern as given.
    pub pattern: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// One element of a chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    /// Matches this character.
    Literal(char),
    /// `?`: any character but `/`.
    AnyChar,
    /// `[...]`: a character class.
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

/// A run of items, preceded by a `*` when `star` is set (Go's "chunk").
#[derive(Debug, Clone, PartialEq, Eq)]
struct Chunk {
    star: bool,
    items: Vec<Item>,
}

/// A compiled glob pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob {
    pattern: String,
    chunks: Vec<Chunk>,
}

const SEPARATOR: char = '/';

impl Glob {
    /// Compiles `pattern`, rejecting malformed ones (unterminated or empty
    /// `[...]`, a class range starting with `-` or `]`, a trailing `\`).
    pub fn new(pattern: &str) -> Result<Self, GlobError> {
        let bad = |reason| GlobError {
            pattern: pattern.to_string(),
            reason,
        };
        let mut chunks = Vec::new();
        let mut chars = pattern.chars().peekable();
        loop {
            let mut star = false;
            while chars.peek() == Some(&'*') {
                chars.next();
                star = true;
            }
            let mut items = Vec::new();
            while let Some(&c) = chars.peek() {
                if c == '*' {
                    break;
                }
                chars.next();
                match c {
                    '?' => items.push(Item::AnyChar),
                    '\\' => match chars.next() {
                        Some(escaped) => items.push(Item::Literal(escaped)),
                        None => return Err(bad("it ends with a lone \\")),
                    },
                    '[' => items.push(parse_class(&mut chars).map_err(bad)?),
                    other => items.push(Item::Literal(other)),
                }
            }
            if !star && items.is_empty() {
                break;
            }
            let done = items.is_empty();
            chunks.push(Chunk { star, items });
            if done || chars.peek().is_none() {
                break;
            }
        }
        Ok(Self {
            pattern: pattern.to_string(),
            chunks,
        })
    }

    /// The pattern as given.
    pub fn as_str(&self) -> &str {
        &self.pattern
    }

    /// Whether `name` matches the whole pattern.
    pub fn matches(&self, name: &str) -> bool {
        let mut name = name;
        let last_index = self.chunks.len().saturating_sub(1);
        'chunks: for (index, chunk) in self.chunks.iter().enumerate() {
            let last = index == last_index;
            if chunk.star && chunk.items.is_empty() {
                // A trailing `*` matches the rest unless it holds a separator.
                return !name.contains(SEPARATOR);
            }
            if let Some(rest) = match_chunk(&chunk.items, name)
                && (rest.is_empty() || !last)
            {
                name = rest;
                continue;
            }
            if chunk.star {
                // Let the star swallow one more character at a time, never a
                // separator; the first position where the chunk matches wins
                // (the last chunk must also reach the end of the name).
                for (offset, c) in name.char_indices() {
                    if c == SEPARATOR {
                        break;
                    }
                    let after = &name[offset + c.len_utf8()..];
                    if let Some(rest) = match_chunk(&chunk.items, after) {
                        if last && !rest.is_empty() {
                            continue;
                        }
                        name = rest;
                        continue 'chunks;
                    }
                }
            }
            return false;
        }
        name.is_empty()
    }

    /// How many literal characters the pattern holds: its length in bytes
    /// once every `[...]` class and every `*` and `?` is removed. Image
    /// Updater ranks `ImageUpdater` application references by this.
    pub fn literal_len(pattern: &str) -> usize {
        let mut without_classes = String::with_capacity(pattern.len());
        let mut rest = pattern;
        while let Some(open) = rest.find('[') {
            match rest[open..].find(']') {
                Some(close) => {
                    without_classes.push_str(&rest[..open]);
                    rest = &rest[open + close + 1..];
                }
                None => break,
            }
        }
        without_classes.push_str(rest);
        without_classes
            .chars()
            .filter(|c| *c != '*' && *c != '?')
            .map(char::len_utf8)
            .sum()
    }

    /// Whether the pattern holds any glob syntax (`*`, `?`, `[` or `]`).
    pub fn has_wildcards(pattern: &str) -> bool {
        pattern.contains(['*', '?', '[', ']'])
    }
}

impl std::fmt::Display for Glob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.pattern)
    }
}

/// Compiles `pattern` and matches `name` against it.
pub fn glob_match(pattern: &str, name: &str) -> Result<bool, GlobError> {
    Ok(Glob::new(pattern)?.matches(name))
}

/// Parses a character class after its `[`.
fn parse_class(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Result<Item, &'static str> {
    let mut negated = false;
    if chars.peek() == Some(&'^') {
        chars.next();
        negated = true;
    }
    let mut ranges = Vec::new();
    loop {
        if chars.peek() == Some(&']') && !ranges.is_empty() {
            chars.next();
            return Ok(Item::Class { negated, ranges });
        }
        let lo = class_char(chars)?;
        let mut hi = lo;
        if chars.peek() == Some(&'-') {
            chars.next();
            hi = class_char(chars)?;
        }
        ranges.push((lo, hi));
    }
}

/// One (possibly escaped) character of a class, as Go's `getEsc`: it must not
/// be an unescaped `-` or `]`, and the class must go on after it.
fn class_char(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Result<char, &'static str> {
    let c = match chars.next() {
        None => return Err("a [...] class is not closed"),
        Some('-') => return Err("a [...] class range starts with '-' (escape it as \\-)"),
        Some(']') => return Err("a [...] class is empty or a range has no end"),
        Some('\\') => chars.next().ok_or("a [...] class is not closed")?,
        Some(c) => c,
    };
    if chars.peek().is_none() {
        return Err("a [...] class is not closed");
    }
    Ok(c)
}

/// Matches `items` at the start of `name`; returns what is left of `name`.
fn match_chunk<'a>(items: &[Item], name: &'a str) -> Option<&'a str> {
    let mut rest = name;
    for item in items {
        let c = rest.chars().next()?;
        let ok = match item {
            Item::Literal(l) => *l == c,
            Item::AnyChar => c != SEPARATOR,
            Item::Class { negated, ranges } => {
                ranges.iter().any(|(lo, hi)| *lo <= c && c <= *hi) != *negated
            }
        };
        if !ok {
            return None;
        }
        rest = &rest[c.len_utf8()..];
    }
    Some(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, name: &str) -> bool {
        glob_match(pattern, name).unwrap()
    }

    // Cases from Go's path/filepath match_test.go.
    #[test]
    fn go_match_table() {
        let cases: &[(&str, &str, bool)] = &[
            ("abc", "abc", true),
            ("*", "abc", true),
            ("*c", "abc", true),
            ("a*", "a", true),
            ("a*", "abc", true),
            ("a*", "ab/c", false),
            ("a*/b", "abc/b", true),
            ("a*/b", "a/c/b", false),
            ("a*b*c*d*e*/f", "axbxcxdxe/f", true),
            ("a*b*c*d*e*/f", "axbxcxdxexxx/f", true),
            ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", false),
            ("a*b*c*d*e*/f", "axbxcxdxexxx/fff", false),
            ("a*b?c*x", "abxbbxdbxebxczzx", true),
            ("a*b?c*x", "abxbbxdbxebxczzy", false),
            ("ab[c]", "abc", true),
            ("ab[b-d]", "abc", true),
            ("ab[e-g]", "abc", false),
            ("ab[^c]", "abc", false),
            ("ab[^b-d]", "abc", false),
            ("ab[^e-g]", "abc", true),
            ("a\\*b", "a*b", true),
            ("a\\*b", "ab", false),
            ("a?b", "a☺b", true),
            ("a[^a]b", "a☺b", true),
            ("a???b", "a☺b", false),
            ("a[^a][^a][^a]b", "a☺b", false),
            ("[a-ζ]*", "α", true),
            ("*[a-ζ]", "A", false),
            ("a?b", "a/b", false),
            ("a*b", "a/b", false),
            ("[\\]a]", "]", true),
            ("[\\-]", "-", true),
            ("[x\\-]", "x", true),
            ("[x\\-]", "-", true),
            ("[x\\-]", "z", false),
            ("[\\-x]", "x", true),
            ("[\\-x]", "-", true),
            ("[\\-x]", "a", false),
            ("*x", "xxx", true),
        ];
        for (pattern, name, want) in cases {
            assert_eq!(m(pattern, name), *want, "{pattern} vs {name}");
        }
    }

    #[test]
    fn go_bad_patterns() {
        for pattern in [
            "[]a]", "[-]", "[x-]", "[a-b-c]", "[", "[^", "[^bc", "a[", "ab[", "a\\", "[\\", "[a-",
            "[-x]",
        ] {
            // In "[a-b-c]" the second '-' starts a range, which Go's getEsc rejects.
            assert!(Glob::new(pattern).is_err(), "{pattern} should be rejected");
        }
    }

    #[test]
    fn error_names_pattern_and_fix() {
        let err = Glob::new("app-[").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("'app-['"), "{text}");
        assert!(text.contains("not closed"), "{text}");
    }

    #[test]
    fn empty_pattern_matches_only_empty() {
        assert!(m("", ""));
        assert!(!m("", "a"));
        assert!(m("*", ""));
    }

    #[test]
    fn ignore_tag_cases_from_image_updater() {
        // ignore list [tag1, tag2]
        assert!(m("tag1", "tag1"));
        assert!(m("tag2", "tag2"));
        assert!(!m("tag1", "tag3") && !m("tag2", "tag3"));
        // ignore list [tag?, foo]
        assert!(m("tag?", "tag1"));
        assert!(m("foo", "foo"));
        assert!(!m("tag?", "tag10"));
        // an empty pattern only drops the empty tag
        assert!(!m("", "v1"));
    }

    #[test]
    fn application_name_patterns() {
        assert!(m("app-*", "app-helm-dev"));
        assert!(m("app-helm-*", "app-helm-production"));
        assert!(!m("app-helm-*", "other"));
        assert!(m("app-helm-[ds]*", "app-helm-staging"));
        assert!(!m("app-helm-[ds]*", "app-helm-production"));
    }

    #[test]
    fn literal_len_counts_literals() {
        assert_eq!(Glob::literal_len("app-*"), 4);
        assert_eq!(Glob::literal_len("app-prod-*"), 9);
        assert_eq!(Glob::literal_len("app-[a-z]?"), 4);
        assert_eq!(Glob::literal_len("exact"), 5);
        assert_eq!(Glob::literal_len("a[bc"), 4);
        assert!(!Glob::has_wildcards("exact"));
        assert!(Glob::has_wildcards("ex*"));
    }

    #[test]
    fn display_and_as_str() {
        let g = Glob::new("a*").unwrap();
        assert_eq!(g.to_string(), "a*");
        assert_eq!(g.as_str(), "a*");
    }
}
