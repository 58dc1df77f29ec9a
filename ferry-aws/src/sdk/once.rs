//! Writes that must not happen twice. The SDK retries a failed call, which
//! is right for reads and for writes that are idempotent, but a write whose
//! response was lost (a dropped connection, a 5xx after AWS acted, a
//! timeout) may already have happened: publishing a layer version, creating
//! a REST API or a deployment, or adding a permission again makes a
//! duplicate. These calls make one attempt at a time, and after a transient
//! failure look whether the write landed before they try again.

use std::future::Future;
use std::time::{Duration, SystemTime};

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::{CreateUnhandledError, SdkError};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::sdk::credentials::{self, Renewing};
use crate::sdk::fail::{self, AwsError};
use crate::sdk::retry;

/// Attempts of one exactly-once write, as many as the SDK makes of others.
const ATTEMPTS: u32 = 8;
/// The longest wait between two attempts, as for the SDK's own retries.
const MAX_DELAY: Duration = Duration::from_secs(10);

/// Whether a failure may be over by itself: throttling (429 or 503 whatever
/// the body), a 5xx, a timeout, a connection that broke, or a signature
/// refused for clock skew (the SDK signs the next attempt with the server's
/// time). Only these are worth another attempt.
pub fn transient<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> bool {
    match err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(ctx) => {
            let status = ctx.raw().status().as_u16();
            let code = ctx.err().code().unwrap_or_default();
            let skewed = code == "RequestTimeTooSkewed"
                || ctx
                    .err()
                    .message()
                    .is_some_and(|m| m.contains("Signature expired"));
            status >= 500
                || status == 429
                || code.starts_with("Throttl")
                || code.starts_with("TooManyRequests")
                || skewed
        }
        _ => false,
    }
}

/// Whether AWS refused the call's credentials as expired (nothing landed).
pub fn expired<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> bool {
    let SdkError::ServiceError(ctx) = err else {
        return false;
    };
    let raw = ctx.raw();
    ctx.err()
        .code()
        .is_some_and(|c| c.starts_with("ExpiredToken"))
        || credentials::expired_answer(
            raw.status().as_u16(),
            raw.headers(),
            raw.body().bytes().unwrap_or_default(),
        )
}

/// Runs `attempt` (which must disable the SDK's own retries) until it
/// succeeds; after each transient failure `landed` reads whether an earlier
/// attempt took effect, and its answer is used instead of trying again. An
/// answer that the credentials expired is tried again at once when they
/// could be renewed.
pub async fn write<T, E, A, AFut, L, LFut>(
    call: &'static str,
    credentials: &Renewing,
    mut attempt: A,
    mut landed: L,
) -> Result<T, AwsError>
where
    E: ProvideErrorMetadata + CreateUnhandledError + std::error::Error + Send + Sync + 'static,
    A: FnMut() -> AFut,
    AFut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
    L: FnMut() -> LFut,
    LFut: Future<Output = Result<Option<T>, AwsError>>,
{
    let mut delay = Duration::from_millis(200);
    let mut tries = 1;
    loop {
        match attempt().await {
            Ok(value) => return Ok(value),
            Err(e) if expired(&e) && tries < ATTEMPTS && credentials.renew_after_expired() => {
                tries += 1;
            }
            Err(e) if transient(&e) && tries < ATTEMPTS => {
                if let Some(value) = landed().await? {
                    return Ok(value);
                }
                // The server's own `Retry-After`, when it gives one.
                let asked = match &e {
                    SdkError::ServiceError(answer) => {
                        retry::retry_after(answer.raw().headers(), SystemTime::now())
                    }
                    _ => None,
                };
                let wait = asked.map_or_else(|| jittered(delay), |d| d.min(MAX_DELAY));
                tokio::time::sleep(wait).await;
                delay = (delay * 2).min(MAX_DELAY);
                tries += 1;
            }
            Err(e) => return Err(fail::call(call, e.into_service_error())),
        }
    }
}

/// Lambda's settings for one attempt of [`write`], which retries itself.
pub fn lambda_single() -> aws_sdk_lambda::config::Builder {
    aws_sdk_lambda::config::Builder::default()
        .retry_config(aws_config::retry::RetryConfig::disabled())
}

/// API Gateway's settings for one attempt of [`write`], which retries itself.
pub fn apigw_single() -> aws_sdk_apigateway::config::Builder {
    aws_sdk_apigateway::config::Builder::default()
        .retry_config(aws_config::retry::RetryConfig::disabled())
}

