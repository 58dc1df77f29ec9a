//! Completes the manifest of a `-p` build. The manifest is what deploy reads,
//! so a build of some crates must not drop the others from it: every artifact
//! outside the selection is carried over from the previous manifest when its
//! zip is still there with the recorded sha256 and was built for the same
//! runtime and glibc floor. Settings (routes, memory, environment, layers)
//! come from the workspace as it is now; only the code is the earlier build's.
//! What cannot be carried over is named, so the user knows to build it.

use std::path::Path;

use sha2::{Digest, Sha256};

use super::select::ArtifactPlan;
use crate::manifest::{Artifact, Manifest};

/// The records carried over, and `name (arch)` of those that could not be.
#[derive(Debug, Default)]
pub struct CarriedOver {
    pub artifacts: Vec<Artifact>,
    pub missing: Vec<String>,
}

pub fn carry_over(
    root: &Path,
    unselected: &[ArtifactPlan],
    previous: Option<&Manifest>,
) -> CarriedOver {
    let mut carried = CarriedOver::default();
    for plan in unselected {
        let record = previous
            .and_then(|m| m.find(plan.kind, &plan.name, plan.arch))
            .filter(|r| r.runtime == plan.runtime && r.glibc_floor == plan.glibc_floor)
            .filter(|r| sha256_of(&root.join(&r.path)).is_some_and(|sha| sha == r.sha256));
        match record {
            Some(record) => carried.artifacts.push(Artifact {
                function: plan.function.clone(),
                layer: plan.layer.clone(),
                ..record.clone()
            }),
            None => carried
                .missing
                .push(format!("{} ({})", plan.name, plan.arch)),
        }
    }
    carried
}

fn sha256_of(path: &Path) -> Option<String> {
    let bytes = std::fs::read(path).ok()?;
    Some(super::pack::hex(&Sha256::digest(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{ArtifactKind, FunctionSettings, SCHEMA_VERSION};
    use crate::model::fixture::Fixture;
    use crate::model::{Arch, GlibcVersion, Runtime};

    fn plan(name: &str, memory_mb: u32) -> ArtifactPlan {
        ArtifactPlan {
            name: name.into(),
            kind: ArtifactKind::Function,
            arch: Arch::Arm64,
            runtime: Runtime::ProvidedAl2023,
            glibc_floor: GlibcVersion::new(2, 34),
            dir: format!("services/{name}").into(),
            binaries: vec![(name.into(), "bootstrap".into())],
            data: Vec::new(),
            function: Some(FunctionSettings {
                routes: Vec::new(),
                memory_mb,
                timeout_s: 3,
                env: Default::default(),
                layers: Vec::new(),
            }),
            layer: None,
        }
    }

    fn record(root: &Path, name: &str, bytes: &[u8]) -> Artifact {
        let path = format!("target/lambda/arm64/{name}.zip");
        std::fs::create_dir_all(root.join("target/lambda/arm64")).unwrap();
        std::fs::write(root.join(&path), bytes).unwrap();
        Artifact {
            name: name.into(),
            kind: ArtifactKind::Function,
            architecture: Arch::Arm64,
            runtime: Runtime::ProvidedAl2023,
            path,
            sha256: super::super::pack::hex(&Sha256::digest(bytes)),
            code_sha256: "b64".into(),
            zipped_size: bytes.len() as u64,
            unzipped_size: 10,
            glibc_floor: GlibcVersion::new(2, 34),
            glibc_required: None,
            inputs_sha256: "inputs".into(),
            entries: Vec::new(),
            function: plan(name, 128).function,
            layer: None,
        }
    }

    fn manifest(artifacts: Vec<Artifact>) -> Manifest {
        Manifest {
            schema_version: SCHEMA_VERSION,
            app: "shop".into(),
            ferry_version: "0".into(),
            artifacts,
            routes: Vec::new(),
        }
    }

    #[test]
    fn an_intact_zip_is_carried_over_with_todays_settings() {
        let f = Fixture::new();
        let previous = manifest(vec![record(f.path(), "list", b"zip bytes")]);
        let carried = carry_over(f.path(), &[plan("list", 512)], Some(&previous));
        assert!(carried.missing.is_empty());
        let [list] = carried.artifacts.as_slice() else {
            panic!("one artifact carried over: {carried:?}")
        };
        assert_eq!(list.sha256, previous.artifacts[0].sha256);
        assert_eq!(list.function.as_ref().unwrap().memory_mb, 512);
    }

    #[test]
    fn a_changed_or_missing_zip_or_another_runtime_is_named() {
        let f = Fixture::new();
        let changed = record(f.path(), "changed", b"zip bytes");
        std::fs::write(f.path().join(&changed.path), b"other bytes").unwrap();
        let mut other_runtime = record(f.path(), "older", b"zip");
        other_runtime.runtime = Runtime::ProvidedAl2;
        let previous = manifest(vec![changed, other_runtime]);
        let unselected = [plan("changed", 128), plan("older", 128), plan("new", 128)];
        let carried = carry_over(f.path(), &unselected, Some(&previous));
        assert!(carried.artifacts.is_empty(), "{carried:?}");
        assert_eq!(
            carried.missing,
            ["changed (arm64)", "older (arm64)", "new (arm64)"]
        );
        assert_eq!(carry_over(f.path(), &unselected, None).missing.len(), 3);
    }
}
