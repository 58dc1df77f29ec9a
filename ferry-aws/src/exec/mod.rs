//! The executor, the top layer of the AWS side: applies a plan's actions in
//! dependency order through the writes below it, keeping what one action
//! makes (a new API's id, a published layer's ARN, a function's RevisionId)
//! for the actions after it.

pub mod apply;
mod config;
mod ctx;
mod execute;
