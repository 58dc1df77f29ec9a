//! A function's VPC in the planner: joining, moving and leaving one is a
//! configuration update and a new version, shown as the subnets and
//! groups; the managed role gets Lambda's network-interface policy; a
//! converged stage in a VPC plans nothing.

use super::action::{
    managed_policies, FunctionSettings, BASIC_EXECUTION_POLICY, VPC_ACCESS_POLICY,
};
use super::tests::{converged, desired_for, kinds, workspace};
use super::*;
use crate::model::vpc::{SecurityGroupId, SubnetId, Vpc, VpcChoice};

fn vpc(subnet: &str) -> Vpc {
    Vpc {
        subnets: SubnetId::parse(subnet).into_iter().collect(),
        security_groups: SecurityGroupId::parse("sg-0123456789abcdef0")
            .into_iter()
            .collect(),
        ipv6_dual_stack: false,
    }
}

/// The test stage in a VPC, `get` kept out of it.
fn in_vpc(subnet: &str) -> Desired {
    let (_f, mut ws) = workspace(false);
    let stage = ws.stages.get_mut("test").unwrap();
    stage.vpc = Some(vpc(subnet));
    stage.overrides.entry("get".into()).or_default().vpc = Some(VpcChoice::Outside);
    desired_for(&ws, &[])
}

fn sent_vpc(plan: &Plan) -> Vec<(String, Option<Vpc>)> {
    plan.actions
        .iter()
        .filter_map(|a| match a {
            Action::UpdateFunctionConfiguration {
                function,
                settings: FunctionSettings { vpc, .. },
                ..
            } => Some((function.clone(), vpc.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn joining_a_vpc_updates_the_functions_in_it_and_shows_where() {
    let (_f, ws) = workspace(false);
    let outside = desired_for(&ws, &[]);
    let live = converged(&outside);
    let desired = in_vpc("subnet-1111aaaa");
    let plan = plan(&desired, &live, false);
    assert_eq!(
        kinds(&plan),
        [
            "update_function_configuration",
            "publish_version",
            "point_alias",
            "record_release"
        ],
        "only `list` joins: `get` stays out"
    );
    assert_eq!(
        sent_vpc(&plan),
        [("shop-test-list".to_owned(), Some(vpc("subnet-1111aaaa")))]
    );
    insta::assert_snapshot!("vpc_joined", render::text(&plan));
}

#[test]
fn a_converged_stage_in_a_vpc_plans_nothing_and_leaving_it_detaches() {
    let desired = in_vpc("subnet-1111aaaa");
    let live = converged(&desired);
    assert!(plan(&desired, &live, false).is_empty());
    let moved = in_vpc("subnet-2222bbbb");
    assert_eq!(
        sent_vpc(&plan(&moved, &live, false)),
        [("shop-test-list".to_owned(), Some(vpc("subnet-2222bbbb")))]
    );
    let (_f, ws) = workspace(false);
    let left = desired_for(&ws, &[]);
    assert_eq!(
        sent_vpc(&plan(&left, &live, false)),
        [("shop-test-list".to_owned(), None)]
    );
}

#[test]
fn the_managed_role_gets_the_network_interface_policy_only_with_a_vpc() {
    let desired = in_vpc("subnet-1111aaaa");
    assert_eq!(
        managed_policies(desired.functions.values()),
        [BASIC_EXECUTION_POLICY, VPC_ACCESS_POLICY]
    );
    let (_f, ws) = workspace(false);
    assert_eq!(
        managed_policies(desired_for(&ws, &[]).functions.values()),
        [BASIC_EXECUTION_POLICY]
    );
    let mut live = converged(&desired);
    live.managed_role_exists = false;
    let plan = plan(&desired, &live, false);
    let Some(Action::CreateRole { policies, .. }) = plan.actions.first() else {
        panic!("{}", render::text(&plan))
    };
    assert!(policies.contains(&VPC_ACCESS_POLICY.to_owned()));
}

#[test]
fn a_version_records_its_vpc() {
    let a = in_vpc("subnet-1111aaaa");
    let b = in_vpc("subnet-2222bbbb");
    assert_ne!(
        a.functions["shop-test-list"].digest,
        b.functions["shop-test-list"].digest
    );
    assert_eq!(
        a.functions["shop-test-get"].digest,
        b.functions["shop-test-get"].digest
    );
}
