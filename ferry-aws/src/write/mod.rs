//! Writes, above the reads: each function here makes one kind of change with
//! everything it sends passed in (the plan's action carries it), and
//! recognises its own effect when a retry meets it. Which write runs when is
//! the executor's business, one layer up.

pub mod archive;
pub mod dns;
pub mod front_apply;
pub mod front_config;
pub mod functions;
pub mod lambda_role;
pub mod lock;
pub mod preflight;
pub mod resources;
pub mod settings;
pub mod store;
pub mod teardown;
pub mod versions;
