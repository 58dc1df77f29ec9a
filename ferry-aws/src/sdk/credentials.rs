//! The run's credentials. They come from the SDK's standard chain and are
//! held here rather than in the SDK's identity cache, so that they can be
//! dropped when AWS answers that they expired (`ExpiredToken`,
//! `ExpiredTokenException`) before their stated expiry: a CI job's OIDC
//! session cut short, a clock off by minutes. Credentials that carry an
//! expiry came from a source that issues new ones (web identity, SSO, an
//! assumed role, a container or instance role), so the call is tried again
//! with fresh ones; keys without an expiry cannot be renewed and the answer
//! stands, which stops the deploy before its next write.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::{self, future, ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use aws_smithy_runtime_api::client::interceptors::context::InterceptorContext;
use aws_smithy_runtime_api::client::retries::classifiers::{
    ClassifyRetry, RetryAction, RetryClassifierPriority,
};
use aws_smithy_runtime_api::http::Headers;
use aws_smithy_types::retry::ErrorKind;

/// Renewed this long before they expire, so that a long deploy does not
/// meet their expiry mid-write (the SDK's own cache allows ten seconds).
const RENEW_BEFORE: Duration = Duration::from_secs(300);
/// Renewals after an "expired" answer in one run: a source that keeps
/// issuing credentials AWS refuses is not asked forever.
const MAX_RENEWALS: u32 = 3;
/// Credentials loaded this recently are used until they expire even when
/// inside [`RENEW_BEFORE`]: a source that only has short-lived ones (an SSO
/// session near its end) is not asked again for every request.
const MIN_RELOAD_INTERVAL: Duration = Duration::from_secs(10);

#[derive(Clone, Debug)]
pub struct Renewing(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    chain: SharedCredentialsProvider,
    held: Mutex<Held>,
    /// One load at a time: concurrent calls wait for it instead of each
    /// asking the source.
    loading: tokio::sync::Mutex<()>,
}

#[derive(Debug, Default)]
struct Held {
    current: Option<Credentials>,
    loaded_at: Option<std::time::Instant>,
    renewals: u32,
}

impl Renewing {
    pub fn new(chain: SharedCredentialsProvider) -> Self {
        Renewing(Arc::new(Inner {
            chain,
            held: Mutex::new(Held::default()),
            loading: tokio::sync::Mutex::new(()),
        }))
    }

    fn held(&self) -> std::sync::MutexGuard<'_, Held> {
        self.0.held.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn fresh(&self, now: SystemTime) -> Option<Credentials> {
        let held = self.held();
        let recent = held
            .loaded_at
            .is_some_and(|at| at.elapsed() < MIN_RELOAD_INTERVAL);
        held.current.clone().filter(|c| match c.expiry() {
            None => true,
            Some(at) => at > now + RENEW_BEFORE || (recent && at > now),
        })
    }

    async fn load(&self) -> provider::Result {
        if let Some(c) = self.fresh(SystemTime::now()) {
            return Ok(c);
        }
        let _one = self.0.loading.lock().await;
        if let Some(c) = self.fresh(SystemTime::now()) {
            return Ok(c);
        }
        let loaded = self.0.chain.provide_credentials().await?;
        let mut held = self.held();
        held.current = Some(loaded.clone());
        held.loaded_at = Some(std::time::Instant::now());
        Ok(loaded)
    }

    /// AWS answered that the credentials expired. Drops them when their
    /// source can issue new ones; whether the call is worth another attempt.
    pub fn renew_after_expired(&self) -> bool {
        let mut held = self.held();
        match &held.current {
            // Dropped already by a call that failed at the same time.
            None => true,
            Some(c) if c.expiry().is_none() => false,
            Some(_) if held.renewals >= MAX_RENEWALS => false,
            Some(_) => {
                held.current = None;
                held.renewals += 1;
                true
            }
        }
    }
}

impl ProvideCredentials for Renewing {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(self.load())
    }
}

/// Whether an answer says the request's credentials expired: the error code
/// in the body (XML and JSON protocols) or in `x-amzn-ErrorType` (REST).
pub fn expired_answer(status: u16, headers: &Headers, body: &[u8]) -> bool {
    if !matches!(status, 400 | 403) {
        return false;
    }
    let typed = headers
        .get("x-amzn-errortype")
        .is_some_and(|t| t.starts_with("ExpiredToken"));
    typed
        || body
            .windows(b"ExpiredToken".len())
            .any(|w| w == b"ExpiredToken")
}

