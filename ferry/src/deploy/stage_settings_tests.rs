//! A stage's own settings and functions' reserved concurrency in the
//! planner: one `UpdateStage` of exactly what differs, the access log's
//! group and account role before it, nothing when converged, and the
//! live-state checks that stop a deploy before it writes.

use std::collections::BTreeMap;

use super::stage_checks::{check_live, StageSettingsError};
use super::stage_settings::{self, STAGE_KEY};
use super::tests::{converged, desired_for, kinds, workspace};
use super::*;
use crate::model::stage_api::{AccessLog, CloudWatchRole, StageThrottle, Throttle, JSON_FORMAT};

fn t(rate: u32, burst: u32) -> Throttle {
    Throttle { rate, burst }
}

/// The test stage with tracing, a stage and a route throttle, and an
/// access log whose account role is `role`.
fn settled(role: CloudWatchRole) -> Desired {
    let (_f, mut ws) = workspace(false);
    let api = &mut ws.stages.get_mut("test").unwrap().api;
    api.tracing = true;
    api.throttle = StageThrottle {
        stage: Some(t(100, 200)),
        routes: BTreeMap::from([("GET /items/{id}".to_owned(), t(5, 10))]),
    };
    api.access_log = Some(AccessLog {
        format: JSON_FORMAT.into(),
        cloudwatch_role: role,
    });
    desired_for(&ws, &[])
}

#[test]
fn a_converged_stage_plans_nothing_and_says_its_settings_are_unchanged() {
    let desired = settled(CloudWatchRole::Managed);
    let plan = plan(&desired, &converged(&desired), false);
    assert!(plan.is_empty(), "{}", render::text(&plan));
    assert!(plan.unchanged.iter().any(|u| u.starts_with("stage settings of `test` (tracing on, throttle 100/s burst 200, GET /items/{id} 5/s burst 10, access log to /aws/apigateway/shop-test/test/access")), "{:?}", plan.unchanged);
}

#[test]
fn a_stage_with_nothing_set_gets_one_update_after_its_log_group_and_role() {
    let desired = settled(CloudWatchRole::Managed);
    let mut live = converged(&desired);
    live.log_groups
        .retain(|name, _| !name.starts_with("/aws/apigateway/"));
    live.apigw_account = Some(ApiGatewayAccount::default());
    live.api.as_mut().unwrap().stage_settings = Default::default();
    let plan = plan(&desired, &live, false);
    assert_eq!(
        kinds(&plan),
        [
            "create_log_group",
            "create_role",
            "set_api_gateway_account_role",
            "update_stage_settings"
        ]
    );
    insta::assert_snapshot!("stage_settings_from_nothing", render::text(&plan));
    let Action::UpdateStageSettings { patch, .. } = &plan.actions[3] else {
        unreachable!()
    };
    let ops: Vec<(&str, &str)> = patch
        .iter()
        .map(|p| (p.path.as_str(), p.value.as_str()))
        .collect();
    assert_eq!(
        ops[..5],
        [
            ("/tracingEnabled", "true"),
            ("/*/*/throttling/rateLimit", "100"),
            ("/*/*/throttling/burstLimit", "200"),
            ("/~1items~1{id}/GET/throttling/rateLimit", "5"),
            ("/~1items~1{id}/GET/throttling/burstLimit", "10"),
        ]
    );
    assert_eq!(ops[5].0, "/accessLogSettings/destinationArn");
    assert_eq!(
        ops[5].1,
        "arn:aws:logs:us-east-1:123456789012:log-group:/aws/apigateway/shop-test/test/access"
    );
}

#[test]
fn an_account_role_set_already_is_kept_and_a_named_one_replaces_it() {
    let managed = settled(CloudWatchRole::Managed);
    let mut live = converged(&managed);
    live.apigw_account = Some(ApiGatewayAccount {
        cloudwatch_role: Some("arn:aws:iam::123456789012:role/theirs".into()),
        managed_role_exists: false,
    });
    assert!(plan(&managed, &live, false).is_empty());
    let named = settled(CloudWatchRole::Arn(
        "arn:aws:iam::123456789012:role/ours".into(),
    ));
    let plan = plan(&named, &live, false);
    assert_eq!(kinds(&plan), ["set_api_gateway_account_role"]);
}

