//! `cargo xtask build`: compiles every selected service and layer with
//! cargo-zigbuild at the runtime's glibc floor, checks each binary's ELF
//! requirements, packs reproducible zips and writes the manifest.

pub mod cache;
pub mod carry;
pub mod compile;
pub mod elf;
pub mod fresh;
pub mod pack;
pub mod select;
pub mod wrap;

use std::path::{Path, PathBuf};
use std::time::Instant;

use miette::{miette, IntoDiagnostic, WrapErr};

use crate::cli::BuildArgs;
use crate::manifest::{Artifact, ArtifactKind, Manifest, ManifestRoute, SCHEMA_VERSION};
use crate::model::Workspace;
use select::{ArtifactPlan, BuildPlan};

/// Lambda's limit for a zip uploaded directly; a larger one deploys through
/// the stage's artifact bucket.
pub const MAX_ZIPPED_BYTES: u64 = 50 * 1024 * 1024;
/// Lambda's limit for a function and its layers, unzipped.
pub const MAX_UNZIPPED_BYTES: u64 = 250 * 1024 * 1024;

pub fn run(root: &Path, args: &BuildArgs) -> miette::Result<()> {
    let workspace = crate::check::load(root)?;
    let arches = args.arch.map(|a| a.arches());
    let plan = select::plan(&workspace, arches.as_deref(), &args.packages)
        .map_err(|e| miette!(help = "name a service or layer crate with -p", "{e}"))?;
    let outcome = build(&workspace, &plan)?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&outcome.manifest).into_diagnostic()?
        );
    } else {
        print!("{}", outcome.summary_table());
    }
    Ok(())
}

/// What a build produced.
pub struct Outcome {
    pub manifest: Manifest,
    pub manifest_path: PathBuf,
    pub packed: usize,
    pub reused: usize,
    /// Artifacts outside a `-p` selection, kept from the previous build.
    pub kept: usize,
}

impl Outcome {
    fn counts(&self) -> String {
        let kept = match self.kept {
            0 => String::new(),
            n => format!(", {n} kept from the last build"),
        };
        format!(
            "{} artifacts ({} packed, {} unchanged{kept})",
            self.manifest.artifacts.len(),
            self.packed,
            self.reused
        )
    }
}

impl Outcome {
    pub fn summary_table(&self) -> String {
        let mut out = format!(
            "{:<9} {:<16} {:<7} {:>10} {:>10}  SHA256\n",
            "KIND", "NAME", "ARCH", "ZIPPED", "UNZIPPED"
        );
        for a in &self.manifest.artifacts {
            let kind = match a.kind {
                ArtifactKind::Function => "function",
                ArtifactKind::Layer => "layer",
            };
            out.push_str(&format!(
                "{kind:<9} {:<16} {:<7} {:>10} {:>10}  {}\n",
                a.name,
                a.architecture.as_str(),
                human_bytes(a.zipped_size),
                human_bytes(a.unzipped_size),
                &a.sha256[..12]
            ));
        }
        out.push_str(&format!(
            "{}; manifest: {}\n",
            self.counts(),
            self.manifest_path.display()
        ));
        out
    }
}

