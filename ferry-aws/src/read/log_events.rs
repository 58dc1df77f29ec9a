//! A function's log events, read from CloudWatch Logs for `logs`.

use ferry::logs::LogEvent;

use crate::sdk::clients::Clients;
use crate::sdk::fail::{self, AwsError};

/// Events read from one group in one pass at most: `--since 7d` on a busy
/// function stops here, and says so, instead of filling memory.
pub const MAX_EVENTS: usize = 10_000;
/// Pages read from one group in one pass at most (CloudWatch may answer
/// empty pages with a token while it searches a long time range).
const MAX_PAGES: usize = 500;

/// The events of `group` from `start_ms` on that match `pattern`, labelled
/// with `service`, and whether [`MAX_EVENTS`] cut them short; `None` when
/// the group does not exist (the function never ran).
pub async fn events(
    c: &Clients,
    service: &str,
    group: &str,
    start_ms: i64,
    pattern: Option<&str>,
) -> Result<Option<(Vec<LogEvent>, bool)>, AwsError> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let page = c
            .logs
            .filter_log_events()
            .log_group_name(group)
            .start_time(start_ms)
            .set_filter_pattern(pattern.map(str::to_owned))
            .set_next_token(token.clone())
            .send()
            .await;
        let page = match page {
            Ok(p) => p,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
            {
                return Ok(None)
            }
            Err(e) => return Err(fail::call("logs:FilterLogEvents", e.into_service_error())),
        };
        for e in page.events() {
            out.push(LogEvent {
                timestamp: e.timestamp().unwrap_or_default(),
                service: service.to_owned(),
                message: e.message().unwrap_or_default().to_owned(),
                id: e.event_id().unwrap_or_default().to_owned(),
            });
        }
        if out.len() >= MAX_EVENTS {
            out.truncate(MAX_EVENTS);
            return Ok(Some((out, true)));
        }
        match page.next_token() {
            // The events have ended when no token comes back, or the same.
            Some(next) if token.as_deref() != Some(next) => token = Some(next.to_owned()),
            _ => return Ok(Some((out, false))),
        }
    }
    Ok(Some((out, true)))
}
