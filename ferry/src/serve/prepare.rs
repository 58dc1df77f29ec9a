//! Gets functions ready to run on the host: builds the service binaries with
//! plain cargo (no zig, no cross target) and lays out each function's layer
//! files the way Lambda extracts them under `/opt`.

use std::path::{Path, PathBuf};
use std::process::Command;

use miette::{IntoDiagnostic, WrapErr};

use crate::build::pack;
use crate::model::{LayerRef, Workspace};

/// Builds every service's binary for the host.
pub fn build_host(root: &Path, workspace: &Workspace, release: bool) -> miette::Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    command.current_dir(root).args(["build", "--bins"]);
    if release {
        command.arg("--release");
    }
    for service in workspace.services.keys() {
        command.args(["-p", service]);
    }
    eprintln!(
        "ferry: building {} services for the host",
        workspace.services.len()
    );
    crate::tools::run(&mut command, "cargo build")
}

/// Copies each service's workspace layers into `target/ferry-serve/opt/<service>/`
/// (layer ARNs cannot be fetched locally and are skipped, with a warning).
/// Returns the folder holding one such `/opt` per service.
pub fn layer_dirs(workspace: &Workspace) -> miette::Result<PathBuf> {
    let root = crate::build::compile::target_dir(&workspace.root).join("ferry-serve/opt");
    let _ = std::fs::remove_dir_all(&root);
    for service in workspace.services.values() {
        let opt = root.join(service.name.as_str());
        std::fs::create_dir_all(&opt).into_diagnostic()?;
        for layer in &service.layers {
            let name = match layer {
                LayerRef::Workspace(name) => name,
                LayerRef::Arn(arn) => {
                    eprintln!("warning: {} uses {arn}, which serve cannot fetch; its files are absent locally", service.name);
                    continue;
                }
            };
            let Some(layer) = workspace.layers.get(name) else {
                continue;
            };
            for (dest, source) in &layer.files {
                let source = workspace.root.join(&layer.dir).join(source);
                for entry in pack::data_entries(&source, dest).into_diagnostic()? {
                    let target = opt.join(&entry.name);
                    if let Some(parent) = target.parent() {
                        std::fs::create_dir_all(parent).into_diagnostic()?;
                    }
                    std::fs::copy(&entry.source, &target)
                        .into_diagnostic()
                        .wrap_err_with(|| format!("copying {}", entry.source.display()))?;
                }
            }
        }
    }
    Ok(root)
}
