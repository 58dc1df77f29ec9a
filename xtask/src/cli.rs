//! The command line: one subcommand per module, flags turned into typed
//! options here so that commands never look at raw strings.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::model::Arch;

#[derive(Debug, Parser)]
#[command(
    name = "cargo xtask",
    about = "ferry: build, deploy and serve a Rust serverless API from this Cargo workspace"
)]
pub struct Cli {
    /// The workspace root (default: the nearest folder upwards with deploy.toml).
    #[arg(long, global = true, env = "FERRY_ROOT")]
    pub root: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Cross-compile services and layers and pack reproducible Lambda zips.
    Build(BuildArgs),
    /// Validate Cargo metadata and deploy.toml, reporting every problem.
    Check,
    /// Print the route table (method, path, service).
    Routes {
        /// Print a JSON array of {method, path, service}.
        #[arg(long)]
        json: bool,
    },
    /// Install what the tests need (zig, qemu, moto) and run every test.
    Test {
        /// Extra arguments for `cargo test`, after `--`.
        #[arg(last = true)]
        cargo_args: Vec<String>,
    },
    /// Run the API on localhost with the real function binaries.
    Serve(ServeArgs),
    /// Run the benchmarks and print their tables.
    Bench(BenchArgs),
    /// Read a stage's live state and print what a deploy would change.
    Plan(PlanArgs),
    /// Build (or take --manifest), plan and apply: only what changed is written.
    Deploy(DeployArgs),
    /// Check a stage's live chain link by link (DNS, CloudFront, API stage,
    /// routes, permissions, functions, log groups); exit 2 when one is broken.
    Doctor(DoctorArgs),
}

#[derive(Debug, Clone, clap::Args)]
pub struct DoctorArgs {
    /// The deploy.toml stage to check.
    #[arg(long)]
    pub stage: String,
    /// Compare code hashes with this manifest instead of building.
    #[arg(long, value_name = "PATH")]
    pub manifest: Option<PathBuf>,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// What `plan` and `deploy` share.
#[derive(Debug, Clone, clap::Args)]
pub struct StageArgs {
    /// The deploy.toml stage to plan or deploy.
    #[arg(long)]
    pub stage: String,
    /// Deploy the artifacts of this manifest (e.g. from a CI build job)
    /// instead of building; its zips are found next to it.
    #[arg(long, value_name = "PATH")]
    pub manifest: Option<PathBuf>,
    /// Delete the stage's functions whose service left the workspace.
    #[arg(long)]
    pub prune: bool,
    /// Print machine-readable JSON on stdout (progress stays on stderr).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, clap::Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub stage: StageArgs,
    /// Exit 2 when the plan is not empty, 0 when it is, 1 on error.
    #[arg(long)]
    pub detailed_exitcode: bool,
}

#[derive(Debug, Clone, clap::Args)]
pub struct DeployArgs {
    #[command(flatten)]
    pub stage: StageArgs,
    /// Print the plan and stop, making no write (the same as `plan`).
    #[arg(long)]
    pub dry_run: bool,
    /// Wait until CloudFront has propagated the stage's distribution
    /// (`Deployed`), with progress on stderr.
    #[arg(long)]
    pub wait: bool,
    /// How long to wait for another deploy of the stage to finish, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 600)]
    pub lock_wait: u64,
}

/// Which architectures to build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ArchChoice {
    Arm64,
    #[value(name = "x86_64")]
    X86_64,
    All,
}

impl ArchChoice {
    pub fn arches(self) -> Vec<Arch> {
        match self {
            ArchChoice::Arm64 => vec![Arch::Arm64],
            ArchChoice::X86_64 => vec![Arch::X86_64],
            ArchChoice::All => Arch::ALL.to_vec(),
        }
    }
}

#[derive(Debug, Clone, clap::Args)]
pub struct BuildArgs {
    /// Build every selected crate for this architecture (default: each
    /// service's own, from its metadata or deploy.toml).
    #[arg(long, value_enum)]
    pub arch: Option<ArchChoice>,
    /// Build only these services or layers (repeatable).
    #[arg(short = 'p', long = "package", value_name = "NAME")]
    pub packages: Vec<String>,
    /// Print the manifest summary as JSON on stdout.
    #[arg(long)]
    pub json: bool,
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
}

#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// The port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 9000)]
    pub port: u16,
    /// Use this deploy.toml stage's name, region, environment and binary media
    /// types (default: a `local` stage with only the services' own settings).
    #[arg(long)]
    pub stage: Option<String>,
    /// Rebuild on source changes and restart the functions that changed.
    #[arg(long)]
    pub watch: bool,
    /// The most instances one function runs at once.
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
    /// Build the services with the release profile.
    #[arg(long)]
    pub release: bool,
}
