//! Deploying a stage: the desired state from the model and a build manifest,
//! the plan against the live state, and its rendering. Everything here is
//! pure; reading live state from AWS and applying a plan live on the AWS side.

pub mod action;
pub mod authorizers;
pub mod canary;
mod changes;
pub mod destroy;
pub mod doctor;
pub mod front;
mod live;
pub mod log_archive;
pub mod log_archive_report;
pub mod openapi;
pub mod plan;
pub mod prune;
pub mod record;
pub mod release;
pub mod render;
pub mod roles;
pub mod rollback;
pub mod saved;
pub mod stage_cache;
pub mod stage_checks;
pub mod stage_settings;
pub mod state;
pub mod store;
pub mod watch;

#[cfg(test)]
mod adopt_tests;
#[cfg(test)]
mod authorizers_tests;
#[cfg(test)]
mod cache_tests;
#[cfg(test)]
mod canary_tests;
#[cfg(test)]
mod cors_tests;
#[cfg(test)]
mod destroy_tests;
#[cfg(test)]
mod drift_tests;
#[cfg(test)]
mod front_tests;
#[cfg(test)]
mod log_archive_tests;
#[cfg(test)]
mod release_tests;
#[cfg(test)]
mod roles_tests;
#[cfg(test)]
mod saved_tests;
#[cfg(test)]
mod secret_tests;
#[cfg(test)]
mod stage_settings_tests;
#[cfg(test)]
mod store_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod vpc_tests;

pub use action::VersionRef;
pub use plan::{plan, Action, Change, FunctionSettings, LayerArn, Plan};
pub use saved::{SavedPlan, SavedPlanError};
pub use state::{
    desired, ApiGatewayAccount, CanaryVersion, Desired, DesiredError, DesiredRole, Live, LiveAlias,
    LiveApi, LiveFunction, LiveLayerVersion,
};

use crate::model::{Stage, Workspace};

/// The stage named `name`, or an error that lists the stages there are.
pub fn find_stage<'a>(workspace: &'a Workspace, name: &str) -> miette::Result<&'a Stage> {
    workspace.stages.get(name).ok_or_else(|| {
        let known: Vec<&str> = workspace.stages.keys().map(String::as_str).collect();
        miette::miette!(
            help = format!(
                "use one of: {}; or add [stages.{name}] to deploy.toml",
                if known.is_empty() {
                    "(none)".to_owned()
                } else {
                    known.join(", ")
                }
            ),
            "deploy.toml has no stage `{name}`"
        )
    })
}
