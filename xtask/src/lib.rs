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
    let link = dest.join(".ferry");
    if link.is_symlink() {
        std::fs::remove_file(&link).into_diagnostic()?;
    }
    std::os::unix::fs::symlink(root.join(".ferry"), link).into_diagnostic()
}

/// Makes `dest` a copy of the workspace sources at `root`, keeping
/// `dest/target`, so that a second run over the same copy builds incrementally.
pub fn refresh_copy(root: &Path, dest: &Path) -> miette::Result<()> {
    if dest.exists() {
        for entry in std::fs::read_dir(dest).into_diagnostic()? {
            let path = entry.into_diagnostic()?.path();
            if path.file_name() == Some("target".as_ref()) {
                continue;
            }
            let removed = if path.is_dir() && !path.is_symlink() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
            removed
                .into_diagnostic()
                .wrap_err_with(|| format!("removing {}", path.display()))?;
        }
    }
    copy_sources(root, dest)
}
