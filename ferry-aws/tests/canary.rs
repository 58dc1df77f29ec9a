//! Canary releases against moto: `deploy --canary PCT --bake DURATION`
//! weights the changed function's alias, bakes while it reads CloudWatch,
//! and completes (the alias on the new version, the release recorded) or,
//! when the new version's errors appear, reverts on its own (exit 3, the
//! alias back, nothing recorded). A deploy killed during its bake leaves a
//! canary that `rollback` reverts and the next `deploy` completes without
//! publishing again.
//!
//! moto's Lambda emits no metrics, so the test writes the new version's
//! `Errors` itself with PutMetricData, under the dimensions Lambda uses for
//! an alias invocation (AWS refuses PutMetricData in `AWS/` namespaces;
//! moto takes it).

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum};
use serde_json::Value;
use support::lifecycle::edit;
use support::{ferry, run, run_json, stage_writes, Readback};

const GET_ITEM: &str = "items-test-get-item";
const CANARY_PARAMETER: &str = "/ferry/items/test/canary";

/// The `test` alias of get-item: its version and its weighted one.
async fn served(aws: &Readback) -> (String, Option<String>) {
    let a = aws
        .lambda
        .get_alias()
        .function_name(GET_ITEM)
        .name("test")
        .send()
        .await
        .unwrap();
    let weighted = a
        .routing_config()
        .and_then(|r| r.additional_version_weights())
        .and_then(|w| w.keys().next().cloned());
    (a.function_version().unwrap().to_owned(), weighted)
}

async fn canary_recorded(aws: &Readback) -> bool {
    match aws.ssm.get_parameter().name(CANARY_PARAMETER).send().await {
        Ok(_) => true,
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_parameter_not_found()) =>
        {
            false
        }
        Err(e) => panic!("GetParameter: {e:?}"),
    }
}

/// A canary deploy in the background, and its stderr line by line (echoed).
fn start(ws: &std::path::Path, endpoint: &str, bake: &str) -> (Child, Receiver<String>) {
    let mut child = ferry(ws, endpoint)
        .args(["deploy", "--stage", "test", "--json", "--canary", "50"])
        .args(["--bake", bake])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            eprintln!("{line}");
            let _ = tx.send(line);
        }
    });
    (child, rx)
}

/// Waits (at most two minutes) for the bake's first reading: its baseline.
fn baking(lines: &Receiver<String>) {
    let until = Instant::now() + Duration::from_secs(120);
    while let Ok(line) = lines.recv_timeout(until.saturating_duration_since(Instant::now())) {
        if line.contains("ferry: canary 0/") {
            return;
        }
    }
    panic!("the canary never began its bake");
}

/// The version get-item's alias weights.
fn weighted(rt: &tokio::runtime::Runtime, aws: &Readback) -> String {
    rt.block_on(served(aws)).1.expect("a weighted alias")
}

/// One error of `version` of get-item, as Lambda reports it for the alias.
async fn error_of(aws: &Readback, version: &str) {
    let dim = |n: &str, v: &str| Dimension::builder().name(n).value(v).build();
    aws.cloudwatch
        .put_metric_data()
        .namespace("AWS/Lambda")
        .metric_data(
            MetricDatum::builder()
                .metric_name("Errors")
                .dimensions(dim("FunctionName", GET_ITEM))
                .dimensions(dim("Resource", &format!("{GET_ITEM}:test")))
                .dimensions(dim("ExecutedVersion", version))
                .value(1.0)
                .timestamp(DateTime::from(std::time::SystemTime::now()))
                .build(),
        )
        .send()
        .await
        .unwrap();
}

fn releases(ws: &std::path::Path, endpoint: &str) -> usize {
    let listed = run_json(ferry(ws, endpoint).args(["releases", "--stage", "test"]));
    listed.as_array().unwrap().len()
}

