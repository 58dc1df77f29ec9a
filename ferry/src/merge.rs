//! `manifest merge`: joins the manifests of builds made on several machines
//! (one CI job per architecture) into one that `deploy --manifest` takes.
//! The join is refused, with nothing written, when the builds cannot be one
//! build: another app, another ferry version, another route table, or two
//! different zips for one name and architecture. Every zip is checked
//! against its manifest's SHA-256 and copied next to the merged manifest.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::manifest::{zip_in, Artifact, ArtifactKind, Manifest, SCHEMA_VERSION};
use crate::model::Arch;

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum MergeError {
    #[error("cannot read {path}: {why}")]
    #[diagnostic(help(
        "pass the manifest.json each `cargo xtask build` wrote, with its zips next to it"
    ))]
    Read { path: PathBuf, why: String },

    #[error("{a} and {b} cannot be merged: {why}")]
    #[diagnostic(help(
        "build every architecture from the same commit with the same ferry version, then merge their manifests"
    ))]
    Mismatch { a: PathBuf, b: PathBuf, why: String },

    #[error("{path}: {why}")]
    #[diagnostic(help(
        "copy the build's whole target/lambda/ folder between jobs, then merge again"
    ))]
    Zip { path: PathBuf, why: String },

    #[error("cannot write {path}: {why}")]
    #[diagnostic(help("choose an output path in a folder you can write"))]
    Write { path: PathBuf, why: String },
}

/// One input: a manifest and the folder its zips are in.
pub struct Input {
    pub path: PathBuf,
    pub manifest: Manifest,
}

impl Input {
    pub fn read(path: &Path) -> Result<Self, MergeError> {
        let manifest = Manifest::load(path).map_err(|why| MergeError::Read {
            path: path.to_path_buf(),
            why,
        })?;
        Ok(Input {
            path: path.to_path_buf(),
            manifest,
        })
    }

    /// Where the zip of `artifact` is: next to the manifest.
    pub fn zip(&self, artifact: &Artifact) -> PathBuf {
        zip_in(self.path.parent().unwrap_or(Path::new(".")), &artifact.path)
    }
}

/// The merged manifest, and for each of its artifacts the input it comes
/// from; pure: reads no zip.
pub fn merge(inputs: &[Input]) -> Result<(Manifest, Vec<usize>), MergeError> {
    let Some(first) = inputs.first() else {
        return Ok((empty(), Vec::new()));
    };
    let mut chosen: BTreeMap<(ArtifactKind, String, Arch), (usize, &Artifact)> = BTreeMap::new();
    for (i, input) in inputs.iter().enumerate() {
        let mismatch = |why: String| MergeError::Mismatch {
            a: first.path.clone(),
            b: input.path.clone(),
            why,
        };
        let (m, f) = (&input.manifest, &first.manifest);
        if m.app != f.app {
            return Err(mismatch(format!("apps `{}` and `{}`", f.app, m.app)));
        }
        if m.ferry_version != f.ferry_version {
            return Err(mismatch(format!(
                "built by ferry {} and {}",
                f.ferry_version, m.ferry_version
            )));
        }
        if m.routes != f.routes {
            return Err(mismatch(
                "their route tables differ (built from different sources)".into(),
            ));
        }
        for artifact in &m.artifacts {
            let key = (artifact.kind, artifact.name.clone(), artifact.architecture);
            match chosen.get(&key) {
                Some((j, other)) if other.sha256 != artifact.sha256 => {
                    return Err(MergeError::Mismatch {
                        a: inputs[*j].path.clone(),
                        b: input.path.clone(),
                        why: format!(
                            "two different zips for {} {} ({}): sha256 {} and {}",
                            kind_name(artifact.kind),
                            artifact.name,
                            artifact.architecture,
                            &other.sha256[..12.min(other.sha256.len())],
                            &artifact.sha256[..12.min(artifact.sha256.len())]
                        ),
                    });
                }
                Some(_) => {}
                None => {
                    chosen.insert(key, (i, artifact));
                }
            }
        }
    }
    let (sources, artifacts): (Vec<usize>, Vec<Artifact>) =
        chosen.into_values().map(|(i, a)| (i, a.clone())).unzip();
    let merged = Manifest {
        schema_version: SCHEMA_VERSION,
        app: first.manifest.app.clone(),
        ferry_version: first.manifest.ferry_version.clone(),
        artifacts,
        routes: first.manifest.routes.clone(),
    };
    Ok((merged, sources))
}

