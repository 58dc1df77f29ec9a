//! Gradual release. `deploy --canary PCT --bake DURATION` applies the
//! ordinary plan with one difference: each alias that moves to a new
//! version keeps serving the version it served and sends PCT percent of its
//! traffic to the new one (a weighted alias). The deploy then bakes while
//! [`super::watch`] reads the errors, and either completes (the ordinary
//! plan again, which now moves the aliases the rest of the way and records
//! the release) or reverts (a rollback to the release the stage served).
//!
//! The stage remembers a canary in progress in one SSM parameter, written
//! before any alias shifts: a Ctrl-C or a crash during the bake leaves a
//! state the next `deploy` completes and `rollback` reverts. This module owns
//! that record and the split of a plan into its canary.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::action::{Action, VersionRef};
use super::plan::Plan;
use super::state::Live;

/// The parameter that records the stage's canary in progress.
pub fn parameter(app: &str, stage: &str) -> String {
    format!("/ferry/{app}/{stage}/canary")
}

/// How a deploy releases gradually.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CanarySettings {
    /// The share of each changed function's traffic the new version takes.
    pub percent: u8,
    pub bake_s: u64,
    /// The errors tolerated during the bake; one more reverts.
    pub max_errors: u32,
}

/// The canary in progress, as the stage records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CanaryRecord {
    pub percent: u8,
    pub bake_s: u64,
    /// The functions whose alias is weighted.
    pub functions: BTreeSet<String>,
    /// The release the stage served when the canary began: what a revert
    /// returns to (`None`: the stage had none).
    pub before: Option<u32>,
}

/// The error when the stage changed during the bake.
#[derive(Debug, thiserror::Error, miette::Diagnostic, PartialEq, Eq)]
pub enum CanaryError {
    #[error(
        "stage `{stage}` changed during the canary's bake: completing it now would also {what}"
    )]
    #[diagnostic(help(
        "another deploy or a hand edit came in meanwhile; nothing was completed. Run `cargo xtask plan --stage {stage}` to see where it stands, then `cargo xtask deploy --stage {stage}` or `cargo xtask rollback --stage {stage}`"
    ))]
    StageChanged { stage: String, what: String },
    #[error("stage `{stage}` has a canary in progress already")]
    #[diagnostic(help(
        "a deploy or runner stopped during its bake. Run `cargo xtask deploy --stage {stage}` to complete it, or `cargo xtask rollback --stage {stage}` to revert it, then start the new canary"
    ))]
    InProgress { stage: String },
}

/// Refuses a new canary while one is recorded: splitting again would
/// release the baked version whole, unjudged.
pub fn check_none_in_progress(live: &Live, stage: &str) -> Result<(), CanaryError> {
    match live.canary {
        Some(_) => Err(CanaryError::InProgress {
            stage: stage.to_owned(),
        }),
        None => Ok(()),
    }
}

/// Turns `plan` into its canary: every alias move from an existing version
/// to the version the plan publishes becomes a weighted alias, the release
/// is not recorded yet, and the canary record is written first. Returns the
/// functions it shifted; none (a first deploy, or no function changes)
/// leaves the plan as it was: there is nothing to compare with.
pub fn split(plan: &mut Plan, live: &Live, settings: &CanarySettings) -> BTreeSet<String> {
    let mut shifted = BTreeSet::new();
    for action in &mut plan.actions {
        if let Action::PointAlias {
            function,
            from: Some(_),
            to: VersionRef::Published,
            description,
            canary,
            ..
        } = action
        {
            // The alias describes the version it still mainly serves.
            let served = live
                .functions
                .get(function.as_str())
                .and_then(|f| f.alias.as_ref());
            if let Some(served) = served {
                *description = served.description.clone();
                *canary = Some(settings.percent);
                shifted.insert(function.clone());
            }
        }
    }
    if shifted.is_empty() {
        return shifted;
    }
    plan.actions
        .retain(|a| !matches!(a, Action::RecordRelease { .. } | Action::EndCanary { .. }));
    plan.actions.insert(
        0,
        Action::StartCanary {
            parameter: parameter(&plan.app, &plan.stage),
            record: CanaryRecord {
                percent: settings.percent,
                bake_s: settings.bake_s,
                functions: shifted.clone(),
                before: live.release.as_ref().map(|r| r.number),
            },
        },
    );
    shifted
}

/// Checks that `plan`, the ordinary plan made after the bake, only
/// completes the canary: it moves the shifted aliases the rest of the way,
/// records the release, and forgets the canary; anything else means the
/// stage changed meanwhile and the bake did not judge it.
pub fn check_completion(plan: &Plan, shifted: &BTreeSet<String>) -> Result<(), CanaryError> {
    let other = plan.actions.iter().find(|a| match a {
        Action::PointAlias {
            function,
            to: VersionRef::Version(_),
            canary: None,
            ..
        } => !shifted.contains(function),
        Action::RecordRelease { .. }
        | Action::EndCanary { .. }
        | Action::FlushStageCache { .. }
        | Action::CreateInvalidation { .. } => false,
        _ => true,
    });
    match other {
        None => Ok(()),
        Some(action) => Err(CanaryError::StageChanged {
            stage: plan.stage.clone(),
            what: super::render::line(action),
        }),
    }
}
