//! `target/lambda/manifest.json`: the contract between `build` and everything
//! that deploys its output (ferry's deploy, CI jobs). Its shape is documented
//! in the README; `SCHEMA_VERSION` changes when a field changes meaning.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::model::{Arch, GlibcVersion, Method, Runtime};

pub const SCHEMA_VERSION: u32 = 1;
pub const MANIFEST_PATH: &str = "target/lambda/manifest.json";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub schema_version: u32,
    pub app: String,
    /// The ferry version that packed the artifacts.
    pub ferry_version: String,
    /// Ordered by kind, name, then architecture.
    pub artifacts: Vec<Artifact>,
    /// The route table the functions were built with.
    pub routes: Vec<ManifestRoute>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArtifactKind {
    Function,
    Layer,
}

/// Where the zip at `path` (relative to the workspace root, as a manifest
/// names it) is in `dir`, a folder holding a copy of `target/lambda/` with
/// the manifest (what CI keeps between jobs).
pub fn zip_in(dir: &Path, path: &str) -> std::path::PathBuf {
    dir.join(path.strip_prefix("target/lambda/").unwrap_or(path))
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Artifact {
    pub name: String,
    pub kind: ArtifactKind,
    pub architecture: Arch,
    /// The function's runtime, or the newest runtime a layer supports.
    pub runtime: Runtime,
    /// The zip, relative to the workspace root.
    pub path: String,
    /// Hex SHA-256 of the zip.
    pub sha256: String,
    /// Base64 of the raw SHA-256 digest: the form Lambda reports as CodeSha256.
    pub code_sha256: String,
    pub zipped_size: u64,
    pub unzipped_size: u64,
    /// The glibc the binaries were linked against (the lowest runtime's).
    pub glibc_floor: GlibcVersion,
    /// The newest glibc any binary in the zip needs; absent without binaries.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub glibc_required: Option<GlibcVersion>,
    /// Hex SHA-256 over every entry's name, mode and content: equal inputs give an equal zip.
    pub inputs_sha256: String,
    pub entries: Vec<Entry>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub function: Option<FunctionSettings>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub layer: Option<LayerSettings>,
}

/// One file inside a zip.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub name: String,
    /// Unix mode as octal text, e.g. `0755`.
    pub mode: String,
    pub size: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionSettings {
    pub routes: Vec<ManifestRoute>,
    pub memory_mb: u32,
    pub timeout_s: u32,
    /// Secrets appear as their source (`{"ssm": "/name"}`), never a value.
    pub env: BTreeMap<String, crate::model::EnvValue>,
    /// Workspace layer names and layer version ARNs, in the order given.
    pub layers: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerSettings {
    pub description: String,
    pub compatible_runtimes: Vec<Runtime>,
    pub compatible_architectures: Vec<Arch>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ManifestRoute {
    pub method: Method,
    pub path: String,
    pub service: String,
}

impl Manifest {
    /// Reads a manifest, or `None` when there is none or it is of another schema.
    pub fn read(path: &Path) -> Option<Self> {
        Self::load(path).ok()
    }

    /// Reads the manifest at `path`, saying why when it cannot: unreadable,
    /// not a manifest, or of another schema.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
        let manifest: Self =
            serde_json::from_str(&text).map_err(|e| format!("not a ferry manifest: {e}"))?;
        if manifest.schema_version != SCHEMA_VERSION {
            return Err(format!(
                "manifest schema {}, this ferry reads {SCHEMA_VERSION}",
                manifest.schema_version
            ));
        }
        Ok(manifest)
    }

    pub fn find(&self, kind: ArtifactKind, name: &str, arch: Arch) -> Option<&Artifact> {
        self.artifacts
            .iter()
            .find(|a| a.kind == kind && a.name == name && a.architecture == arch)
    }
}
