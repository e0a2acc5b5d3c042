//! Owns the in-memory request guards: a per-source token-bucket
//! [`RateLimiter`] and a [`ReplayGuard`] that remembers recent deliveries.
//! Both live in one process; on a platform that runs several instances each
//! instance keeps its own.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// How long a delivery is remembered by [`ReplayGuard::default`].
pub const REPLAY_WINDOW: Duration = Duration::from_secs(10 * 60);

/// Most deliveries a [`ReplayGuard`] remembers; the oldest go first.
const REPLAY_CAPACITY: usize = 10_000;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave these maps inconsistent
    // in a way that matters, so a poisoned lock is simply taken over.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A token bucket per source: `per_minute` tokens, refilled continuously at
/// `per_minute` per minute, so bursts of up to `per_minute` pass.
#[derive(Debug)]
pub struct RateLimiter {
    per_minute: u32,
    buckets: Mutex<HashMap<String, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

impl RateLimiter {
    /// A limiter allowing `per_minute` requests per minute per source
    /// (0 refuses everything).
    pub fn new(per_minute: u32) -> Self {
        RateLimiter {
            per_minute,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// The configured requests per minute.
    pub fn per_minute(&self) -> u32 {
        self.per_minute
    }

    /// Takes a token for `source` at `now`; `false` means rate limited.
    pub fn check(&self, source: &str, now: Instant) -> bool {
        let capacity = f64::from(self.per_minute);
        let mut buckets = lock(&self.buckets);
        let bucket = buckets.entry(source.to_owned()).or_insert(Bucket {
            tokens: capacity,
            last: now,
        });
        if now > bucket.last {
            let refill = now.duration_since(bucket.last).as_secs_f64() * capacity / 60.0;
            bucket.tokens = (bucket.tokens + refill).min(capacity);
            bucket.last = now;
        }
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Whole seconds until `source` has a token again (at least 1).
    pub fn retry_after(&self, source: &str, now: Instant) -> u64 {
        if self.per_minute == 0 {
            return 60;
        }
        let buckets = lock(&self.buckets);
        let tokens = buckets.get(source).map_or(0.0, |b| {
            let refill = now.saturating_duration_since(b.last).as_secs_f64()
                * f64::from(self.per_minute)
                / 60.0;
            b.tokens + refill
        });
        let missing = (1.0 - tokens).max(0.0);
        let secs = (missing * 60.0 / f64::from(self.per_minute)).ceil();
        (secs as u64).max(1)
    }
}

/// Remembers the SHA-256 of (source, body) of recent deliveries so a replayed
/// or redelivered webhook is answered without acting twice.
#[derive(Debug)]
pub struct ReplayGuard {
    window: Duration,
    inner: Mutex<ReplayInner>,
}

#[derive(Debug, Default)]
struct ReplayInner {
    seen: HashMap<[u8; 32], Instant>,
    order: VecDeque<([u8; 32], Instant)>,
}

impl Default for ReplayGuard {
    fn default() -> Self {
        ReplayGuard::new(REPLAY_WINDOW)
    }
}

impl ReplayGuard {
    /// A guard remembering deliveries for `window`.
    pub fn new(window: Duration) -> Self {
        ReplayGuard {
            window,
            inner: Mutex::new(ReplayInner::default()),
        }
    }

    fn key(source: &str, body: &[u8]) -> [u8; 32] {
        Sha256::new()
            .chain_update(source.as_bytes())
            .chain_update([0u8])
            .chain_update(body)
            .finalize()
            .into()
    }

    /// Records the delivery at `now` and says whether the same (source, body)
    /// was already recorded within the window. A repeat does not extend the
    /// window.
    pub fn seen(&self, source: &str, body: &[u8], now: Instant) -> bool {
        let key = Self::key(source, body);
        let mut inner = lock(&self.inner);
        self.prune(&mut inner, now);
        if let Some(at) = inner.seen.get(&key)
            && now.saturating_duration_since(*at) < self.window
        {
            return true;
        }
        inner.seen.insert(key, now);
        inner.order.push_back((key, now));
        while inner.order.len() > REPLAY_CAPACITY {
            if let Some((old, at)) = inner.order.pop_front()
                && inner.seen.get(&old) == Some(&at)
            {
                inner.seen.remove(&old);
            }
        }
        false
    }

    /// Forgets a delivery, so a retry after a failed hand-off is processed.
    pub fn forget(&self, source: &str, body: &[u8]) {
        let key = Self::key(source, body);
        let mut inner = lock(&self.inner);
        inner.seen.remove(&key);
        inner.order.retain(|(k, _)| *k != key);
    }

    /// How many deliveries are remembered.
    pub fn len(&self) -> usize {
        lock(&self.inner).seen.len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn prune(&self, inner: &mut ReplayInner, now: Instant) {
        while let Some((key, at)) = inner.order.front().copied() {
            if now.saturating_duration_since(at) < self.window {
                break;
            }
            inner.order.pop_front();
            if inner.seen.get(&key) == Some(&at) {
                inner.seen.remove(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_allows_burst_then_refills() {
        let limiter = RateLimiter::new(3);
        let t0 = Instant::now();
        assert!(limiter.check("ghcr", t0));
        assert!(limiter.check("ghcr", t0));
        assert!(limiter.check("ghcr", t0));
        assert!(!limiter.check("ghcr", t0));
        assert_eq!(limiter.retry_after("ghcr", t0), 20);
        // Sources do not share a bucket.
        assert!(limiter.check("quay", t0));
        // One token per 20 s at 3/min.
        assert!(!limiter.check("ghcr", t0 + Duration::from_secs(19)));
        assert!(limiter.check("ghcr", t0 + Duration::from_secs(21)));
        assert!(!limiter.check("ghcr", t0 + Duration::from_secs(21)));
        // Never more than the burst after a long pause.
        let later = t0 + Duration::from_secs(3600);
        assert!((0..3).all(|_| limiter.check("ghcr", later)));
        assert!(!limiter.check("ghcr", later));
    }

    #[test]
    fn zero_limit_refuses() {
        let limiter = RateLimiter::new(0);
        assert!(!limiter.check("ghcr", Instant::now()));
    }

    #[test]
    fn replay_window() {
        let guard = ReplayGuard::default();
        let t0 = Instant::now();
        assert!(!guard.seen("ghcr", b"body", t0));
        assert!(guard.seen("ghcr", b"body", t0 + Duration::from_secs(60)));
        // Same body from another source is another delivery.
        assert!(!guard.seen("quay", b"body", t0));
        assert!(!guard.seen("ghcr", b"other", t0));
        // After ten minutes it is new again.
        assert!(!guard.seen("ghcr", b"body", t0 + REPLAY_WINDOW));
        assert!(guard.seen("ghcr", b"body", t0 + REPLAY_WINDOW));
    }

    #[test]
    fn forget_and_prune() {
        let guard = ReplayGuard::new(Duration::from_secs(10));
        let t0 = Instant::now();
        assert!(!guard.seen("s", b"a", t0));
        guard.forget("s", b"a");
        assert!(!guard.seen("s", b"a", t0));
        assert!(!guard.seen("s", b"b", t0));
        assert_eq!(guard.len(), 2);
        assert!(!guard.seen("s", b"c", t0 + Duration::from_secs(11)));
        assert_eq!(guard.len(), 1);
    }

    #[test]
    fn capacity_is_bounded() {
        let guard = ReplayGuard::default();
        let t0 = Instant::now();
        for i in 0..(REPLAY_CAPACITY + 5) {
            guard.seen("s", &i.to_le_bytes(), t0);
        }
        assert_eq!(guard.len(), REPLAY_CAPACITY);
        // The oldest were dropped first.
        assert!(!guard.seen("s", &0usize.to_le_bytes(), t0));
    }
}
