//! `cargo dev`: this repository's own development tooling. `cargo dev test`
//! installs what the test suite needs and runs every test; `cargo dev bench`
//! runs the benchmarks. A workspace that adopts ferry never sees these.

mod bench;
mod test_cmd;
mod tools;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "cargo dev",
    about = "ferry's development tooling: tests and benchmarks"
)]
struct Cli {
    #[command(subcommand)]
    command: DevCommand,
}

#[derive(Debug, Subcommand)]
enum DevCommand {
    /// Install what the tests need (zig, qemu, moto, awslambdaric), check
    /// formatting and lints, and run every test.
    Test {
        /// Extra arguments for `cargo test`, after `--`.
        #[arg(last = true)]
        cargo_args: Vec<String>,
    },
    /// Run the benchmarks and print their tables.
    Bench(BenchArgs),
}

#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// Which benchmark to run.
    #[arg(value_enum, default_value = "build")]
    pub what: BenchWhat,
    /// Skip the cargo-lambda comparison.
    #[arg(long)]
    pub no_peer: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BenchWhat {
    /// Cold, fresh-clone and no-op builds, zip sizes, reproducibility.
    Build,
    /// Requests per second and latency of `serve`.
    Serve,
    /// Deploy wall time, API calls and bytes uploaded, against moto.
    Deploy,
    /// What a user's CI pays for ferry itself: fresh clone to first build and
    /// first deploy, and the AWS side's first compile against an older tree.
    Ci,
}

/// This repository's root: the folder above `dev/`.
fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default()
}

fn main() -> ExitCode {
    // The benchmarks build in process, with this binary as rustc's wrapper.
    if let Some(code) = ferry::build::wrap::run_if_wrapping() {
        return code;
    }
    let cli = Cli::parse();
    let root = repo_root();
    let done = match cli.command {
        DevCommand::Test { cargo_args } => test_cmd::run(&root, &cargo_args),
        DevCommand::Bench(args) => bench::run(&root, &args),
    };
    ferry::report(done.map(|()| ExitCode::SUCCESS))
}
