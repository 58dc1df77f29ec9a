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
    /// The one cargo run that makes every binary for `arch`, whatever the
    /// build was asked for. cargo unifies features across the crates of a
    /// run, a run links at one glibc floor, and two targets in one run
    /// compiled other arm64 code than a run of arm64 alone; so the run for an
    /// architecture always compiles every service and every layer crate with
    /// binaries that can run there, at the lowest floor any of them needs,
    /// and nothing else. A binary's bytes then depend on the sources, never
    /// on `--arch`, `-p`, or whether `plan` or `deploy` asked for the build.
    pub fn for_arch(workspace: &Workspace, arch: Arch) -> Option<CargoInvocation> {
        let mut floor: Option<GlibcVersion> = None;
        let mut packages = BTreeSet::new();
        for service in workspace.services.values() {
            let f = service.runtime.glibc_floor();
            floor = Some(floor.map_or(f, |floor| floor.min(f)));
            packages.insert(service.name.to_string());
        }
        for layer in workspace.layers.values() {
            if layer.extensions.is_empty() || !layer.compatible_architectures.contains(&arch) {
                continue;
            }
            let f = layer_artifact(layer, arch).glibc_floor;
            floor = Some(floor.map_or(f, |floor| floor.min(f)));
            packages.insert(layer.name.to_string());
        }
        Some(CargoInvocation {
            targets: vec![(arch, floor?)],
            packages: packages.into_iter().collect(),
        })
    }

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
    /// Whether an unselected artifact that cannot be kept is worth a warning:
    /// yes after `-p`, no for the stage build of `plan` and `deploy`.
    pub warn_unkept: bool,
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
    let needed: BTreeSet<Arch> = artifacts
        .iter()
        .filter(|a| !a.binaries.is_empty())
        .map(|a| a.arch)
        .collect();
    let invocations = needed
        .iter()
        .filter_map(|arch| CargoInvocation::for_arch(workspace, *arch))
        .collect();
    if packages.is_empty() {
        return Ok(BuildPlan {
            invocations,
            artifacts,
            unselected: Vec::new(),
            warn_unkept: false,
        });
    }
    let whole = plan(workspace, arches, &[])?;
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
        warn_unkept: true,
    })
}

/// The build `plan`, `deploy` and `doctor` run: each service on its own
/// architecture, with every other artifact of the last build (another
/// architecture's, say, from `build --arch all`) kept in the manifest.
pub fn stage_plan(workspace: &Workspace) -> Result<BuildPlan, String> {
    let mut plan = plan(workspace, None, &[])?;
    let key = |a: &ArtifactPlan| (a.kind, a.name.clone(), a.arch);
    let selected: BTreeSet<_> = plan.artifacts.iter().map(key).collect();
    plan.unselected = super::select::plan(workspace, Some(&Arch::ALL), &[])?
        .artifacts
        .into_iter()
        .filter(|a| !selected.contains(&key(a)))
        .collect();
    Ok(plan)
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
        // One cargo run per architecture, each compiling every crate with
        // binaries that can run there, at the lowest floor any of them needs.
        assert_eq!(plan.invocations.len(), 2);
        assert_eq!(
            plan.invocations[0].target_args(),
            ["aarch64-unknown-linux-gnu.2.26"]
        );
        assert_eq!(plan.invocations[0].packages, ["ext", "intel", "web"]);
        assert_eq!(
            plan.invocations[1].target_args(),
            ["x86_64-unknown-linux-gnu.2.26"]
        );
        assert_eq!(plan.invocations[1].packages, ["ext", "intel", "web"]);
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
    fn an_architecture_compiles_the_same_way_whatever_the_build_asked_for() {
        let (_f, ws) = workspace();
        let all = plan(&ws, Some(&Arch::ALL), &[]).unwrap();
        assert_eq!(all.artifacts.len(), 10);
        assert_eq!(all.invocations.len(), 2, "one cargo run per architecture");
        let arm64 = |p: &BuildPlan| {
            p.invocations
                .iter()
                .find(|i| i.targets[0].0 == Arch::Arm64)
                .cloned()
        };
        let expected = arm64(&all).unwrap();
        assert_eq!(expected.targets.len(), 1);
        for other in [
            plan(&ws, None, &[]).unwrap(),
            plan(&ws, Some(&[Arch::Arm64]), &[]).unwrap(),
            plan(&ws, None, &["web".to_owned()]).unwrap(),
            plan(&ws, Some(&Arch::ALL), &["ext".to_owned()]).unwrap(),
        ] {
            assert_eq!(arm64(&other).as_ref(), Some(&expected));
        }
        let x86 = plan(&ws, Some(&[Arch::X86_64]), &[]).unwrap();
        assert!(
            arm64(&x86).is_none(),
            "no arm64 run when nothing is packed for arm64"
        );
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
