//! ferry: declarative build-and-deploy for Rust serverless APIs on AWS.
//!
//! The engine behind `cargo xtask`: the workspace model (`model`), the build
//! (`build`), and one module per command. `main.rs` only parses flags and
//! dispatches here.

pub mod aws_side;
pub mod bench;
pub mod build;
pub mod check;
pub mod cli;
pub mod deploy;
pub mod manifest;
pub mod model;
pub mod routes;
pub mod serve;
pub mod test_cmd;
pub mod tools;

use std::path::{Path, PathBuf};
use std::process::Command;

use miette::{miette, IntoDiagnostic, WrapErr};

/// The workspace root: `explicit` when given, else the nearest folder upwards
/// from the current directory that holds both Cargo.toml and deploy.toml.
pub fn workspace_root(explicit: Option<&Path>) -> miette::Result<PathBuf> {
    if let Some(root) = explicit {
        return std::path::absolute(root)
            .map_err(|e| miette::miette!("cannot resolve the root {}: {e}", root.display()));
    }
    let cwd = std::env::current_dir()
        .map_err(|e| miette::miette!("cannot read the current directory: {e}"))?;
    cwd.ancestors()
        .find(|dir| dir.join("deploy.toml").is_file() && dir.join("Cargo.toml").is_file())
        .map(Path::to_path_buf)
        .ok_or_else(|| {
            miette::miette!(
                help = "run ferry inside a workspace with deploy.toml at its root, or pass --root",
                "no ferry workspace (Cargo.toml with deploy.toml) at or above {}",
                cwd.display()
            )
        })
}

/// Copies the workspace sources (what git tracks) to `dest`, sharing the tool folder.
pub fn copy_sources(root: &Path, dest: &Path) -> miette::Result<()> {
    let listed = Command::new("git")
        .current_dir(root)
        .args(["ls-files", "-z"])
        .output()
        .into_diagnostic()?;
    if !listed.status.success() {
        return Err(miette!(
            "the benchmark copies what git tracks; run it inside the git checkout"
        ));
    }
    for rel in listed.stdout.split(|b| *b == 0).filter(|p| !p.is_empty()) {
        let rel = PathBuf::from(String::from_utf8_lossy(rel).into_owned());
        let (from, to) = (root.join(&rel), dest.join(&rel));
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).into_diagnostic()?;
        }
        std::fs::copy(&from, &to)
            .into_diagnostic()
            .wrap_err_with(|| format!("copying {}", rel.display()))?;
    }
    std::fs::create_dir_all(root.join(".ferry")).into_diagnostic()?;
    std::os::unix::fs::symlink(root.join(".ferry"), dest.join(".ferry")).into_diagnostic()
}
