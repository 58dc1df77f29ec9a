//! Reads back the test stage's own settings and the function settings
//! outside a function's configuration: the stage's tracing, throttles and
//! access log, the access-log group, API Gateway's account role and the
//! role ferry made for it, and each function's reserved concurrency.
//!
//! moto differences: `CreateDeployment` with a stage name replaces the
//! stage with a bare one (AWS points the existing stage at the deployment
//! and keeps its settings), so after a deployment the tests deploy once
//! more and see ferry restore exactly the stage settings; `UpdateAccount` takes any role ARN (AWS checks that
//! API Gateway may assume it, and refuses a role IAM has not propagated
//! yet: ferry retries that answer); `UpdateStage` takes an access-log
//! destination whose group does not exist and a stage with access logs
//! while the account has no role (AWS refuses both: ferry creates the
//! group and checks the role before); a method override moto creates
//! starts at throttle 1000/2000 (AWS: not set), which is why ferry writes
//! the throttle of every method with settings of its own; and moto keeps no
//! account-wide concurrency (`MOTO_LAMBDA_CONCURRENCY_QUOTA` unset), where
//! AWS refuses a reservation that leaves under 100 unreserved.

use super::Readback;

/// The example's test stage, as its deploy.toml sets it.
pub async fn check_stage_settings(aws: &Readback, api_id: &str) {
    let stage = aws
        .apigw
        .get_stage()
        .rest_api_id(api_id)
        .stage_name("test")
        .send()
        .await
        .unwrap();
    assert!(stage.tracing_enabled(), "X-Ray tracing of the API stage");
    let settings = stage.method_settings().cloned().unwrap_or_default();
    let throttle = |key: &str| {
        let m = settings
            .get(key)
            .unwrap_or_else(|| panic!("no method settings {key}: {settings:?}"));
        (m.throttling_rate_limit(), m.throttling_burst_limit())
    };
    assert_eq!(throttle("*/*"), (100.0, 200), "the stage's throttle");
    assert_eq!(throttle("~1items/POST"), (10.0, 20), "POST /items");
    let log = stage.access_log_settings().expect("access log settings");
    let group = "/aws/apigateway/items-test/test/access";
    assert_eq!(
        log.destination_arn(),
        Some(format!("arn:aws:logs:us-east-1:123456789012:log-group:{group}").as_str())
    );
    assert!(log.format().unwrap().contains("$context.requestId"));
    let groups = aws
        .logs
        .describe_log_groups()
        .log_group_name_prefix(group)
        .send()
        .await
        .unwrap();
    let found = groups.log_groups().first().expect("the access-log group");
    assert_eq!(found.retention_in_days(), Some(7));
    let account = aws.apigw.get_account().send().await.unwrap();
    let role = "arn:aws:iam::123456789012:role/ferry-apigateway-cloudwatch";
    assert_eq!(account.cloudwatch_role_arn(), Some(role));
    let trust = aws
        .iam
        .get_role()
        .role_name("ferry-apigateway-cloudwatch")
        .send()
        .await
        .unwrap();
    let trust = trust
        .role()
        .unwrap()
        .assume_role_policy_document()
        .unwrap_or_default()
        .to_owned();
    assert!(trust.contains("apigateway.amazonaws.com"), "{trust}");
    let attached = aws
        .iam
        .list_attached_role_policies()
        .role_name("ferry-apigateway-cloudwatch")
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = attached
        .attached_policies()
        .iter()
        .filter_map(|p| p.policy_name())
        .collect();
    assert_eq!(names, ["AmazonAPIGatewayPushToCloudWatchLogs"]);
}

/// `create-item` reserves 20 concurrent executions; the others none.
pub async fn check_reserved_concurrency(aws: &Readback) {
    for (service, want) in [
        ("create-item", Some(20)),
        ("get-item", None),
        ("list-items", None),
        ("echo", None),
    ] {
        let out = aws
            .lambda
            .get_function_concurrency()
            .function_name(format!("items-test-{service}"))
            .send()
            .await
            .unwrap();
        assert_eq!(out.reserved_concurrent_executions(), want, "{service}");
    }
}

/// After a deploy that made a new deployment of the test stage: moto
/// replaced the stage (AWS would not), so the next deploy restores its
/// settings, and only those.
pub fn restore_after_deployment(ws: &std::path::Path, endpoint: &str) {
    let restored = super::run_json(super::ferry(ws, endpoint).args(["deploy", "--stage", "test"]));
    assert_eq!(
        super::lifecycle::applied(&restored),
        ["update_stage_settings items-test"],
        "{restored}"
    );
}
