//! Go's `path/filepath.Match` (Unix flavour), ported byte for byte.
//!
//! Syntax: `*` matches any run of non-`/` characters, `?` one non-`/`
//! character, `[...]` a character class (`[^...]` negated, `a-z` ranges, at
//! least one range), `\c` the character `c`; anything else matches itself. The
//! whole name must match. [`validate`] rejects malformed patterns up front (Go
//! reports them lazily, and Image Updater then ignores the pattern).

/// The pattern is malformed (Go's `ErrBadPattern`: "syntax error in pattern").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadPattern;

const SEPARATOR: u8 = b'/';
const RUNE_ERROR: char = '\u{FFFD}';

/// Checks the whole pattern's syntax, as Go ≥ 1.16 does before answering `false`.
pub fn validate(pattern: &str) -> Result<(), BadPattern> {
    validate_rest(pattern.as_bytes())
}

/// Whether `name` matches `pattern` in full.
pub fn matches(pattern: &str, name: &str) -> Result<bool, BadPattern> {
    let mut pattern = pattern.as_bytes();
    let mut name = name.as_bytes();
    'pattern: while !pattern.is_empty() {
        let (star, chunk, rest) = scan_chunk(pattern);
        pattern = rest;
        if star && chunk.is_empty() {
            // A trailing * matches the rest of the name unless it has a '/'.
            return Ok(!name.contains(&SEPARATOR));
        }
        // Look for a match at the current position; as the last chunk it
        // must also use up the name.
        if let Some(t) = match_chunk(chunk, name)?
            && (t.is_empty() || !pattern.is_empty())
        {
            name = t;
            continue;
        }
        if star {
            // Look for a match skipping i+1 bytes; '*' cannot skip '/'.
            let mut i = 0;
            while i < name.len() && name[i] != SEPARATOR {
                if let Some(t) = match_chunk(chunk, &name[i + 1..])? {
                    if pattern.is_empty() && !t.is_empty() {
                        i += 1;
                        continue;
                    }
                    name = t;
                    continue 'pattern;
                }
                i += 1;
            }
        }
        validate_rest(pattern)?;
        return Ok(false);
    }
    Ok(name.is_empty())
}

fn validate_rest(mut rest: &[u8]) -> Result<(), BadPattern> {
    while !rest.is_empty() {
        let (_, chunk, after) = scan_chunk(rest);
        rest = after;
        match_chunk(chunk, b"")?;
    }
    Ok(())
}

/// The next segment of `pattern`: a run of non-star terms, possibly preceded
/// by stars. Returns (had stars, chunk, rest).
fn scan_chunk(mut pattern: &[u8]) -> (bool, &[u8], &[u8]) {
    let mut star = false;
    while let [b'*', rest @ ..] = pattern {
        pattern = rest;
        star = true;
    }
    let mut in_range = false;
    let mut i = 0;
    while i < pattern.len() {
        match pattern[i] {
            // Skip the escaped byte; a trailing '\' is reported by match_chunk.
            b'\\' if i + 1 < pattern.len() => i += 1,
            b'[' => in_range = true,
            b']' => in_range = false,
            b'*' if !in_range => break,
            _ => {}
        }
        i += 1;
    }
    (star, &pattern[..i], &pattern[i..])
}

