//! `rollback`: the plan that returns a stage to what an earlier release
//! served, moving each function's alias back to the release's version and
//! the API stage back to its deployment: no build, no upload, no publish.
//! Pure, like the deploy planner; the AWS side reads [`RollbackLive`] and
//! applies the plan with the same executor.

use std::collections::{BTreeMap, BTreeSet};

use super::action::{Action, LayerArn, VersionRef};
use super::canary::{self, CanaryRecord};
use super::plan::Plan;
use super::record::{current_parameter, parameter, Release, ReleaseDraft, ReleaseKind};
use super::release::alias_name;

/// What a rollback reads: each function's alias and the target versions'
/// descriptions (the alias takes its version's), and the API stage.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RollbackLive {
    pub account: String,
    /// Function -> the version its stage alias serves (`None`: no alias;
    /// absent: no such function).
    pub aliases: BTreeMap<String, Option<String>>,
    /// Functions whose alias also sends traffic to another version (a
    /// canary's weighted alias).
    pub weighted: BTreeSet<String>,
    /// The canary in progress, which a rollback ends.
    pub canary: Option<CanaryRecord>,
    /// (function, version) -> that version's description; absent: deleted.
    pub versions: BTreeMap<(String, String), String>,
    /// The API's id and the deployment its stage serves.
    pub api: Option<(String, Option<String>)>,
    /// Caches that hold what the rolled-back release answered: the
    /// stage's API Gateway cache, and the front door's distribution.
    pub stage_cache: bool,
    pub distribution: Option<String>,
}

#[derive(Debug, thiserror::Error, miette::Diagnostic, PartialEq, Eq)]
pub enum RollbackError {
    #[error("stage `{stage}` has no release recorded")]
    #[diagnostic(help("ferry records a release with each deploy that changes what a stage serves; deploy it first"))]
    NoReleases { stage: String },
    #[error("release {number} is the stage's first: there is none before it")]
    #[diagnostic(help(
        "`cargo xtask releases --stage {stage}` lists the releases; pass one with --to"
    ))]
    NothingBefore { stage: String, number: u32 },
    #[error("stage `{stage}` has no release {number}")]
    #[diagnostic(help("pick one of its releases: {known}"))]
    NoSuch {
        stage: String,
        number: u32,
        known: String,
    },
    #[error("release {number} runs version {version} of {function}, which no longer exists")]
    #[diagnostic(help(
        "it was deleted (by `prune` or by hand); deploy the commit of release {number} instead"
    ))]
    Gone {
        number: u32,
        function: String,
        version: String,
    },
    #[error("release {number} was served by REST API {recorded}; the stage's API is now {live}")]
    #[diagnostic(help("the API was replaced since, and its deployments with it; deploy the commit of release {number} instead"))]
    OtherApi {
        number: u32,
        recorded: String,
        live: String,
    },
}

