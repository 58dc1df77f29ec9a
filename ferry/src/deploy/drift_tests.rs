//! Drift and removal: hand edits of settings, tags, role and permissions are
//! repaired, an architecture switch is a code update, and `--prune` deletes
//! only this app and stage's functions whose service left.

use super::state::*;
use super::tests::{converged, desired_for, kinds, workspace};
use super::*;
use crate::model::Arch;

#[test]
fn settings_retention_and_prune() {
    let (_f, ws) = workspace(false);
    let desired = desired_for(&ws, &[]);
    let mut live = converged(&desired);
    live.functions.get_mut("shop-test-get").unwrap().memory_mb = 128;
    live.functions
        .get_mut("shop-test-get")
        .unwrap()
        .env
        .insert("SECRET".into(), "hunter2".into());
    live.log_groups
        .insert("/aws/lambda/shop-test-list".into(), None);
    live.permissions.remove("shop-test-list");
    live.functions.insert(
        "shop-test-gone".into(),
        live.functions["shop-test-get"].clone(),
    );
    let kept = plan(&desired, &live, false);
    assert_eq!(
        kinds(&kept),
        [
            "update_function_configuration",
            "publish_version",
            "point_alias",
            "put_retention_policy",
            "add_invoke_permission",
            "record_release"
        ]
    );
    let text = render::text(&kept);
    assert!(
        text.contains("memory_mb: 128 -> 256") && !text.contains("hunter2"),
        "{text}"
    );
    let pruned = plan(&desired, &live, true);
    assert!(kinds(&pruned).contains(&"delete_function".to_owned()));
}

#[test]
fn architecture_switch_is_a_code_update() {
    let (_f, ws) = workspace(false);
    let desired = desired_for(&ws, &[]);
    let mut live = converged(&desired);
    live.functions.get_mut("shop-test-get").unwrap().arch = Arch::X86_64;
    assert_eq!(
        kinds(&plan(&desired, &live, false)),
        [
            "update_function_code",
            "publish_version",
            "point_alias",
            "record_release"
        ]
    );
}

#[test]
fn prune_deletes_only_functions_tagged_with_this_app_and_stage() {
    let (_f, ws) = workspace(false);
    let desired = desired_for(&ws, &[]);
    let mut live = converged(&desired);
    let mut other_stage = live.functions["shop-test-get"].clone();
    other_stage.tags.insert(TAG_STAGE.into(), "test-2".into());
    live.functions.insert("shop-test-2-get".into(), other_stage);
    let mut by_hand = live.functions["shop-test-get"].clone();
    by_hand.tags.clear();
    live.functions.insert("shop-test-manual".into(), by_hand);
    let mut gone = live.functions["shop-test-get"].clone();
    gone.memory_mb = 1024;
    live.functions.insert("shop-test-gone".into(), gone);
    let pruned = plan(&desired, &live, true);
    assert_eq!(
        pruned.actions,
        [Action::DeleteFunction {
            function: "shop-test-gone".into()
        }]
    );
}

#[test]
fn tags_role_and_permission_drift_are_repaired() {
    let (_f, ws) = workspace(false);
    let desired = desired_for(&ws, &[]);
    let mut live = converged(&desired);
    live.managed_role_exists = false;
    let get = live.functions.get_mut("shop-test-get").unwrap();
    get.tags.insert("team".into(), "old".into());
    get.tags.remove(TAG_APP);
    get.role = "arn:aws:iam::123456789012:role/by-hand".into();
    live.permissions.insert(
        "shop-test-list".into(),
        plan::invoke_source_arn("us-east-1", "123456789012", "otherapi", Default::default()),
    );
    let p = plan(&desired, &live, false);
    assert_eq!(
        kinds(&p),
        [
            "create_role",
            "update_function_configuration",
            "tag_function",
            "publish_version",
            "point_alias",
            "add_invoke_permission",
            "record_release"
        ]
    );
    assert_eq!(
        p.actions[2],
        Action::TagFunction {
            function: "shop-test-get".into(),
            arn: "arn:aws:lambda:us-east-1:123456789012:function:shop-test-get".into(),
            set: [(TAG_APP.to_owned(), "shop".to_owned())]
                .into_iter()
                .collect(),
            remove: vec!["team".into()],
        }
    );
    assert!(matches!(
        &p.actions[5],
        Action::AddInvokePermission { replace: true, .. }
    ));
    let text = render::text(&p);
    assert!(text.contains("role: arn:aws:iam::123456789012:role/by-hand -> arn:aws:iam::123456789012:role/shop-test-ferry-lambda"), "{text}");
}

#[test]
fn active_tracing_updates_the_configuration_and_gives_the_managed_role_x_ray() {
    let (_f, ws) = workspace(false);
    let mut desired = desired_for(&ws, &[]);
    let live_before = converged(&desired);
    desired.functions.get_mut("shop-test-get").unwrap().tracing = crate::model::Tracing::Active;
    desired
        .functions
        .get_mut("shop-test-get")
        .unwrap()
        .ephemeral_mb = 2048;
    super::release::fill_digests(&mut desired.functions, &desired.layers);
    // The live read counts a managed role without X-Ray's policy as missing.
    let live = Live {
        managed_role_exists: false,
        ..live_before
    };
    let plan = plan(&desired, &live, false);
    assert_eq!(
        kinds(&plan),
        [
            "create_role",
            "update_function_configuration",
            "publish_version",
            "point_alias",
            "record_release"
        ]
    );
    let Action::CreateRole { policies, .. } = &plan.actions[0] else {
        panic!("{plan:?}")
    };
    assert_eq!(
        policies,
        &[
            super::action::BASIC_EXECUTION_POLICY.to_owned(),
            super::action::XRAY_WRITE_POLICY.to_owned()
        ]
    );
    let Action::UpdateFunctionConfiguration {
        changes, settings, ..
    } = &plan.actions[1]
    else {
        panic!("{plan:?}")
    };
    let fields: Vec<(&str, &str, &str)> = changes
        .iter()
        .map(|c| (c.field.as_str(), c.from.as_str(), c.to.as_str()))
        .collect();
    assert_eq!(
        fields,
        [
            ("tracing", "PassThrough", "Active"),
            ("ephemeral_mb", "512", "2048")
        ]
    );
    assert_eq!(
        (settings.tracing, settings.ephemeral_mb),
        (crate::model::Tracing::Active, 2048)
    );
}
