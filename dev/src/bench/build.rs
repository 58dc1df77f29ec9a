//! `cargo dev bench build`: times ferry's build of the example workspace and,
//! in the same run, cargo-lambda building the same crates as its provided.al2
//! users must (one run per architecture, `.2.26` targets, zip output), then
//! prints one table with the ratios. Everything runs in `target/bench/build`.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use miette::{miette, IntoDiagnostic, WrapErr};

use super::{print_table, timed, with_tools, Row};
use crate::tools::{self, Venv};
use ferry::manifest::{ArtifactKind, Manifest};
use ferry::model::Arch;

const SERVICES: [&str; 5] = ["create-item", "echo", "get-item", "jwt", "list-items"];
const EXTENSION: &str = "request-logger";

pub fn run(root: &Path, with_peer: bool) -> miette::Result<()> {
    let base = ferry::build::compile::target_dir(root).join("bench/build");
    let _ = std::fs::remove_dir_all(&base);
    let logs = base.join("logs");
    std::fs::create_dir_all(&logs).into_diagnostic()?;
    let zig = tools::ensure_build_tools(root, &Arch::ALL)?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut rows = Vec::new();

    let fresh = base.join("ferry");
    ferry_testkit::copy_sources(root, &fresh).map_err(|e| miette!("{e}"))?;
    eprintln!(
        "bench: fresh clone -> first two-architecture build (xtask compile included; tools cached)"
    );
    let cmd = |program: &str| with_tools(Command::new(program), &zig, &fresh);
    let first = timed(
        cmd(&cargo).args(["xtask", "build", "--arch", "all"]),
        &logs,
        "ferry-fresh",
    )?;
    let noop = timed(
        cmd(&cargo).args(["xtask", "build", "--arch", "all"]),
        &logs,
        "ferry-noop",
    )?;
    let mut zigbuild = noop_zigbuild(&fresh, &zig)?;
    zigbuild.env_remove("CARGO_TARGET_DIR");
    let cargo_noop = timed(&mut zigbuild, &logs, "cargo-zigbuild-noop")?;
    timed(
        cmd(&cargo).args(["check", "--workspace"]),
        &logs,
        "cargo-check-warmup",
    )?;
    let check_noop = timed(
        cmd(&cargo).args(["check", "--workspace"]),
        &logs,
        "cargo-check-noop",
    )?;
    eprintln!("bench: cold two-architecture build (fresh target directory)");
    // The example's own shim, built by the first step, run directly so that
    // only the Lambda build is timed.
    let xtask = fresh.join("target/debug/xtask");
    let cold_build = |target: &str, opt_level: Option<&str>, name: &str| {
        let mut c = cmd(xtask.to_str().unwrap_or_default());
        c.args(["--root"])
            .arg(&fresh)
            .args(["build", "--arch", "all"])
            .env("CARGO_TARGET_DIR", fresh.join(target));
        if let Some(level) = opt_level {
            c.env("CARGO_PROFILE_LAMBDA_OPT_LEVEL", level);
        }
        timed(&mut c, &logs, name)
    };
    let cold = cold_build("target-cold", None, "ferry-cold")?;
    // cargo-lambda builds with the release profile's opt-level 3: ferry at
    // the same level shows what scheduling saves, apart from the cheaper level.
    let cold_o3 = cold_build("target-cold-o3", Some("3"), "ferry-cold-opt3")?;
    let _ = std::fs::remove_dir_all(fresh.join("target-cold-o3"));
    let manifest = Manifest::read(&fresh.join("target/lambda/manifest.json"))
        .ok_or_else(|| miette!("the bench build wrote no manifest"))?;
    let ferry_functions: u64 = manifest
        .artifacts
        .iter()
        .filter(|a| a.kind == ArtifactKind::Function)
        .map(|a| a.zipped_size)
        .sum();
    let ferry_extension: u64 = manifest
        .artifacts
        .iter()
        .filter(|a| a.name == EXTENSION)
        .map(|a| a.zipped_size)
        .sum();
    let ferry_glibc = manifest
        .artifacts
        .iter()
        .filter_map(|a| a.glibc_required)
        .max();

    let peer = if with_peer {
        Some(peer(root, &base, &zig, &logs)?)
    } else {
        None
    };
    let secs = |d: Duration| format!("{:.1} s", d.as_secs_f64());
    let ratio = |peer: f64, ours: f64| {
        if ours > 0.0 {
            format!("{:.2}x", ours / peer)
        } else {
            "-".into()
        }
    };
    let p = peer.as_ref();
    rows.push(Row(
        "cold build, both architectures".into(),
        secs(cold),
        p.map_or("-".into(), |p| secs(p.wall)),
        p.map_or("-".into(), |p| {
            ratio(p.wall.as_secs_f64(), cold.as_secs_f64())
        }),
    ));
    rows.push(Row(
        "cold build, both architectures, both at opt-level 3".into(),
        secs(cold_o3),
        p.map_or("-".into(), |p| secs(p.wall)),
        p.map_or("-".into(), |p| {
            ratio(p.wall.as_secs_f64(), cold_o3.as_secs_f64())
        }),
    ));
    rows.push(Row(
        "fresh clone -> first build (xtask compile incl.)".into(),
        secs(first),
        "-".into(),
        "-".into(),
    ));
    rows.push(Row(
        "no-op rebuild (cargo xtask build)".into(),
        secs(noop),
        "-".into(),
        "-".into(),
    ));
    rows.push(Row(
        "cargo's own no-op (same cargo zigbuild)".into(),
        secs(cargo_noop),
        "-".into(),
        format!(
            "ferry {:.2}x",
            noop.as_secs_f64() / cargo_noop.as_secs_f64()
        ),
    ));
    rows.push(Row(
        "cargo check --workspace no-op".into(),
        secs(check_noop),
        "-".into(),
        format!(
            "ferry {:.2}x",
            noop.as_secs_f64() / check_noop.as_secs_f64()
        ),
    ));
    let kib = |b: u64| format!("{:.0} KiB", b as f64 / 1024.0);
    rows.push(Row(
        "function zips, 4 services x 2 arches".into(),
        kib(ferry_functions),
        p.map_or("-".into(), |p| kib(p.function_bytes)),
        p.map_or("-".into(), |p| {
            ratio(p.function_bytes as f64, ferry_functions as f64)
        }),
    ));
    rows.push(Row(
        "extension zips, x 2 arches".into(),
        kib(ferry_extension),
        p.map_or("-".into(), |p| kib(p.extension_bytes)),
        p.map_or("-".into(), |p| {
            ratio(p.extension_bytes as f64, ferry_extension as f64)
        }),
    ));
    rows.push(Row(
        "zips identical across two clean builds".into(),
        "yes (tested in xtask/tests/build.rs)".into(),
        p.map_or("-".into(), |p| p.reproducible.clone()),
        "-".into(),
    ));
    rows.push(Row(
        "highest GLIBC required".into(),
        ferry_glibc.map_or("-".into(), |g| g.to_string()),
        p.map_or("-".into(), |p| {
            format!("{} (default target, no .2.26)", p.default_glibc)
        }),
        "-".into(),
    ));
    print_table(&rows);
    eprintln!("logs: {}", logs.display());
    Ok(())
}

