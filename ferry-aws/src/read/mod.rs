//! Reading live state, above the SDK plumbing: a stage's functions, layers,
//! REST API, permissions, log groups and front door; its recorded releases;
//! secret values; the functions' log events; a canary's metrics; and the
//! reads that tell whether a write already landed or a function settled;
//! the VPC preflight; the artifact bucket; the log archive; what a stage
//! adopts.
//! Makes no write.

pub mod adopted;
pub mod archive;
pub mod console;
pub mod front_live;
pub mod iam;
pub mod landed;
pub mod layer_use;
pub mod live;
pub mod live_api;
pub mod log_events;
pub mod metrics;
pub mod releases;
pub mod secrets;
pub mod stage_live;
pub mod stage_versions;
pub mod store;
pub mod teardown;
pub mod vpc;
pub mod wait;
