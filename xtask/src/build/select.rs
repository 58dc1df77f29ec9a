//! The build as data: which artifacts to pack for which architectures, and the
//! cargo invocations that produce their binaries. Pure: computed from the
//! model and the flags before anything runs, and unit-tested here.

use std::collections::{BTreeMap, BTreeSet};

use crate::manifest::{ArtifactKind, FunctionSettings, LayerSettings, ManifestRoute};
use crate::model::{Arch, GlibcVersion, LayerRef, Runtime, Workspace};

/// One zip to produce.
#[derive(Debug, Clone, PartialEq)]
pub struct ArtifactPlan {
    pub name: String,
    pub kind: ArtifactKind,
    pub arch: Arch,
    pub runtime: Runtime,
    /// Binaries must not need a glibc newer than this.
    pub glibc_floor: GlibcVersion,
    /// The crate directory, relative to the root.
    pub dir: std::path::PathBuf,
    /// (cargo binary name, path inside the zip).
    pub binaries: Vec<(String, String)>,
    /// (destination directory inside the zip, source relative to the crate).
    pub data: Vec<(String, std::path::PathBuf)>,
    pub function: Option<FunctionSettings>,
    pub layer: Option<LayerSettings>,
}

impl ArtifactPlan {
    /// The zip's path under the output directory (`target/lambda`).
    pub fn zip_name(&self) -> String {
        match self.kind {
            ArtifactKind::Function => format!("{}/{}.zip", self.arch, self.name),
            ArtifactKind::Layer => format!("{}/layers/{}.zip", self.arch, self.name),
        }
    }
}

/// One `cargo zigbuild` run: these packages for these targets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CargoInvocation {
    pub targets: Vec<(Arch, GlibcVersion)>,
    pub packages: Vec<String>,
}

