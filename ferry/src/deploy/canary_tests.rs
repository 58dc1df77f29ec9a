//! Canary plans against states written in code: the split of a deploy into
//! its canary, its completion, a canary left by a crash, and its revert.

use super::canary::{self, CanaryError, CanaryRecord, CanarySettings};
use super::live::CanaryVersion;
use super::release_tests::{release, rollback_live};
use super::rollback;
use super::tests::{converged, desired_for, kinds, workspace};
use super::*;

const SETTINGS: CanarySettings = CanarySettings {
    percent: 10,
    bake_s: 600,
    max_errors: 0,
};

/// The stage at release 4, every alias on version 1.
fn released(desired: &Desired) -> Live {
    let mut live = converged(desired);
    live.release = Some(release(4, &[("get", "1"), ("list", "1")], "d1"));
    live
}

#[test]
fn a_canary_weights_the_moved_alias_and_records_no_release_yet() {
    let (_f, ws) = workspace(false);
    let live = released(&desired_for(&ws, &[]));
    let desired = desired_for(&ws, &[("get", 2)]);
    let mut plan = plan(&desired, &live, false);
    let shifted = canary::split(&mut plan, &live, &SETTINGS);
    assert_eq!(shifted, ["shop-test-get".to_owned()].into());
    assert_eq!(
        kinds(&plan),
        [
            "start_canary",
            "update_function_code",
            "publish_version",
            "point_alias"
        ]
    );
    let Action::StartCanary { parameter, record } = &plan.actions[0] else {
        panic!("{plan:?}")
    };
    assert_eq!(parameter, "/ferry/shop/test/canary");
    assert_eq!(record.before, Some(4));
    let Action::PointAlias {
        from,
        canary,
        description,
        ..
    } = &plan.actions[3]
    else {
        panic!("{plan:?}")
    };
    assert_eq!((from.as_deref(), *canary), (Some("1"), Some(10)));
    // The alias still describes what it mainly serves.
    let served = &live.functions["shop-test-get"].alias.as_ref().unwrap();
    assert_eq!(description, &served.description);
    let text = render::text(&plan);
    assert!(
        text.contains(
            "~ shift    alias shop-test-get:test 10% -> the new version (version 1 keeps 90%)"
        ),
        "{text}"
    );
}

#[test]
fn a_first_deploy_has_nothing_to_compare_with_and_is_not_split() {
    let (_f, ws) = workspace(false);
    let desired = desired_for(&ws, &[]);
    let mut plan = plan(&desired, &Live::default(), false);
    let before = plan.clone();
    assert!(canary::split(&mut plan, &Live::default(), &SETTINGS).is_empty());
    assert_eq!(plan, before);
}

/// The stage in the middle of the canary of `get`'s version 2.
fn baking(desired: &Desired, ws_desired_before: &Desired) -> Live {
    let mut live = released(ws_desired_before);
    let f = &desired.functions["shop-test-get"];
    let latest = live.functions.get_mut("shop-test-get").unwrap();
    latest.code_sha256 = f.code_sha256.clone();
    latest.alias.as_mut().unwrap().canary = Some(CanaryVersion {
        version: "2".into(),
        description: release::version_description(f, None),
    });
    live.canary = Some(CanaryRecord {
        percent: 10,
        bake_s: 600,
        functions: ["shop-test-get".to_owned()].into(),
        before: Some(4),
    });
    live
}

/// The plan moves one alias `from` -> `to` whole, records, forgets the canary.
fn assert_completes(plan: &Plan, (from, to): (&str, &str)) {
    assert_eq!(kinds(plan), ["point_alias", "record_release", "end_canary"]);
    assert!(matches!(
        &plan.actions[0],
        Action::PointAlias { from: Some(f), to: VersionRef::Version(v), canary: None, .. }
            if f == from && v == to
    ));
}

