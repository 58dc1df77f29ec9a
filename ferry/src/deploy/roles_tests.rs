//! Per-service roles in the planner: a service that declares permissions
//! gets a role of its own with exactly its statements (placeholders
//! expanded), the others keep the stage's; a converged stage plans
//! nothing; changing one permission rewrites that role's policy alone,
//! shown statement by statement; a stage's `role` still wins.

use super::action::{BASIC_EXECUTION_POLICY, XRAY_WRITE_POLICY};
use super::roles::{self, Statement, PERMISSIONS_POLICY};
use super::tests::{converged, desired_for, kinds, manifest};
use super::*;
use crate::model::fixture::Fixture;
use crate::model::Workspace;

const READ_TABLE: &str = r#"
[[package.metadata.ferry.permissions]]
actions = ["dynamodb:GetItem", "dynamodb:Query"]
resources = ["arn:aws:dynamodb:${region}:${account}:table/${app}-${stage}-items"]
"#;

fn workspace(permissions: &str) -> (Fixture, Workspace) {
    let fixture = Fixture::new()
        .service("list", "routes = [\"GET /items\"]\n")
        .service(
            "get",
            &format!("routes = [\"GET /items/{{id}}\"]\ntracing = \"active\"\n{permissions}"),
        );
    let ws = fixture.load().unwrap();
    (fixture, ws)
}

#[test]
fn a_service_with_permissions_runs_with_its_own_role() {
    let (_f, ws) = workspace(READ_TABLE);
    let desired = desired_for(&ws, &[]);
    let get = &desired.functions["shop-test-get"];
    let list = &desired.functions["shop-test-list"];
    assert_eq!(list.role, desired.role);
    let DesiredRole::Service { name, path } = &get.role else {
        panic!("get runs with {:?}", get.role);
    };
    assert_eq!(
        (name.as_str(), path.as_str()),
        ("shop-test-get-ferry", "/ferry/shop/test/")
    );
    assert_eq!(
        get.role.arn("123456789012"),
        "arn:aws:iam::123456789012:role/ferry/shop/test/shop-test-get-ferry"
    );
    let role = &desired.service_roles[name];
    assert_eq!(
        role.statements_in("123456789012"),
        [Statement {
            effect: "Allow".into(),
            actions: ["dynamodb:GetItem".into(), "dynamodb:Query".into()].into(),
            resources: ["arn:aws:dynamodb:us-east-1:123456789012:table/shop-test-items".into()]
                .into(),
        }]
    );

    let live = Live {
        account_id: "123456789012".into(),
        ..Live::default()
    };
    let plan = plan(&desired, &live, false);
    let created: Vec<_> = plan
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::CreateRole {
                name,
                policies,
                path,
                inline,
                ..
            } => Some((
                name.as_str(),
                policies.clone(),
                path.clone(),
                inline.is_some(),
            )),
            _ => None,
        })
        .collect();
    // The shared role no longer carries X-Ray's policy: only `get` traces.
    assert_eq!(
        created,
        [
            (
                "shop-test-ferry-lambda",
                vec![BASIC_EXECUTION_POLICY.to_owned()],
                None,
                false
            ),
            (
                "shop-test-get-ferry",
                vec![
                    BASIC_EXECUTION_POLICY.to_owned(),
                    XRAY_WRITE_POLICY.to_owned()
                ],
                Some("/ferry/shop/test/".to_owned()),
                true
            ),
        ]
    );
    let create = plan.actions.iter().position(
        |a| matches!(a, Action::CreateFunction { function, .. } if function == "shop-test-get"),
    );
    assert!(
        create
            > plan
                .actions
                .iter()
                .position(|a| matches!(a, Action::CreateRole { .. }))
    );
    insta::assert_snapshot!(render::text(&plan));
}

#[test]
fn a_converged_stage_with_service_roles_plans_nothing() {
    let (_f, ws) = workspace(READ_TABLE);
    let desired = desired_for(&ws, &[]);
    let plan = plan(&desired, &converged(&desired), false);
    assert!(plan.is_empty(), "{}", render::text(&plan));
    assert!(plan
        .unchanged
        .contains(&"role shop-test-get-ferry".to_owned()));
}

