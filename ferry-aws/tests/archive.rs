//! The log archive against moto: `log-archive` on the test stage makes the
//! bucket, the two roles, a Firehose delivery stream to the bucket (gzip,
//! CloudWatch Logs' envelopes unpacked, under the prefix and the UTC date)
//! and a subscription filter on every function's log group and the access
//! log's. An event written to a function's log group lands in the bucket
//! under the date. A second deploy writes nothing; a filter deleted by hand
//! is what `doctor` reports and the next deploy puts back, alone. Dropped
//! from deploy.toml, the filters, roles and stream go and the logs stay. A
//! missing bucket without `create` stops the run before any write.
//!
//! moto differences (coded to AWS's documented behaviour):
//! - Firehose ignores the processing configuration (decompression and
//!   message extraction) and the compression format: moto writes each
//!   record as CloudWatch Logs sent it (a gzipped JSON envelope), where AWS
//!   writes the messages, a line each, gzipped. The test checks that the
//!   configuration is read back as sent, and that the object unzips to the
//!   event's message either way.
//! - DeleteDeliveryStream removes the stream at once; AWS keeps it
//!   DELETING for minutes, which the planner treats as gone (and a create
//!   waits out), as its unit tests check.
//! - A new stream is ACTIVE at once (AWS: CREATING for up to a minute or
//!   two, which ferry waits out), and neither Firehose nor CloudWatch Logs
//!   checks that it may assume the roles (AWS refuses a role IAM has not
//!   propagated yet, which ferry retries).

mod support;

use std::io::Read;
use std::path::Path;

use support::{ferry, run, run_json, stage_writes, writes, Readback};

const BUCKET: &str = "items-logs-test";
const STREAM: &str = "items-test-logs";
const FILTER: &str = "ferry-log-archive";

fn with_archive(ws: &Path, base: &str, line: Option<&str>) {
    let text = match line {
        Some(line) => base.replacen("[stages.test]\n", &format!("[stages.test]\n{line}\n"), 1),
        None => base.to_owned(),
    };
    std::fs::write(ws.join("deploy.toml"), text).unwrap();
}

/// The log groups the test stage's archive subscribes.
async fn stage_groups(aws: &Readback) -> Vec<String> {
    let out = aws
        .logs
        .describe_log_groups()
        .log_group_name_prefix("/aws/lambda/items-test-")
        .send()
        .await
        .unwrap();
    let mut groups: Vec<String> = out
        .log_groups()
        .iter()
        .filter_map(|g| g.log_group_name().map(str::to_owned))
        .collect();
    groups.push("/aws/apigateway/items-test/test/access".into());
    groups
}

/// ferry's filter on `group`: (destination, role).
async fn filter(aws: &Readback, group: &str) -> Option<(String, String)> {
    let out = aws
        .logs
        .describe_subscription_filters()
        .log_group_name(group)
        .send()
        .await
        .unwrap();
    out.subscription_filters()
        .iter()
        .find(|f| f.filter_name() == Some(FILTER))
        .map(|f| {
            (
                f.destination_arn().unwrap_or_default().to_owned(),
                f.role_arn().unwrap_or_default().to_owned(),
            )
        })
}

