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

/// Where the zip a manifest names at `rel` is.
pub fn zip_path(zips: &Zips, rel: &str) -> PathBuf {
    match zips {
        Zips::Root(root) => root.join(rel),
        Zips::NextTo(dir) => ferry::manifest::zip_in(dir, rel),
    }
}

pub fn resolve_zips(desired: &mut Desired, zips: &Zips) {
    let resolve = |rel: &str| -> String { zip_path(zips, rel).to_string_lossy().into_owned() };
    for layer in desired.layers.values_mut() {
        layer.zip = resolve(&layer.zip);
    }
    for function in desired.functions.values_mut() {
        function.zip = resolve(&function.zip);
    }
}

/// Records where the deploy comes from: the source commit (`FERRY_COMMIT`,
/// else the workspace's git HEAD when it is a git checkout) and the hash of
/// the manifest deployed. A saved plan keeps the provenance it was made with.
pub fn provenance(
    root: &Path,
    desired: &mut Desired,
    manifest_file: &Path,
    saved: Option<&ferry::deploy::Plan>,
) {
    desired.manifest_file = Some(manifest_file.to_string_lossy().into_owned());
    if let Some((commit, manifest)) = saved.and_then(|p| p.provenance()) {
        desired.commit = commit;
        desired.manifest_sha256 = manifest;
        return;
    }
    desired.commit = match crate::archive::commit_beside(manifest_file) {
        // An archived release (`promote`) keeps the commit it was built from.
        Some(commit) => commit,
        None => std::env::var("FERRY_COMMIT")
            .ok()
            .filter(|c| !c.trim().is_empty())
            .or_else(|| git_head(root)),
    };
    desired.manifest_sha256 = std::fs::read(manifest_file)
        .ok()
        .map(|bytes| ferry::build::pack::sha256_hex(&bytes));
}

/// The short commit of the checkout at `root`, if git can tell.
fn git_head(root: &Path) -> Option<String> {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["rev-parse", "--short=12", "HEAD"])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let commit = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (out.status.success() && !commit.is_empty()).then_some(commit)
}
