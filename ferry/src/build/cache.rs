//! Packs one artifact, or reuses the zip of the previous build when its inputs
//! are unchanged: first by file size and mtime (no reading at all), then by the
//! content hash of every entry. A no-op build therefore re-zips nothing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use miette::{miette, IntoDiagnostic, WrapErr};
use serde::{Deserialize, Serialize};

use super::pack::{self, EntrySpec, Packed};
use super::select::ArtifactPlan;
use crate::manifest::{Artifact, Manifest};
use crate::model::GlibcVersion;

const CACHE_FILE: &str = ".ferry-inputs.json";

/// The size and mtime of every input of every zip, from the last build.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct StatCache {
    zips: BTreeMap<String, CacheEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheEntry {
    inputs: Vec<InputStat>,
    inputs_sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct InputStat {
    name: String,
    mode: u32,
    path: PathBuf,
    size: u64,
    mtime_ns: u128,
}

impl StatCache {
    pub fn read(out_dir: &Path) -> Self {
        std::fs::read(out_dir.join(CACHE_FILE))
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    pub fn insert(&mut self, zip_name: String, entry: CacheEntry) {
        self.zips.insert(zip_name, entry);
    }

    pub fn write(&self, out_dir: &Path) -> miette::Result<()> {
        super::write_atomic(
            &out_dir.join(CACHE_FILE),
            &serde_json::to_vec(self).into_diagnostic()?,
        )
    }
}

/// What packing one artifact reads.
pub struct PackContext<'a> {
    pub root: &'a Path,
    pub target_dir: &'a Path,
    pub out_dir: &'a Path,
    pub previous: Option<&'a Manifest>,
}

/// Packs `plan`'s zip or reuses the previous one; returns the manifest record,
/// the new cache entry, and whether a zip was written.
pub fn pack_artifact(
    ctx: &PackContext<'_>,
    plan: &ArtifactPlan,
    cache: &StatCache,
) -> miette::Result<(Artifact, CacheEntry, bool)> {
    let specs = entry_specs(ctx, plan)?;
    let stats = specs
        .iter()
        .map(stat)
        .collect::<std::io::Result<Vec<_>>>()
        .into_diagnostic()?;
    let zip_path = ctx.out_dir.join(plan.zip_name());
    let rel_path = zip_path
        .strip_prefix(ctx.root)
        .unwrap_or(&zip_path)
        .display()
        .to_string();
    let previous = ctx
        .previous
        .and_then(|m| m.find(plan.kind, &plan.name, plan.arch));
    let zip_intact =
        |prev: &Artifact| std::fs::metadata(&zip_path).is_ok_and(|m| m.len() == prev.zipped_size);
    let cached = cache
        .zips
        .get(&plan.zip_name())
        .filter(|c| c.inputs == stats);
    if let (Some(cached), Some(prev)) = (cached, previous) {
        if cached.inputs_sha256 == prev.inputs_sha256 && zip_intact(prev) {
            let record = super::artifact_record(
                plan,
                rel_path,
                &packed_of(prev),
                prev.inputs_sha256.clone(),
                prev.glibc_required,
            );
            return Ok((record, cached.clone(), false));
        }
    }
    let inputs_sha256 = pack::inputs_sha256(&specs).into_diagnostic()?;
    let entry = CacheEntry {
        inputs: stats,
        inputs_sha256: inputs_sha256.clone(),
    };
    if let Some(prev) = previous.filter(|p| p.inputs_sha256 == inputs_sha256 && zip_intact(p)) {
        let record = super::artifact_record(
            plan,
            rel_path,
            &packed_of(prev),
            inputs_sha256,
            prev.glibc_required,
        );
        return Ok((record, entry, false));
    }
    let glibc_required = check_binaries(ctx, plan)?;
    let packed = pack::pack(&specs, &zip_path)
        .into_diagnostic()
        .wrap_err_with(|| format!("cannot write {}", zip_path.display()))?;
    Ok((
        super::artifact_record(plan, rel_path, &packed, inputs_sha256, glibc_required),
        entry,
        true,
    ))
}

fn entry_specs(ctx: &PackContext<'_>, plan: &ArtifactPlan) -> miette::Result<Vec<EntrySpec>> {
    let mut specs = Vec::new();
    for (bin, name) in &plan.binaries {
        let source = super::compile::binary_path(ctx.target_dir, plan.arch, bin);
        if !source.is_file() {
            return Err(miette!(
                "cargo finished but {} is missing",
                source.display()
            ));
        }
        specs.push(EntrySpec {
            name: name.clone(),
            mode: pack::EXECUTABLE,
            source,
        });
    }
    for (dest, source) in &plan.data {
        let source = ctx.root.join(&plan.dir).join(source);
        let entries = pack::data_entries(&source, dest)
            .into_diagnostic()
            .wrap_err_with(|| format!("reading layer files from {}", source.display()))?;
        specs.extend(entries);
    }
    Ok(specs)
}

/// Checks every binary's architecture and glibc needs against the plan's
/// floor; returns the newest glibc any of them needs.
fn check_binaries(
    ctx: &PackContext<'_>,
    plan: &ArtifactPlan,
) -> miette::Result<Option<GlibcVersion>> {
    let mut newest = None;
    for (bin, _) in &plan.binaries {
        let path = super::compile::binary_path(ctx.target_dir, plan.arch, bin);
        let data = std::fs::read(&path).into_diagnostic()?;
        let facts = super::elf::read(&data).map_err(|e| miette!("{}: {e}", path.display()))?;
        if facts.machine != plan.arch.elf_machine() {
            return Err(miette!(
                "{} is not an {} binary (ELF machine {})",
                path.display(),
                plan.arch,
                facts.machine
            ));
        }
        let above = facts.above(plan.glibc_floor);
        if !above.is_empty() {
            return Err(miette!(
                help = "a dependency links a newer glibc symbol; build with a lower floor or switch the runtime to provided.al2023",
                "{} ({} for {}) needs {}, newer than {}'s glibc {}",
                path.display(), plan.name, plan.arch, above.join(", "), plan.runtime, plan.glibc_floor
            ));
        }
        newest = newest.max(facts.max_glibc());
    }
    Ok(newest)
}

fn stat(spec: &EntrySpec) -> std::io::Result<InputStat> {
    let meta = std::fs::metadata(&spec.source)?;
    let mtime_ns = meta
        .modified()?
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    Ok(InputStat {
        name: spec.name.clone(),
        mode: spec.mode,
        path: spec.source.clone(),
        size: meta.len(),
        mtime_ns,
    })
}

fn packed_of(artifact: &Artifact) -> Packed {
    Packed {
        sha256: artifact.sha256.clone(),
        code_sha256: artifact.code_sha256.clone(),
        zipped_size: artifact.zipped_size,
        unzipped_size: artifact.unzipped_size,
        entries: artifact.entries.clone(),
    }
}
