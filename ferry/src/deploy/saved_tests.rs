//! Plans as data: a plan survives JSON whole, and a saved plan applies only
//! against the live state and the artifacts it was made with.

use std::path::PathBuf;

use super::saved::{live_digest, SavedPlan, SavedPlanError};
use super::tests::{converged, desired_for, workspace};
use super::*;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ferry-saved-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn first_deploy() -> (Plan, Live) {
    let (_f, ws) = workspace(false);
    let live = Live {
        account_id: "123456789012".into(),
        ..Live::default()
    };
    (plan(&desired_for(&ws, &[]), &live, false), live)
}

#[test]
fn a_plan_round_trips_through_json_with_everything_it_writes() {
    let (plan, _) = first_deploy();
    let json = serde_json::to_string(&plan).unwrap();
    let back: Plan = serde_json::from_str(&json).unwrap();
    assert_eq!(back, plan);
    let create = plan
        .actions
        .iter()
        .find_map(|a| match a {
            Action::CreateFunction { settings, .. } => Some(settings),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        create.role,
        "arn:aws:iam::123456789012:role/shop-test-ferry-lambda"
    );
    assert!(plan.actions.iter().any(|a| matches!(
        a,
        Action::PutRestApi { definition, .. } if definition["paths"]["/items"]["get"].is_object()
    )));
}

#[test]
fn a_configuration_update_names_the_layer_version_the_same_plan_publishes() {
    let (_f, ws) = workspace(false);
    let live = converged(&desired_for(&ws, &[]));
    let plan = plan(&desired_for(&ws, &[("keys", 2)]), &live, false);
    let Action::UpdateFunctionConfiguration { settings, .. } = &plan.actions[1] else {
        panic!("{plan:?}")
    };
    assert_eq!(
        settings.layers,
        [LayerArn::Published {
            layer: "shop-keys".into(),
            arch: crate::model::Arch::Arm64
        }]
    );
    assert_eq!(settings.memory_mb, 128);
}

#[test]
fn a_saved_plan_is_written_and_read_back_for_its_stage_only() {
    let dir = scratch("rw");
    let (plan, live) = first_deploy();
    let saved = SavedPlan::new(plan, &live, dir.join("manifest.json"), false);
    let file = dir.join("plan.json");
    saved.write(&file).unwrap();
    assert_eq!(SavedPlan::read(&file, "test").unwrap(), saved);
    let err = SavedPlan::read(&file, "prod").unwrap_err();
    assert!(matches!(err, SavedPlanError::OtherStage { .. }), "{err:?}");
    let mut other = serde_json::to_value(&saved).unwrap();
    other["ferry_version"] = "0.0.1".into();
    std::fs::write(&file, other.to_string()).unwrap();
    let err = SavedPlan::read(&file, "test").unwrap_err();
    assert!(matches!(err, SavedPlanError::OtherFerry { .. }), "{err:?}");
    std::fs::write(&file, "{").unwrap();
    assert!(matches!(
        SavedPlan::read(&file, "test").unwrap_err(),
        SavedPlanError::Read { .. }
    ));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_saved_plan_is_refused_when_the_stage_changed_since() {
    let (_f, ws) = workspace(false);
    let desired = desired_for(&ws, &[("get", 2)]);
    let live = converged(&desired_for(&ws, &[]));
    let made = plan(&desired, &live, false);
    let saved = SavedPlan::new(made.clone(), &live, PathBuf::from("m.json"), false);
    saved.check(&made, &live).unwrap();

    // Someone changed a function's memory by hand: the plan now differs.
    let mut changed = live.clone();
    changed
        .functions
        .get_mut("shop-test-list")
        .unwrap()
        .memory_mb = 512;
    let now = plan(&desired, &changed, false);
    let err = saved.check(&now, &changed).unwrap_err();
    let SavedPlanError::Stale { only_now, .. } = &err else {
        panic!("{err:?}")
    };
    assert!(
        only_now
            .iter()
            .any(|l| l.contains("shop-test-list config: memory_mb")),
        "{err}"
    );

    // A change the plan does not touch still makes the saved plan stale.
    let mut touched = live.clone();
    touched
        .functions
        .get_mut("shop-test-list")
        .unwrap()
        .revision_id = "r2".into();
    let err = saved
        .check(&plan(&desired, &touched, false), &touched)
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("resources it did not touch changed"),
        "{err}"
    );

    // Another account is named as such.
    let mut elsewhere = made.clone();
    elsewhere.account = "999999999999".into();
    assert!(matches!(
        saved.check(&elsewhere, &live).unwrap_err(),
        SavedPlanError::OtherAccount { .. }
    ));
}

#[test]
fn the_live_digest_leaves_out_secret_values_and_propagation_status() {
    let (_f, ws) = workspace(false);
    let live = converged(&desired_for(&ws, &[]));
    let mut other = live.clone();
    other
        .functions
        .get_mut("shop-test-get")
        .unwrap()
        .env
        .insert("TOKEN".into(), "a-value-never-in-a-digest".into());
    assert_ne!(live_digest(&live), live_digest(&other));
    let mut same = other.clone();
    same.functions
        .get_mut("shop-test-get")
        .unwrap()
        .env
        .insert("TOKEN".into(), "x".into());
    assert_eq!(live_digest(&other), live_digest(&same));
}

#[test]
fn a_saved_plan_is_refused_when_an_artifact_it_uploads_changed() {
    let dir = scratch("zip");
    let zip = dir.join("get.zip");
    std::fs::write(&zip, b"zip bytes").unwrap();
    let zip_path = zip.to_string_lossy().into_owned();
    let action = Action::UpdateFunctionCode {
        function: "shop-test-get".into(),
        arch: crate::model::Arch::Arm64,
        from: "old".into(),
        to: crate::build::pack::code_sha256(b"zip bytes"),
        zip: zip_path,
        s3: None,
    };
    let (mut made, live) = first_deploy();
    made.actions = vec![action];
    let saved = SavedPlan::new(made, &live, dir.join("manifest.json"), false);
    saved.check_artifacts().unwrap();
    std::fs::write(&zip, b"rebuilt").unwrap();
    let err = saved.check_artifacts().unwrap_err();
    assert!(
        matches!(err, SavedPlanError::ArtifactChanged { .. }),
        "{err:?}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}