/// Between half and all of `delay`, so that retries of concurrent tasks spread.
fn jittered(delay: Duration) -> Duration {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let fraction = 0.5 + f64::from(nanos % 1000) / 2000.0;
    delay.mul_f64(fraction)
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use aws_sdk_lambda::operation::publish_layer_version::PublishLayerVersionError;
    use aws_smithy_runtime_api::client::result::ServiceError;
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;

    use super::*;

    fn static_keys() -> Renewing {
        Renewing::new(
            aws_credential_types::provider::SharedCredentialsProvider::new(
                aws_credential_types::Credentials::new("AKID", "secret", None, None, "test"),
            ),
        )
    }

    fn failure(status: u16, code: &str) -> SdkError<PublishLayerVersionError, HttpResponse> {
        let err = PublishLayerVersionError::generic(ErrorMetadata::builder().code(code).build());
        let raw = HttpResponse::new(StatusCode::try_from(status).unwrap(), SdkBody::empty());
        SdkError::ServiceError(ServiceError::builder().source(err).raw(raw).build())
    }

    #[tokio::test(start_paused = true)]
    async fn an_unparseable_429_is_retried_after_the_time_it_asks() {
        let attempts = Cell::new(0);
        let started = tokio::time::Instant::now();
        let out = write(
            "lambda:PublishLayerVersion",
            &static_keys(),
            || {
                attempts.set(attempts.get() + 1);
                let first = attempts.get() == 1;
                async move {
                    if first {
                        let mut raw =
                            HttpResponse::new(StatusCode::try_from(429).unwrap(), SdkBody::empty());
                        raw.headers_mut().insert("retry-after", "3");
                        let err = PublishLayerVersionError::unhandled("no root element");
                        let answer: ServiceError<PublishLayerVersionError, HttpResponse> =
                            ServiceError::builder().source(err).raw(raw).build();
                        Err(SdkError::ServiceError(answer))
                    } else {
                        Ok("arn:layer:8".to_owned())
                    }
                }
            },
            || async { Ok(None) },
        )
        .await;
        assert_eq!(out.unwrap(), "arn:layer:8");
        assert_eq!(attempts.get(), 2);
        assert_eq!(started.elapsed().as_secs(), 3);
    }

    #[test]
    fn only_passing_failures_are_transient() {
        assert!(transient(&failure(500, "InternalFailure")));
        assert!(transient(&failure(429, "TooManyRequestsException")));
        assert!(transient(&failure(400, "ThrottlingException")));
        assert!(!transient(&failure(400, "InvalidParameterValueException")));
        assert!(!transient(&failure(403, "AccessDeniedException")));
        assert!(transient(&failure(403, "RequestTimeTooSkewed")));
        let expired = PublishLayerVersionError::generic(
            ErrorMetadata::builder()
                .code("InvalidSignatureException")
                .message("Signature expired: 20231114T221320Z is now earlier than 20231114T222320Z")
                .build(),
        );
        let raw = HttpResponse::new(StatusCode::try_from(403).unwrap(), SdkBody::empty());
        let answer: ServiceError<PublishLayerVersionError, HttpResponse> =
            ServiceError::builder().source(expired).raw(raw).build();
        assert!(transient(&SdkError::ServiceError(answer)));
        assert!(!transient(&failure(403, "InvalidSignatureException")));
    }

    #[tokio::test(start_paused = true)]
    async fn a_write_that_landed_is_not_made_again() {
        let attempts = Cell::new(0);
        let looks = Cell::new(0);
        let out = write(
            "lambda:PublishLayerVersion",
            &static_keys(),
            || {
                attempts.set(attempts.get() + 1);
                async { Err::<String, _>(failure(500, "InternalFailure")) }
            },
            || {
                looks.set(looks.get() + 1);
                async { Ok(Some("arn:layer:7".to_owned())) }
            },
        )
        .await;
        assert_eq!(out.unwrap(), "arn:layer:7");
        assert_eq!((attempts.get(), looks.get()), (1, 1));
    }

    #[tokio::test(start_paused = true)]
    async fn a_write_that_did_not_land_is_tried_again_then_given_up() {
        let attempts = Cell::new(0);
        let out = write(
            "lambda:PublishLayerVersion",
            &static_keys(),
            || {
                attempts.set(attempts.get() + 1);
                async { Err::<String, _>(failure(503, "ServiceUnavailable")) }
            },
            || async { Ok(None) },
        )
        .await;
        assert_eq!(attempts.get(), ATTEMPTS);
        let message = out.unwrap_err().to_string();
        assert!(message.contains("lambda:PublishLayerVersion"), "{message}");
    }

    #[tokio::test(start_paused = true)]
    async fn expired_credentials_are_tried_again_only_when_renewable() {
        let session = Renewing::new(
            aws_credential_types::provider::SharedCredentialsProvider::new(
                aws_credential_types::Credentials::new(
                    "ASIA",
                    "secret",
                    Some("token".into()),
                    Some(SystemTime::now() + Duration::from_secs(3600)),
                    "WebIdentityToken",
                ),
            ),
        );
        use aws_credential_types::provider::ProvideCredentials;
        for (credentials, attempts_made) in [(session, 2), (static_keys(), 1)] {
            credentials.provide_credentials().await.unwrap();
            let attempts = Cell::new(0);
            let out = write(
                "lambda:PublishLayerVersion",
                &credentials,
                || {
                    attempts.set(attempts.get() + 1);
                    let first = attempts.get() == 1;
                    async move {
                        if first {
                            Err(failure(403, "ExpiredTokenException"))
                        } else {
                            Ok("arn:layer:9".to_owned())
                        }
                    }
                },
                || async { panic!("an expired answer landed nothing to look for") },
            )
            .await;
            assert_eq!(attempts.get(), attempts_made);
            assert_eq!(out.is_ok(), attempts_made == 2);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_refusal_is_not_retried() {
        let attempts = Cell::new(0);
        let out = write(
            "lambda:PublishLayerVersion",
            &static_keys(),
            || {
                attempts.set(attempts.get() + 1);
                async { Err::<String, _>(failure(400, "InvalidParameterValueException")) }
            },
            || async { Ok(None) },
        )
        .await;
        assert!(out.is_err());
        assert_eq!(attempts.get(), 1);
    }
}
