//! The external tools ferry drives, found or installed on first use into a
//! project-local folder (`.ferry/tools`, or `FERRY_TOOLS_DIR` for one folder
//! that every checkout on a machine shares), each step said out loud: rustup
//! targets, zig and cargo-zigbuild (PyPI). What cannot be installed is an
//! error naming the fix.

use std::path::{Path, PathBuf};
use std::process::Command;

use miette::{miette, IntoDiagnostic, WrapErr};

use crate::model::Arch;

/// Pinned versions: zig 0.16's `ar` broke ring and aws-lc-sys, so ferry pins a
/// pair known to link both architectures at the glibc 2.26 floor.
pub const ZIGLANG: &str = "ziglang==0.17.1";
pub const CARGO_ZIGBUILD: &str = "cargo-zigbuild==0.24.1";

/// Where the tools live: `FERRY_TOOLS_DIR`, else `<root>/.ferry/tools`. A
/// shared compile cache needs one path for every checkout, since the paths
/// of zig and cargo-zigbuild reach rustc's command line (the linker).
pub fn tools_dir(root: &Path) -> PathBuf {
    match std::env::var_os("FERRY_TOOLS_DIR") {
        Some(dir) if !dir.is_empty() => root.join(dir),
        _ => root.join(".ferry/tools"),
    }
}

/// The Python virtual environment under [`tools_dir`]`/venv`.
pub struct Venv {
    pub dir: PathBuf,
}

impl Venv {
    pub fn new(root: &Path) -> Self {
        Self {
            dir: tools_dir(root).join("venv"),
        }
    }

    pub fn bin(&self, name: &str) -> PathBuf {
        self.dir.join("bin").join(name)
    }

    /// Creates the venv if needed and pip-installs `packages` that are missing.
    pub fn ensure(&self, packages: &[&str], what: &str) -> miette::Result<()> {
        if !self.bin("python").exists() {
            eprintln!(
                "ferry: creating a Python environment for tools in {}",
                self.dir.display()
            );
            run(Command::new("python3").args(["-m", "venv"]).arg(&self.dir), "create a Python venv").wrap_err(
                "ferry installs zig, moto and cargo-lambda from PyPI into a project-local venv; install Python 3 with venv (Debian: apt-get install python3 python3-venv)",
            )?;
        }
        let missing: Vec<&str> = packages.iter().copied().filter(|p| !self.has(p)).collect();
        if missing.is_empty() {
            return Ok(());
        }
        eprintln!(
            "ferry: installing {} from PyPI ({what})",
            missing.join(", ")
        );
        let mut pip = Command::new(self.bin("python"));
        pip.args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .args(&missing);
        run(&mut pip, "pip install")
            .wrap_err_with(|| format!("could not install {} from PyPI", missing.join(", ")))
    }

    /// Whether `requirement` (`name==version` or `name[extra]==version`) is installed.
    fn has(&self, requirement: &str) -> bool {
        let (name, version) = requirement.split_once("==").unwrap_or((requirement, ""));
        let name = name.split('[').next().unwrap_or(name).replace('-', "_");
        let Ok(entries) = std::fs::read_dir(self.dir.join("lib")) else {
            return false;
        };
        entries.filter_map(Result::ok).any(|python| {
            let dist = python
                .path()
                .join("site-packages")
                .join(format!("{name}-{version}.dist-info"));
            dist.is_dir()
        })
    }

    /// The file `relative` inside the venv's site-packages, if present.
    pub fn site_file(&self, relative: &str) -> Option<PathBuf> {
        std::fs::read_dir(self.dir.join("lib"))
            .ok()?
            .filter_map(Result::ok)
            .map(|python| python.path().join("site-packages").join(relative))
            .find(|p| p.exists())
    }
}

/// What `cargo zigbuild` needs: its own binary and zig; and the sysroot of
/// the Rust toolchain it will compile with.
#[derive(Debug, Clone)]
pub struct ZigTools {
    pub cargo_zigbuild: PathBuf,
    pub zig: PathBuf,
    pub sysroot: PathBuf,
}

/// Finds or installs zig and cargo-zigbuild, and the rustup targets for `arches`.
pub fn ensure_build_tools(root: &Path, arches: &[Arch]) -> miette::Result<ZigTools> {
    let sysroot = ensure_rust_targets(arches)?;
    let venv = Venv::new(root);
    let find = |venv: &Venv| {
        let zig = std::env::var_os("CARGO_ZIGBUILD_ZIG_PATH")
            .map(PathBuf::from)
            .or_else(|| venv.site_file("ziglang/zig"));
        let zigbuild = Some(venv.bin("cargo-zigbuild"))
            .filter(|p| p.exists())
            .or_else(|| find_on_path("cargo-zigbuild"));
        zig.zip(zigbuild)
    };
    let (zig, zigbuild) = match find(&venv) {
        Some(found) => found,
        None => {
            venv.ensure(&[ZIGLANG, CARGO_ZIGBUILD], "the cross-compiling linker")?;
            find(&venv).ok_or_else(|| {
                miette!("installed {ZIGLANG} and {CARGO_ZIGBUILD} but cannot find zig in them")
            })?
        }
    };
    Ok(ZigTools {
        cargo_zigbuild: zigbuild,
        zig,
        sysroot,
    })
}

/// Adds the rustup targets for `arches` that the toolchain lacks, and returns
/// the toolchain's sysroot. The check reads the sysroot (one quick `rustc`
/// call); rustup runs only to add.
pub fn ensure_rust_targets(arches: &[Arch]) -> miette::Result<PathBuf> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let sysroot = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
        .ok_or_else(|| {
            miette!(
                help = "install Rust with rustup (https://rustup.rs)",
                "cannot run `{rustc} --print sysroot`"
            )
        })?;
    for arch in arches {
        if sysroot
            .join("lib/rustlib")
            .join(arch.triple())
            .join("lib")
            .is_dir()
        {
            continue;
        }
        eprintln!(
            "ferry: adding the Rust target {} (rustup target add)",
            arch.triple()
        );
        run(
            Command::new("rustup").args(["target", "add", arch.triple()]),
            "rustup target add",
        )
        .wrap_err(
            "install rustup (https://rustup.rs), or add the target to your toolchain another way",
        )?;
    }
    Ok(sysroot)
}

pub fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// Runs a command to completion, its output shown, failing with `what` on a non-zero exit.
pub fn run(command: &mut Command, what: &str) -> miette::Result<()> {
    let status = command
        .status()
        .into_diagnostic()
        .wrap_err_with(|| format!("cannot start {what}: {command:?}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(miette!("{what} failed ({status}): {command:?}"))
    }
}