/// Matches `chunk` (no stars) against the start of `s`; `Some(rest of s)` on
/// a match. Keeps parsing after a mismatch so that syntax errors anywhere in
/// the chunk are reported.
fn match_chunk<'s>(mut chunk: &[u8], mut s: &'s [u8]) -> Result<Option<&'s [u8]>, BadPattern> {
    let mut failed = false;
    while let Some(&first) = chunk.first() {
        if !failed && s.is_empty() {
            failed = true;
        }
        match first {
            b'[' => {
                let mut r = '\0';
                if !failed {
                    let (rune, n) = decode_rune(s);
                    r = rune;
                    s = &s[n..];
                }
                chunk = &chunk[1..];
                let negated = chunk.first() == Some(&b'^');
                if negated {
                    chunk = &chunk[1..];
                }
                let mut matched = false;
                let mut ranges = 0;
                loop {
                    if chunk.first() == Some(&b']') && ranges > 0 {
                        chunk = &chunk[1..];
                        break;
                    }
                    let (lo, rest) = get_escaped(chunk)?;
                    chunk = rest;
                    let mut hi = lo;
                    if chunk.first() == Some(&b'-') {
                        let (h, rest) = get_escaped(&chunk[1..])?;
                        hi = h;
                        chunk = rest;
                    }
                    if lo <= r && r <= hi {
                        matched = true;
                    }
                    ranges += 1;
                }
                if matched == negated {
                    failed = true;
                }
            }
            b'?' => {
                if !failed {
                    if s[0] == SEPARATOR {
                        failed = true;
                    }
                    let (_, n) = decode_rune(s);
                    s = &s[n..];
                }
                chunk = &chunk[1..];
            }
            _ => {
                if first == b'\\' {
                    chunk = &chunk[1..];
                    if chunk.is_empty() {
                        return Err(BadPattern);
                    }
                }
                if !failed {
                    if chunk[0] != s[0] {
                        failed = true;
                    }
                    s = &s[1..];
                }
                chunk = &chunk[1..];
            }
        }
    }
    Ok(if failed { None } else { Some(s) })
}

/// A possibly escaped character of a class, and the rest of the chunk.
fn get_escaped(mut chunk: &[u8]) -> Result<(char, &[u8]), BadPattern> {
    match chunk.first() {
        None | Some(b'-') | Some(b']') => return Err(BadPattern),
        Some(b'\\') => {
            chunk = &chunk[1..];
            if chunk.is_empty() {
                return Err(BadPattern);
            }
        }
        Some(_) => {}
    }
    let (rune, n) = decode_rune(chunk);
    if rune == RUNE_ERROR && n == 1 {
        return Err(BadPattern);
    }
    let rest = &chunk[n..];
    if rest.is_empty() {
        return Err(BadPattern);
    }
    Ok((rune, rest))
}