#[test]
fn dropping_a_route_throttle_and_the_access_log_resets_exactly_those() {
    let desired = settled(CloudWatchRole::Managed);
    let live = converged(&desired);
    let (_f, mut ws) = workspace(false);
    ws.stages.get_mut("test").unwrap().api.tracing = true;
    ws.stages.get_mut("test").unwrap().api.throttle.stage = Some(t(100, 200));
    let plain = desired_for(&ws, &[]);
    let plan = plan(&plain, &live, false);
    let Action::UpdateStageSettings { patch, .. } = &plan.actions[0] else {
        panic!("{}", render::text(&plan))
    };
    let ops: Vec<(&str, &str, bool)> = patch
        .iter()
        .map(|p| (p.path.as_str(), p.value.as_str(), p.remove))
        .collect();
    // The route keeps settings of its own: it gets the stage's throttle.
    assert_eq!(
        ops,
        [
            ("/~1items~1{id}/GET/throttling/rateLimit", "100", false),
            ("/~1items~1{id}/GET/throttling/burstLimit", "200", false),
            ("/accessLogSettings", "", true),
        ]
    );
}

#[test]
fn a_method_the_cache_creates_gets_its_throttle_written_once() {
    let (_f, ws) = workspace(false);
    let desired = desired_for(&ws, &[]);
    let mut live = converged(&desired);
    let key = "~1items/GET".to_owned();
    let from = Default::default();
    let created = [key.clone()];
    let mut to = stage_settings::wanted(&desired, "123456789012", [&key]);
    assert_eq!(to.methods[&key], None);
    let patch = stage_settings::patch(&from, &to, &created);
    assert_eq!(patch.len(), 2, "{patch:?}");
    assert_eq!(patch[0].value, "-1");
    // API Gateway's own default on a method it made reads as a throttle
    // ferry did not set: reset once, then converged.
    live.api
        .as_mut()
        .unwrap()
        .stage_settings
        .methods
        .insert(key.clone(), Some(t(10000, 5000)));
    let plan = plan(&desired, &live, false);
    assert_eq!(kinds(&plan), ["update_stage_settings"]);
    to.methods.insert(key, None);
    assert!(stage_settings::patch(&to, &to, &[]).is_empty());
    assert!(!STAGE_KEY.is_empty());
}

#[test]
fn reserved_concurrency_is_set_and_released_on_its_own() {
    let (_f, mut ws) = workspace(false);
    let desired = desired_for(&ws, &[]);
    let mut live = converged(&desired);
    live.functions
        .get_mut("shop-test-get")
        .unwrap()
        .reserved_concurrency = Some(7);
    let plan = plan(&desired, &live, false);
    assert_eq!(kinds(&plan), ["set_reserved_concurrency"]);
    insta::assert_snapshot!("reserved_concurrency_released", render::text(&plan));
    ws.stages
        .get_mut("test")
        .unwrap()
        .overrides
        .entry("list".into())
        .or_default()
        .reserved_concurrency = Some(3);
    let reserved = desired_for(&ws, &[]);
    let live = converged(&desired);
    let plan = super::plan(&reserved, &live, false);
    let Action::SetReservedConcurrency { function, from, to } = &plan.actions[0] else {
        panic!("{}", render::text(&plan))
    };
    assert_eq!(
        (function.as_str(), *from, *to),
        ("shop-test-list", None, Some(3))
    );
    assert_eq!(
        plan.actions.len(),
        1,
        "not a new version: Lambda keeps it on the function"
    );
}

#[test]
fn a_new_stage_past_the_quota_and_logs_without_a_role_stop_before_writing() {
    let desired = settled(CloudWatchRole::Required);
    let mut live = converged(&desired);
    assert_eq!(check_live(&desired, &live), Ok(()));
    live.apigw_account = Some(ApiGatewayAccount::default());
    assert!(matches!(
        check_live(&desired, &live),
        Err(StageSettingsError::NoCloudWatchRole { .. })
    ));
    live.apigw_account = None;
    live.api.as_mut().unwrap().stages = (0..10).map(|n| format!("s{n}")).collect();
    let err = check_live(&desired, &live).unwrap_err();
    assert!(matches!(
        err,
        StageSettingsError::TooManyStages {
            count: 10,
            quota: 10,
            ..
        }
    ));
    live.api.as_mut().unwrap().stages.push("test".into());
    assert_eq!(
        check_live(&desired, &live),
        Ok(()),
        "an existing stage is no new one"
    );
}

#[test]
fn an_any_route_throttle_is_written_on_each_verb() {
    let (_f, mut ws) = workspace(false);
    let api = &mut ws.stages.get_mut("test").unwrap().api;
    api.throttle.routes = BTreeMap::from([("ANY /files/{proxy+}".to_owned(), t(3, 6))]);
    let desired = desired_for(&ws, &[]);
    let to = stage_settings::wanted(&desired, "123456789012", []);
    let keys: Vec<&str> = to.methods.keys().map(String::as_str).collect();
    assert_eq!(keys.len(), 7, "{keys:?}");
    assert!(keys.contains(&"~1files~1{proxy+}/DELETE"));
    assert!(to.methods.values().all(|v| *v == Some(t(3, 6))));
    assert!(stage_settings::patch(&to, &to, &[]).is_empty(), "converged");
}