fn doctor_archive(ws: &Path, endpoint: &str) -> serde_json::Value {
    let out = run(ferry(ws, endpoint).args(["doctor", "--stage", "test", "--json"]));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    report["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["link"] == "log archive")
        .cloned()
        .unwrap_or(serde_json::Value::Null)
}

#[test]
fn logs_reach_the_bucket_and_the_archive_is_kept_like_every_resource() {
    let (moto, proxy) = support::moto_and_proxy();
    let (_lock, ws) = support::shared_workspace();
    let endpoint = proxy.url();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let aws = rt.block_on(Readback::new(&moto.url(), "us-east-1"));
    let base = std::fs::read_to_string(ws.join("deploy.toml")).unwrap();

    // 1. A bucket that does not exist, ferry not asked to create it.
    with_archive(
        &ws,
        &base,
        Some(&format!("log-archive = {{ bucket = \"{BUCKET}\" }}")),
    );
    let missing = run(ferry(&ws, &endpoint).args(["deploy", "--stage", "test"]));
    // miette wraps long lines: compare the words.
    let text: String = String::from_utf8_lossy(&missing.stderr)
        .split(|c: char| c.is_whitespace() || c == '│')
        .collect();
    assert!(!missing.status.success());
    assert!(
        text.contains("nosuchbucket") && text.contains("stages.test.log-archive.bucket"),
        "{text}"
    );
    assert_eq!(writes(&proxy.take()), Vec::<String>::new());

    // 2. The first deploy makes the whole archive.
    let line = format!("log-archive = {{ bucket = \"{BUCKET}\", create = true }}");
    with_archive(&ws, &base, Some(&line));
    let first = run_json(ferry(&ws, &endpoint).args(["deploy", "--stage", "test"]));
    assert_eq!(first["stage"], "test", "{first}");
    let calls = writes(&proxy.take());
    for call in [
        "s3:PUT /items-logs-test",
        "firehose:CreateDeliveryStream",
        "logs:PutSubscriptionFilter",
    ] {
        assert!(
            calls.iter().any(|c| c.starts_with(call)),
            "{call}: {calls:?}"
        );
    }
    let described = rt
        .block_on(
            aws.firehose
                .describe_delivery_stream()
                .delivery_stream_name(STREAM)
                .send(),
        )
        .unwrap();
    let stream = described.delivery_stream_description().unwrap();
    let stream_arn = stream.delivery_stream_arn().to_owned();
    let s3 = stream.destinations()[0]
        .extended_s3_destination_description()
        .unwrap();
    assert_eq!(s3.bucket_arn(), format!("arn:aws:s3:::{BUCKET}"));
    assert_eq!(s3.prefix(), Some("logs/items/test/"));
    assert_eq!(s3.compression_format().as_str(), "GZIP");
    assert!(s3
        .role_arn()
        .ends_with("role/ferry/items/test/items-test-logs-firehose"));
    let processors: Vec<&str> = s3
        .processing_configuration()
        .unwrap()
        .processors()
        .iter()
        .map(|p| p.r#type().as_str())
        .collect();
    assert_eq!(processors, ["Decompression", "CloudWatchLogProcessing"]);
    let groups = rt.block_on(stage_groups(&aws));
    assert!(groups.len() >= 6, "{groups:?}");
    for group in &groups {
        let (destination, role) = rt
            .block_on(filter(&aws, group))
            .unwrap_or_else(|| panic!("{group} has ferry's filter"));
        assert_eq!(destination, stream_arn, "{group}");
        assert!(
            role.ends_with("role/ferry/items/test/items-test-logs-subscribe"),
            "{role}"
        );
    }
    let trust = rt
        .block_on(
            aws.iam
                .get_role()
                .role_name("items-test-logs-subscribe")
                .send(),
        )
        .unwrap();
    let trust = trust
        .role()
        .unwrap()
        .assume_role_policy_document()
        .unwrap_or_default();
    assert!(trust.contains("logs.amazonaws.com"), "{trust}");

    // 3. An event in a function's log group reaches the bucket, under the
    //    prefix and the UTC date and hour.
    let group = "/aws/lambda/items-test-get-item";
    rt.block_on(
        aws.logs
            .create_log_stream()
            .log_group_name(group)
            .log_stream_name("archive-test")
            .send(),
    )
    .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let event = aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
        .timestamp(now)
        .message("archived: GET /items/42 200")
        .build()
        .unwrap();
    rt.block_on(
        aws.logs
            .put_log_events()
            .log_group_name(group)
            .log_stream_name("archive-test")
            .log_events(event)
            .send(),
    )
    .unwrap();
    let listed = rt
        .block_on(
            aws.s3
                .list_objects_v2()
                .bucket(BUCKET)
                .prefix("logs/items/test/")
                .send(),
        )
        .unwrap();
    let keys: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys.len(), 1, "{keys:?}");
    let date = keys[0].trim_start_matches("logs/items/test/");
    let parts: Vec<&str> = date.split('/').collect();
    assert!(
        parts.len() == 5
            && parts[..4]
                .iter()
                .all(|p| p.chars().all(|c| c.is_ascii_digit())),
        "YYYY/MM/DD/HH/name: {date}"
    );
    let object = rt
        .block_on(aws.s3.get_object().bucket(BUCKET).key(keys[0]).send())
        .unwrap();
    let gz = rt.block_on(object.body.collect()).unwrap().into_bytes();
    let mut text = String::new();
    flate2::read::MultiGzDecoder::new(&gz[..])
        .read_to_string(&mut text)
        .unwrap();
    assert!(text.contains("archived: GET /items/42 200"), "{text}");

    // 4. Nothing changed: nothing written.
    let again = run_json(ferry(&ws, &endpoint).args(["deploy", "--stage", "test"]));
    assert_eq!(again["noop"], true, "{again}");
    assert_eq!(stage_writes(&proxy.take()), Vec::<String>::new());
    assert_eq!(doctor_archive(&ws, &endpoint)["ok"], true);

    // 5. A filter deleted by hand: doctor names it; deploy puts it back alone.
    rt.block_on(
        aws.logs
            .delete_subscription_filter()
            .log_group_name(group)
            .filter_name(FILTER)
            .send(),
    )
    .unwrap();
    let broken = doctor_archive(&ws, &endpoint);
    assert_eq!(broken["ok"], false, "{broken}");
    assert!(
        broken["detail"].as_str().unwrap().contains(group),
        "{broken}"
    );
    proxy.take();
    let repaired = run_json(ferry(&ws, &endpoint).args(["deploy", "--stage", "test"]));
    assert_eq!(repaired["stage"], "test", "{repaired}");
    assert_eq!(stage_writes(&proxy.take()), ["logs:PutSubscriptionFilter"]);
    assert!(rt.block_on(filter(&aws, group)).is_some());

    // 6. Dropped from deploy.toml: the plan shows the removal; the deploy
    //    takes down filters, roles and stream, and keeps the logs.
    with_archive(&ws, &base, None);
    let plan = run(ferry(&ws, &endpoint).args(["plan", "--stage", "test"]));
    let text = String::from_utf8_lossy(&plan.stdout).into_owned();
    assert!(
        text.contains(&format!("delete   delivery stream {STREAM}")),
        "{text}"
    );
    let removed = run_json(ferry(&ws, &endpoint).args(["deploy", "--stage", "test"]));
    assert_eq!(removed["stage"], "test", "{removed}");
    let gone = rt.block_on(
        aws.firehose
            .describe_delivery_stream()
            .delivery_stream_name(STREAM)
            .send(),
    );
    assert!(gone.is_err(), "the stream is deleted");
    for group in &groups {
        assert_eq!(rt.block_on(filter(&aws, group)), None, "{group}");
    }
    for role in ["items-test-logs-firehose", "items-test-logs-subscribe"] {
        assert!(
            rt.block_on(aws.iam.get_role().role_name(role).send())
                .is_err(),
            "{role}"
        );
    }
    let kept = rt
        .block_on(
            aws.s3
                .list_objects_v2()
                .bucket(BUCKET)
                .prefix("logs/")
                .send(),
        )
        .unwrap();
    assert_eq!(kept.contents().len(), 1, "the archived logs stay");
    proxy.take();
    let after = run_json(ferry(&ws, &endpoint).args(["deploy", "--stage", "test"]));
    assert_eq!(after["noop"], true, "{after}");
    assert_eq!(stage_writes(&proxy.take()), Vec::<String>::new());
}
