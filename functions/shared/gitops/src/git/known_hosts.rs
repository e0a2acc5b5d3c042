//! Owns SSH host-key checking against OpenSSH `known_hosts` files: host
//! patterns (plain, `*`/`?` wildcards, `!` negation, hashed `|1|salt|hash`),
//! `[host]:port` for ports other than 22, and `@revoked` keys.
//! `@cert-authority` lines are ignored (libssh2 shows plain host keys only).

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};

/// What a set of known_hosts files says about a host's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// A line lists this host with this key.
    Known,
    /// No line lists this host with a key of this type.
    Unknown,
    /// A line lists this host with a different key of the same type: the
    /// server's identity changed, or someone is in between.
    Changed {
        /// The file and 1-based line that holds the other key.
        at: String,
    },
    /// The key is marked `@revoked`.
    Revoked {
        /// The file and 1-based line.
        at: String,
    },
}

/// The name a host is listed under: `host`, or `[host]:port` when the port
/// is not 22.
pub(crate) fn lookup_name(host: &str, port: u16) -> String {
    if port == 22 {
        host.to_string()
    } else {
        format!("[{host}]:{port}")
    }
}

/// Checks `key` (raw SSH wire bytes, type `key_type` such as `ssh-ed25519`)
/// of `host`:`port` against the text of known_hosts files, each given with
/// its path (for messages).
pub(crate) fn check(
    files: &[(PathBuf, String)],
    host: &str,
    port: u16,
    key_type: &str,
    key: &[u8],
) -> Verdict {
    let name = lookup_name(host, port).to_ascii_lowercase();
    let mut changed = None;
    let mut known = false;
    for (path, text) in files {
        for (index, line) in text.lines().enumerate() {
            let Some(entry) = Entry::parse(line) else {
                continue;
            };
            if !entry.matches_host(&name) {
                continue;
            }
            let at = || format!("{}:{}", path.display(), index + 1);
            let same_key = entry.key_type == key_type && entry.key == key;
            match entry.marker {
                Marker::Revoked if same_key => return Verdict::Revoked { at: at() },
                Marker::Revoked | Marker::CertAuthority => {}
                Marker::None if same_key => known = true,
                Marker::None if entry.key_type == key_type => {
                    changed.get_or_insert_with(at);
                }
                Marker::None => {}
            }
        }
    }
    if known {
        Verdict::Known
    } else if let Some(at) = changed {
        Verdict::Changed { at }
    } else {
        Verdict::Unknown
    }
}

/// `SHA256:<base64>`, as `ssh-keygen -l` prints a fingerprint.
pub(crate) fn fingerprint(sha256: &[u8]) -> String {
    format!("SHA256:{}", STANDARD_NO_PAD.encode(sha256))
}

/// The known_hosts line that would make this key known.
pub(crate) fn line_for(host: &str, port: u16, key_type: &str, key: &[u8]) -> String {
    format!(
        "{} {key_type} {}",
        lookup_name(host, port),
        STANDARD.encode(key)
    )
}