struct Peer {
    wall: Duration,
    function_bytes: u64,
    extension_bytes: u64,
    reproducible: String,
    default_glibc: String,
}

/// cargo-lambda 1.9.2 on two clean copies: one run per architecture for the
/// services and one per architecture for the extension, as its users do.
fn peer(root: &Path, base: &Path, zig: &tools::ZigTools, logs: &Path) -> miette::Result<Peer> {
    let venv = Venv::new(root);
    venv.ensure(&[tools::CARGO_LAMBDA], "the benchmark's peer")?;
    let cargo_lambda = venv.bin("cargo-lambda");
    let mut zips = Vec::new();
    let mut wall = Duration::ZERO;
    for copy in ["cargo-lambda-1", "cargo-lambda-2"] {
        let dir = base.join(copy);
        ferry_testkit::copy_sources(root, &dir).map_err(|e| miette!("{e}"))?;
        eprintln!("bench: cargo-lambda, clean build in {}", dir.display());
        let mut total = Duration::ZERO;
        for arch in Arch::ALL {
            let target = format!("{}.2.26", arch.triple());
            let lambda_dir = format!("lambda-{arch}");
            // cargo-lambda's users build the functions in one run and each
            // extension in a run of its own, per architecture.
            let build = |extra: &[&str], log: String| {
                let mut command = with_tools(Command::new(&cargo_lambda), zig, &dir);
                command.args([
                    "lambda",
                    "build",
                    "--release",
                    "--target",
                    &target,
                    "--output-format",
                    "zip",
                ]);
                command.args(["--lambda-dir", &lambda_dir]).args(extra);
                timed(&mut command, logs, &log)
            };
            let services: Vec<&str> = SERVICES.iter().flat_map(|s| ["-p", s]).collect();
            total += build(&services, format!("{copy}-{arch}"))?;
            total += build(
                &["--extension", "-p", EXTENSION],
                format!("{copy}-{arch}-extension"),
            )?;
        }
        if wall.is_zero() {
            wall = total;
        }
        let mut found = Vec::new();
        collect_zips(&dir, &dir, &mut found);
        found.sort();
        zips.push(found);
    }
    let (first, second) = (&zips[0], &zips[1]);
    let identical = first.len() == second.len()
        && first
            .iter()
            .zip(second)
            .all(|(a, b)| a.0 == b.0 && a.2 == b.2);
    let function_bytes = first
        .iter()
        .filter(|z| !z.0.contains(EXTENSION))
        .map(|z| z.1)
        .sum();
    let extension_bytes = first
        .iter()
        .filter(|z| z.0.contains(EXTENSION))
        .map(|z| z.1)
        .sum();
    let dir = base.join("cargo-lambda-1");
    let mut default_glibc = Vec::new();
    for arch in Arch::ALL {
        let mut build = with_tools(Command::new(&cargo_lambda), zig, &dir);
        build.args([
            "lambda",
            "build",
            "--release",
            "--target",
            arch.triple(),
            "--lambda-dir",
            "lambda-default",
            "-p",
            "get-item",
        ]);
        timed(&mut build, logs, &format!("cargo-lambda-default-{arch}"))?;
        let binary = dir.join("lambda-default/get-item/bootstrap");
        let data = std::fs::read(&binary)
            .into_diagnostic()
            .wrap_err_with(|| format!("reading {}", binary.display()))?;
        let facts = ferry::build::elf::read(&data).map_err(|e| miette!("{e}"))?;
        default_glibc.push(format!(
            "{arch}: {}",
            facts.max_glibc().map_or("-".into(), |g| g.to_string())
        ));
    }
    Ok(Peer {
        wall,
        function_bytes,
        extension_bytes,
        reproducible: if identical {
            "yes".into()
        } else {
            format!("no ({} zips compared)", first.len())
        },
        default_glibc: default_glibc.join(", "),
    })
}