/// Runs a build plan: compile, check, pack, write the manifest.
pub fn build(workspace: &Workspace, plan: &BuildPlan) -> miette::Result<Outcome> {
    let root = &workspace.root;
    let started = Instant::now();
    let target_dir = compile::target_dir(root);
    if !plan.invocations.is_empty() {
        let arches: Vec<_> = plan
            .invocations
            .iter()
            .flat_map(|i| i.targets.iter().map(|t| t.0))
            .collect();
        let tools = crate::tools::ensure_build_tools(root, &arches)?;
        compile_if_changed(root, &target_dir, &tools, plan)?;
    }
    let out_dir = target_dir.join("lambda");
    let manifest_path = out_dir.join("manifest.json");
    let previous = Manifest::read(&manifest_path);
    let mut stat_cache = cache::StatCache::read(&out_dir);
    let pack_started = Instant::now();
    let results = parallel_map(&plan.artifacts, |artifact| {
        let context = cache::PackContext {
            root,
            target_dir: &target_dir,
            out_dir: &out_dir,
            previous: previous.as_ref(),
        };
        cache::pack_artifact(&context, artifact, &stat_cache)
    });
    let mut artifacts = Vec::with_capacity(results.len());
    let (mut packed, mut reused) = (0, 0);
    for (artifact, result) in plan.artifacts.iter().zip(results) {
        let (record, entry, was_packed) =
            result.wrap_err_with(|| format!("packing {} for {}", artifact.name, artifact.arch))?;
        if was_packed {
            packed += 1;
        } else {
            reused += 1;
        }
        stat_cache.insert(artifact.zip_name(), entry);
        artifacts.push(record);
    }
    let carried = carry::carry_over(root, &plan.unselected, previous.as_ref());
    if plan.warn_unkept && !carried.missing.is_empty() {
        eprintln!(
            "ferry: the manifest lacks {} (not selected with -p and not built before); run `cargo xtask build` for a complete one",
            carried.missing.join(", ")
        );
    }
    let kept = carried.artifacts.len();
    artifacts.extend(carried.artifacts);
    artifacts
        .sort_by(|a, b| (a.kind, &a.name, a.architecture).cmp(&(b.kind, &b.name, b.architecture)));
    check_sizes(&artifacts)?;
    for a in artifacts
        .iter()
        .filter(|a| a.zipped_size > MAX_ZIPPED_BYTES)
    {
        eprintln!(
            "ferry: note: {} ({}) is {} zipped, over Lambda's 50 MB for a direct upload; it deploys only to a stage with an `artifact-bucket`",
            a.name,
            a.architecture,
            human_bytes(a.zipped_size)
        );
    }
    let manifest = Manifest {
        schema_version: SCHEMA_VERSION,
        app: workspace.app.name.to_string(),
        ferry_version: env!("CARGO_PKG_VERSION").to_owned(),
        artifacts,
        routes: workspace
            .routes
            .entries
            .iter()
            .map(|e| ManifestRoute {
                method: e.method,
                path: e.path.to_string(),
                service: e.service.clone(),
            })
            .collect(),
    };
    write_atomic(
        &manifest_path,
        &serde_json::to_vec_pretty(&manifest).into_diagnostic()?,
    )?;
    stat_cache.write(&out_dir)?;
    let outcome = Outcome {
        manifest,
        manifest_path,
        packed,
        reused,
        kept,
    };
    eprintln!(
        "ferry: {} in {:.1}s (packing {:.2}s)",
        outcome.counts(),
        started.elapsed().as_secs_f64(),
        pack_started.elapsed().as_secs_f64()
    );
    Ok(outcome)
}

/// Runs cargo for every invocation of `plan`, unless nothing it reads has
/// changed since the last successful compile and every binary is still there.
fn compile_if_changed(
    root: &Path,
    target_dir: &Path,
    tools: &crate::tools::ZigTools,
    plan: &BuildPlan,
) -> miette::Result<()> {
    let sources = fresh::sources_digest(root, tools, &plan.invocations);
    let binaries_there = plan.artifacts.iter().all(|a| {
        a.binaries
            .iter()
            .all(|(bin, _)| compile::binary_path(target_dir, a.arch, bin).is_file())
    });
    if let Some(sources) = &sources {
        let inputs = fresh::inputs_digest(sources, root, target_dir, &plan.invocations);
        if binaries_there && fresh::is_fresh(target_dir, &inputs) {
            eprintln!("ferry: no input changed since the last compile; cargo not run");
            return Ok(());
        }
    }
    fresh::forget(target_dir);
    for invocation in &plan.invocations {
        compile::run(root, tools, invocation)?;
    }
    if let Some(before) = sources {
        if fresh::sources_digest(root, tools, &plan.invocations).as_ref() == Some(&before) {
            let inputs = fresh::inputs_digest(&before, root, target_dir, &plan.invocations);
            fresh::record(target_dir, &inputs)?;
        }
    }
    Ok(())
}

/// Lambda's size limit, checked on what was packed: each function together
/// with the workspace layers it uses. (The 50 MB of a direct upload is the
/// deploy's to check: a stage with an artifact bucket takes more.)
fn check_sizes(artifacts: &[Artifact]) -> miette::Result<()> {
    for a in artifacts {
        let Some(function) = &a.function else {
            continue;
        };
        let layers: u64 = function
            .layers
            .iter()
            .filter_map(|l| {
                artifacts.iter().find(|x| {
                    x.kind == ArtifactKind::Layer
                        && &x.name == l
                        && x.architecture == a.architecture
                })
            })
            .map(|l| l.unzipped_size)
            .sum();
        if a.unzipped_size + layers > MAX_UNZIPPED_BYTES {
            return Err(miette!(
                help = "drop a layer or shrink the binary; Lambda counts the function and all its layers together",
                "function {} with its layers is {} unzipped; Lambda allows at most 250 MB",
                a.name, human_bytes(a.unzipped_size + layers)
            ));
        }
    }
    Ok(())
}

