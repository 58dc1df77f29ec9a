//! Which versions of the app's layers something still uses: the layers of
//! every function of the region (`$LATEST`, whatever its app or stage, but
//! those `destroy` is deleting) and those the releases of the app's stages
//! in the region name. `prune` and `destroy` never delete one of these.

use std::collections::BTreeSet;

use aws_sdk_lambda::types::FunctionConfiguration;
use ferry::model::{Stage, Workspace};

use crate::read::{live, releases};
use crate::sdk::clients::Clients;
use crate::sdk::fail::AwsError;

/// Whose releases count, and how many of each stage's newest.
pub struct Releases<'a> {
    /// Read the releases of this stage too (`prune`), or only of the others.
    pub this_stage: bool,
    /// The newest this many of each stage (`None`: all).
    pub newest: Option<usize>,
    pub stage: &'a Stage,
}

/// The layer version ARNs in use by the region's functions `all` (but
/// those named in `leaving`) and the releases `counted`.
pub async fn in_use(
    c: &Clients,
    workspace: &Workspace,
    (all, leaving): (&[FunctionConfiguration], &[String]),
    counted: &Releases<'_>,
) -> Result<BTreeSet<String>, AwsError> {
    let mut used = BTreeSet::new();
    for f in all {
        if leaving
            .iter()
            .any(|o| Some(o.as_str()) == f.function_name())
        {
            continue;
        }
        used.extend(f.layers().iter().filter_map(|l| l.arn().map(str::to_owned)));
    }
    let app = workspace.app.name.as_str();
    for other in workspace.stages.values() {
        let this = other.name == counted.stage.name;
        if other.region != counted.stage.region || (this && !counted.this_stage) {
            continue;
        }
        let mut history = releases::history(c, app, &other.name).await?;
        history.sort_by_key(|r| std::cmp::Reverse(r.number));
        let newest = counted.newest.unwrap_or(history.len());
        for release in history.into_iter().take(newest) {
            used.extend(release.layers);
        }
    }
    Ok(used)
}

/// Every version of each of the workspace's layers: (AWS name, version, ARN).
pub async fn versions(
    c: &Clients,
    workspace: &Workspace,
) -> Result<Vec<(String, u64, String)>, AwsError> {
    let mut out = Vec::new();
    for layer in workspace.layers.keys() {
        let name = format!("{}-{layer}", workspace.app.name);
        for v in live::layer_versions_of(c, &name).await? {
            out.push((name.clone(), v.version, v.arn));
        }
    }
    Ok(out)
}
