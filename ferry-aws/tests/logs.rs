//! `logs` against moto: lines two functions wrote (with PutLogEvents, as
//! Lambda writes them) come back interleaved in time and prefixed with their
//! service; `-p`, `--filter`, `--since` and `--json` narrow and shape them;
//! `--follow` prints what arrives later; an unknown service is refused before
//! any AWS call; and reading logs writes nothing.

mod support;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, SystemTime};

use support::{ferry, writes, Readback};

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// Writes `lines` (milliseconds ago, message) to a stream of `group`.
async fn put(aws: &Readback, group: &str, stream: &str, lines: &[(i64, &str)]) {
    let _ = aws
        .logs
        .create_log_group()
        .log_group_name(group)
        .send()
        .await;
    let _ = aws
        .logs
        .create_log_stream()
        .log_group_name(group)
        .log_stream_name(stream)
        .send()
        .await;
    let now = now_ms();
    let events = lines.iter().map(|(ago, message)| {
        aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
            .timestamp(now - ago)
            .message(*message)
            .build()
            .unwrap()
    });
    aws.logs
        .put_log_events()
        .log_group_name(group)
        .log_stream_name(stream)
        .set_log_events(Some(events.collect()))
        .send()
        .await
        .unwrap();
}

fn logs(args: &[&str], url: &str) -> (bool, String, String) {
    let out = ferry(&support::example_root(), url)
        .args(["logs", "--stage", "test"])
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The `[service] message` part of each line, without the time.
fn tails(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .map(|l| l.split_once(' ').map_or(l, |(_, rest)| rest).to_owned())
        .collect()
}

#[test]
fn logs_interleave_every_function_and_write_nothing() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (moto, proxy) = support::moto_and_proxy();
    let aws = rt.block_on(Readback::new(&moto.url(), "us-east-1"));
    let get = "/aws/lambda/items-test-get-item";
    let list = "/aws/lambda/items-test-list-items";
    rt.block_on(async {
        put(&aws, get, "a", &[(50_000, "get one"), (30_000, "get two")]).await;
        put(
            &aws,
            list,
            "b",
            &[(40_000, "list one"), (20_000, "list two")],
        )
        .await;
        // Older than the default 15 minutes.
        put(&aws, list, "c", &[(3_600_000, "list an hour ago")]).await;
    });
    proxy.take();

    let (ok, stdout, stderr) = logs(&[], &proxy.url());
    assert!(ok, "{stderr}");
    assert_eq!(
        tails(&stdout),
        [
            "[get-item] get one",
            "[list-items] list one",
            "[get-item] get two",
            "[list-items] list two"
        ],
        "{stdout}"
    );
    assert!(stdout.lines().all(|l| l.ends_with(|c: char| c != ' ')));
    assert!(stderr.contains("create-item: no log group"), "{stderr}");

    let (ok, stdout, _) = logs(&["--since", "2h", "-p", "list-items"], &proxy.url());
    assert!(ok);
    assert_eq!(
        tails(&stdout),
        [
            "[list-items] list an hour ago",
            "[list-items] list one",
            "[list-items] list two"
        ]
    );

    let (ok, stdout, _) = logs(&["--filter", "two", "--json"], &proxy.url());
    assert!(ok);
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert_eq!(lines[0]["service"], "get-item");
    assert_eq!(lines[1]["message"], "list two");
    assert!(
        lines[0]["timestamp_ms"].as_i64().unwrap() < lines[1]["timestamp_ms"].as_i64().unwrap()
    );

    assert_eq!(writes(&proxy.take()), Vec::<String>::new(), "logs wrote");

    // Bad input: refused before any request.
    let (ok, _, stderr) = logs(&["-p", "no-such"], &proxy.url());
    assert!(!ok);
    assert!(
        stderr.contains("`no-such`") && stderr.contains("get-item"),
        "{stderr}"
    );
    let (ok, _, stderr) = logs(&["--since", "soon"], &proxy.url());
    assert!(!ok);
    assert!(stderr.contains("not a duration"), "{stderr}");
    assert!(proxy.take().is_empty(), "bad input made requests");

    // --follow prints what arrives after it started, once, then is stopped.
    let mut child = ferry(&support::example_root(), &proxy.url())
        .args(["logs", "--stage", "test", "--follow", "-p", "get-item"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let next = |rx: &std::sync::mpsc::Receiver<String>| rx.recv_timeout(Duration::from_secs(30));
    assert!(next(&rx).unwrap().ends_with("[get-item] get one"));
    assert!(next(&rx).unwrap().ends_with("[get-item] get two"));
    rt.block_on(put(&aws, get, "a", &[(0, "get three, later")]));
    let later = next(&rx);
    // Two more polls, which read the last millisecond again.
    std::thread::sleep(Duration::from_secs(5));
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(later.unwrap().ends_with("[get-item] get three, later"));
    let repeated: Vec<String> = rx.try_iter().collect();
    assert_eq!(repeated, Vec::<String>::new(), "lines printed twice");
}
