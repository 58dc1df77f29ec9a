//! The release record a stage keeps in AWS, not on the machine that
//! deployed: for each deploy or rollback, the function versions, layer
//! versions and API deployment the stage serves, the manifest's hash, the
//! commit, who and when. Each release is one SSM parameter
//! (`/ferry/<app>/<stage>/releases/<number>`), and the stage's current one
//! is copied to `/ferry/<app>/<stage>/release`, so a deploy reads one
//! parameter and `releases` and `rollback` read the history.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::action::{Action, LayerArn, VersionRef};
use super::state::{Desired, DesiredError, DesiredFunction, Live};

/// An SSM parameter holds at most 8 KB (the advanced tier; ferry asks for
/// intelligent tiering, which picks the standard tier below 4 KB).
pub const MAX_RECORD_BYTES: usize = 8192;

/// The stage's current release.
pub fn current_parameter(app: &str, stage: &str) -> String {
    format!("/ferry/{app}/{stage}/release")
}

/// The folder of the stage's release history.
pub fn history_path(app: &str, stage: &str) -> String {
    format!("/ferry/{app}/{stage}/releases/")
}

/// One release's parameter; zero-padded so that names sort by number.
pub fn parameter(app: &str, stage: &str, number: u32) -> String {
    format!("{}{number:06}", history_path(app, stage))
}

/// How the release came about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ReleaseKind {
    Deploy,
    /// Back to what release `to` served.
    Rollback {
        to: u32,
    },
}

/// A release as the plan carries it: what this deploy publishes or creates
/// is filled in by the executor, with who and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseDraft {
    pub number: u32,
    pub kind: ReleaseKind,
    pub commit: Option<String>,
    pub manifest_sha256: Option<String>,
    /// Service -> the version its function's alias serves.
    pub functions: BTreeMap<String, VersionRef>,
    pub layers: Vec<LayerArn>,
    /// `None`: the API this deploy creates.
    pub api_id: Option<String>,
    /// `None`: the deployment this deploy creates.
    pub deployment: Option<String>,
    /// Service -> the existing function it was deployed to, for the
    /// services whose stage adopts one (`function-name`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub adopted: BTreeMap<String, String>,
}

/// A release as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Release {
    pub number: u32,
    pub kind: ReleaseKind,
    /// RFC 3339, UTC.
    pub at: String,
    /// The ARN of the identity that deployed.
    pub by: String,
    pub commit: Option<String>,
    pub manifest_sha256: Option<String>,
    /// Service -> function version.
    pub functions: BTreeMap<String, String>,
    /// Layer version ARNs the functions use.
    pub layers: Vec<String>,
    pub api_id: String,
    pub deployment: String,
    /// Service -> the existing function it was deployed to, when the stage
    /// adopts one; the others' are `<app>-<stage>-<service>`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub adopted: BTreeMap<String, String>,
}

impl Release {
    /// The function `service`'s version runs as, in `stage` of `app`.
    pub fn function_of(&self, app: &str, stage: &str, service: &str) -> String {
        match self.adopted.get(service) {
            Some(name) => name.clone(),
            None => crate::model::function_name(app, stage, service),
        }
    }
}

/// What the executor knows once the plan's other actions ran.
pub struct Made<'a> {
    pub at: String,
    pub by: String,
    pub published: &'a dyn Fn(&str) -> Option<String>,
    pub layer: &'a dyn Fn(&str, crate::model::Arch) -> Option<String>,
    pub api_id: Option<String>,
    pub deployment: Option<String>,
}

impl ReleaseDraft {
    /// The release, with what this deploy made; `Err` names what is missing.
    pub fn resolve(&self, made: &Made<'_>) -> Result<Release, String> {
        let mut functions = BTreeMap::new();
        for (service, version) in &self.functions {
            let v = match version {
                VersionRef::Version(v) => v.clone(),
                VersionRef::Published => (made.published)(service)
                    .ok_or_else(|| format!("the version of `{service}` this deploy publishes"))?,
            };
            functions.insert(service.clone(), v);
        }
        let mut layers = Vec::new();
        for layer in &self.layers {
            layers.push(match layer {
                LayerArn::Arn(arn) => arn.clone(),
                LayerArn::Published { layer, arch } => (made.layer)(layer, *arch)
                    .ok_or_else(|| format!("the version of layer {layer} ({arch}) it publishes"))?,
            });
        }
        Ok(Release {
            number: self.number,
            kind: self.kind.clone(),
            at: made.at.clone(),
            by: made.by.clone(),
            commit: self.commit.clone(),
            manifest_sha256: self.manifest_sha256.clone(),
            functions,
            layers,
            api_id: self
                .api_id
                .clone()
                .or(made.api_id.clone())
                .ok_or("the API")?,
            deployment: self
                .deployment
                .clone()
                .or(made.deployment.clone())
                .ok_or("the API deployment")?,
            adopted: self.adopted.clone(),
        })
    }
}