/// Go's `utf8.DecodeRune` on a non-empty slice: `(U+FFFD, 1)` when invalid.
fn decode_rune(b: &[u8]) -> (char, usize) {
    let len = match b.first() {
        Some(0x00..=0x7F) => 1,
        Some(0xC2..=0xDF) => 2,
        Some(0xE0..=0xEF) => 3,
        Some(0xF0..=0xF4) => 4,
        _ => return (RUNE_ERROR, 1),
    };
    match b
        .get(..len)
        .and_then(|bytes| std::str::from_utf8(bytes).ok())
    {
        Some(text) => (text.chars().next().unwrap_or(RUNE_ERROR), len),
        None => (RUNE_ERROR, 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Go's `matchTests` (path/filepath/match_test.go), Unix rows.
    #[test]
    fn go_match_tests() {
        let cases: &[(&str, &str, Result<bool, BadPattern>)] = &[
            ("abc", "abc", Ok(true)),
            ("*", "abc", Ok(true)),
            ("*c", "abc", Ok(true)),
            ("a*", "a", Ok(true)),
            ("a*", "abc", Ok(true)),
            ("a*", "ab/c", Ok(false)),
            ("a*/b", "abc/b", Ok(true)),
            ("a*/b", "a/c/b", Ok(false)),
            ("a*b*c*d*e*/f", "axbxcxdxe/f", Ok(true)),
            ("a*b*c*d*e*/f", "axbxcxdxexxx/f", Ok(true)),
            ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", Ok(false)),
            ("a*b*c*d*e*/f", "axbxcxdxexxx/fff", Ok(false)),
            ("a*b?c*x", "abxbbxdbxebxczzx", Ok(true)),
            ("a*b?c*x", "abxbbxdbxebxczzy", Ok(false)),
            ("ab[c]", "abc", Ok(true)),
            ("ab[b-d]", "abc", Ok(true)),
            ("ab[e-g]", "abc", Ok(false)),
            ("ab[^c]", "abc", Ok(false)),
            ("ab[^b-d]", "abc", Ok(false)),
            ("ab[^e-g]", "abc", Ok(true)),
            ("a\\*b", "a*b", Ok(true)),
            ("a\\*b", "ab", Ok(false)),
            ("a?b", "a☺b", Ok(true)),
            ("a[^a]b", "a☺b", Ok(true)),
            ("a???b", "a☺b", Ok(false)),
            ("a[^a][^a][^a]b", "a☺b", Ok(false)),
            ("[a-ζ]*", "α", Ok(true)),
            ("*[a-ζ]", "A", Ok(false)),
            ("a?b", "a/b", Ok(false)),
            ("a*b", "a/b", Ok(false)),
            ("[\\]a]", "]", Ok(true)),
            ("[\\-]", "-", Ok(true)),
            ("[x\\-]", "x", Ok(true)),
            ("[x\\-]", "-", Ok(true)),
            ("[x\\-]", "z", Ok(false)),
            ("[\\-x]", "x", Ok(true)),
            ("[\\-x]", "-", Ok(true)),
            ("[\\-x]", "a", Ok(false)),
            ("[]a]", "]", Err(BadPattern)),
            ("[-]", "-", Err(BadPattern)),
            ("[x-]", "x", Err(BadPattern)),
            ("[x-]", "-", Err(BadPattern)),
            ("[x-]", "z", Err(BadPattern)),
            ("[-x]", "x", Err(BadPattern)),
            ("[-x]", "-", Err(BadPattern)),
            ("[-x]", "a", Err(BadPattern)),
            ("\\", "a", Err(BadPattern)),
            ("[a-b-c]", "a", Err(BadPattern)),
            ("[", "a", Err(BadPattern)),
            ("[^", "a", Err(BadPattern)),
            ("[^bc", "a", Err(BadPattern)),
            ("a[", "a", Err(BadPattern)),
            ("a[", "ab", Err(BadPattern)),
            ("a[", "x", Err(BadPattern)),
            ("a/b[", "x", Err(BadPattern)),
            ("*x", "xxx", Ok(true)),
        ];
        for &(pattern, name, expected) in cases {
            assert_eq!(
                matches(pattern, name),
                expected,
                "Match({pattern:?}, {name:?})"
            );
            // Every pattern Go calls malformed fails validation up front.
            assert_eq!(
                validate(pattern).is_err(),
                expected.is_err(),
                "validate({pattern:?})"
            );
        }
    }

    #[test]
    fn image_updater_ignore_lists() {
        let ignored = |list: &[&str], tag: &str| list.iter().any(|p| matches(p, tag) == Ok(true));
        assert!(ignored(&["tag1", "tag2"], "tag1"));
        assert!(ignored(&["tag1", "tag2"], "tag2"));
        assert!(!ignored(&["tag1", "tag2"], "tag3"));
        assert!(ignored(&["tag?", "foo"], "tag1"));
        assert!(ignored(&["tag?", "foo"], "foo"));
        assert!(!ignored(&["tag?", "foo"], "tag10"));
    }

    #[test]
    fn odd_inputs_never_panic() {
        for pattern in [
            "",
            "*",
            "**",
            "?",
            "[☺-☻]",
            "[^☺]",
            "\\☺",
            "*☺*",
            "[\\☺]x",
            "a*?*b",
        ] {
            for name in [
                "",
                "☺",
                "a☺b",
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaab",
                "a/b",
                "[",
                "\\",
            ] {
                let _ = matches(pattern, name);
            }
        }
        assert_eq!(matches("", ""), Ok(true));
        assert_eq!(matches("", "a"), Ok(false));
        assert_eq!(matches("*", ""), Ok(true));
        assert_eq!(matches("?", ""), Ok(false));
    }
}
