//! The releases this machine deployed, kept for `promote`: after a deploy,
//! the manifest (byte for byte, so its hash is the one the release records)
//! and its zips are copied to `target/ferry/releases/<manifest sha256>/`,
//! laid out as a `--manifest` folder, with the commit they were built from.
//! The newest [`KEEP`] are kept. Copies, not links: the next build rewrites
//! the zips in `target/lambda/` in place; each is hashed against the
//! manifest before the folder is renamed into place. A stage with an
//! artifact bucket keeps each release's manifest and zips there too; on a
//! machine without the release, [`fetch`] fills the same folder from it.

use std::path::{Path, PathBuf};

use ferry::build::pack::sha256_hex;
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
    // The manifest and every zip must be what was deployed: a build (or
    // a saved plan's older manifest) may have changed them since.
    let mismatch =
        |what: &str| std::io::Error::other(format!("{what} changed since it was deployed"));
    if std::fs::read(manifest_file).map(|b| sha256_hex(&b))? != sha256 {
        return Err(mismatch(&manifest_file.display().to_string()));
    }
    let partial = dir.with_extension(format!("partial-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&partial);
    let copied = copy_zips(manifest, &zip_of, &partial);
    if let Err(e) = copied {
        let _ = std::fs::remove_dir_all(&partial);
        return Err(e);
    }
    std::fs::create_dir_all(&partial)?;
    let provenance = Provenance {
        commit: commit.map(str::to_owned),
    };
    let text = serde_json::to_vec_pretty(&provenance).map_err(std::io::Error::other)?;
    std::fs::write(partial.join(PROVENANCE), text)?;
    std::fs::copy(manifest_file, partial.join("manifest.json"))?;
    if std::fs::rename(&partial, &dir).is_err() {
        // Another deploy of the same manifest archived it first.
        let _ = std::fs::remove_dir_all(&partial);
    }
    trim(dir.parent().unwrap_or(&dir))
}

/// Copies each artifact's zip into `to`, checking it hashes as the
/// manifest says.
fn copy_zips(
    manifest: &Manifest,
    zip_of: &impl Fn(&str) -> PathBuf,
    to: &Path,
) -> std::io::Result<()> {
    for artifact in &manifest.artifacts {
        let from = zip_of(&artifact.path);
        if std::fs::read(&from).map(|b| sha256_hex(&b))? != artifact.sha256 {
            return Err(std::io::Error::other(format!(
                "{} changed since it was deployed",
                from.display()
            )));
        }
        let dest = zip_in(to, &artifact.path);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::copy(from, dest)?;
    }
    Ok(())
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

/// Fills the archive folder of the release whose manifest hashes to
/// `sha256` from the artifact bucket: the manifest and every zip of it the
/// bucket holds (a stage's own deploy keeps all it uses), each checked
/// against its hash. Nothing is written when the bucket lacks the manifest.
pub async fn fetch(
    c: &crate::sdk::clients::Clients,
    (root, app): (&Path, &str),
    store: &ferry::model::store::ArtifactStore,
    sha256: &str,
) -> miette::Result<()> {
    use miette::{miette, IntoDiagnostic};
    let key = ferry::model::store::manifest_key(app, sha256);
    let Some((bytes, commit)) = crate::read::store::object(c, &store.bucket, &key).await? else {
        return Ok(());
    };
    if sha256_hex(&bytes) != sha256 {
        return Err(miette!(
            help = "deploy the stage again: its next release replaces the object",
            "s3://{}/{key} does not hash to {sha256}",
            store.bucket
        ));
    }
    let manifest: Manifest = serde_json::from_slice(&bytes).into_diagnostic()?;
    let dir = folder(root, sha256);
    let partial = dir.with_extension(format!("partial-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&partial);
    std::fs::create_dir_all(&partial).into_diagnostic()?;
    for artifact in &manifest.artifacts {
        let zip_key = ferry::model::store::zip_key(&artifact.sha256);
        let Some((zip, _)) = crate::read::store::object(c, &store.bucket, &zip_key).await? else {
            continue;
        };
        if sha256_hex(&zip) != artifact.sha256 {
            return Err(miette!(
                help = "deploy a stage that uses it again: ferry uploads it anew",
                "s3://{}/{zip_key} does not hash to {}",
                store.bucket,
                artifact.sha256
            ));
        }
        let dest = zip_in(&partial, &artifact.path);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).into_diagnostic()?;
        }
        std::fs::write(dest, zip).into_diagnostic()?;
    }
    let provenance = serde_json::to_vec_pretty(&Provenance { commit }).into_diagnostic()?;
    std::fs::write(partial.join(PROVENANCE), provenance).into_diagnostic()?;
    std::fs::write(partial.join("manifest.json"), &bytes).into_diagnostic()?;
    if std::fs::rename(&partial, &dir).is_err() {
        let _ = std::fs::remove_dir_all(&partial);
    }
    eprintln!(
        "ferry: fetched release manifest {} and its zips from s3://{}",
        &sha256[..12.min(sha256.len())],
        store.bucket
    );
    Ok(())
}