impl CargoInvocation {
    /// cargo-zigbuild's target spelling with the glibc floor, e.g. `aarch64-unknown-linux-gnu.2.26`.
    pub fn target_args(&self) -> Vec<String> {
        self.targets
            .iter()
            .map(|(arch, floor)| format!("{}.{floor}", arch.triple()))
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct BuildPlan {
    pub invocations: Vec<CargoInvocation>,
    pub artifacts: Vec<ArtifactPlan>,
    /// With `-p`: the workspace's other artifacts, which this build does not
    /// make but whose earlier zips its manifest keeps.
    pub unselected: Vec<ArtifactPlan>,
}

/// Computes the build for the selected `packages` (all when empty), on
/// `arches` when given, else on each service's own architecture.
pub fn plan(
    workspace: &Workspace,
    arches: Option<&[Arch]>,
    packages: &[String],
) -> Result<BuildPlan, String> {
    for name in packages {
        if !workspace.services.contains_key(name) && !workspace.layers.contains_key(name) {
            let mut known: Vec<&str> = workspace
                .services
                .keys()
                .chain(workspace.layers.keys())
                .map(String::as_str)
                .collect();
            known.sort();
            return Err(format!(
                "no service or layer named `{name}`; the workspace has: {}",
                known.join(", ")
            ));
        }
    }
    let wanted = |name: &str| packages.is_empty() || packages.iter().any(|p| p == name);
    let services: Vec<_> = workspace
        .services
        .values()
        .filter(|s| wanted(s.name.as_str()))
        .collect();
    let mut artifacts = Vec::new();
    // Layer name -> architectures the selected services need it on.
    let mut layer_arches: BTreeMap<String, BTreeSet<Arch>> = BTreeMap::new();
    for service in &services {
        let service_arches = arches.map_or_else(|| vec![service.architecture], <[Arch]>::to_vec);
        for arch in service_arches {
            for layer in &service.layers {
                if let LayerRef::Workspace(name) = layer {
                    layer_arches.entry(name.clone()).or_default().insert(arch);
                }
            }
            artifacts.push(function_artifact(service, arch));
        }
    }
    for layer in workspace.layers.values() {
        let name = layer.name.as_str();
        let needed = layer_arches.remove(name);
        if needed.is_none() && !wanted(name) {
            continue;
        }
        let on: BTreeSet<Arch> = match (arches, needed) {
            (Some(a), needed) => a
                .iter()
                .copied()
                .chain(needed.into_iter().flatten())
                .collect(),
            (None, Some(needed)) => needed,
            (None, None)
                if layer
                    .compatible_architectures
                    .contains(&workspace.app.architecture) =>
            {
                BTreeSet::from([workspace.app.architecture])
            }
            (None, None) => layer.compatible_architectures.clone(),
        };
        for arch in on.intersection(&layer.compatible_architectures) {
            artifacts.push(layer_artifact(layer, *arch));
        }
    }
    artifacts.sort_by(|a, b| (a.kind, &a.name, a.arch).cmp(&(b.kind, &b.name, b.arch)));
    if packages.is_empty() {
        return Ok(BuildPlan {
            invocations: invocations(&artifacts),
            artifacts,
            unselected: Vec::new(),
        });
    }
    // cargo unifies features across the crates of one run, and a run links
    // at the lowest glibc floor of its artifacts, so a binary's bytes depend
    // on what else the run compiles. A `-p` build therefore runs what the
    // whole build would run on the architectures it needs and packs only the
    // selection: its zips are the whole build's, byte for byte.
    let whole = plan(workspace, arches, &[])?;
    let needed: BTreeSet<Arch> = artifacts
        .iter()
        .filter(|a| !a.binaries.is_empty())
        .map(|a| a.arch)
        .collect();
    let invocations = whole
        .invocations
        .into_iter()
        .filter_map(|mut invocation| {
            invocation.targets.retain(|(arch, _)| needed.contains(arch));
            (!invocation.targets.is_empty()).then_some(invocation)
        })
        .collect();
    let key = |a: &ArtifactPlan| (a.kind, a.name.clone(), a.arch);
    let selected: BTreeSet<_> = artifacts.iter().map(key).collect();
    let unselected = whole
        .artifacts
        .into_iter()
        .filter(|a| !selected.contains(&key(a)))
        .collect();
    Ok(BuildPlan {
        invocations,
        artifacts,
        unselected,
    })
}

fn function_artifact(service: &crate::model::Service, arch: Arch) -> ArtifactPlan {
    let routes = service
        .routes
        .iter()
        .map(|r| ManifestRoute {
            method: r.method,
            path: r.path.to_string(),
            service: service.name.to_string(),
        })
        .collect();
    let layers = service
        .layers
        .iter()
        .map(|l| match l {
            LayerRef::Workspace(name) | LayerRef::Arn(name) => name.clone(),
        })
        .collect();
    ArtifactPlan {
        name: service.name.to_string(),
        kind: ArtifactKind::Function,
        arch,
        runtime: service.runtime,
        glibc_floor: service.runtime.glibc_floor(),
        dir: service.dir.clone(),
        binaries: vec![(service.bin.clone(), "bootstrap".to_owned())],
        data: Vec::new(),
        function: Some(FunctionSettings {
            routes,
            memory_mb: service.memory_mb,
            timeout_s: service.timeout_s,
            env: service.env.clone(),
            layers,
        }),
        layer: None,
    }
}

fn layer_artifact(layer: &crate::model::Layer, arch: Arch) -> ArtifactPlan {
    let floor = layer
        .compatible_runtimes
        .iter()
        .map(|r| r.glibc_floor())
        .min()
        .unwrap_or(Runtime::ProvidedAl2.glibc_floor());
    ArtifactPlan {
        name: layer.name.to_string(),
        kind: ArtifactKind::Layer,
        arch,
        runtime: layer
            .compatible_runtimes
            .iter()
            .next_back()
            .copied()
            .unwrap_or(Runtime::ProvidedAl2023),
        glibc_floor: floor,
        dir: layer.dir.clone(),
        binaries: layer
            .extensions
            .iter()
            .map(|b| (b.clone(), format!("extensions/{b}")))
            .collect(),
        data: layer
            .files
            .iter()
            .map(|(dest, src)| (dest.clone(), src.clone()))
            .collect(),
        function: None,
        layer: Some(LayerSettings {
            description: layer.description.clone(),
            compatible_runtimes: layer.compatible_runtimes.iter().copied().collect(),
            compatible_architectures: layer.compatible_architectures.iter().copied().collect(),
        }),
    }
}

/// Groups the crates with binaries by architecture, linking each architecture
/// at the lowest floor any of its artifacts needs; architectures that build the
/// same crates share one cargo run.
fn invocations(artifacts: &[ArtifactPlan]) -> Vec<CargoInvocation> {
    let mut by_arch: BTreeMap<Arch, (GlibcVersion, BTreeSet<String>)> = BTreeMap::new();
    for artifact in artifacts.iter().filter(|a| !a.binaries.is_empty()) {
        // Services and layers are named after their packages.
        let package = artifact.name.clone();
        let entry = by_arch
            .entry(artifact.arch)
            .or_insert((artifact.glibc_floor, BTreeSet::new()));
        entry.0 = entry.0.min(artifact.glibc_floor);
        entry.1.insert(package);
    }
    let mut out: Vec<CargoInvocation> = Vec::new();
    for (arch, (floor, packages)) in by_arch {
        let packages: Vec<String> = packages.into_iter().collect();
        match out.iter_mut().find(|inv| inv.packages == packages) {
            Some(inv) => inv.targets.push((arch, floor)),
            None => out.push(CargoInvocation {
                targets: vec![(arch, floor)],
                packages,
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fixture::Fixture;

    fn workspace() -> (Fixture, Workspace) {
        let fixture = Fixture::new()
            .service(
                "web",
                "routes = [\"GET /a\"]\nlayers = [\"keys\", \"ext\"]\n",
            )
            .service(
                "intel",
                "routes = [\"GET /b\"]\narchitecture = \"x86_64\"\nruntime = \"provided.al2\"\n",
            )
            .layer("keys", "files = { \"k\" = \"data\" }\n")
            .layer("unused", "files = { \"u\" = \"data\" }\n")
            .file(
                "layers/ext/Cargo.toml",
                "[package]\nname = \"ext\"\nversion = \"0.1.0\"\n",
            )
            .file("layers/ext/src/main.rs", "fn main() {}\n");
        let workspace = fixture.load().unwrap();
        (fixture, workspace)
    }

    fn names(plan: &BuildPlan) -> Vec<String> {
        plan.artifacts
            .iter()
            .map(|a| format!("{}/{}", a.name, a.arch))
            .collect()
    }

    #[test]
    fn default_builds_each_service_on_its_own_architecture() {
        let (_f, ws) = workspace();
        let plan = plan(&ws, None, &[]).unwrap();
        assert_eq!(
            names(&plan),
            [
                "intel/x86_64",
                "web/arm64",
                "ext/arm64",
                "keys/arm64",
                "unused/arm64"
            ]
        );
        // Different crates per architecture: one cargo run each, at each one's floor.
        assert_eq!(plan.invocations.len(), 2);
        assert_eq!(
            plan.invocations[0].target_args(),
            ["aarch64-unknown-linux-gnu.2.26"]
        );
        assert_eq!(plan.invocations[0].packages, ["ext", "web"]);
        assert_eq!(
            plan.invocations[1].target_args(),
            ["x86_64-unknown-linux-gnu.2.26"]
        );
        let web = plan.artifacts.iter().find(|a| a.name == "web").unwrap();
        assert_eq!(
            (web.glibc_floor, web.binaries[0].1.as_str()),
            (GlibcVersion::new(2, 34), "bootstrap")
        );
        let ext = plan.artifacts.iter().find(|a| a.name == "ext").unwrap();
        assert_eq!(
            ext.binaries,
            [("ext".to_owned(), "extensions/ext".to_owned())]
        );
    }

    #[test]
    fn all_architectures_share_one_cargo_run() {
        let (_f, ws) = workspace();
        let plan = plan(&ws, Some(&Arch::ALL), &[]).unwrap();
        assert_eq!(plan.artifacts.len(), 10);
        assert_eq!(plan.invocations.len(), 1);
        assert_eq!(plan.invocations[0].targets.len(), 2);
        assert_eq!(plan.invocations[0].packages, ["ext", "intel", "web"]);
    }

    #[test]
    fn selecting_a_service_brings_its_layers() {
        let (_f, ws) = workspace();
        let plan = plan(&ws, None, &["web".to_owned()]).unwrap();
        assert_eq!(names(&plan), ["web/arm64", "ext/arm64", "keys/arm64"]);
        let unselected: Vec<_> = plan
            .unselected
            .iter()
            .map(|a| format!("{}/{}", a.name, a.arch))
            .collect();
        assert_eq!(
            unselected,
            ["intel/x86_64", "unused/arm64"],
            "kept from the last build"
        );
        // The same cargo run as the whole build on arm64, so web's bytes do
        // not depend on the selection; x86_64 has nothing selected.
        let whole = super::plan(&ws, None, &[]).unwrap();
        assert!(whole.unselected.is_empty());
        assert_eq!(plan.invocations, whole.invocations[..1]);
        let err = super::plan(&ws, None, &["nope".to_owned()]).unwrap_err();
        assert!(
            err.contains("no service or layer named `nope`") && err.contains("web"),
            "{err}"
        );
        let data_only = super::plan(&ws, Some(&[Arch::X86_64]), &["keys".to_owned()]).unwrap();
        assert_eq!(names(&data_only), ["keys/x86_64"]);
        assert!(
            data_only.invocations.is_empty(),
            "a data layer needs no compiler"
        );
    }
}
