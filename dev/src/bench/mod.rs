//! `cargo dev bench [build|serve|deploy|ci]`: speed goals are measured here and printed
//! as tables, never asserted in tests. Each benchmark runs its peer
//! (cargo-lambda) side by side in the same run and reports the ratio.

mod build;
mod ci;
mod deploy;
mod load;
mod serve;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use miette::{miette, IntoDiagnostic};

use crate::{BenchArgs, BenchWhat};
use ferry::tools::ZigTools;

pub fn run(root: &Path, args: &BenchArgs) -> miette::Result<()> {
    match args.what {
        BenchWhat::Build => build::run(root, !args.no_peer),
        BenchWhat::Serve => serve::run(root, !args.no_peer),
        BenchWhat::Deploy => deploy::run(root, !args.no_peer),
        BenchWhat::Ci => ci::run(root),
    }
}

/// One line of a table: a metric, ferry's figure, the peer's, and a ratio.
pub(crate) struct Row(pub String, pub String, pub String, pub String);

pub(crate) fn print_table(rows: &[Row]) {
    print_table_against(rows, "cargo-lambda");
}

/// The table with `peer` naming the third column.
pub(crate) fn print_table_against(rows: &[Row], peer: &str) {
    let w0 = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
    let w1 = rows.iter().map(|r| r.1.len()).max().unwrap_or(0).max(5);
    let w2 = rows
        .iter()
        .map(|r| r.2.len())
        .max()
        .unwrap_or(0)
        .max(peer.len());
    println!("{:<w0$}  {:<w1$}  {:<w2$}  ratio", "metric", "ferry", peer);
    for Row(a, b, c, d) in rows {
        println!("{a:<w0$}  {b:<w1$}  {c:<w2$}  {d}");
    }
}

/// A command run in `dir` with the project's tool folder first on PATH and
/// zig where cargo-zigbuild (and cargo-lambda, which embeds it) look.
pub(crate) fn with_tools(mut command: Command, zig: &ZigTools, dir: &Path) -> Command {
    let venv_bin = zig
        .cargo_zigbuild
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let path = std::env::var_os("PATH").unwrap_or_default();
    let joined =
        std::env::join_paths(std::iter::once(venv_bin).chain(std::env::split_paths(&path)))
            .unwrap_or(path);
    command
        .current_dir(dir)
        .env("PATH", joined)
        .env("CARGO_ZIGBUILD_ZIG_PATH", &zig.zig)
        .env_remove("CARGO_TARGET_DIR");
    command
}

/// Runs a command with its output in `logs/<name>.log`; returns the wall time.
pub(crate) fn timed(command: &mut Command, logs: &Path, name: &str) -> miette::Result<Duration> {
    let log = logs.join(format!("{name}.log"));
    let file = std::fs::File::create(&log).into_diagnostic()?;
    let started = Instant::now();
    let status = command
        .stdout(file.try_clone().into_diagnostic()?)
        .stderr(file)
        .status()
        .into_diagnostic()?;
    let took = started.elapsed();
    if !status.success() {
        return Err(miette!(
            "bench step `{name}` failed ({status}); see {}",
            log.display()
        ));
    }
    eprintln!("bench: {name}: {:.1} s", took.as_secs_f64());
    Ok(took)
}
