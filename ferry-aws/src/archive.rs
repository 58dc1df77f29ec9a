//! The releases this machine deployed, kept for `promote`: after a deploy,
//! the manifest (byte for byte, so its hash is the one the release records)
//! and its zips are copied to `target/ferry/releases/<manifest sha256>/`,
//! laid out as a `--manifest` folder, with the commit they were built from.
//! The newest [`KEEP`] are kept. Copies, not links: the next build rewrites
//! the zips in `target/lambda/` in place.

use std::path::{Path, PathBuf};

use ferry::manifest::{zip_in, Manifest};
use serde::{Deserialize, Serialize};

/// How many archived releases stay on this machine.
const KEEP: usize = 20;

/// What the archive keeps beside a manifest: where it came from.
#[derive(Debug, Serialize, Deserialize)]
pub struct Provenance {
    pub commit: Option<String>,
}

/// The provenance file beside an archived manifest.
pub const PROVENANCE: &str = "ferry-provenance.json";

/// The folder of the release whose manifest hashes to `sha256`.
pub fn folder(root: &Path, sha256: &str) -> PathBuf {
    ferry::build::compile::target_dir(root)
        .join("ferry/releases")
        .join(sha256)
}

/// Archives a deployed manifest and its zips, found by `zip_of` from the
/// paths the manifest names (once per manifest).
pub fn keep(
    root: &Path,
    (manifest, manifest_file): (&Manifest, &Path),
    zip_of: impl Fn(&str) -> PathBuf,
    sha256: &str,
    commit: Option<&str>,
) -> std::io::Result<()> {
    let dir = folder(root, sha256);
    if dir.join("manifest.json").is_file() {
        return Ok(());
    }
    let partial = dir.with_extension("partial");
    let _ = std::fs::remove_dir_all(&partial);
    for artifact in &manifest.artifacts {
        let from = zip_of(&artifact.path);
        let to = zip_in(&partial, &artifact.path);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::copy(from, to)?;
    }
    std::fs::create_dir_all(&partial)?;
    let provenance = Provenance {
        commit: commit.map(str::to_owned),
    };
    let text = serde_json::to_vec_pretty(&provenance).map_err(std::io::Error::other)?;
    std::fs::write(partial.join(PROVENANCE), text)?;
    std::fs::copy(manifest_file, partial.join("manifest.json"))?;
    std::fs::rename(&partial, &dir)?;
    trim(dir.parent().unwrap_or(&dir))
}

/// Removes all but the newest [`KEEP`] archived releases.
fn trim(releases: &Path) -> std::io::Result<()> {
    let mut all: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(releases)?
        .filter_map(Result::ok)
        .filter(|e| e.path().join("manifest.json").is_file())
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .collect();
    all.sort();
    let extra = all.len().saturating_sub(KEEP);
    for (_, old) in all.into_iter().take(extra) {
        std::fs::remove_dir_all(old)?;
    }
    Ok(())
}

/// The commit an archived manifest was built from, when `manifest_file` is
/// one (a promote deploys it).
pub fn commit_beside(manifest_file: &Path) -> Option<Option<String>> {
    let text = std::fs::read(manifest_file.parent()?.join(PROVENANCE)).ok()?;
    let provenance: Provenance = serde_json::from_slice(&text).ok()?;
    Some(provenance.commit)
}
