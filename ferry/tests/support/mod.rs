//! Shared helpers for ferry's end-to-end tests: copies of the example
//! workspace, the tools the tests need (failing with how to get them), and a
//! minimal Lambda Runtime API to invoke built binaries against.
#![allow(dead_code)]

pub mod http;
pub mod runtime_api;

use std::path::{Path, PathBuf};
use std::process::Command;

/// The example workspace this repository is.
pub fn example_root() -> PathBuf {
    ferry_testkit::repo_root()
}

/// Copies the example workspace's sources (what git tracks) to `dest`.
pub fn copy_example(dest: &Path) {
    let _ = std::fs::remove_dir_all(dest);
    ferry_testkit::copy_sources(&example_root(), dest).expect("copy the example workspace");
}

/// Sets every file's mtime under `dir` to `time`.
pub fn set_mtimes(dir: &Path, time: std::time::SystemTime) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_symlink() {
            continue;
        } else if path.is_dir() {
            set_mtimes(&path, time);
        } else {
            std::fs::File::options()
                .write(true)
                .open(&path)
                .unwrap()
                .set_modified(time)
                .unwrap();
        }
    }
}

/// The xtask binary under test, run on the workspace at `root`.
pub fn ferry(root: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ferry"));
    command.arg("--root").arg(root).current_dir(root);
    // Each copy keeps its own target dir, as two checkouts of a project would.
    command.env_remove("CARGO_TARGET_DIR");
    command
}

/// qemu-aarch64-static and the arm64 sysroot, or a failure that says how to get them.
pub fn qemu() -> (PathBuf, PathBuf) {
    let qemu = std::env::var_os("FERRY_QEMU_AARCH64")
        .map(PathBuf::from)
        .or_else(|| Some(PathBuf::from("/usr/bin/qemu-aarch64-static")).filter(|p| p.exists()));
    let sysroot = PathBuf::from(
        std::env::var_os("FERRY_QEMU_SYSROOT").unwrap_or_else(|| "/usr/aarch64-linux-gnu".into()),
    );
    match qemu {
        Some(qemu) if sysroot.join("lib").is_dir() => (qemu, sysroot),
        _ => panic!(
            "this test runs arm64 binaries under qemu-aarch64-static with the arm64 glibc in /usr/aarch64-linux-gnu; \
             run the tests with `cargo dev test`, which installs them, or `apt-get install qemu-user-static libc6-arm64-cross`"
        ),
    }
}

/// A Python with AWS's runtime interface client, or a failure saying how to get it.
pub fn awslambdaric_python() -> PathBuf {
    let python = std::env::var_os("FERRY_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| example_root().join(".ferry/tools/venv/bin/python"));
    let ok = Command::new(&python)
        .args(["-c", "import awslambdaric"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "this test runs AWS's Python runtime interface client against ferry's Runtime API; run the tests with \
         `cargo dev test`, which installs it, or `.ferry/tools/venv/bin/pip install awslambdaric==4.2.2`"
    );
    python
}
