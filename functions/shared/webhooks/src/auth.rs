//! Owns the primitives every source authenticates with: constant-time secret
//! comparison, HMAC-SHA256 (GitHub's `X-Hub-Signature-256`), and matching an
//! `Authorization` header against a configured value.

use sha2::{Digest, Sha256};

/// Compares two secrets without leaking where they differ or how long the
/// expected one is: both sides are hashed first, then the digests are
/// compared with a branch-free fold.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let ha = Sha256::digest(a);
    let hb = Sha256::digest(b);
    let diff = ha
        .iter()
        .zip(hb.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// HMAC-SHA256 (RFC 2104) of `message` under `key`.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut ipad = [0x36u8; BLOCK];
    let mut opad = [0x5cu8; BLOCK];
    for i in 0..BLOCK {
        ipad[i] ^= block[i];
        opad[i] ^= block[i];
    }
    let inner = Sha256::new()
        .chain_update(ipad)
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(opad)
        .chain_update(inner)
        .finalize()
        .into()
}

/// Checks a GitHub-style signature header, `sha256=<hex HMAC-SHA256(secret,
/// body)>`. A missing `sha256=` prefix or bad hex never matches.
pub fn github_signature_matches(secret: &[u8], body: &[u8], header: &str) -> bool {
    let Some(hex_sig) = header.trim().strip_prefix("sha256=") else {
        return false;
    };
    let Ok(given) = hex::decode(hex_sig) else {
        return false;
    };
    let expected = hmac_sha256(secret, body);
    constant_time_eq(&given, &expected)
}

/// Whether an `Authorization` header carries `secret`: either the whole value
/// equals it (Harbor's "Auth Header", Distribution `headers:`, ACR custom
/// headers, as configured), or it is `Bearer <secret>`.
pub fn authorization_matches(secret: &str, header: &str) -> bool {
    let header = header.trim();
    let whole = constant_time_eq(header.as_bytes(), secret.as_bytes());
    let bearer = match header.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => {
            constant_time_eq(rest.trim().as_bytes(), secret.as_bytes())
        }
        _ => false,
    };
    whole | bearer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc4231_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn hmac_handles_long_keys_rfc4231_case_6() {
        let key = [0xaau8; 131];
        let mac = hmac_sha256(
            &key,
            b"Test Using Larger Than Block-Size Key - Hash Key First",
        );
        assert_eq!(
            hex::encode(mac),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn github_documented_example_verifies() {
        // docs.github.com "Validating webhook deliveries" test values.
        let header = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert!(github_signature_matches(
            b"It's a Secret to Everybody",
            b"Hello, World!",
            header
        ));
        assert!(!github_signature_matches(
            b"It's a Secret to Everybody",
            b"Hello, World",
            header
        ));
        assert!(!github_signature_matches(
            b"It's a Secret to Everybody",
            b"Hello, World!",
            header.trim_start_matches("sha256=")
        ));
        assert!(!github_signature_matches(b"k", b"m", "sha256=zz"));
    }

    #[test]
    fn authorization_accepts_whole_or_bearer() {
        assert!(authorization_matches("tok", "tok"));
        assert!(authorization_matches("tok", "Bearer tok"));
        assert!(authorization_matches("tok", "bearer  tok "));
        assert!(authorization_matches("Bearer tok", "Bearer tok"));
        assert!(!authorization_matches("tok", "Basic tok"));
        assert!(!authorization_matches("tok", "Bearer tok2"));
        assert!(!authorization_matches("tok", ""));
    }

    #[test]
    fn constant_time_eq_basics() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(!constant_time_eq(b"", b"a"));
    }
}
