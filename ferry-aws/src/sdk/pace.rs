//! Client-side pacing of the control-plane calls AWS meters per account, so
//! that a whole-workspace deploy stays inside the quotas instead of leaning
//! on throttling errors and retries: Lambda's 15 control-plane requests per
//! second, API Gateway's one `PutRestApi` per second and one
//! `CreateDeployment` per 5 seconds.
//!
//! Each quota is a token bucket; a caller reserves a token (the count may go
//! below zero) and sleeps until its turn, so callers are served in order
//! without polling.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A metered family of calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quota {
    /// Lambda's control plane (everything but Invoke, GetFunction, GetPolicy).
    Lambda,
    PutRestApi,
    CreateDeployment,
    /// API Gateway's other control-plane writes (methods, integrations).
    ApiGateway,
}

impl Quota {
    /// (requests per second, burst)
    fn limits(self) -> (f64, f64) {
        match self {
            Quota::Lambda => (15.0, 15.0),
            Quota::PutRestApi => (1.0, 1.0),
            Quota::CreateDeployment => (0.2, 1.0),
            Quota::ApiGateway => (5.0, 10.0),
        }
    }
}

#[derive(Debug)]
struct Bucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl Bucket {
    fn new(quota: Quota, now: Instant) -> Self {
        let (rate, burst) = quota.limits();
        Bucket {
            rate,
            burst,
            tokens: burst,
            last: now,
        }
    }

    /// Takes one token at `now` and returns how long the caller must wait
    /// before using it.
    fn reserve(&mut self, now: Instant) -> Duration {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = self.last.max(now);
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        self.tokens -= 1.0;
        if self.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-self.tokens / self.rate)
        }
    }
}

/// The buckets of one run, shared by every task of the deploy.
#[derive(Debug)]
pub struct Pacer {
    lambda: Mutex<Bucket>,
    put_rest_api: Mutex<Bucket>,
    create_deployment: Mutex<Bucket>,
    api_gateway: Mutex<Bucket>,
}

impl Default for Pacer {
    fn default() -> Self {
        let now = Instant::now();
        Pacer {
            lambda: Mutex::new(Bucket::new(Quota::Lambda, now)),
            put_rest_api: Mutex::new(Bucket::new(Quota::PutRestApi, now)),
            create_deployment: Mutex::new(Bucket::new(Quota::CreateDeployment, now)),
            api_gateway: Mutex::new(Bucket::new(Quota::ApiGateway, now)),
        }
    }
}

impl Pacer {
    /// Waits until one more call of `quota` fits.
    pub async fn wait(&self, quota: Quota) {
        let bucket = match quota {
            Quota::Lambda => &self.lambda,
            Quota::PutRestApi => &self.put_rest_api,
            Quota::CreateDeployment => &self.create_deployment,
            Quota::ApiGateway => &self.api_gateway,
        };
        // A poisoned lock only means another task panicked mid-update; the
        // bucket's numbers are still usable.
        let delay = bucket
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .reserve(Instant::now());
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waits(quota: Quota, calls: usize, spacing: Duration) -> Vec<Duration> {
        let start = Instant::now();
        let mut bucket = Bucket::new(quota, start);
        (0..calls)
            .map(|i| bucket.reserve(start + spacing * i as u32))
            .collect()
    }

    #[test]
    fn lambda_allows_a_burst_of_15_then_15_per_second() {
        let w = waits(Quota::Lambda, 30, Duration::ZERO);
        assert!(w[..15].iter().all(|d| d.is_zero()), "{w:?}");
        // The 16th call waits one token's time, the 30th fifteen of them.
        assert_eq!(w[15].as_millis(), 66);
        assert_eq!(w[29].as_millis(), 1000);
    }

    #[test]
    fn create_deployment_is_once_per_five_seconds() {
        let w = waits(Quota::CreateDeployment, 3, Duration::ZERO);
        assert_eq!(w, [0, 5, 10].map(Duration::from_secs));
        // Calls already 5 s apart never wait.
        let w = waits(Quota::CreateDeployment, 3, Duration::from_secs(5));
        assert!(w.iter().all(|d| d.is_zero()), "{w:?}");
    }

    #[test]
    fn an_idle_bucket_refills_only_up_to_its_burst() {
        let start = Instant::now();
        let mut bucket = Bucket::new(Quota::PutRestApi, start);
        assert!(bucket.reserve(start).is_zero());
        let later = start + Duration::from_secs(60);
        assert!(bucket.reserve(later).is_zero());
        assert_eq!(bucket.reserve(later), Duration::from_secs(1));
    }
}
