//! `logs`: every selected function's log events since a time, merged in
//! time order and printed as lines or JSON; with `--follow`, what arrives
//! after, every two seconds, until Ctrl-C.

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use ferry::cli::LogsArgs;
use ferry::logs::{self, LogEvent, Seen};
use futures::future::try_join_all;
use miette::miette;

use crate::read::log_events::{self, MAX_EVENTS};
use crate::sdk::clients::Clients;

/// How often `--follow` asks again.
const POLL: Duration = Duration::from_secs(2);

pub async fn run(root: &Path, args: &LogsArgs) -> miette::Result<ExitCode> {
    let workspace = ferry::check::load(root)?;
    let stage = ferry::deploy::find_stage(&workspace, &args.stage)?;
    let groups = logs::groups(&workspace, stage, &args.services).map_err(|e| {
        miette!(
            help = "name a service crate of this workspace with -p (see `cargo xtask routes`)",
            "{e}"
        )
    })?;
    let clients = Clients::for_stage(stage).await?;
    clients.account_id().await?;
    let pattern = args.filter.as_deref().map(logs::filter_pattern);
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let mut start = now - (args.since as i64) * 1000;
    let mut seen = Seen::new();
    let mut missing: Vec<&str> = Vec::new();
    loop {
        let reads = groups.iter().map(|(service, group)| {
            log_events::events(&clients, service, group, start, pattern.as_deref())
        });
        let mut batch: Vec<LogEvent> = Vec::new();
        for ((service, group), read) in groups.iter().zip(try_join_all(reads).await?) {
            match read {
                Some((events, cut)) => {
                    if cut {
                        eprintln!("{service}: only the first {MAX_EVENTS} events from the start; narrow --since or --filter");
                    }
                    batch.extend(events);
                }
                None if !missing.contains(&service.as_str()) => {
                    missing.push(service);
                    eprintln!("{service}: no log group {group} yet (the function has not run)");
                }
                None => {}
            }
        }
        let fresh = logs::merge(batch, &mut seen);
        for event in &fresh {
            if args.json {
                let json = serde_json::json!({
                    "time": logs::utc(event.timestamp),
                    "timestamp_ms": event.timestamp,
                    "service": event.service,
                    "message": event.message.trim_end_matches(['\r', '\n']),
                });
                println!("{json}");
            } else {
                println!("{}", logs::line(event));
            }
        }
        if !args.follow {
            return Ok(ExitCode::SUCCESS);
        }
        // The last millisecond is read again: events that share it with the
        // last one printed may still arrive. `seen` drops the repeats.
        if let Some(last) = fresh.last() {
            start = start.max(last.timestamp);
            logs::forget_before(&mut seen, start);
        }
        tokio::select! {
            () = tokio::time::sleep(POLL) => {}
            _ = tokio::signal::ctrl_c() => return Ok(ExitCode::SUCCESS),
        }
    }
}
