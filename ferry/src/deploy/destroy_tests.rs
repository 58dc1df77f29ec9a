//! `destroy`'s plan: the order that stops serving first, a cut-short
//! destroy finishing, and what is kept because it is not the stage's own.

use super::destroy::*;
use super::plan::Plan;
use super::Action;

fn everything() -> DestroyLive {
    DestroyLive {
        account: "123456789012".into(),
        front: Some(FrontToDestroy {
            id: "E1".into(),
            domain_name: "d1.cloudfront.net".into(),
            enabled: true,
            ours: true,
            records: Some((
                "Z1".into(),
                "api.example.com".into(),
                [
                    ("A".to_owned(), "d1.cloudfront.net.".to_owned()),
                    ("AAAA".to_owned(), "elsewhere.example.net".to_owned()),
                ]
                .into(),
            )),
        }),
        api: Some(ApiToDestroy {
            name: "shop-test".into(),
            id: "abc".into(),
            ours: true,
            other_stages: Vec::new(),
            has_stage: true,
            adopted: false,
        }),
        functions: vec!["shop-test-get".into()],
        foreign_functions: vec!["shop-test-other-thing".into()],
        adopted_functions: vec!["console-made".into()],
        unused_layer_versions: vec![("shop-jwt".into(), 3)],
        shared_layer_versions: [("shop-jwt".to_owned(), 2)].into(),
        service_roles: Vec::new(),
        role: Some(RoleToDestroy {
            name: "shop-test-ferry-lambda".into(),
            used_by: Vec::new(),
            attached: vec!["arn:aws:iam::aws:policy/x".into()],
            inline: Vec::new(),
        }),
        archive_filters: vec!["/aws/lambda/shop-test-get".into()],
        archive_stream: Some("shop-test-logs".into()),
        log_groups: vec!["/aws/lambda/shop-test-get".into()],
        records: vec!["/ferry/shop/test/release".into()],
    }
}

fn kinds(plan: &Plan) -> Vec<String> {
    plan.actions
        .iter()
        .map(|a| {
            let json = serde_json::to_value(a).unwrap();
            json["action"].as_str().unwrap().to_owned()
        })
        .collect()
}

#[test]
fn stops_serving_first_and_keeps_logs_unless_asked() {
    let plan = plan(("shop", "test", "us-east-1"), false, &everything());
    assert_eq!(
        kinds(&plan),
        [
            "delete_alias_records",
            "disable_distribution",
            "delete_distribution",
            "delete_rest_api",
            "delete_function",
            "delete_layer_version",
            "delete_subscription_filter",
            "delete_delivery_stream",
            "delete_role",
            "delete_parameters"
        ]
    );
    // Only the record that points at the distribution goes.
    assert!(matches!(
        &plan.actions[0],
        Action::DeleteAliasRecords { types, .. } if types == &["A"]
    ));
    let kept = plan.unchanged.join("\n");
    assert!(kept.contains("shop-test-other-thing kept"), "{kept}");
    assert!(kept.contains("1 log groups kept"), "{kept}");
    assert!(kept.contains("shop-jwt: 2 versions kept"), "{kept}");
}

#[test]
fn an_interrupted_destroy_plans_the_rest_and_a_finished_one_nothing() {
    let mut live = everything();
    live.front.as_mut().unwrap().enabled = false;
    live.front.as_mut().unwrap().records = None;
    live.api = None;
    let rest = plan(("shop", "test", "us-east-1"), true, &live);
    assert_eq!(kinds(&rest)[0], "delete_distribution");
    assert!(kinds(&rest).contains(&"delete_log_group".to_owned()));
    let gone = DestroyLive {
        account: "1".into(),
        ..DestroyLive::default()
    };
    assert!(plan(("shop", "test", "us-east-1"), true, &gone).is_empty());
}

#[test]
fn keeps_what_is_not_the_stage_s_own() {
    let mut live = everything();
    live.front.as_mut().unwrap().ours = false;
    live.role.as_mut().unwrap().used_by = vec!["shop-test-x".into()];
    let api = live.api.as_mut().unwrap();
    api.other_stages = vec!["prod".into()];
    let plan = plan(("shop", "test", "us-east-1"), false, &live);
    let kinds = kinds(&plan);
    assert!(!kinds.iter().any(|k| k.contains("distribution")));
    assert_eq!(kinds[0], "delete_api_stage");
    let kept = plan.unchanged.join("\n");
    assert!(kept.contains("distribution E1 kept"), "{kept}");
    assert!(kept.contains("it also serves prod"), "{kept}");
    assert!(kept.contains("role shop-test-ferry-lambda kept"), "{kept}");
    assert!(!kinds.contains(&"delete_role".to_owned()));
}

#[test]
fn service_roles_go_unless_a_function_outside_the_stage_uses_one() {
    let role = |name: &str, used_by: &[&str]| RoleToDestroy {
        name: name.into(),
        used_by: used_by.iter().map(|s| (*s).to_owned()).collect(),
        attached: Vec::new(),
        inline: vec!["ferry-permissions".into()],
    };
    let mut live = everything();
    live.service_roles = vec![
        role("shop-test-a-ferry", &[]),
        role("shop-test-b-ferry", &["other"]),
    ];
    let plan = plan(("shop", "test", "us-east-1"), false, &live);
    let deleted: Vec<_> = plan
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::DeleteRole { name, inline, .. } => Some((name.as_str(), inline.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        deleted,
        [
            ("shop-test-ferry-lambda", Vec::new()),
            ("shop-test-a-ferry", vec!["ferry-permissions".to_owned()])
        ]
    );
    assert!(plan
        .unchanged
        .join("\n")
        .contains("role shop-test-b-ferry kept: other use it"));
}
