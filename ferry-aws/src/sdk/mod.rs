//! SDK plumbing, the bottom layer: the clients of one run, their
//! credentials and stall limits, pacing to AWS's quotas, error mapping,
//! one-attempt writes, plain HTTP(S) requests, and conversions between
//! ferry's types and the SDK's. Imports nothing else of this crate.

pub mod clients;
pub mod convert;
pub mod credentials;
pub mod fail;
pub mod once;
pub mod pace;
pub mod plain;
pub mod retry;
pub mod stall;
