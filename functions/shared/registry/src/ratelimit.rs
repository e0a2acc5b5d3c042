//! Owns [`RateLimiter`]: the per-registry request-rate limit (`limit` in
//! registries.conf, requests per second). A token bucket in its GCRA form:
//! `burst` requests may go at once, after that requests are spaced
//! `1/rate` apart. Each caller reserves its slot under a short lock and
//! sleeps outside it, so waiting callers are served in arrival order.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// A token bucket of `burst` tokens refilled at `rate` per second.
#[derive(Debug)]
pub struct RateLimiter {
    interval: Duration,
    tolerance: Duration,
    /// The theoretical arrival time of the next request.
    next: Mutex<Option<Instant>>,
}

impl RateLimiter {
    /// `rate` requests per second (at least 1), bursts of `burst` (at least
    /// 1; 1 spaces every request evenly, as Image Updater's limiter).
    pub fn new(rate: u32, burst: u32) -> Self {
        let interval = Duration::from_secs(1) / rate.max(1);
        Self {
            interval,
            tolerance: interval * burst.max(1).saturating_sub(1),
            next: Mutex::new(None),
        }
    }

    /// Waits until a request may be sent.
    pub async fn acquire(&self) {
        let wait_until = {
            let now = Instant::now();
            let mut next = match self.next.lock() {
                Ok(guard) => guard,
                Err(poisoned) => poisoned.into_inner(),
            };
            let tat = next.map_or(now, |t| t.max(now));
            let allowed_at = tat.checked_sub(self.tolerance).unwrap_or(now).max(now);
            *next = Some(tat.max(allowed_at) + self.interval);
            allowed_at
        };
        if wait_until > Instant::now() {
            tokio::time::sleep_until(wait_until).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn spaces_requests_at_the_rate() {
        let limiter = RateLimiter::new(10, 1);
        let start = Instant::now();
        for _ in 0..11 {
            limiter.acquire().await;
        }
        // 11 requests at 10/s: the first is free, ten more take one second.
        assert_eq!(start.elapsed(), Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn allows_a_burst_then_the_rate() {
        let limiter = RateLimiter::new(4, 4);
        let start = Instant::now();
        for _ in 0..4 {
            limiter.acquire().await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
        for _ in 0..4 {
            limiter.acquire().await;
        }
        assert_eq!(start.elapsed(), Duration::from_secs(1));
        // Idle time refills the bucket.
        tokio::time::sleep(Duration::from_secs(5)).await;
        let again = Instant::now();
        for _ in 0..4 {
            limiter.acquire().await;
        }
        assert_eq!(again.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_callers_share_the_budget() {
        let limiter = std::sync::Arc::new(RateLimiter::new(20, 1));
        let start = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..21 {
            let l = limiter.clone();
            tasks.spawn(async move { l.acquire().await });
        }
        while tasks.join_next().await.is_some() {}
        assert_eq!(start.elapsed(), Duration::from_secs(1));
    }
}