/// Refuses a stage whose release could outgrow one SSM parameter, before
/// anything is written: each function and layer at its longest.
pub fn check_size(
    app: &str,
    stage: &str,
    functions: &BTreeMap<String, DesiredFunction>,
) -> Result<(), DesiredError> {
    let per_function: usize = functions
        .values()
        .map(|f| {
            // An adopted function's name is recorded too (`adopted`).
            let adopted = f.name != crate::model::function_name(app, stage, &f.service);
            f.service.len()
                + 16
                + if adopted {
                    f.service.len() + f.name.len() + 6
                } else {
                    0
                }
        })
        .sum();
    let layers: usize = functions
        .values()
        .flat_map(|f| &f.layers)
        .collect::<std::collections::BTreeSet<_>>()
        .len()
        * 150;
    // The fixed fields at their longest: ARNs, a hash, a commit, a time.
    let bytes = per_function + layers + 600 + app.len() + stage.len();
    if bytes > MAX_RECORD_BYTES {
        return Err(DesiredError::ReleaseTooLarge {
            stage: stage.to_owned(),
            bytes,
            max: MAX_RECORD_BYTES,
        });
    }
    Ok(())
}

/// The release a deploy plan records, when it moves what the stage serves
/// (an alias or the API deployment); `None` when it does not.
pub fn deploy_record(desired: &Desired, live: &Live, actions: &[Action]) -> Option<Action> {
    let moved_to = |function: &str| {
        actions.iter().find_map(|a| match a {
            Action::PointAlias {
                function: f, to, ..
            } if f == function => Some(to.clone()),
            _ => None,
        })
    };
    let moved = |function: &str| moved_to(function).is_some();
    let deploys = actions
        .iter()
        .any(|a| matches!(a, Action::CreateDeployment { .. }));
    // A canary cut after its aliases moved whole but before its release was
    // recorded: the stage serves what no release names yet.
    let unrecorded = live.canary.is_some()
        && live.release.as_ref().is_some_and(|r| {
            desired.functions.values().any(|f| {
                let serving = live.functions.get(&f.name).and_then(|l| l.alias.as_ref());
                serving.map(|a| &a.version) != r.functions.get(&f.service)
            })
        });
    if !deploys && !unrecorded && !desired.functions.keys().any(|f| moved(f)) {
        return None;
    }
    let mut functions = BTreeMap::new();
    let mut layers = std::collections::BTreeSet::new();
    for f in desired.functions.values() {
        let version = if let Some(to) = moved_to(&f.name) {
            to
        } else {
            let alias = live.functions.get(&f.name).and_then(|l| l.alias.as_ref())?;
            VersionRef::Version(alias.version.clone())
        };
        functions.insert(f.service.clone(), version);
        layers.extend(super::plan::layer_arns(desired, live, f));
    }
    let api = live.api.as_ref();
    let number = live.release.as_ref().map_or(1, |r| r.number + 1);
    Some(Action::RecordRelease {
        parameter: parameter(&desired.app, &desired.stage, number),
        current: current_parameter(&desired.app, &desired.stage),
        release: ReleaseDraft {
            number,
            kind: ReleaseKind::Deploy,
            commit: desired.commit.clone(),
            manifest_sha256: desired.manifest_sha256.clone(),
            functions,
            layers: layers.into_iter().collect(),
            api_id: api.map(|a| a.id.clone()),
            deployment: if deploys {
                None
            } else {
                api.and_then(|a| a.stage_deployment.as_ref())
                    .map(|(id, _)| id.clone())
            },
            adopted: desired
                .functions
                .values()
                .filter(|f| {
                    f.name != crate::model::function_name(&desired.app, &desired.stage, &f.service)
                })
                .map(|f| (f.service.clone(), f.name.clone()))
                .collect(),
        },
    })
}
