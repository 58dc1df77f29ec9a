//! Waiting for a function to settle: a new function is `Pending` until it is
//! `Active`, and an update is `InProgress` until `Successful`; Lambda rejects
//! the next write meanwhile. The loop is separate from the AWS call so that
//! its logic is unit-tested (moto never reports Pending or InProgress).

use std::future::Future;
use std::time::Duration;

use aws_sdk_lambda::types::{LastUpdateStatus, State};

use crate::sdk::clients::Clients;
use crate::sdk::fail::AwsError;

/// One look at something that settles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Poll<T> {
    Pending(String),
    Done(T),
    Failed(String),
}

/// Polls until done or failed, backing off from 200 ms to 2 s, for at most `limit`.
pub async fn until<T, F, Fut>(what: &str, limit: Duration, mut poll: F) -> Result<T, AwsError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Poll<T>, AwsError>>,
{
    let started = tokio::time::Instant::now();
    let mut delay = Duration::from_millis(200);
    loop {
        match poll().await? {
            Poll::Done(value) => return Ok(value),
            Poll::Failed(why) => {
                return Err(AwsError::Call {
                    call: "lambda:GetFunction",
                    message: format!("{what} failed: {why}"),
                    help: "fix the cause above (often the role, a layer or the zip), then run the deploy again".into(),
                })
            }
            Poll::Pending(status) => {
                if started.elapsed() >= limit {
                    return Err(AwsError::Timeout {
                        what: what.to_owned(),
                        seconds: limit.as_secs(),
                        status,
                    });
                }
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(2));
            }
        }
    }
}

/// Waits until `function` accepts writes again; returns its new RevisionId.
pub async fn function_settled(c: &Clients, function: &str) -> Result<String, AwsError> {
    let what = format!("function {function}");
    until(&what, Duration::from_secs(300), || async {
        let Some(config) = crate::read::landed::configuration_of(c, function).await? else {
            return Ok(Poll::Pending("no configuration yet".into()));
        };
        Ok(classify(
            config.state(),
            config.last_update_status(),
            config.state_reason().or(config.last_update_status_reason()),
            config.revision_id().unwrap_or_default(),
        ))
    })
    .await
}

/// What a function's State and LastUpdateStatus mean for the next write.
pub fn classify(
    state: Option<&State>,
    update: Option<&LastUpdateStatus>,
    reason: Option<&str>,
    revision: &str,
) -> Poll<String> {
    let reason = reason.unwrap_or("no reason given").to_owned();
    match (state, update) {
        (Some(State::Failed), _) | (_, Some(LastUpdateStatus::Failed)) => Poll::Failed(reason),
        (Some(State::Pending), _) => Poll::Pending("State Pending".into()),
        (_, Some(LastUpdateStatus::InProgress)) => {
            Poll::Pending("LastUpdateStatus InProgress".into())
        }
        _ => Poll::Done(revision.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[test]
    fn states_and_update_statuses() {
        let done = classify(
            Some(&State::Active),
            Some(&LastUpdateStatus::Successful),
            None,
            "r2",
        );
        assert_eq!(done, Poll::Done("r2".into()));
        assert!(matches!(
            classify(Some(&State::Pending), None, None, "r"),
            Poll::Pending(_)
        ));
        assert!(matches!(
            classify(
                Some(&State::Active),
                Some(&LastUpdateStatus::InProgress),
                None,
                "r"
            ),
            Poll::Pending(_)
        ));
        assert_eq!(
            classify(
                Some(&State::Active),
                Some(&LastUpdateStatus::Failed),
                Some("bad zip"),
                "r"
            ),
            Poll::Failed("bad zip".into())
        );
        assert!(matches!(
            classify(Some(&State::Failed), None, None, "r"),
            Poll::Failed(_)
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn waits_through_pending_then_returns_the_revision() {
        let polls = AtomicUsize::new(0);
        let revision = until("f", Duration::from_secs(60), || async {
            let n = polls.fetch_add(1, Ordering::SeqCst);
            Ok(if n < 3 {
                classify(
                    Some(&State::Active),
                    Some(&LastUpdateStatus::InProgress),
                    None,
                    "old",
                )
            } else {
                classify(
                    Some(&State::Active),
                    Some(&LastUpdateStatus::Successful),
                    None,
                    "new",
                )
            })
        })
        .await
        .unwrap();
        assert_eq!(revision, "new");
        assert_eq!(polls.load(Ordering::SeqCst), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn gives_up_after_the_limit_naming_the_status() {
        let err = until("function f", Duration::from_secs(10), || async {
            Ok(classify(Some(&State::Pending), None, None, "r"))
        })
        .await
        .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("function f did not settle within 10 s: State Pending"),
            "{text}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_update_stops_at_once() {
        let err = until("function f", Duration::from_secs(10), || async {
            Ok(classify(
                None,
                Some(&LastUpdateStatus::Failed),
                Some("EniLimitExceeded"),
                "r",
            ))
        })
        .await
        .unwrap_err();
        assert!(err.to_string().contains("EniLimitExceeded"));
    }
}