#[test]
fn after_the_bake_the_same_build_completes_without_publishing() {
    let (_f, ws) = workspace(false);
    let desired = desired_for(&ws, &[("get", 2)]);
    let live = baking(&desired, &desired_for(&ws, &[]));
    let plan = plan(&desired, &live, false);
    assert_completes(&plan, ("1", "2"));
    let Action::RecordRelease { release, .. } = &plan.actions[1] else {
        panic!("{plan:?}")
    };
    assert_eq!(release.number, 5);
    assert_eq!(release.functions["get"], VersionRef::Version("2".into()));
    let shifted = ["shop-test-get".to_owned()].into();
    assert_eq!(canary::check_completion(&plan, &shifted), Ok(()));
}

#[test]
fn a_stage_changed_during_the_bake_is_not_completed() {
    let (_f, ws) = workspace(false);
    let baked = desired_for(&ws, &[("get", 2)]);
    let live = baking(&baked, &desired_for(&ws, &[]));
    // Another deploy's build came in meanwhile.
    let other = desired_for(&ws, &[("get", 3)]);
    let plan = plan(&other, &live, false);
    let shifted = ["shop-test-get".to_owned()].into();
    let err = canary::check_completion(&plan, &shifted).unwrap_err();
    let CanaryError::StageChanged { stage, what } = err else {
        panic!("{err:?}")
    };
    assert_eq!(stage, "test");
    assert!(what.contains("shop-test-get"), "{what}");
}

#[test]
fn a_canary_cut_before_any_alias_shifted_is_only_forgotten() {
    let (_f, ws) = workspace(false);
    let desired = desired_for(&ws, &[]);
    let mut live = released(&desired);
    live.canary = Some(CanaryRecord {
        percent: 10,
        bake_s: 600,
        functions: ["shop-test-get".to_owned()].into(),
        before: Some(4),
    });
    assert_eq!(kinds(&plan(&desired, &live, false)), ["end_canary"]);
}

#[test]
fn a_rollback_during_the_canary_reverts_to_the_current_release() {
    let history = [
        release(1, &[("get", "1"), ("list", "1")], "d1"),
        release(2, &[("get", "2"), ("list", "1")], "d2"),
    ];
    let mut live = rollback_live();
    live.weighted = ["shop-test-get".to_owned()].into();
    live.canary = Some(CanaryRecord {
        percent: 10,
        bake_s: 600,
        functions: live.weighted.clone(),
        before: Some(2),
    });
    let target = rollback::target("test", &history, None, live.canary.as_ref()).unwrap();
    assert_eq!(target.number, 2);
    let at = ("shop", "test", "us-east-1");
    let plan = rollback::plan(at, target, 2, &live).unwrap();
    assert_completes(&plan, ("2", "2"));
    // The deploy's own revert records nothing: release 2 is still current.
    let revert = rollback::revert(at, target, &live).unwrap();
    assert_eq!(kinds(&revert), ["point_alias", "end_canary"]);
}

#[test]
fn a_completion_cut_before_its_record_is_recorded_by_the_next_deploy() {
    let (_f, ws) = workspace(false);
    let desired = desired_for(&ws, &[("get", 2)]);
    let mut live = baking(&desired, &desired_for(&ws, &[]));
    // The alias moved whole to version 2; the release still names 1.
    let alias = live
        .functions
        .get_mut("shop-test-get")
        .unwrap()
        .alias
        .as_mut()
        .unwrap();
    let canary = alias.canary.take().unwrap();
    alias.version = canary.version;
    alias.description = canary.description;
    let plan = plan(&desired, &live, false);
    assert_eq!(kinds(&plan), ["record_release", "end_canary"]);
    let Action::RecordRelease { release, .. } = &plan.actions[0] else {
        panic!("{plan:?}")
    };
    assert_eq!(release.functions["get"], VersionRef::Version("2".into()));
}

#[test]
fn a_new_canary_is_refused_while_one_is_recorded() {
    let (_f, ws) = workspace(false);
    let desired = desired_for(&ws, &[("get", 2)]);
    let live = baking(&desired, &desired_for(&ws, &[]));
    assert_eq!(
        canary::check_none_in_progress(&live, "test"),
        Err(CanaryError::InProgress {
            stage: "test".into()
        })
    );
}
