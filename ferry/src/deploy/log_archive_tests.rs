//! The log archive in the planner: a first deploy makes the roles, the
//! stream and one filter per log group, after the groups; an archive in
//! place plans nothing; drift (a filter gone or pointed elsewhere, the
//! stream's prefix, a role's policy) is repaired alone; dropping the
//! archive removes what ferry made for it, filters first and the stream
//! last, and keeps the bucket.

use super::log_archive::{
    role_names, stream_name, LiveArchive, LiveFilter, LiveStream, FILTER_NAME,
};
use super::roles::{document, parse_document, LiveRole};
use super::tests::{converged, desired_for, kinds, workspace};
use super::*;
use crate::model::archive::LogArchive;
use crate::model::store::{ArtifactStore, StoreOrigin};
use crate::model::Workspace;

const BUCKET: &str = "shop-logs-123456789012";

fn with_archive(ws: &mut Workspace, create: bool) {
    ws.stages.get_mut("test").unwrap().log_archive = Some(LogArchive {
        bucket: ArtifactStore {
            bucket: BUCKET.into(),
            create,
            origin: StoreOrigin {
                file: "deploy.toml".into(),
                line: 9,
                key: "stages.test.log-archive.bucket".into(),
            },
        },
        prefix: "logs/shop/test/".into(),
    });
}

/// The archive as the first deploy leaves it.
fn in_place(desired: &Desired, live: &Live) -> LiveArchive {
    let plan = plan(desired, live, false);
    let mut archive = LiveArchive {
        bucket_exists: true,
        ..LiveArchive::default()
    };
    for action in &plan.actions {
        match action {
            Action::CreateRole {
                name,
                inline: Some(inline),
                ..
            } => {
                let role = LiveRole {
                    attached: Vec::new(),
                    permissions: Some(inline.document.clone()),
                };
                archive.roles.insert(name.clone(), role);
            }
            Action::CreateDeliveryStream { destination, .. } => {
                archive.stream = Some(LiveStream {
                    status: "ACTIVE".into(),
                    version_id: "1".into(),
                    destination_id: "destinationId-000000000001".into(),
                    destination: Some(destination.clone()),
                })
            }
            Action::PutSubscriptionFilter {
                log_group,
                destination_arn,
                role_arn,
                ..
            } => {
                let filter = LiveFilter {
                    destination_arn: destination_arn.clone(),
                    role_arn: Some(role_arn.clone()),
                    pattern: String::new(),
                };
                archive.filters.insert(log_group.clone(), filter);
            }
            _ => {}
        }
    }
    archive
}

fn archive_kinds(plan: &Plan) -> Vec<String> {
    let ours = [
        "create_log_bucket",
        "create_role",
        "put_role_policy",
        "delete_role",
        "create_delivery_stream",
        "update_delivery_stream",
        "delete_delivery_stream",
        "put_subscription_filter",
        "delete_subscription_filter",
    ];
    kinds(plan)
        .into_iter()
        .filter(|k| ours.contains(&k.as_str()))
        .collect()
}

#[test]
fn a_first_deploy_makes_roles_stream_and_a_filter_per_group_after_the_groups() {
    let (_f, mut ws) = workspace(false);
    with_archive(&mut ws, true);
    let desired = desired_for(&ws, &[]);
    let plan = plan(&desired, &Live::default(), false);
    let order = kinds(&plan);
    let first_filter = order.iter().position(|k| k == "put_subscription_filter");
    let last_group = order.iter().rposition(|k| k == "create_log_group");
    assert!(first_filter > last_group, "{order:?}");
    assert_eq!(
        archive_kinds(&plan),
        [
            "create_role",
            "create_log_bucket",
            "create_role",
            "create_role",
            "create_delivery_stream",
            "put_subscription_filter",
            "put_subscription_filter"
        ]
    );
    let filters: Vec<&str> = plan
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::PutSubscriptionFilter { log_group, .. } => Some(log_group.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        filters,
        ["/aws/lambda/shop-test-get", "/aws/lambda/shop-test-list"]
    );
    let (firehose, _) = role_names("shop", "test");
    let statements = plan.actions.iter().find_map(|a| match a {
        Action::CreateRole {
            name,
            inline: Some(inline),
            trust_policy,
            path,
            ..
        } if *name == firehose => Some((inline.statements.clone(), trust_policy, path)),
        _ => None,
    });
    let (statements, trust, path) = statements.unwrap();
    assert_eq!(path.as_deref(), Some("/ferry/shop/test/"));
    assert!(trust.contains("firehose.amazonaws.com") && trust.contains("sts:ExternalId"));
    assert!(
        statements.iter().any(|s| s.contains(&format!(
            "arn:aws:s3:::{BUCKET}/logs/shop/test-failed/*, arn:aws:s3:::{BUCKET}/logs/shop/test/*"
        ))),
        "{statements:?}"
    );
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"definition [0-9a-f]{16}", "definition [HASH]");
    settings.add_filter(r"sha256 [0-9a-f]{12}", "sha256 [HASH]");
    settings.bind(|| insta::assert_snapshot!("log_archive_first_deploy", render::text(&plan)));
}

#[test]
fn an_archive_in_place_plans_nothing() {
    let (_f, mut ws) = workspace(false);
    with_archive(&mut ws, true);
    let desired = desired_for(&ws, &[]);
    let mut live = converged(&desired);
    live.log_archive = Some(in_place(&desired, &live));
    let again = plan(&desired, &live, false);
    assert!(again.is_empty(), "{}", render::text(&again));
    assert!(again
        .unchanged
        .iter()
        .any(|u| u.starts_with(&format!("log archive {}", stream_name("shop", "test")))));
    assert!(log_archive_report::problems(&desired, &live).is_empty());
}