/// Retries a call AWS refused for expired credentials once they are renewed.
#[derive(Debug, Clone)]
pub struct ExpiredCredentials(pub Renewing);

impl ClassifyRetry for ExpiredCredentials {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        if !matches!(ctx.output_or_error(), Some(Err(_))) {
            return RetryAction::NoActionIndicated;
        }
        let Some(response) = ctx.response() else {
            return RetryAction::NoActionIndicated;
        };
        let body = response.body().bytes().unwrap_or_default();
        if expired_answer(response.status().as_u16(), response.headers(), body)
            && self.0.renew_after_expired()
        {
            return RetryAction::retryable_error(ErrorKind::TransientError);
        }
        RetryAction::NoActionIndicated
    }

    fn name(&self) -> &'static str {
        "ExpiredCredentials"
    }

    fn priority(&self) -> RetryClassifierPriority {
        RetryClassifierPriority::run_after(RetryClassifierPriority::transient_error_classifier())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use aws_credential_types::provider::error::CredentialsError;

    use super::*;

    /// A source that issues new keys on each call, expiring in an hour,
    /// or static keys without an expiry.
    #[derive(Debug)]
    struct Source {
        issued: AtomicU32,
        expiring: bool,
        lifetime: Duration,
    }

    impl ProvideCredentials for Source {
        fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            let n = self.issued.fetch_add(1, Ordering::SeqCst);
            let expiry = self.expiring.then(|| SystemTime::now() + self.lifetime);
            future::ProvideCredentials::ready(Ok(Credentials::new(
                format!("AKID{n}"),
                "secret",
                None,
                expiry,
                "test",
            )))
        }
    }

    fn renewing(expiring: bool) -> Renewing {
        lasting(expiring, Duration::from_secs(3600))
    }

    fn lasting(expiring: bool, lifetime: Duration) -> Renewing {
        Renewing::new(SharedCredentialsProvider::new(Source {
            issued: AtomicU32::new(0),
            expiring,
            lifetime,
        }))
    }

    async fn key(r: &Renewing) -> String {
        r.provide_credentials()
            .await
            .map_err(|e: CredentialsError| e.to_string())
            .unwrap()
            .access_key_id()
            .to_owned()
    }

    #[tokio::test]
    async fn expiring_credentials_are_renewed_after_an_expired_answer() {
        let r = renewing(true);
        assert_eq!(key(&r).await, "AKID0");
        assert_eq!(key(&r).await, "AKID0", "held between calls");
        assert!(r.renew_after_expired());
        // A second call that failed at the same time does not renew again.
        assert!(r.renew_after_expired());
        assert_eq!(key(&r).await, "AKID1");
        for _ in 1..MAX_RENEWALS {
            assert!(r.renew_after_expired());
            key(&r).await;
        }
        assert!(!r.renew_after_expired(), "renewals are bounded");
    }

    #[tokio::test]
    async fn short_lived_credentials_are_not_reloaded_for_every_request() {
        // Two minutes left: inside the renewal window from the start.
        let r = lasting(true, Duration::from_secs(120));
        assert_eq!(key(&r).await, "AKID0");
        assert_eq!(key(&r).await, "AKID0");
        r.held().loaded_at = Some(std::time::Instant::now() - MIN_RELOAD_INTERVAL);
        assert_eq!(
            key(&r).await,
            "AKID1",
            "asked again once the interval passed"
        );
    }

    #[tokio::test]
    async fn static_keys_cannot_be_renewed() {
        let r = renewing(false);
        assert_eq!(key(&r).await, "AKID0");
        assert!(!r.renew_after_expired());
        assert_eq!(key(&r).await, "AKID0");
    }

    #[test]
    fn an_expired_answer_is_told_by_code_in_any_protocol() {
        let none = Headers::new();
        let xml = b"<ErrorResponse><Error><Code>ExpiredToken</Code></Error></ErrorResponse>";
        assert!(expired_answer(403, &none, xml));
        assert!(expired_answer(
            400,
            &none,
            br#"{"__type":"ExpiredTokenException","message":"expired"}"#
        ));
        let mut rest = Headers::new();
        rest.insert("x-amzn-ErrorType", "ExpiredTokenException:http://internal");
        assert!(expired_answer(403, &rest, b"{\"message\":\"expired\"}"));
        assert!(!expired_answer(500, &none, xml), "a 5xx is another matter");
        assert!(!expired_answer(403, &none, b"<Code>AccessDenied</Code>"));
    }
}
