//! The artifact bucket in the planner: a first deploy creates the bucket,
//! uploads each zip once and points every code write at it; a converged
//! stage plans nothing, whatever the bucket holds; a code change uploads
//! only its zip; a release keeps the stage's other zips and its manifest
//! there; a zip over 50 MB needs a bucket.

use std::collections::BTreeSet;

use super::store::LiveStore;
use super::tests::{converged, desired_for, kinds, manifest, workspace};
use super::*;
use crate::model::store::{zip_key, ArtifactStore, StoreOrigin};
use crate::model::Workspace;

const BUCKET: &str = "shop-artifacts-123456789012";

fn with_bucket(ws: &mut Workspace, create: bool) {
    ws.stages.get_mut("test").unwrap().artifacts = Some(ArtifactStore {
        bucket: BUCKET.into(),
        create,
        origin: StoreOrigin {
            file: "deploy.toml".into(),
            line: 3,
            key: "app.artifact-bucket".into(),
        },
    });
}

/// Every zip of `desired`, as the bucket would hold them.
fn all_present(desired: &Desired) -> LiveStore {
    let store = desired.store.as_ref().unwrap();
    LiveStore {
        exists: true,
        present: store.zips.values().map(|z| z.key.clone()).collect(),
    }
}

fn code_sources(plan: &Plan) -> Vec<Option<String>> {
    plan.actions
        .iter()
        .filter_map(|a| match a {
            Action::PublishLayerVersion { s3, .. }
            | Action::CreateFunction { s3, .. }
            | Action::UpdateFunctionCode { s3, .. } => {
                Some(s3.as_ref().map(|o| format!("{}/{}", o.bucket, o.key)))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn a_first_deploy_creates_the_bucket_and_uploads_each_zip_once() {
    let (_f, mut ws) = workspace(false);
    with_bucket(&mut ws, true);
    let mut desired = desired_for(&ws, &[]);
    desired.manifest_sha256 = Some("m".repeat(64));
    desired.manifest_file = Some("target/lambda/manifest.json".into());
    let plan = plan(&desired, &Live::default(), false);
    let order = kinds(&plan);
    assert_eq!(
        order[..4],
        [
            "create_artifact_bucket",
            "upload_artifact",
            "upload_artifact",
            "upload_artifact"
        ],
        "the layer's zip and the two functions', before anything uses them"
    );
    assert_eq!(order.last().map(String::as_str), Some("upload_manifest"));
    let sources = code_sources(&plan);
    assert_eq!(sources.len(), 3);
    assert!(
        sources
            .iter()
            .all(|s| s.as_deref().is_some_and(|s| s.starts_with(BUCKET))),
        "{sources:?}"
    );
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"definition [0-9a-f]{16}", "definition [HASH]");
    settings.bind(|| insta::assert_snapshot!("store_first_deploy", render::text(&plan)));
}

#[test]
fn a_missing_bucket_is_not_created_unless_asked() {
    let (_f, mut ws) = workspace(false);
    with_bucket(&mut ws, false);
    let desired = desired_for(&ws, &[]);
    let plan = plan(&desired, &Live::default(), false);
    // The read refuses such a bucket before planning; the planner only
    // never creates one it was not asked to.
    assert!(!kinds(&plan).contains(&"create_artifact_bucket".to_owned()));
}

#[test]
fn a_converged_stage_plans_nothing_whatever_the_bucket_holds() {
    let (_f, mut ws) = workspace(false);
    with_bucket(&mut ws, true);
    let desired = desired_for(&ws, &[]);
    let mut live = converged(&desired);
    live.store = Some(all_present(&desired));
    let full = plan(&desired, &live, false);
    assert!(full.is_empty(), "{}", render::text(&full));
    assert!(full
        .unchanged
        .contains(&format!("artifact bucket {BUCKET}")));
    // A stage deployed before it had a bucket: nothing to upload either.
    live.store = Some(LiveStore {
        exists: true,
        present: BTreeSet::new(),
    });
    assert!(plan(&desired, &live, false).is_empty());
}

#[test]
fn a_code_change_uploads_its_zip_and_the_release_keeps_the_rest() {
    let (_f, mut ws) = workspace(false);
    with_bucket(&mut ws, true);
    let before = desired_for(&ws, &[]);
    let mut live = converged(&before);
    live.store = Some(all_present(&before));
    let mut desired = desired_for(&ws, &[("get", 2)]);
    desired.manifest_sha256 = Some("m".repeat(64));
    desired.manifest_file = Some("target/lambda/manifest.json".into());
    let plan = plan(&desired, &live, false);
    assert_eq!(
        kinds(&plan),
        [
            "upload_artifact",
            "update_function_code",
            "publish_version",
            "point_alias",
            "record_release",
            "upload_manifest"
        ]
    );
    let Action::UploadArtifact { key, .. } = &plan.actions[0] else {
        unreachable!()
    };
    assert_eq!(*key, zip_key("get-arm64-v2"));
    assert_eq!(
        code_sources(&plan),
        [Some(format!("{BUCKET}/{}", zip_key("get-arm64-v2")))]
    );
    // Zips the bucket lacks (the stage had none before) go up with a release.
    live.store = Some(LiveStore {
        exists: true,
        present: BTreeSet::new(),
    });
    let uploads = kinds(&super::plan::plan(&desired, &live, false))
        .iter()
        .filter(|k| *k == "upload_artifact")
        .count();
    assert_eq!(uploads, 3);
}

#[test]
fn a_zip_over_50_mb_needs_a_bucket() {
    let (_f, mut ws) = workspace(false);
    let mut built = manifest(&ws, &Default::default());
    let big = built
        .artifacts
        .iter_mut()
        .find(|a| a.name == "keys")
        .unwrap();
    big.zipped_size = 60 * 1024 * 1024;
    let secrets = crate::model::Secrets::default();
    let err = state::desired(&ws, &ws.stages["test"], &built, &secrets).unwrap_err();
    assert!(
        matches!(&err, DesiredError::NeedsArtifactBucket { name, stage, .. } if name == "keys" && stage == "test"),
        "{err}"
    );
    with_bucket(&mut ws, true);
    assert!(state::desired(&ws, &ws.stages["test"], &built, &secrets).is_ok());
}