#[test]
fn canary_completes_reverts_and_survives_a_kill_against_moto() {
    let (moto, proxy) = support::moto_and_proxy();
    let (_lock, ws) = support::shared_workspace();
    let endpoint = proxy.url();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let aws = rt.block_on(Readback::new(&moto.url(), "us-east-1"));
    run_json(ferry(&ws, &endpoint).args(["deploy", "--stage", "test"]));
    let main_rs = ws.join("services/get-item/src/main.rs");

    // 1. A quiet bake completes: the canary is recorded before the alias
    //    shifts; then the alias takes the new version whole, the release is
    //    recorded and the canary forgotten.
    edit(&main_rs, "no item {id}", "no item numbered {id}");
    proxy.take();
    let out = run(ferry(&ws, &endpoint).args([
        "deploy", "--stage", "test", "--json", "--canary", "25", "--bake", "5s",
    ]));
    assert!(out.status.success(), "{:?}", out.status);
    let done: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(done["canary"]["verdict"], "complete", "{done}");
    assert_eq!(done["canary"]["versions"][GET_ITEM], "2");
    let writes = stage_writes(&proxy.take());
    let alias_put = format!("lambda:PUT /2015-03-31/functions/{GET_ITEM}/aliases/test");
    assert_eq!(writes.first().map(String::as_str), Some("ssm:PutParameter"));
    assert_eq!(
        writes.iter().filter(|w| **w == alias_put).count(),
        2,
        "{writes:?}"
    );
    assert_eq!(
        &writes[writes.len() - 3..],
        [
            "ssm:PutParameter",
            "ssm:PutParameter",
            "ssm:DeleteParameter"
        ]
    );
    assert_eq!(rt.block_on(served(&aws)), ("2".into(), None));
    assert!(!rt.block_on(canary_recorded(&aws)));
    assert_eq!(releases(&ws, &endpoint), 2);
    let again = run_json(ferry(&ws, &endpoint).args(["deploy", "--stage", "test"]));
    assert_eq!(again["noop"], true);
    proxy.take();

    // 2. The new version's errors revert the canary before its bake ends:
    //    exit 3, the alias back on version 2 alone, no release recorded.
    edit(&main_rs, "no item numbered {id}", "nothing under {id}");
    let (child, lines) = start(&ws, &endpoint, "2m");
    baking(&lines);
    let started = Instant::now();
    let new = weighted(&rt, &aws);
    assert_eq!(rt.block_on(served(&aws)).0, "2");
    assert!(rt.block_on(canary_recorded(&aws)));
    rt.block_on(error_of(&aws, &new));
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(
        started.elapsed() < Duration::from_secs(100),
        "waited the whole bake"
    );
    let reverted: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(reverted["canary"]["verdict"], "revert", "{reverted}");
    let reason = reverted["canary"]["reason"].as_str().unwrap();
    assert!(reason.contains(&format!("{GET_ITEM}: 1")), "{reason}");
    assert_eq!(rt.block_on(served(&aws)), ("2".into(), None));
    assert!(!rt.block_on(canary_recorded(&aws)));
    assert_eq!(releases(&ws, &endpoint), 2);
    proxy.take();

    // 3. A deploy killed during its bake leaves its canary; `rollback`
    //    reverts it to the current release, recorded as a rollback.
    let (mut child, lines) = start(&ws, &endpoint, "10m");
    baking(&lines);
    weighted(&rt, &aws);
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(rt.block_on(canary_recorded(&aws)));
    let back = run_json(ferry(&ws, &endpoint).args(["rollback", "--stage", "test", "--yes"]));
    assert_eq!(back["kind"], serde_json::json!({"rollback": {"to": 2}}));
    assert_eq!(rt.block_on(served(&aws)), ("2".into(), None));
    assert!(!rt.block_on(canary_recorded(&aws)));
    proxy.take();

    // 4. Killed again: the next plain deploy completes the canary with the
    //    version it already published: no upload, no publish.
    let (mut child, lines) = start(&ws, &endpoint, "10m");
    baking(&lines);
    let new = weighted(&rt, &aws);
    child.kill().unwrap();
    child.wait().unwrap();
    proxy.take();
    // A new canary on top of it would release the baked version unjudged.
    let refused = run(ferry(&ws, &endpoint).args(["deploy", "--stage", "test", "--canary", "10"]));
    assert_eq!(refused.status.code(), Some(1));
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("has a canary in progress already"), "{said}");
    assert_eq!(stage_writes(&proxy.take()), Vec::<String>::new());
    run_json(ferry(&ws, &endpoint).args(["deploy", "--stage", "test"]));
    let writes = stage_writes(&proxy.take());
    assert_eq!(
        writes,
        [
            alias_put.as_str(),
            "ssm:PutParameter",
            "ssm:PutParameter",
            "ssm:DeleteParameter"
        ]
    );
    assert_eq!(rt.block_on(served(&aws)), (new, None));
    let last = run_json(ferry(&ws, &endpoint).args(["deploy", "--stage", "test"]));
    assert_eq!(last["noop"], true);
    assert_eq!(stage_writes(&proxy.take()), Vec::<String>::new());
}
