//! The front-door part of the planner: a new distribution and its alias
//! records, a converged door planning nothing, a stage switch, an origin
//! changed by hand, and invalidations.

use super::front::{self, DesiredFront, LiveDistribution, LiveFront, LiveOrigin};
use super::plan::Action;
use super::render;
use super::tests::{converged, desired_for, kinds, workspace};
use super::*;
use crate::model::FrontDoor;

/// The front door a successful deploy of `desired` leaves behind.
pub(super) fn converged_front(desired: &Desired) -> Option<LiveFront> {
    desired.front.as_ref().map(|front| {
        let target = "d111.cloudfront.net".to_owned();
        LiveFront {
            distribution: Some(LiveDistribution {
                id: "E1FERRY".into(),
                domain_name: target.clone(),
                status: "Deployed".into(),
                aliases: front.door.domain.iter().cloned().collect(),
                origin: LiveOrigin {
                    id: front::FERRY_ORIGIN_ID.into(),
                    domain: front::api_domain("abc123", &desired.region),
                    path: front.origin_path.clone(),
                },
                behaviors: front.door.cache.behaviors.clone(),
            }),
            alias_records: front::ALIAS_TYPES
                .iter()
                .map(|t| (t.to_string(), format!("{target}.")))
                .collect(),
        }
    })
}

pub(super) fn with_door(desired: &mut Desired, invalidate: bool) {
    desired.front = Some(DesiredFront {
        door: FrontDoor {
            domain: Some("api.shop.example".into()),
            certificate: Some("arn:aws:acm:us-east-1:123456789012:certificate/c1".into()),
            hosted_zone: Some("Z0SHOP".into()),
            distribution: None,
            origin: None,
            invalidate,
            ..Default::default()
        },
        origin_path: format!("/{}", desired.stage),
    });
}

#[test]
fn first_deploy_creates_the_distribution_after_the_api_deployment() {
    let (_f, ws) = workspace(false);
    let mut desired = desired_for(&ws, &[]);
    with_door(&mut desired, true);
    let plan = plan(&desired, &Live::default(), false);
    let order = kinds(&plan);
    let tail: Vec<&str> = order
        .iter()
        .rev()
        .skip(1)
        .take(3)
        .rev()
        .map(String::as_str)
        .collect();
    assert_eq!(
        tail,
        [
            "create_deployment",
            "create_distribution",
            "upsert_alias_records"
        ]
    );
    let Some(Action::CreateDistribution {
        origin_domain,
        origin_path,
        ..
    }) = plan
        .actions
        .iter()
        .find(|a| matches!(a, Action::CreateDistribution { .. }))
    else {
        unreachable!()
    };
    assert_eq!((origin_domain, origin_path.as_str()), (&None, "/test"));
    assert!(render::text(&plan).contains("origin <new api>/test"));
}

#[test]
fn a_converged_front_door_plans_nothing() {
    let (_f, ws) = workspace(false);
    let mut desired = desired_for(&ws, &[]);
    with_door(&mut desired, true);
    let plan = plan(&desired, &converged(&desired), false);
    assert!(plan.is_empty(), "{}", render::text(&plan));
    assert!(plan
        .unchanged
        .iter()
        .any(|u| u.starts_with("distribution E1FERRY")));
}

#[test]
fn a_stage_switch_changes_only_the_origin_path_and_invalidates_everything() {
    let (_f, ws) = workspace(false);
    let mut desired = desired_for(&ws, &[]);
    with_door(&mut desired, true);
    let mut live = converged(&desired);
    let door = live.front.as_mut().unwrap().distribution.as_mut().unwrap();
    door.origin.path = "/prod".into();
    let plan = plan(&desired, &live, false);
    assert_eq!(
        kinds(&plan),
        ["update_distribution_origin", "create_invalidation"]
    );
    assert!(
        matches!(&plan.actions[1], Action::CreateInvalidation { paths, .. } if paths == &["/*"])
    );
    insta::assert_snapshot!("stage_switch", render::text(&plan));
}

#[test]
fn an_origin_changed_by_hand_is_pointed_back_without_invalidation_when_not_asked() {
    let (_f, ws) = workspace(false);
    let mut desired = desired_for(&ws, &[]);
    with_door(&mut desired, false);
    let mut live = converged(&desired);
    let door = live.front.as_mut().unwrap().distribution.as_mut().unwrap();
    door.origin.domain = "example.org".into();
    let plan = plan(&desired, &live, false);
    assert_eq!(kinds(&plan), ["update_distribution_origin"]);
    let Action::UpdateDistributionOrigin { to_domain, .. } = &plan.actions[0] else {
        unreachable!()
    };
    assert_eq!(
        to_domain.as_deref(),
        Some("abc123.execute-api.us-east-1.amazonaws.com")
    );
}

#[test]
fn a_route_change_invalidates_only_its_paths() {
    let (_f, ws) = workspace(false);
    let mut before = desired_for(&ws, &[]);
    with_door(&mut before, true);
    let live = converged(&before);
    let (_g, ws2) = workspace(true);
    let mut after = desired_for(&ws2, &[]);
    with_door(&mut after, true);
    let plan = plan(&after, &live, false);
    assert_eq!(
        kinds(&plan),
        [
            "put_rest_api",
            "create_deployment",
            "create_invalidation",
            "record_release"
        ]
    );
    assert!(
        matches!(&plan.actions[2], Action::CreateInvalidation { paths, .. } if paths == &["/items*"])
    );
}

#[test]
fn alias_records_pointing_elsewhere_are_upserted() {
    let (_f, ws) = workspace(false);
    let mut desired = desired_for(&ws, &[]);
    with_door(&mut desired, false);
    let mut live = converged(&desired);
    let records = &mut live.front.as_mut().unwrap().alias_records;
    records.insert("AAAA".into(), "old.cloudfront.net.".into());
    let plan = plan(&desired, &live, false);
    assert_eq!(kinds(&plan), ["upsert_alias_records"]);
    live.front = Some(LiveFront::default());
    let plan = super::plan(&desired, &live, false);
    assert_eq!(
        kinds(&plan),
        ["create_distribution", "upsert_alias_records"]
    );
}
