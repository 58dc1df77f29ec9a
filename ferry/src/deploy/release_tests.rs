//! Versions, the stage alias, the release record and rollback plans, built
//! against states written in code.

use std::collections::BTreeMap;

use super::record::{Release, ReleaseKind};
use super::rollback::{self, RollbackError, RollbackLive};
use super::tests::{converged, desired_for, kinds, workspace};
use super::*;

#[test]
fn an_alias_that_serves_something_else_moves_without_a_code_update() {
    let (_f, ws) = workspace(false);
    let desired = desired_for(&ws, &[]);
    let mut live = converged(&desired);
    // A rollback left the alias on an older version; $LATEST is current.
    let alias = live.functions.get_mut("shop-test-get").unwrap();
    alias.alias.as_mut().unwrap().description = "ferry sha256:old config:0".into();
    let plan = plan(&desired, &live, false);
    assert_eq!(
        kinds(&plan),
        ["publish_version", "point_alias", "record_release"]
    );
}

#[test]
fn a_build_deployed_again_from_another_commit_publishes_nothing() {
    let (_f, ws) = workspace(false);
    let desired = desired_for(&ws, &[]);
    let live = converged(&desired);
    let mut again = desired.clone();
    again.commit = Some("0123456789ab".into());
    assert!(plan(&again, &live, false).is_empty());
}

#[test]
fn a_missing_alias_is_created_and_the_permission_names_it() {
    let (_f, ws) = workspace(false);
    let desired = desired_for(&ws, &[]);
    let mut live = converged(&desired);
    live.functions.get_mut("shop-test-list").unwrap().alias = None;
    live.permissions.remove("shop-test-list");
    let plan = plan(&desired, &live, false);
    assert_eq!(
        kinds(&plan),
        [
            "publish_version",
            "point_alias",
            "add_invoke_permission",
            "record_release"
        ]
    );
    assert!(matches!(
        &plan.actions[2],
        Action::AddInvokePermission { qualifier: Some(q), .. } if q == "test"
    ));
}

#[test]
fn a_release_records_every_function_and_takes_the_next_number() {
    let (_f, ws) = workspace(false);
    let before = desired_for(&ws, &[]);
    let mut live = converged(&before);
    live.release = Some(release(4, &[("get", "1"), ("list", "1")], "d1"));
    let mut desired = desired_for(&ws, &[("get", 2)]);
    desired.commit = Some("abc".into());
    let plan = plan(&desired, &live, false);
    let Some(Action::RecordRelease {
        parameter,
        current,
        release,
    }) = plan.actions.last()
    else {
        panic!("{plan:?}")
    };
    assert_eq!(parameter, "/ferry/shop/test/releases/000005");
    assert_eq!(current, "/ferry/shop/test/release");
    assert_eq!(release.number, 5);
    assert_eq!(release.commit.as_deref(), Some("abc"));
    assert_eq!(release.functions["get"], VersionRef::Published);
    assert_eq!(release.functions["list"], VersionRef::Version("1".into()));
    assert_eq!(release.deployment.as_deref(), Some("d1"));
    assert_eq!(release.api_id.as_deref(), Some("abc123"));
}

pub(super) fn release(number: u32, functions: &[(&str, &str)], deployment: &str) -> Release {
    Release {
        number,
        kind: ReleaseKind::Deploy,
        at: "2026-12-03T06:00:00Z".into(),
        by: "arn:aws:iam::123456789012:user/ci".into(),
        commit: None,
        manifest_sha256: None,
        functions: functions
            .iter()
            .map(|(s, v)| (s.to_string(), v.to_string()))
            .collect(),
        layers: Vec::new(),
        api_id: "abc123".into(),
        deployment: deployment.into(),
        adopted: Default::default(),
    }
}

pub(super) fn rollback_live() -> RollbackLive {
    let mut versions = BTreeMap::new();
    for v in ["1", "2"] {
        for f in ["shop-test-get", "shop-test-list"] {
            versions.insert(
                (f.to_owned(), v.to_owned()),
                format!("ferry sha256:{f}-{v}"),
            );
        }
    }
    RollbackLive {
        account: "123456789012".into(),
        aliases: [
            ("shop-test-get".to_owned(), Some("2".to_owned())),
            ("shop-test-list".to_owned(), Some("1".to_owned())),
        ]
        .into(),
        versions,
        api: Some(("abc123".into(), Some("d2".into()))),
        ..RollbackLive::default()
    }
}

