//! The stage's S3 artifact store in a plan. With `artifact-bucket`, every
//! zip the plan sends to Lambda goes to the bucket first, once, under its
//! content hash, and Lambda takes it from there; without one, zips travel
//! in the requests and one over Lambda's 50 MB direct-upload limit is an
//! error before any AWS call. Pure: the bucket's live state comes in
//! [`LiveStore`].

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::action::{Action, S3Object};
use super::state::{Desired, DesiredError};
use crate::build::MAX_ZIPPED_BYTES;
use crate::manifest::Artifact;
use crate::model::store::{manifest_key, zip_key, StoreOrigin};
use crate::model::Stage;

/// The bucket a stage deploys through, and the zips it would hold.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DesiredStore {
    pub bucket: String,
    pub create: bool,
    pub origin: StoreOrigin,
    /// Every zip of the stage, by its CodeSha256.
    pub zips: BTreeMap<String, StoredZip>,
}

/// One zip of the stage and its key in the bucket.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredZip {
    pub key: String,
    /// The zip, as the manifest names it.
    pub zip: String,
    pub bytes: u64,
}

/// What the bucket holds of the stage's zips.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LiveStore {
    pub exists: bool,
    /// The keys of the stage's zips already in the bucket.
    pub present: BTreeSet<String>,
}

/// The store of `stage` for the zips in `used`; without a bucket, a zip
/// over 50 MB is refused.
pub fn desired(stage: &Stage, used: &[&Artifact]) -> Result<Option<DesiredStore>, DesiredError> {
    let Some(store) = &stage.artifacts else {
        if let Some(big) = used.iter().find(|a| a.zipped_size > MAX_ZIPPED_BYTES) {
            return Err(DesiredError::NeedsArtifactBucket {
                name: big.name.clone(),
                arch: big.architecture,
                size: crate::build::human_bytes(big.zipped_size),
                stage: stage.name.clone(),
            });
        }
        return Ok(None);
    };
    let zips = used
        .iter()
        .map(|a| {
            let zip = StoredZip {
                key: zip_key(&a.sha256),
                zip: a.path.clone(),
                bytes: a.zipped_size,
            };
            (a.code_sha256.clone(), zip)
        })
        .collect();
    Ok(Some(DesiredStore {
        bucket: store.bucket.clone(),
        create: store.create,
        origin: store.origin.clone(),
        zips,
    }))
}

/// Points every code write of `actions` at the bucket, and puts first what
/// that needs: the bucket (when it is to be created) and each zip missing
/// from it, once. A plan that records a release also uploads the stage's
/// other missing zips and the release's manifest, so that the release can
/// be promoted from any machine. Without a store, `actions` stay as they are.
pub fn route(desired: &Desired, live: Option<&LiveStore>, actions: &mut Vec<Action>) {
    let Some(store) = &desired.store else {
        return;
    };
    let (region, tags) = (&desired.region, &desired.tags);
    let exists = live.is_some_and(|l| l.exists);
    let present = |key: &str| exists && live.is_some_and(|l| l.present.contains(key));
    let mut first = Vec::new();
    if !exists && store.create {
        first.push(Action::CreateArtifactBucket {
            bucket: store.bucket.clone(),
            region: region.to_owned(),
            tags: tags.clone(),
        });
    }
    let mut queued = BTreeSet::new();
    for action in actions.iter_mut() {
        let (code_sha256, s3) = match action {
            Action::PublishLayerVersion {
                code_sha256, s3, ..
            }
            | Action::CreateFunction {
                code_sha256, s3, ..
            }
            | Action::UpdateFunctionCode {
                to: code_sha256,
                s3,
                ..
            } => (code_sha256.clone(), s3),
            _ => continue,
        };
        let Some(zip) = store.zips.get(&code_sha256) else {
            continue;
        };
        *s3 = Some(S3Object {
            bucket: store.bucket.clone(),
            key: zip.key.clone(),
        });
        if !present(&zip.key) && queued.insert(zip.key.clone()) {
            first.push(upload(store, &code_sha256, zip));
        }
    }
    let release = actions
        .iter()
        .any(|a| matches!(a, Action::RecordRelease { .. }));
    let mut last = None;
    if release {
        for (code_sha256, zip) in &store.zips {
            if !present(&zip.key) && queued.insert(zip.key.clone()) {
                first.push(upload(store, code_sha256, zip));
            }
        }
        if let (Some(sha256), Some(manifest)) = (&desired.manifest_sha256, &desired.manifest_file) {
            last = Some(Action::UploadManifest {
                bucket: store.bucket.clone(),
                key: manifest_key(&desired.app, sha256),
                manifest: manifest.clone(),
                sha256: sha256.clone(),
                commit: desired.commit.clone(),
            });
        }
    }
    actions.splice(0..0, first);
    actions.extend(last);
}

fn upload(store: &DesiredStore, code_sha256: &str, zip: &StoredZip) -> Action {
    Action::UploadArtifact {
        bucket: store.bucket.clone(),
        key: zip.key.clone(),
        zip: zip.zip.clone(),
        code_sha256: code_sha256.to_owned(),
        bytes: zip.bytes,
    }
}
