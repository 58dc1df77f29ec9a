//! ferry's own test fixtures, shared by the product's end-to-end tests and
//! the benchmarks: moto on loopback, the recording proxy that counts reads
//! and writes and injects faults, and copies of the example workspace. No
//! user's workspace depends on this crate.

pub mod faults;
pub mod moto;
pub mod proxy;

use std::path::{Path, PathBuf};
use std::process::Command;

/// A folder of one test under the system's temp dir, removed when dropped:
/// at the end of the test, and when a failed assertion unwinds it.
pub struct Scratch(PathBuf);

impl Scratch {
    /// `TMP/NAME-PID`, empty.
    pub fn new(name: &str) -> Scratch {
        let path = std::env::temp_dir().join(format!("{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create the test's temp folder");
        Scratch(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The root of this repository, which is also the example workspace.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the testkit sits in the repository")
}

/// Points `command` at the AWS-compatible server at `endpoint` with dummy
/// credentials, hiding the host's AWS configuration (files under `root`
/// that do not exist), so tests and benchmarks never reach a real account.
pub fn aws_env<'a>(command: &'a mut Command, root: &Path, endpoint: &str) -> &'a mut Command {
    for var in [
        "AWS_PROFILE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_SESSION_TOKEN",
    ] {
        command.env_remove(var);
    }
    command
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_CONFIG_FILE", root.join(".no-aws-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            root.join(".no-aws-credentials"),
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
}

/// Copies the workspace sources (what git tracks) to `dest`, sharing the tool folder.
pub fn copy_sources(root: &Path, dest: &Path) -> Result<(), String> {
    let listed = Command::new("git")
        .current_dir(root)
        .args(["ls-files", "-z"])
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if !listed.status.success() {
        return Err("copies take what git tracks; run inside the git checkout".into());
    }
    for rel in listed.stdout.split(|b| *b == 0).filter(|p| !p.is_empty()) {
        let rel = PathBuf::from(String::from_utf8_lossy(rel).into_owned());
        let (from, to) = (root.join(&rel), dest.join(&rel));
        if !from.exists() {
            // Deleted in the work tree but not yet in the index.
            continue;
        }
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        std::fs::copy(&from, &to).map_err(|e| format!("copying {}: {e}", rel.display()))?;
    }
    std::fs::create_dir_all(root.join(".ferry")).map_err(|e| e.to_string())?;
    let link = dest.join(".ferry");
    if link.is_symlink() {
        std::fs::remove_file(&link).map_err(|e| e.to_string())?;
    }
    std::os::unix::fs::symlink(root.join(".ferry"), link).map_err(|e| e.to_string())
}

/// Makes `dest` a copy of the workspace sources at `root`, keeping
/// `dest/target`, so that a second run over the same copy builds incrementally.
pub fn refresh_copy(root: &Path, dest: &Path) -> Result<(), String> {
    if dest.exists() {
        for entry in std::fs::read_dir(dest).map_err(|e| e.to_string())? {
            let path = entry.map_err(|e| e.to_string())?.path();
            if path.file_name() == Some("target".as_ref()) {
                continue;
            }
            let removed = if path.is_dir() && !path.is_symlink() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
            removed.map_err(|e| format!("removing {}: {e}", path.display()))?;
        }
    }
    copy_sources(root, dest)
}