#[test]
fn rollback_moves_only_what_differs_and_records_a_release() {
    let history = [
        release(1, &[("get", "1"), ("list", "1")], "d1"),
        release(2, &[("get", "2"), ("list", "1")], "d2"),
    ];
    let target = rollback::target("test", &history, None, None).unwrap();
    assert_eq!(target.number, 1);
    let plan = rollback::plan(("shop", "test", "us-east-1"), target, 2, &rollback_live()).unwrap();
    assert_eq!(
        kinds(&plan),
        ["point_alias", "set_stage_deployment", "record_release"]
    );
    assert_eq!(
        plan.actions[0],
        Action::PointAlias {
            function: "shop-test-get".into(),
            alias: "test".into(),
            from: Some("2".into()),
            to: VersionRef::Version("1".into()),
            description: "ferry sha256:shop-test-get-1".into(),
            canary: None,
        }
    );
    let Action::RecordRelease { release, .. } = &plan.actions[2] else {
        unreachable!()
    };
    assert_eq!(release.number, 3);
    assert_eq!(release.kind, ReleaseKind::Rollback { to: 1 });
    assert_eq!(release.deployment.as_deref(), Some("d1"));
    insta::assert_snapshot!(render::text(&plan));
}

#[test]
fn rollback_to_what_the_stage_serves_plans_nothing() {
    let history = [release(2, &[("get", "2"), ("list", "1")], "d2")];
    let target = rollback::target("test", &history, Some(2), None).unwrap();
    let plan = rollback::plan(("shop", "test", "us-east-1"), target, 2, &rollback_live()).unwrap();
    assert!(plan.is_empty(), "{plan:?}");
}

#[test]
fn rollback_refuses_what_it_cannot_restore() {
    let first = [release(1, &[("get", "1")], "d1")];
    assert!(matches!(
        rollback::target("test", &first, None, None),
        Err(RollbackError::NothingBefore { number: 1, .. })
    ));
    assert!(matches!(
        rollback::target("test", &[], None, None),
        Err(RollbackError::NoReleases { .. })
    ));
    let err = rollback::target("test", &first, Some(7), None).unwrap_err();
    assert_eq!(err.to_string(), "stage `test` has no release 7");
    let at = ("shop", "test", "us-east-1");
    let pruned = release(1, &[("get", "9")], "d1");
    assert!(matches!(
        rollback::plan(at, &pruned, 2, &rollback_live()),
        Err(RollbackError::Gone { .. })
    ));
    let mut other = release(1, &[("get", "1")], "d1");
    other.api_id = "old".into();
    assert!(matches!(
        rollback::plan(at, &other, 2, &rollback_live()),
        Err(RollbackError::OtherApi { .. })
    ));
}

#[test]
fn rollback_drops_what_the_caches_kept_of_the_release_it_leaves() {
    let history = [
        release(1, &[("get", "1"), ("list", "1")], "d1"),
        release(2, &[("get", "2"), ("list", "1")], "d2"),
    ];
    let mut live = rollback_live();
    live.stage_cache = true;
    live.distribution = Some("E2QWRUHAPOMQZL".into());
    let target = rollback::target("test", &history, None, None).unwrap();
    let plan = rollback::plan(("shop", "test", "us-east-1"), target, 2, &live).unwrap();
    assert_eq!(
        kinds(&plan),
        [
            "point_alias",
            "set_stage_deployment",
            "flush_stage_cache",
            "create_invalidation",
            "record_release"
        ]
    );
    assert!(matches!(
        &plan.actions[3],
        Action::CreateInvalidation { distribution, paths, .. }
            if distribution == "E2QWRUHAPOMQZL" && paths == &["/*"]
    ));
    // Nothing to move: nothing flushed or invalidated either.
    let served = rollback::target("test", &history, Some(2), None).unwrap();
    assert!(
        rollback::plan(("shop", "test", "us-east-1"), served, 2, &live)
            .unwrap()
            .is_empty()
    );
}
