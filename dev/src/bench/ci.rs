//! `cargo dev bench ci`: what a user's CI pays for ferry itself. In a fresh
//! copy of the example with an empty target directory: the first `cargo
//! xtask build` (ferry's own compile included), the AWS side's first compile
//! (exactly as `cargo xtask deploy` runs it), and the first deploy against
//! moto. Side by side in the same run, the AWS side's first compile at
//! [`BEFORE`], the tree before its SDK features and profile were cut, in a
//! copy and target directory of its own, after the same warm-up (ferry and
//! its shared dependencies compiled by a plain `cargo build` of the shim).
//! Everything runs in `target/bench/ci`.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use miette::{miette, IntoDiagnostic};

use super::{print_table_against, timed, with_tools, Row};
use crate::tools::{self, Venv};
use ferry::model::Arch;
use ferry_testkit::moto::Moto;

/// The commit before the AWS side's compile was cut (default SDK features:
/// two TLS stacks and aws-lc; the SDK at the workspace's dev opt-level 1
/// with debug info).
pub const BEFORE: &str = "82d576b344cc9a977a00b531c969abd4bb0ae112";

pub fn run(root: &Path) -> miette::Result<()> {
    let base = ferry::build::compile::target_dir(root).join("bench/ci");
    let _ = std::fs::remove_dir_all(&base);
    let logs = base.join("logs");
    std::fs::create_dir_all(&logs).into_diagnostic()?;
    let zig = tools::ensure_build_tools(root, &Arch::ALL)?;
    let venv = Venv::new(root);
    venv.ensure(
        &[tools::MOTO],
        "moto, the AWS-compatible server the benchmark deploys to",
    )?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());

    let now = base.join("now");
    ferry_testkit::copy_sources(root, &now).map_err(|e| miette!("{e}"))?;
    let cmd = |dir: &Path| {
        let mut c = with_tools(Command::new(&cargo), &zig, dir);
        c.env("CARGO_TARGET_DIR", dir.join("target"));
        c
    };
    eprintln!("bench: fresh clone -> first build, AWS side compile, first deploy (moto)");
    let build = timed(cmd(&now).args(["xtask", "build"]), &logs, "now-first-build")?;
    let aws_now = timed(
        cmd(&now)
            .args(aws_side_build())
            .args(ferry::aws_side::sdk_profile_args()),
        &logs,
        "now-aws-side-compile",
    )?;
    let moto = Moto::start(&venv.bin("moto_server")).map_err(|e| miette!("{e}"))?;
    let mut deploy = cmd(&now);
    deploy.args(["xtask", "deploy", "--stage", "test"]);
    ferry_testkit::aws_env(&mut deploy, &now, &moto.url());
    let deployed = timed(&mut deploy, &logs, "now-first-deploy")?;
    drop(moto);

    eprintln!("bench: the AWS side's first compile at {}", &BEFORE[..10]);
    let before = base.join("before");
    archive(root, BEFORE, &before)?;
    timed(
        cmd(&before).args(["build", "--package", "xtask", "--bin", "xtask"]),
        &logs,
        "before-warm-up",
    )?;
    let aws_before = timed(
        cmd(&before).args(aws_side_build()),
        &logs,
        "before-aws-side-compile",
    )?;

    let secs = |d: Duration| format!("{:.1} s", d.as_secs_f64());
    let rows = [
        Row(
            "AWS side, first compile (after `build`)".into(),
            secs(aws_now),
            secs(aws_before),
            format!("{:.2}x", aws_now.as_secs_f64() / aws_before.as_secs_f64()),
        ),
        Row(
            "fresh clone -> first build (ferry compile incl.)".into(),
            secs(build),
            "-".into(),
            "-".into(),
        ),
        Row(
            "fresh clone -> first deploy to moto (all compiles incl.)".into(),
            secs(build + aws_now + deployed),
            "-".into(),
            "-".into(),
        ),
        Row(
            "  of which the deploy itself".into(),
            secs(deployed),
            "-".into(),
            "-".into(),
        ),
    ];
    println!(
        "\nwhat CI pays for ferry itself (2 cores here: {} logical CPUs)\n",
        num_cpus()
    );
    print_table_against(&rows, &format!("before ({})", &BEFORE[..10]));
    let _ = std::fs::remove_dir_all(before.join("target"));
    let _ = std::fs::remove_dir_all(now.join("target"));
    Ok(())
}

/// The compile `cargo xtask plan|deploy|doctor` runs for the shim's AWS side.
fn aws_side_build() -> [&'static str; 7] {
    [
        "build",
        "--package",
        "xtask",
        "--bin",
        "xtask-aws",
        "--features",
        "aws",
    ]
}

/// The tree at `rev`, from git, at `dest`.
fn archive(root: &Path, rev: &str, dest: &Path) -> miette::Result<()> {
    std::fs::create_dir_all(dest).into_diagnostic()?;
    let tar = Command::new("git")
        .current_dir(root)
        .args(["archive", "--format=tar", rev])
        .output()
        .into_diagnostic()?;
    if !tar.status.success() {
        return Err(miette!(
            "git archive {rev} failed: {}",
            String::from_utf8_lossy(&tar.stderr)
        ));
    }
    let tar_file = dest.with_extension("tar");
    std::fs::write(&tar_file, tar.stdout).into_diagnostic()?;
    let status = Command::new("tar")
        .arg("-xf")
        .arg(&tar_file)
        .arg("-C")
        .arg(dest)
        .status()
        .into_diagnostic()?;
    let _ = std::fs::remove_file(&tar_file);
    if !status.success() {
        return Err(miette!("unpacking {rev} failed"));
    }
    Ok(())
}

fn num_cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