/// The release to return to: `to`, or the one before the current release;
/// during a canary (which records no release until it completes), the
/// current one: a rollback then reverts the canary.
pub fn target<'a>(
    stage: &str,
    history: &'a [Release],
    to: Option<u32>,
    canary: Option<&CanaryRecord>,
) -> Result<&'a Release, RollbackError> {
    let current =
        history
            .iter()
            .max_by_key(|r| r.number)
            .ok_or_else(|| RollbackError::NoReleases {
                stage: stage.to_owned(),
            })?;
    let wanted = match to {
        Some(n) => n,
        None if canary.is_some() => current.number,
        None => history
            .iter()
            .filter(|r| r.number < current.number)
            .map(|r| r.number)
            .max()
            .ok_or_else(|| RollbackError::NothingBefore {
                stage: stage.to_owned(),
                number: current.number,
            })?,
    };
    history
        .iter()
        .find(|r| r.number == wanted)
        .ok_or_else(|| RollbackError::NoSuch {
            stage: stage.to_owned(),
            number: wanted,
            known: history
                .iter()
                .map(|r| r.number.to_string())
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// The plan that makes the stage serve `target` again, recorded as the
/// release after `current`. Empty when the stage serves it already.
pub fn plan(
    (app, stage, region): (&str, &str, &str),
    target: &Release,
    current: u32,
    live: &RollbackLive,
) -> Result<Plan, RollbackError> {
    let mut actions = Vec::new();
    let mut unchanged = Vec::new();
    let alias = alias_name(stage);
    for (service, version) in &target.functions {
        let function = target.function_of(app, stage, service);
        let gone = || RollbackError::Gone {
            number: target.number,
            function: function.clone(),
            version: version.clone(),
        };
        let serving = live.aliases.get(&function).ok_or_else(gone)?;
        if serving.as_deref() == Some(version.as_str()) && !live.weighted.contains(&function) {
            unchanged.push(format!("alias {function}:{alias} (version {version})"));
            continue;
        }
        let description = live
            .versions
            .get(&(function.clone(), version.clone()))
            .ok_or_else(gone)?;
        actions.push(Action::PointAlias {
            function,
            alias: alias.clone(),
            from: serving.clone(),
            to: VersionRef::Version(version.clone()),
            description: description.clone(),
            canary: None,
        });
    }
    let (api_id, deployment) = live.api.clone().unwrap_or_default();
    if api_id != target.api_id {
        return Err(RollbackError::OtherApi {
            number: target.number,
            recorded: target.api_id.clone(),
            live: if api_id.is_empty() {
                "gone".into()
            } else {
                api_id
            },
        });
    }
    if deployment.as_deref() == Some(target.deployment.as_str()) {
        unchanged.push(format!(
            "stage `{stage}` (deployment {})",
            target.deployment
        ));
    } else {
        actions.push(Action::SetStageDeployment {
            api: api_id.clone(),
            api_id: api_id.clone(),
            stage: stage.to_owned(),
            from: deployment,
            to: target.deployment.clone(),
        });
    }
    if !actions.is_empty() {
        // Cached answers of the release rolled back from go too.
        if live.stage_cache {
            actions.push(Action::FlushStageCache {
                api: api_id.clone(),
                api_id: Some(api_id.clone()),
                stage: stage.to_owned(),
            });
        }
        if let Some(distribution) = &live.distribution {
            actions.push(Action::CreateInvalidation {
                distribution: distribution.clone(),
                paths: vec!["/*".to_owned()],
                reference: format!("ferry rollback {app} {stage} to {}", target.number),
            });
        }
        actions.push(Action::RecordRelease {
            parameter: parameter(app, stage, current + 1),
            current: current_parameter(app, stage),
            release: ReleaseDraft {
                number: current + 1,
                kind: ReleaseKind::Rollback { to: target.number },
                commit: target.commit.clone(),
                manifest_sha256: target.manifest_sha256.clone(),
                functions: target
                    .functions
                    .iter()
                    .map(|(s, v)| (s.clone(), VersionRef::Version(v.clone())))
                    .collect(),
                layers: target.layers.iter().cloned().map(LayerArn::Arn).collect(),
                api_id: Some(target.api_id.clone()),
                deployment: Some(target.deployment.clone()),
                adopted: target.adopted.clone(),
            },
        });
    }
    if live.canary.is_some() {
        actions.push(Action::EndCanary {
            parameter: canary::parameter(app, stage),
        });
    }
    Ok(Plan::new(
        (app, stage, region),
        &live.account,
        actions,
        unchanged,
    ))
}

/// The plan that reverts a canary: the stage returns to `current`, the
/// release it served before the canary and still records as its current
/// one, so nothing new is recorded.
pub fn revert(
    at: (&str, &str, &str),
    current: &Release,
    live: &RollbackLive,
) -> Result<Plan, RollbackError> {
    let mut plan = plan(at, current, current.number, live)?;
    plan.actions
        .retain(|a| !matches!(a, Action::RecordRelease { .. }));
    Ok(plan)
}
