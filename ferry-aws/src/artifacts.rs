//! The artifacts a run deploys: a fresh build of the workspace, or the
//! manifest a CI build job (`--manifest`) or a saved plan names, with its
//! zips found next to it.

use std::path::{Path, PathBuf};

use ferry::deploy::Desired;
use ferry::manifest::Manifest;
use miette::{miette, IntoDiagnostic};

/// Where the zips of a manifest are: the workspace root for a fresh build,
/// or next to a `--manifest` (CI keeps `target/lambda/` as one artifact).
pub enum Zips {
    Root(PathBuf),
    NextTo(PathBuf),
}

pub fn artifacts(
    root: &Path,
    workspace: &ferry::model::Workspace,
    manifest: Option<&Path>,
) -> miette::Result<(Manifest, Zips, PathBuf)> {
    match manifest {
        Some(path) => {
            let manifest = Manifest::load(path).map_err(|why| {
                miette!(
                    help =
                        "pass the manifest.json a `cargo xtask build` of this ferry version wrote",
                    "cannot use {}: {why}",
                    path.display()
                )
            })?;
            let file = std::path::absolute(path).into_diagnostic()?;
            let dir = file.parent().unwrap_or(Path::new("/")).to_path_buf();
            Ok((manifest, Zips::NextTo(dir), file))
        }
        None => {
            let plan = ferry::build::select::stage_plan(workspace).map_err(|e| miette!("{e}"))?;
            let outcome = ferry::build::build(workspace, &plan)?;
            let file = std::path::absolute(&outcome.manifest_path).into_diagnostic()?;
            Ok((outcome.manifest, Zips::Root(root.to_path_buf()), file))
        }
    }
}

pub fn resolve_zips(desired: &mut Desired, zips: &Zips) {
    let resolve = |rel: &str| -> String {
        let path = match zips {
            Zips::Root(root) => root.join(rel),
            Zips::NextTo(dir) => ferry::manifest::zip_in(dir, rel),
        };
        path.to_string_lossy().into_owned()
    };
    for layer in desired.layers.values_mut() {
        layer.zip = resolve(&layer.zip);
    }
    for function in desired.functions.values_mut() {
        function.zip = resolve(&function.zip);
    }
}
