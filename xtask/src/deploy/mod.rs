//! Deploying a stage: the desired state from the model and a build manifest,
//! the plan against the live state, and its rendering. Everything here is
//! pure; reading live state from AWS and applying a plan live on the AWS side.

pub mod plan;
pub mod render;
pub mod state;

#[cfg(test)]
mod tests;

pub use plan::{plan, Action, Change, Plan};
pub use state::{desired, Desired, DesiredError, Live, LiveApi, LiveFunction, LiveLayerVersion};