/// Maps `items` on up to `available_parallelism` threads, keeping order.
fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(items.len().max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut results: Vec<Option<R>> = (0..items.len()).map(|_| None).collect();
    let slots = std::sync::Mutex::new(&mut results);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(item) = items.get(i) else { break };
                let result = f(item);
                slots
                    .lock()
                    .expect("no thread panics while holding the lock")[i] = Some(result);
            });
        }
    });
    results
        .into_iter()
        .map(|r| r.expect("every item was mapped"))
        .collect()
}

pub fn write_atomic(path: &Path, bytes: &[u8]) -> miette::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).into_diagnostic()?;
    }
    let partial = path.with_extension("partial");
    std::fs::write(&partial, bytes)
        .and_then(|()| std::fs::rename(&partial, path))
        .into_diagnostic()
        .wrap_err_with(|| format!("cannot write {}", path.display()))
}

pub fn human_bytes(bytes: u64) -> String {
    match bytes {
        b if b >= 1024 * 1024 => format!("{:.2} MiB", b as f64 / (1024.0 * 1024.0)),
        b if b >= 1024 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}

/// Used by `pack_artifact` to build manifest records.
pub(crate) fn artifact_record(
    plan: &ArtifactPlan,
    path: String,
    packed: &pack::Packed,
    inputs_sha256: String,
    glibc_required: Option<crate::model::GlibcVersion>,
) -> Artifact {
    Artifact {
        name: plan.name.clone(),
        kind: plan.kind,
        architecture: plan.arch,
        runtime: plan.runtime,
        path,
        sha256: packed.sha256.clone(),
        code_sha256: packed.code_sha256.clone(),
        zipped_size: packed.zipped_size,
        unzipped_size: packed.unzipped_size,
        glibc_floor: plan.glibc_floor,
        glibc_required,
        inputs_sha256,
        entries: packed.entries.clone(),
        function: plan.function.clone(),
        layer: plan.layer.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::FunctionSettings;
    use crate::model::{Arch, GlibcVersion, Runtime};

    fn artifact(
        name: &str,
        kind: ArtifactKind,
        zipped: u64,
        unzipped: u64,
        layers: &[&str],
    ) -> Artifact {
        Artifact {
            name: name.into(),
            kind,
            architecture: Arch::Arm64,
            runtime: Runtime::ProvidedAl2023,
            path: format!("target/lambda/arm64/{name}.zip"),
            sha256: String::new(),
            code_sha256: String::new(),
            zipped_size: zipped,
            unzipped_size: unzipped,
            glibc_floor: GlibcVersion::new(2, 34),
            glibc_required: None,
            inputs_sha256: String::new(),
            entries: Vec::new(),
            function: (kind == ArtifactKind::Function).then(|| FunctionSettings {
                routes: Vec::new(),
                memory_mb: 128,
                timeout_s: 3,
                env: Default::default(),
                layers: layers.iter().map(|l| (*l).to_owned()).collect(),
            }),
            layer: None,
        }
    }

    const MB: u64 = 1024 * 1024;

    #[test]
    fn lambda_size_limits_name_the_artifact() {
        let ok = [
            artifact("api", ArtifactKind::Function, 10 * MB, 200 * MB, &["data"]),
            artifact("data", ArtifactKind::Layer, MB, 40 * MB, &[]),
        ];
        assert!(check_sizes(&ok).is_ok());
        let zipped = [artifact(
            "big",
            ArtifactKind::Function,
            51 * MB,
            60 * MB,
            &[],
        )];
        assert!(check_sizes(&zipped).is_ok(), "50 MB is the deploy's limit");
        let unzipped = [
            artifact("api", ArtifactKind::Function, 10 * MB, 200 * MB, &["data"]),
            artifact("data", ArtifactKind::Layer, MB, 51 * MB, &[]),
        ];
        let err = check_sizes(&unzipped).unwrap_err().to_string();
        assert!(
            err.contains("function api with its layers") && err.contains("250 MB"),
            "{err}"
        );
    }
}