/// (path relative to `root`, size, sha256) of every zip under `lambda-*` folders.
fn collect_zips(root: &Path, dir: &Path, out: &mut Vec<(String, u64, String)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for path in entries.filter_map(Result::ok).map(|e| e.path()) {
        let rel = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .display()
            .to_string();
        if path.is_dir() && (dir != root || rel.starts_with("lambda-")) && rel != "lambda-default" {
            collect_zips(root, &path, out);
        } else if path.extension().is_some_and(|e| e == "zip") {
            let bytes = std::fs::read(&path).unwrap_or_default();
            let digest = ferry::build::pack::hex(&<sha2::Sha256 as sha2::Digest>::digest(&bytes));
            out.push((rel, bytes.len() as u64, digest));
        }
    }
}

/// The very `cargo zigbuild` command ferry runs for a full two-architecture build.
fn noop_zigbuild(root: &Path, zig: &tools::ZigTools) -> miette::Result<Command> {
    let workspace = ferry::model::load_workspace(root)?;
    let plan = ferry::build::select::plan(&workspace, Some(&Arch::ALL), &[])
        .map_err(|e| miette!("{e}"))?;
    let invocation = plan
        .invocations
        .first()
        .ok_or_else(|| miette!("nothing to build"))?;
    ferry::build::compile::command(root, zig, invocation)
}