fn empty() -> Manifest {
    Manifest {
        schema_version: SCHEMA_VERSION,
        app: String::new(),
        ferry_version: String::new(),
        artifacts: Vec::new(),
        routes: Vec::new(),
    }
}

fn kind_name(kind: ArtifactKind) -> &'static str {
    match kind {
        ArtifactKind::Function => "function",
        ArtifactKind::Layer => "layer",
    }
}

/// `cargo xtask manifest merge`: merges, then says what it joined.
pub fn command(args: &crate::cli::MergeArgs) -> miette::Result<()> {
    let merged = run(&args.inputs, &args.out)?;
    let mut by_arch: BTreeMap<Arch, usize> = BTreeMap::new();
    for a in &merged.artifacts {
        *by_arch.entry(a.architecture).or_default() += 1;
    }
    let counts: Vec<String> = by_arch
        .iter()
        .map(|(arch, n)| format!("{n} {arch}"))
        .collect();
    eprintln!(
        "merged {} manifests: {} artifacts ({}) in {}",
        args.inputs.len(),
        merged.artifacts.len(),
        counts.join(", "),
        args.out.display()
    );
    if args.json {
        let text = serde_json::to_string_pretty(&merged).map_err(|e| miette::miette!("{e}"))?;
        println!("{text}");
    }
    Ok(())
}

/// Merges the manifests at `paths` into `out`, copying each zip next to it
/// after checking its SHA-256; nothing is written unless all of it holds.
/// Returns the merged manifest.
pub fn run(paths: &[PathBuf], out: &Path) -> Result<Manifest, MergeError> {
    let inputs = paths
        .iter()
        .map(|p| Input::read(p))
        .collect::<Result<Vec<_>, _>>()?;
    let (merged, sources) = merge(&inputs)?;
    for (artifact, &i) in merged.artifacts.iter().zip(&sources) {
        check_zip(&inputs[i].zip(artifact), artifact)?;
    }
    let dir = out
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let write = |path: &Path, why: String| MergeError::Write {
        path: path.to_path_buf(),
        why,
    };
    std::fs::create_dir_all(dir).map_err(|e| write(dir, e.to_string()))?;
    for (artifact, &i) in merged.artifacts.iter().zip(&sources) {
        let from = inputs[i].zip(artifact);
        let to = zip_in(dir, &artifact.path);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).map_err(|e| write(parent, e.to_string()))?;
        }
        let same = std::fs::canonicalize(&from).ok() == std::fs::canonicalize(&to).ok();
        if !same {
            std::fs::copy(&from, &to).map_err(|e| write(&to, e.to_string()))?;
        }
    }
    let mut text = serde_json::to_string_pretty(&merged).map_err(|e| write(out, e.to_string()))?;
    text.push('\n');
    std::fs::write(out, text).map_err(|e| write(out, e.to_string()))?;
    Ok(merged)
}

fn check_zip(path: &Path, artifact: &Artifact) -> Result<(), MergeError> {
    let bytes = std::fs::read(path).map_err(|e| MergeError::Zip {
        path: path.to_path_buf(),
        why: format!(
            "the zip of {} ({}) cannot be read: {e}",
            artifact.name, artifact.architecture
        ),
    })?;
    let sha = format!("{:x}", Sha256::digest(&bytes));
    if sha != artifact.sha256 {
        return Err(MergeError::Zip {
            path: path.to_path_buf(),
            why: format!(
                "the zip of {} ({}) is not the one its manifest names (sha256 {sha}, manifest {})",
                artifact.name, artifact.architecture, artifact.sha256
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
#[path = "merge_tests.rs"]
mod tests;
