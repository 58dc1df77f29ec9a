//! `[stages.NAME.api]` tracing, throttle, access log and quotas, and
//! `reserved-concurrency`, read from mini workspaces: what they become in
//! the model, and each mistake's error.

use crate::model::fixture::{Fixture, DEPLOY};
use crate::model::stage_api::{CloudWatchRole, Throttle, CLF_FORMAT, JSON_FORMAT};

fn shop(api: &str) -> Fixture {
    Fixture::new()
        .file("deploy.toml", &format!("{DEPLOY}\n{api}"))
        .service(
            "list",
            "routes = [\"GET /items\"]\nreserved-concurrency = 20\n",
        )
        .service("create", "routes = [\"POST /items\"]\n")
}

fn snapshot(name: &str, fixture: Fixture) {
    insta::assert_snapshot!(name, fixture.redacted_errors());
}

#[test]
fn stage_settings_and_reserved_concurrency_reach_the_model() {
    let ws = shop(concat!(
        "[stages.test.api]\ntracing = true\n\n",
        "[stages.test.api.throttle]\nrate = 100\nburst = 200\n",
        "routes = { \"POST /items\" = { rate = 5, burst = 10 } }\n\n",
        "[stages.test.api.access-log]\ncloudwatch-role = \"managed\"\n\n",
        "[stages.test.services.create]\nreserved-concurrency = 3\n",
    ))
    .load()
    .unwrap();
    let stage = &ws.stages["test"];
    let api = &stage.api;
    assert!(api.tracing);
    assert_eq!(
        api.throttle.stage,
        Some(Throttle {
            rate: 100,
            burst: 200
        })
    );
    assert_eq!(
        api.throttle.routes["POST /items"],
        Throttle { rate: 5, burst: 10 }
    );
    let log = api.access_log.as_ref().unwrap();
    assert_eq!(
        (log.format.as_str(), &log.cloudwatch_role),
        (JSON_FORMAT, &CloudWatchRole::Managed)
    );
    assert_eq!((api.quotas.resources, api.quotas.stages), (300, 10));
    let reserved = |s: &str| {
        stage
            .settings(&ws.app, &ws.services[s])
            .reserved_concurrency
    };
    assert_eq!((reserved("list"), reserved("create")), (Some(20), Some(3)));
}

#[test]
fn access_log_formats_and_roles() {
    let ws = shop("[stages.test.api.access-log]\nformat = \"clf\"\ncloudwatch-role = \"arn:aws:iam::123456789012:role/apigw-logs\"\n")
        .load()
        .unwrap();
    let log = ws.stages["test"].api.access_log.clone().unwrap();
    assert_eq!(log.format, CLF_FORMAT);
    assert_eq!(
        log.cloudwatch_role,
        CloudWatchRole::Arn("arn:aws:iam::123456789012:role/apigw-logs".into())
    );
    let ws =
        shop("[stages.test.api.access-log]\nformat = \"$context.requestId $context.status\"\n")
            .load()
            .unwrap();
    let log = ws.stages["test"].api.access_log.clone().unwrap();
    assert_eq!(log.format, "$context.requestId $context.status");
    assert_eq!(log.cloudwatch_role, CloudWatchRole::Required);
}

#[test]
fn a_throttle_without_its_burst_or_on_an_unknown_route() {
    snapshot(
        "throttle_errors",
        shop("[stages.test.api.throttle]\nrate = 100\nroutes = { \"GET /nope\" = { rate = 1, burst = 1 }, \"POST /items\" = { rate = 5, burst = 0 } }\n"),
    );
}

#[test]
fn an_access_log_format_without_the_request_id_and_a_bad_role() {
    snapshot(
        "access_log_errors",
        shop("[stages.test.api.access-log]\nformat = \"$context.status\"\ncloudwatch-role = \"apigw-logs\"\n"),
    );
}

#[test]
fn reserved_concurrency_out_of_range_and_quotas_that_are_not() {
    let fixture = Fixture::new()
        .file(
            "deploy.toml",
            &format!("{DEPLOY}\n[stages.test.api.quotas]\nstages = 0\n\n[stages.test.services.list]\nreserved-concurrency = -1\n"),
        )
        .service("list", "routes = [\"GET /items\"]\nreserved-concurrency = 2000000\n");
    snapshot("reserved_and_quota_errors", fixture);
}

#[test]
fn more_resources_than_the_quota_allows_is_refused_before_any_call() {
    let fixture = shop("[stages.test.api.quotas]\nresources = 1\n");
    snapshot("resource_quota", fixture);
    let raised = shop("[stages.test.api.quotas]\nresources = 2\n").load();
    assert!(raised.is_ok(), "the root and /items make two resources");
}

#[test]
fn an_api_name_a_log_group_cannot_carry_is_refused_with_an_access_log() {
    let fixture = shop("[stages.test.api]\nname = \"items api\"\n\n[stages.test.api.access-log]\ncloudwatch-role = \"managed\"\n");
    assert!(fixture.errors().contains("`stages.test.api.name`"));
    let plain = shop("[stages.test.api]\nname = \"items api\"\n").load();
    assert!(plain.is_ok(), "API Gateway itself takes the name");
}
