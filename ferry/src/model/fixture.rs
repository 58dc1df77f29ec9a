//! Small workspaces built in code for the model's tests, in the manner of
//! cargo's test suite: each test writes exactly the files it is about.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use super::{load_workspace_from, ConfigErrors, Workspace, WorkspaceFiles};

pub const DEPLOY: &str = "[app]\nname = \"shop\"\n\n[stages.test]\nregion = \"us-east-1\"\n";

pub struct Fixture {
    pub root: PathBuf,
}

impl Fixture {
    /// An empty workspace with a minimal deploy.toml.
    pub fn new() -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let root = std::env::temp_dir().join(format!("ferry-fixture-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).expect("create fixture root");
        Self { root }.file("deploy.toml", DEPLOY)
    }

    pub fn file(self, path: &str, text: &str) -> Self {
        let path = self.root.join(path);
        std::fs::create_dir_all(path.parent().expect("fixture paths have parents"))
            .expect("create fixture dir");
        std::fs::write(path, text).expect("write fixture file");
        self
    }

    /// A service crate with a `src/main.rs` and `metadata` as its
    /// `[package.metadata.ferry]` body.
    pub fn service(self, name: &str, metadata: &str) -> Self {
        self.service_at(&format!("services/{name}"), metadata)
    }

    /// A service crate in the folder `dir`, named after its last segment.
    pub fn service_at(self, dir: &str, metadata: &str) -> Self {
        let name = dir.rsplit('/').next().expect("split yields one item");
        let manifest = format!("[package]\nname = \"{name}\"\nversion = \"0.1.0\"\n\n[package.metadata.ferry]\n{metadata}");
        self.file(&format!("{dir}/Cargo.toml"), &manifest)
            .file(&format!("{dir}/src/main.rs"), "fn main() {}\n")
    }

    /// A layer crate with a `data/` folder and `layer` as its
    /// `[package.metadata.ferry.layer]` body.
    pub fn layer(self, name: &str, layer: &str) -> Self {
        self.layer_at(&format!("layers/{name}"), layer)
    }

    /// A layer crate in the folder `dir`, named after its last segment.
    pub fn layer_at(self, dir: &str, layer: &str) -> Self {
        let name = dir.rsplit('/').next().expect("split yields one item");
        let manifest = format!("[package]\nname = \"{name}\"\nversion = \"0.1.0\"\n\n[package.metadata.ferry.layer]\n{layer}");
        self.file(&format!("{dir}/Cargo.toml"), &manifest)
            .file(&format!("{dir}/src/lib.rs"), "")
            .file(&format!("{dir}/data/config.json"), "{}\n")
    }

    pub fn load(&self) -> Result<Workspace, ConfigErrors> {
        load_workspace_from(&WorkspaceFiles::read(&self.root).expect("read fixture"))
    }

    /// The rendered errors, which the test expects.
    pub fn errors(&self) -> String {
        match self.load() {
            Ok(_) => panic!("expected configuration errors in {}", self.root.display()),
            Err(errors) => super::diag::render_plain(&errors),
        }
    }

    /// The rendered errors with the fixture's root written `[ROOT]`, for
    /// snapshots.
    pub fn redacted_errors(&self) -> String {
        self.errors()
            .replace(&self.root.display().to_string(), "[ROOT]")
    }

    pub fn path(&self) -> &Path {
        &self.root
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}