#[test]
fn changing_one_permission_rewrites_that_policy_statement_by_statement() {
    let (_f, ws) = workspace(READ_TABLE);
    let live = converged(&desired_for(&ws, &[]));
    let (_f, ws) = workspace(
        r#"
[[package.metadata.ferry.permissions]]
actions = ["dynamodb:GetItem", "dynamodb:Query"]
resources = ["arn:aws:dynamodb:${region}:${account}:table/${app}-${stage}-items"]

[[package.metadata.ferry.permissions]]
actions = ["ssm:GetParameter"]
resources = ["arn:aws:ssm:${region}:${account}:parameter/${app}/${stage}/db"]
"#,
    );
    let desired = desired_for(&ws, &[]);
    let plan = plan(&desired, &live, false);
    assert_eq!(kinds(&plan), ["put_role_policy"]);
    let Action::PutRolePolicy {
        role,
        policy,
        changes,
        document,
    } = &plan.actions[0]
    else {
        unreachable!()
    };
    assert_eq!(
        (role.as_str(), policy.as_str()),
        ("shop-test-get-ferry", PERMISSIONS_POLICY)
    );
    assert_eq!(
        changes,
        &["+ Allow ssm:GetParameter on arn:aws:ssm:us-east-1:123456789012:parameter/shop/test/db"]
    );
    assert_eq!(
        roles::parse_document(document).unwrap(),
        desired.service_roles[role].statements_in("123456789012")
    );
    insta::assert_snapshot!(render::text(&plan));
}

#[test]
fn dropping_permissions_moves_the_function_to_the_stage_role() {
    let (_f, ws) = workspace(READ_TABLE);
    let live = converged(&desired_for(&ws, &[]));
    let (_f, ws) = workspace("");
    let desired = desired_for(&ws, &[]);
    assert!(desired.service_roles.is_empty());
    let plan = plan(&desired, &live, false);
    let changed: Vec<_> = plan
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::UpdateFunctionConfiguration {
                function, changes, ..
            } => Some((
                function.as_str(),
                changes.iter().map(|c| c.field.as_str()).collect::<Vec<_>>(),
            )),
            _ => None,
        })
        .collect();
    assert_eq!(changed, [("shop-test-get", vec!["role"])]);
}

#[test]
fn live_documents_compare_as_statements_not_text() {
    let live = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Resource":"arn:x","Action":["b:B","a:A"]}}"#;
    let wanted = [Statement {
        effect: "Allow".into(),
        actions: ["a:A".into(), "b:B".into()].into(),
        resources: ["arn:x".into()].into(),
    }];
    assert_eq!(roles::parse_document(live).unwrap(), wanted);
    assert_eq!(
        roles::parse_document(&roles::document(&wanted)).unwrap(),
        wanted
    );
    assert!(roles::parse_document("not json").is_none());
    let hand_edited = r#"{"Statement":[{"Effect":"Allow","Action":"a:A","Resource":"arn:x","Condition":{"Bool":{"aws:SecureTransport":"true"}}}]}"#;
    let parsed = roles::parse_document(hand_edited).unwrap();
    assert_eq!(parsed[0].effect, "Allow (with Condition)");
    assert_ne!(parsed, wanted);
}

#[test]
fn long_function_names_give_distinct_role_names_within_iam_limits() {
    let a = roles::service_role_name(&format!("{}-a", "x".repeat(60)));
    let b = roles::service_role_name(&format!("{}-b", "x".repeat(60)));
    assert!(a.len() <= 64 && b.len() <= 64 && a != b, "{a} {b}");
}

#[test]
fn a_stage_role_wins_over_declared_permissions() {
    let (_f, mut ws) = workspace(READ_TABLE);
    ws.stages.get_mut("test").unwrap().role = Some("arn:aws:iam::123456789012:role/mine".into());
    let desired = state::desired(
        &ws,
        &ws.stages["test"],
        &manifest(&ws, &Default::default()),
        &crate::model::Secrets::default(),
    )
    .unwrap();
    assert!(desired.service_roles.is_empty());
    assert!(desired.functions.values().all(|f| f.role == desired.role));
}

#[test]
fn check_warns_when_a_stage_role_leaves_permissions_unapplied() {
    let fixture = Fixture::new().service(
        "get",
        &format!("routes = [\"GET /items/{{id}}\"]\n{READ_TABLE}"),
    );
    let text = std::fs::read_to_string(fixture.path().join("deploy.toml")).unwrap();
    let text = text.replacen(
        "[stages.test]\n",
        "[stages.test]\nrole = \"arn:aws:iam::123456789012:role/mine\"\n",
        1,
    );
    let ws = fixture.file("deploy.toml", &text).load().unwrap();
    assert!(
        ws.warnings
            .iter()
            .any(|w| w.contains("the `permissions` of get are not applied")),
        "{:?}",
        ws.warnings
    );
}
