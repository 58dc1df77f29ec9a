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
            let text = std::fs::read_to_string(path).map_err(|e| {
                miette!(
                    help = "pass the manifest.json a `cargo xtask build` wrote",
                    "cannot read {}: {e}",
                    path.display()
                )
            })?;
            let manifest: Manifest = serde_json::from_str(&text).map_err(|e| {
                miette!(
                    help = "pass the manifest.json a `cargo xtask build` wrote",
                    "{} is not a ferry manifest: {e}",
                    path.display()
                )
            })?;
            if manifest.schema_version != ferry::manifest::SCHEMA_VERSION {
                return Err(miette!(
                    help = "build it again with this version of ferry",
                    "{} has manifest schema {}, this ferry reads {}",
                    path.display(),
                    manifest.schema_version,
                    ferry::manifest::SCHEMA_VERSION
                ));
            }
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
            Zips::NextTo(dir) => dir.join(rel.strip_prefix("target/lambda/").unwrap_or(rel)),
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