/// Reads known_hosts files: `explicit` must be readable; the defaults
/// (`~/.ssh/known_hosts`, `/etc/ssh/ssh_known_hosts`) are skipped when
/// missing.
pub(crate) fn load(explicit: Option<&Path>) -> Result<Vec<(PathBuf, String)>, String> {
    match explicit {
        Some(path) => std::fs::read_to_string(path)
            .map(|text| vec![(path.to_path_buf(), text)])
            .map_err(|e| format!("cannot read the known_hosts file {}: {e}", path.display())),
        None => {
            let mut paths = Vec::new();
            if let Some(home) = std::env::var_os("HOME") {
                paths.push(PathBuf::from(home).join(".ssh/known_hosts"));
            }
            paths.push(PathBuf::from("/etc/ssh/ssh_known_hosts"));
            Ok(paths
                .into_iter()
                .filter_map(|p| std::fs::read_to_string(&p).ok().map(|t| (p, t)))
                .collect())
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marker {
    None,
    Revoked,
    CertAuthority,
}

struct Entry<'a> {
    marker: Marker,
    hosts: &'a str,
    key_type: &'a str,
    key: Vec<u8>,
}

impl<'a> Entry<'a> {
    fn parse(line: &'a str) -> Option<Self> {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            return None;
        }
        let mut fields = line.split_whitespace();
        let mut first = fields.next()?;
        let marker = match first {
            "@revoked" => Marker::Revoked,
            "@cert-authority" => Marker::CertAuthority,
            m if m.starts_with('@') => return None,
            _ => Marker::None,
        };
        if marker != Marker::None {
            first = fields.next()?;
        }
        let key_type = fields.next()?;
        let key = STANDARD.decode(fields.next()?).ok()?;
        Some(Entry {
            marker,
            hosts: first,
            key_type,
            key,
        })
    }

    /// OpenSSH's rule: a negated pattern that matches excludes the host even
    /// when another pattern matches.
    fn matches_host(&self, name: &str) -> bool {
        if let Some(hashed) = self.hosts.strip_prefix("|1|") {
            return hashed_matches(hashed, name);
        }
        let mut matched = false;
        for pattern in self.hosts.split(',') {
            let pattern = pattern.to_ascii_lowercase();
            if let Some(negated) = pattern.strip_prefix('!') {
                if glob(negated.as_bytes(), name.as_bytes()) {
                    return false;
                }
            } else if glob(pattern.as_bytes(), name.as_bytes()) {
                matched = true;
            }
        }
        matched
    }
}

/// `salt|hash` (both base64): HMAC-SHA1 keyed with the salt over the name.
fn hashed_matches(field: &str, name: &str) -> bool {
    let Some((salt, hash)) = field.split_once('|') else {
        return false;
    };
    let (Ok(salt), Ok(hash)) = (STANDARD.decode(salt), STANDARD.decode(hash)) else {
        return false;
    };
    hmac_sha1(&salt, name.as_bytes()).as_slice() == hash.as_slice()
}

/// `*` (any run) and `?` (one character) wildcards.
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == b'?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

fn hmac_sha1(key: &[u8], message: &[u8]) -> [u8; 20] {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..20].copy_from_slice(&sha1(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Vec::with_capacity(64 + message.len());
    inner.extend(block.iter().map(|b| b ^ 0x36));
    inner.extend_from_slice(message);
    let mut outer = Vec::with_capacity(84);
    outer.extend(block.iter().map(|b| b ^ 0x5c));
    outer.extend_from_slice(&sha1(&inner));
    sha1(&outer)
}

/// SHA-1 (FIPS 180-4), used only to match hashed known_hosts names (an
/// HMAC, where SHA-1's collision weakness does not matter).
fn sha1(data: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [
        0x6745_2301,
        0xEFCD_AB89,
        0x98BA_DCFE,
        0x1032_5476,
        0xC3D2_E1F0,
    ];
    let mut padded = data.to_vec();
    padded.push(0x80);
    while padded.len() % 64 != 56 {
        padded.push(0);
    }
    padded.extend_from_slice(&((data.len() as u64).wrapping_mul(8)).to_be_bytes());
    for chunk in padded.chunks_exact(64) {
        let mut w = [0u32; 80];
        for (i, word) in chunk.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A82_7999),
                20..=39 => (b ^ c ^ d, 0x6ED9_EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC),
                _ => (b ^ c ^ d, 0xCA62_C1D6),
            };
            let temp = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*wi);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = temp;
        }
        for (hv, v) in h.iter_mut().zip([a, b, c, d, e]) {
            *hv = hv.wrapping_add(v);
        }
    }
    let mut out = [0u8; 20];
    for (i, v) in h.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&v.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn sha1_vectors() {
        assert_eq!(hex(&sha1(b"")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(
            hex(&sha1(b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            hex(&sha1(
                b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
            )),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
        );
        let million_a = vec![b'a'; 1_000_000];
        assert_eq!(
            hex(&sha1(&million_a)),
            "34aa973cd4c4daa4f61eeb2bdbad27316534016f"
        );
    }

    #[test]
    fn hmac_sha1_vectors() {
        // RFC 2202 test cases 1 and 2, and 6 (a key longer than a block).
        assert_eq!(
            hex(&hmac_sha1(&[0x0b; 20], b"Hi There")),
            "b617318655057264e28bc0b6fb378c8ef146be00"
        );
        assert_eq!(
            hex(&hmac_sha1(b"Jefe", b"what do ya want for nothing?")),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
        );
        assert_eq!(
            hex(&hmac_sha1(
                &[0xaa; 80],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "aa4ae5e15272d00e95705637ce8a3b55ed402112"
        );
    }

    const KEY_A: &[u8] =
        b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    const KEY_B: &[u8] =
        b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";

    fn file(lines: &[String]) -> Vec<(PathBuf, String)> {
        vec![(PathBuf::from("/kh"), lines.join("\n"))]
    }

    fn b64(key: &[u8]) -> String {
        STANDARD.encode(key)
    }

    #[test]
    fn plain_and_port_entries() {
        let f = file(&[
            "# comment".to_string(),
            format!("git.example.com,10.0.0.1 ssh-ed25519 {}", b64(KEY_A)),
            format!("[git.example.com]:2222 ssh-ed25519 {}", b64(KEY_B)),
        ]);
        let ed = "ssh-ed25519";
        assert_eq!(check(&f, "git.example.com", 22, ed, KEY_A), Verdict::Known);
        assert_eq!(check(&f, "GIT.example.com", 22, ed, KEY_A), Verdict::Known);
        assert_eq!(check(&f, "10.0.0.1", 22, ed, KEY_A), Verdict::Known);
        assert_eq!(
            check(&f, "git.example.com", 2222, ed, KEY_B),
            Verdict::Known
        );
        assert_eq!(
            check(&f, "git.example.com", 22, ed, KEY_B),
            Verdict::Changed { at: "/kh:2".into() }
        );
        assert_eq!(
            check(&f, "other.example.com", 22, ed, KEY_A),
            Verdict::Unknown
        );
        // Another key type for a known host is unknown, not changed.
        assert_eq!(
            check(&f, "git.example.com", 22, "ssh-rsa", KEY_B),
            Verdict::Unknown
        );
    }

    #[test]
    fn wildcards_and_negation() {
        let f = file(&[format!(
            "*.example.com,!evil.example.com,git?.corp ssh-ed25519 {}",
            b64(KEY_A)
        )]);
        let ed = "ssh-ed25519";
        assert_eq!(check(&f, "git.example.com", 22, ed, KEY_A), Verdict::Known);
        assert_eq!(
            check(&f, "evil.example.com", 22, ed, KEY_A),
            Verdict::Unknown
        );
        assert_eq!(check(&f, "git1.corp", 22, ed, KEY_A), Verdict::Known);
        assert_eq!(check(&f, "git12.corp", 22, ed, KEY_A), Verdict::Unknown);
        assert!(glob(b"*", b""));
        assert!(glob(b"a*b*c", b"axxbyyc"));
        assert!(!glob(b"a*b", b"axxc"));
    }

    #[test]
    fn hashed_entries() {
        // `ssh-keygen -H` style: |1|base64(salt)|base64(HMAC-SHA1(salt, name)).
        let salt = b"0123456789abcdefghij";
        for (name, port) in [("git.example.com", 22), ("git.example.com", 2222)] {
            let mac = hmac_sha1(salt, lookup_name(name, port).as_bytes());
            let f = file(&[format!(
                "|1|{}|{} ssh-ed25519 {}",
                b64(salt),
                b64(&mac),
                b64(KEY_A)
            )]);
            assert_eq!(check(&f, name, port, "ssh-ed25519", KEY_A), Verdict::Known);
            assert_eq!(
                check(&f, "other", port, "ssh-ed25519", KEY_A),
                Verdict::Unknown
            );
        }
    }

    #[test]
    fn revoked_keys() {
        let f = file(&[
            format!("git.example.com ssh-ed25519 {}", b64(KEY_A)),
            format!("@revoked * ssh-ed25519 {}", b64(KEY_A)),
            format!("@cert-authority * ssh-ed25519 {}", b64(KEY_B)),
            "garbage".to_string(),
            "host ssh-ed25519 !!notbase64".to_string(),
        ]);
        assert_eq!(
            check(&f, "git.example.com", 22, "ssh-ed25519", KEY_A),
            Verdict::Revoked { at: "/kh:2".into() }
        );
        assert_eq!(check(&f, "x", 22, "ssh-ed25519", KEY_B), Verdict::Unknown);
    }

    #[test]
    fn lines_and_fingerprints() {
        assert_eq!(
            line_for("h", 2222, "ssh-ed25519", b"k"),
            "[h]:2222 ssh-ed25519 aw=="
        );
        assert_eq!(
            fingerprint(&[0u8; 32]),
            "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
        );
    }

    #[test]
    fn load_reports_an_unreadable_explicit_file() {
        let e = load(Some(Path::new("/nonexistent/known_hosts"))).unwrap_err();
        assert!(e.contains("/nonexistent/known_hosts"), "{e}");
    }
}
