//! Owns the retry policy: which failures are retried ([`is_retryable_status`]),
//! how long to wait (exponential backoff with jitter, or the registry's
//! `Retry-After` in seconds or as an HTTP date), and how often
//! ([`RetryPolicy`]).

use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

/// How requests are retried on 429, 5xx and connection errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, the first included (at least 1). Default 4.
    pub max_attempts: u32,
    /// Backoff before the first retry. Default 250 ms; doubles each retry.
    pub initial_backoff: Duration,
    /// Backoff ceiling. Default 8 s.
    pub max_backoff: Duration,
    /// The longest `Retry-After` honoured; a registry asking for more fails
    /// the request at once. Default 60 s.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// No retries.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The pause before retry number `retry` (1 = first retry): the
    /// exponential step, with "equal jitter" (a random point in its upper
    /// half) so that many clients do not retry in lockstep.
    pub fn backoff(&self, retry: u32) -> Duration {
        let exp = retry.saturating_sub(1).min(20);
        let step = self
            .initial_backoff
            .saturating_mul(1u32 << exp)
            .min(self.max_backoff);
        let half = step / 2;
        let jitter_nanos = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX);
        let jitter = if jitter_nanos == 0 {
            0
        } else {
            random_u64() % (jitter_nanos + 1)
        };
        half + Duration::from_nanos(jitter)
    }
}

/// 429 and the 5xx statuses that mean "try again" (not 501 Not Implemented
/// or 505).
pub fn is_retryable_status(status: u16) -> bool {
    matches!(status, 429 | 500 | 502 | 503 | 504)
}

/// Parses `Retry-After`: delta seconds, or an HTTP date (a date in the past
/// means now).
pub fn parse_retry_after(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let delta = date.with_timezone(&chrono::Utc) - now;
    Some(delta.to_std().unwrap_or(Duration::ZERO))
}

/// A random number from the standard library's per-process random keys (no
/// extra dependency; good enough for jitter).
fn random_u64() -> u64 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_caps() {
        let p = RetryPolicy::default();
        for retry in 1..=10 {
            let step = (p.initial_backoff * (1 << (retry - 1))).min(p.max_backoff);
            let d = p.backoff(retry);
            assert!(d >= step / 2 && d <= step, "retry {retry}: {d:?}");
        }
        assert!(p.backoff(100) <= p.max_backoff);
    }

    #[test]
    fn retry_after_forms() {
        let now = chrono::DateTime::parse_from_rfc3339("2015-10-21T07:28:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:03 GMT", now),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-1", now), None);
    }

    #[test]
    fn retryable_statuses() {
        for s in [429, 500, 502, 503, 504] {
            assert!(is_retryable_status(s));
        }
        for s in [200, 400, 401, 403, 404, 501, 505] {
            assert!(!is_retryable_status(s));
        }
    }
}