#[test]
fn drift_is_repaired_alone_and_doctor_names_it() {
    let (_f, mut ws) = workspace(false);
    with_archive(&mut ws, false);
    let desired = desired_for(&ws, &[]);
    let mut live = converged(&desired);
    let mut archive = in_place(&desired, &live);
    archive.filters.remove("/aws/lambda/shop-test-get");
    archive
        .filters
        .get_mut("/aws/lambda/shop-test-list")
        .unwrap()
        .destination_arn = "arn:aws:firehose:eu-west-1:123456789012:deliverystream/other".into();
    let stream = archive.stream.as_mut().unwrap();
    stream.version_id = "3".into();
    stream.destination.as_mut().unwrap().prefix = "old/".into();
    let (_, subscribe) = role_names("shop", "test");
    let role = archive.roles.get_mut(&subscribe).unwrap();
    let mut statements = parse_document(role.permissions.as_ref().unwrap()).unwrap();
    statements[0].actions.remove("firehose:PutRecordBatch");
    role.permissions = Some(document(&statements));
    live.log_archive = Some(archive);
    let repair = plan(&desired, &live, false);
    assert_eq!(
        archive_kinds(&repair),
        [
            "put_role_policy",
            "update_delivery_stream",
            "put_subscription_filter",
            "put_subscription_filter"
        ]
    );
    assert!(repair.actions.iter().any(|a| matches!(
        a,
        Action::UpdateDeliveryStream { version_id, to, .. }
            if version_id == "3" && to.prefix == "logs/shop/test/"
    )));
    let problems = log_archive_report::problems(&desired, &live);
    assert_eq!(problems.len(), 4, "{problems:?}");
    assert!(problems[0].contains("delivers to arn:aws:s3:::shop-logs-123456789012/old/"));
    assert!(
        problems[1].contains(&format!("role {subscribe} policy differs"))
            && problems[1].contains("firehose:PutRecordBatch"),
        "{problems:?}"
    );
    assert!(problems[2].contains(&format!("/aws/lambda/shop-test-get has no {FILTER_NAME}")));
}

#[test]
fn dropping_the_archive_removes_filters_then_roles_then_the_stream() {
    let (_f, mut ws) = workspace(false);
    with_archive(&mut ws, true);
    let with = desired_for(&ws, &[]);
    let mut live = converged(&with);
    live.log_archive = Some(in_place(&with, &live));
    ws.stages.get_mut("test").unwrap().log_archive = None;
    let without = desired_for(&ws, &[]);
    let removal = plan(&without, &live, false);
    assert_eq!(
        archive_kinds(&removal),
        [
            "delete_subscription_filter",
            "delete_subscription_filter",
            "delete_role",
            "delete_role",
            "delete_delivery_stream"
        ]
    );
    assert!(
        !render::text(&removal).contains("delete   log bucket"),
        "the bucket and its logs stay"
    );
    live.log_archive = Some(LiveArchive::default());
    assert!(plan(&without, &live, false).is_empty());
}

#[test]
fn names_fit_aws_limits() {
    let long = "a".repeat(60);
    assert!(stream_name(&long, "prod").len() <= 64);
    let (f, s) = role_names(&long, "prod");
    assert!(f.len() <= 64 && s.len() <= 64 && f != s);
    assert_eq!(stream_name("shop", "prod"), "shop-prod-logs");
}

#[test]
fn another_stage_s_filters_are_left_alone() {
    // `test` reads the groups of `test-eu` too: its prefix matches them.
    let (_f, mut ws) = workspace(false);
    with_archive(&mut ws, true);
    let desired = desired_for(&ws, &[]);
    let mut live = converged(&desired);
    let mut archive = in_place(&desired, &live);
    let theirs = LiveFilter {
        destination_arn: "arn:aws:firehose:us-east-1::deliverystream/shop-test-eu-logs".into(),
        role_arn: None,
        pattern: String::new(),
    };
    archive
        .filters
        .insert("/aws/lambda/shop-test-eu-get".into(), theirs);
    live.log_archive = Some(archive.clone());
    assert!(plan(&desired, &live, false).is_empty());
    ws.stages.get_mut("test").unwrap().log_archive = None;
    let without = desired_for(&ws, &[]);
    let removal = plan(&without, &live, false);
    let deleted: Vec<&str> = removal
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::DeleteSubscriptionFilter { log_group, .. } => Some(log_group.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        deleted,
        ["/aws/lambda/shop-test-get", "/aws/lambda/shop-test-list"]
    );
}

#[test]
fn a_stream_being_deleted_or_failed_is_made_again() {
    let (_f, mut ws) = workspace(false);
    with_archive(&mut ws, true);
    let desired = desired_for(&ws, &[]);
    let mut live = converged(&desired);
    let mut archive = in_place(&desired, &live);
    archive.stream.as_mut().unwrap().status = "CREATING_FAILED".into();
    live.log_archive = Some(archive.clone());
    assert_eq!(
        archive_kinds(&plan(&desired, &live, false)),
        ["create_delivery_stream"]
    );
    archive.stream.as_mut().unwrap().status = "DELETING".into();
    live.log_archive = Some(archive.clone());
    assert_eq!(
        archive_kinds(&plan(&desired, &live, false)),
        ["create_delivery_stream"]
    );
    // Dropped while it is being deleted: nothing more to delete there.
    archive.filters.clear();
    archive.roles.clear();
    live.log_archive = Some(archive);
    ws.stages.get_mut("test").unwrap().log_archive = None;
    assert!(plan(&desired_for(&ws, &[]), &live, false).is_empty());
}
