//! Throttling recognised by HTTP status as well as by error code. The SDK
//! retries 500, 502, 503 and 504 by status, but knows throttling only from
//! the error code it parses; a 429 whose body it cannot parse (empty, HTML
//! from a gateway, another protocol's format) ends the call after one
//! attempt. Every client ferry makes retries 429 and 503, whatever the body,
//! as throttling, after the server's `Retry-After` when it gives one.

use std::time::{Duration, SystemTime};

use aws_smithy_runtime_api::client::interceptors::context::InterceptorContext;
use aws_smithy_runtime_api::client::retries::classifiers::{
    ClassifyRetry, RetryAction, RetryClassifierPriority,
};
use aws_smithy_runtime_api::http::Headers;
use aws_smithy_types::date_time::Format;
use aws_smithy_types::retry::ErrorKind;
use aws_smithy_types::DateTime;

/// Statuses that mean "slow down", whatever the body says.
const THROTTLING_STATUSES: [u16; 2] = [429, 503];
/// A server asking for more than this is asked again sooner: the backoff's
/// own ceiling (clients.rs) bounds every wait.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(10);

#[derive(Debug, Default, Clone, Copy)]
pub struct ThrottlingByStatus;

impl ClassifyRetry for ThrottlingByStatus {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        if !matches!(ctx.output_or_error(), Some(Err(_))) {
            return RetryAction::NoActionIndicated;
        }
        let Some(response) = ctx.response() else {
            return RetryAction::NoActionIndicated;
        };
        classify(
            response.status().as_u16(),
            response.headers(),
            SystemTime::now(),
        )
    }

    fn name(&self) -> &'static str {
        "ThrottlingByStatus"
    }

    /// Last, so that its verdict stands over the status and error-code
    /// classifiers' (which call a 503 transient, or find no code at all).
    fn priority(&self) -> RetryClassifierPriority {
        RetryClassifierPriority::run_after(RetryClassifierPriority::transient_error_classifier())
    }
}

/// The verdict for a failed answer with `status` and `headers`.
pub fn classify(status: u16, headers: &Headers, now: SystemTime) -> RetryAction {
    if !THROTTLING_STATUSES.contains(&status) {
        return RetryAction::NoActionIndicated;
    }
    match retry_after(headers, now) {
        Some(delay) if !delay.is_zero() => RetryAction::retryable_error_with_explicit_delay(
            ErrorKind::ThrottlingError,
            delay.min(MAX_RETRY_AFTER),
        ),
        _ => RetryAction::throttling_error(),
    }
}

/// How long the server asks to wait: `Retry-After` in seconds or as an HTTP
/// date, or AWS's `x-amz-retry-after` in milliseconds.
pub fn retry_after(headers: &Headers, now: SystemTime) -> Option<Duration> {
    if let Some(value) = headers.get("retry-after").map(str::trim) {
        if let Ok(seconds) = value.parse::<u64>() {
            return Some(Duration::from_secs(seconds));
        }
        if let Ok(date) = DateTime::from_str(value, Format::HttpDate) {
            let at = SystemTime::try_from(date).ok()?;
            return Some(at.duration_since(now).unwrap_or_default());
        }
    }
    headers
        .get("x-amz-retry-after")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_millis)
}

#[cfg(test)]
mod tests {
    use aws_smithy_runtime_api::client::interceptors::context::Input;
    use aws_smithy_runtime_api::client::orchestrator::{HttpResponse, OrchestratorError};
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;

    use super::*;

    fn answered(status: u16, body: &str, headers: &[(&str, &str)]) -> InterceptorContext {
        let mut ctx = InterceptorContext::new(Input::erase(()));
        let mut response = HttpResponse::new(
            StatusCode::try_from(status).unwrap(),
            SdkBody::from(body.to_owned()),
        );
        for (k, v) in headers {
            response.headers_mut().insert(k.to_string(), v.to_string());
        }
        ctx.set_response(response);
        ctx.set_output_or_error(Err(OrchestratorError::other(format!(
            "unhandled error: the body of a {status} did not parse"
        ))));
        ctx
    }

    #[test]
    fn a_429_or_503_is_throttling_whatever_its_body() {
        for status in [429, 503] {
            for body in [
                "",
                "<html><body>Too Many Requests</body></html>",
                r#"{"message":"slow down"}"#,
            ] {
                assert_eq!(
                    ThrottlingByStatus.classify_retry(&answered(status, body, &[])),
                    RetryAction::throttling_error(),
                    "{status} {body:?}"
                );
            }
        }
    }

    #[test]
    fn other_statuses_are_left_to_the_sdk() {
        for status in [400, 403, 404, 409, 500, 502, 504] {
            assert_eq!(
                ThrottlingByStatus.classify_retry(&answered(status, "<html/>", &[])),
                RetryAction::NoActionIndicated,
                "{status}"
            );
        }
        // A success is never retried.
        let mut ok = answered(429, "", &[]);
        ok.set_output_or_error(Ok(
            aws_smithy_runtime_api::client::interceptors::context::Output::erase(()),
        ));
        assert_eq!(
            ThrottlingByStatus.classify_retry(&ok),
            RetryAction::NoActionIndicated
        );
    }

    #[test]
    fn retry_after_sets_the_delay_in_seconds_date_or_milliseconds() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let cases: [(&str, &str, Duration); 4] = [
            ("retry-after", "3", Duration::from_secs(3)),
            (
                "Retry-After",
                "Tue, 14 Nov 2023 22:13:25 GMT",
                Duration::from_secs(5),
            ),
            ("x-amz-retry-after", "1500", Duration::from_millis(1500)),
            ("retry-after", "3600", MAX_RETRY_AFTER),
        ];
        for (name, value, delay) in cases {
            let mut headers = Headers::new();
            headers.insert(name.to_owned(), value.to_owned());
            assert_eq!(
                classify(429, &headers, now),
                RetryAction::retryable_error_with_explicit_delay(ErrorKind::ThrottlingError, delay),
                "{name}: {value}"
            );
        }
        let mut garbage = Headers::new();
        garbage.insert("retry-after", "soon");
        assert_eq!(
            classify(503, &garbage, now),
            RetryAction::throttling_error()
        );
    }
}
