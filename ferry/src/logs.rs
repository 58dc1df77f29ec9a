//! `logs`: what a stage's functions logged. The AWS side fetches each
//! function's events from CloudWatch Logs; this module owns the rest, pure:
//! which log groups a selection means, the `--since` and `--filter`
//! arguments, and the merge of every function's events into one stream in
//! time order, each line prefixed with its service as `serve` prints them.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::model::{Stage, Workspace};

/// One event of one function's log group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogEvent {
    /// Milliseconds since the Unix epoch, as CloudWatch Logs stamps them.
    #[serde(rename = "timestamp_ms")]
    pub timestamp: i64,
    pub service: String,
    pub message: String,
    /// CloudWatch's event id: an event read twice (when following) is one.
    #[serde(skip)]
    pub id: String,
}

/// The log group of each selected service (`/aws/lambda/<function>`), all of
/// the workspace's when `selected` is empty; an unknown name is an error
/// that lists the services.
pub fn groups(
    workspace: &Workspace,
    stage: &Stage,
    selected: &[String],
) -> Result<BTreeMap<String, String>, String> {
    let unknown: Vec<&String> = selected
        .iter()
        .filter(|s| !workspace.services.contains_key(*s))
        .collect();
    if !unknown.is_empty() {
        let known: Vec<&str> = workspace.services.keys().map(String::as_str).collect();
        return Err(format!(
            "no service named {}; the services are: {}",
            unknown
                .iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", "),
            known.join(", ")
        ));
    }
    Ok(workspace
        .services
        .keys()
        .filter(|name| selected.is_empty() || selected.contains(name))
        .map(|name| {
            let function = stage.function_name(&workspace.app, name);
            (name.clone(), format!("/aws/lambda/{function}"))
        })
        .collect())
}

/// `--since`: a duration such as `90s`, `15m`, `2h`, `1d` or `1h30m`, in seconds.
pub fn parse_since(text: &str) -> Result<u64, String> {
    let bad = || {
        format!("`{text}` is not a duration: write a number and a unit (s, m, h, d), e.g. `15m` or `1h30m`")
    };
    let mut total: u64 = 0;
    let mut number = String::new();
    for c in text.trim().chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return Err(bad()),
        };
        let n: u64 = number.parse().map_err(|_| bad())?;
        total = n
            .checked_mul(unit)
            .and_then(|s| total.checked_add(s))
            .ok_or_else(bad)?;
        number.clear();
    }
    if !number.is_empty() || total == 0 {
        return Err(bad());
    }
    Ok(total)
}

/// `--filter TEXT` as a CloudWatch Logs filter pattern that matches TEXT
/// literally (a quoted term), whatever characters it holds.
pub fn filter_pattern(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The events already printed, by time and id, while following.
pub type Seen = BTreeSet<(i64, String)>;

/// Every function's events as one stream: in time order, then by service;
/// an event seen before (by id) is dropped.
pub fn merge(events: impl IntoIterator<Item = LogEvent>, seen: &mut Seen) -> Vec<LogEvent> {
    let mut fresh: Vec<LogEvent> = events
        .into_iter()
        .filter(|e| e.id.is_empty() || seen.insert((e.timestamp, e.id.clone())))
        .collect();
    fresh.sort_by(|a, b| (a.timestamp, &a.service).cmp(&(b.timestamp, &b.service)));
    fresh
}

/// Forgets the events before `start`, which the next read does not return.
pub fn forget_before(seen: &mut Seen, start: i64) {
    *seen = seen.split_off(&(start, String::new()));
}

/// One event as a line: its UTC time, then `[service] message` as `serve`
/// prints a function's output.
pub fn line(event: &LogEvent) -> String {
    format!(
        "{} [{}] {}",
        utc(event.timestamp),
        event.service,
        event.message.trim_end_matches(['\r', '\n'])
    )
}

/// Milliseconds since the epoch as `2026-12-02T17:00:00.123Z`.
pub fn utc(ms: i64) -> String {
    let (secs, millis) = (ms.div_euclid(1000), ms.rem_euclid(1000));
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(ts: i64, service: &str, id: &str) -> LogEvent {
        LogEvent {
            timestamp: ts,
            service: service.into(),
            message: format!("{service} at {ts}\n"),
            id: id.into(),
        }
    }

    #[test]
    fn durations_are_read_with_their_units() {
        assert_eq!(parse_since("90s"), Ok(90));
        assert_eq!(parse_since("15m"), Ok(900));
        assert_eq!(parse_since("1h30m"), Ok(5400));
        assert_eq!(parse_since("2d"), Ok(172_800));
        for bad in ["", "15", "m", "15x", "-5m", "0m", "99999999999999999999d"] {
            let err = parse_since(bad).unwrap_err();
            assert!(err.contains("e.g. `15m`"), "{bad}: {err}");
        }
    }

    #[test]
    fn events_interleave_in_time_and_repeat_once() {
        let mut seen = Seen::new();
        let first = merge(
            [
                event(30, "list-items", "c"),
                event(10, "get-item", "a"),
                event(20, "list-items", "b"),
                event(20, "get-item", "d"),
            ],
            &mut seen,
        );
        let order: Vec<&str> = first.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(order, ["a", "d", "b", "c"]);
        // Following reads the last millisecond again: only new events pass.
        let again = merge(
            [event(30, "list-items", "c"), event(31, "get-item", "e")],
            &mut seen,
        );
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].id, "e");
        forget_before(&mut seen, 30);
        assert_eq!(seen.len(), 2, "{seen:?}");
    }

    #[test]
    fn a_line_carries_the_time_and_the_service() {
        assert_eq!(
            line(&event(1_700_000_000_123, "get-item", "x")),
            "2023-11-14T22:13:20.123Z [get-item] get-item at 1700000000123"
        );
        assert_eq!(utc(0), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn a_filter_matches_its_text_literally() {
        assert_eq!(filter_pattern("GET /items"), "\"GET /items\"");
        assert_eq!(filter_pattern("say \"hi\""), "\"say \\\"hi\\\"\"");
    }

    #[test]
    fn groups_follow_the_function_names_and_refuse_unknown_services() {
        let fixture = crate::model::fixture::Fixture::new()
            .service("get-item", "routes = [\"GET /items/{id}\"]\n")
            .service("list-items", "routes = [\"GET /items\"]\n");
        let ws = fixture.load().unwrap();
        let stage = ws.stages.values().next().unwrap();
        let all = groups(&ws, stage, &[]).unwrap();
        assert_eq!(all.len(), 2);
        let one = groups(&ws, stage, &["get-item".into()]).unwrap();
        let function = stage.function_name(&ws.app, "get-item");
        assert_eq!(one["get-item"], format!("/aws/lambda/{function}"));
        let err = groups(&ws, stage, &["nope".into()]).unwrap_err();
        assert!(
            err.contains("`nope`") && err.contains("get-item, list-items"),
            "{err}"
        );
    }
}
