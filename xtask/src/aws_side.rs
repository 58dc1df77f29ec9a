//! `cargo xtask plan|deploy`: validates the workspace and the stage, then
//! hands the command to ferry's AWS side (the `xtask-aws` crate), so that
//! `build`, `serve` and `check` never compile the AWS SDK.

use std::path::Path;
use std::process::Command;

use miette::{miette, IntoDiagnostic};

/// Runs the AWS side with this process's own arguments; returns its exit code.
pub fn forward(root: &Path, stage: &str) -> miette::Result<u8> {
    // Bad input fails here, before the SDK is compiled or any AWS call.
    let workspace = crate::check::load(root)?;
    crate::deploy::find_stage(&workspace, stage)?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let target = crate::build::compile::target_dir(root);
    if !target.join("debug").join("ferry-aws").exists() {
        eprintln!(
            "ferry: compiling its AWS side once (`cargo build -p xtask-aws`: the AWS SDK, a few minutes)"
        );
    }
    let status = Command::new(cargo)
        .current_dir(root)
        .args([
            "run",
            "--quiet",
            "--package",
            "xtask-aws",
            "--bin",
            "ferry-aws",
            "--",
        ])
        .args(std::env::args_os().skip(1))
        .env("FERRY_ROOT", root)
        .status()
        .into_diagnostic()?;
    match status.code() {
        Some(code) => Ok(u8::try_from(code).unwrap_or(1)),
        None => Err(miette!("ferry's AWS side was killed by a signal")),
    }
}
