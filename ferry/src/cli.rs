//! The command line: one subcommand per module, flags turned into typed
//! options here so that commands never look at raw strings.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use serde::{Deserialize, Serialize};

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
    /// Run the API on localhost with the real function binaries.
    Serve(ServeArgs),
    /// Read a stage's live state and print what a deploy would change.
    Plan(PlanArgs),
    /// Build (or take --manifest), plan and apply: only what changed is written.
    Deploy(DeployArgs),
    /// Add ferry to an existing Cargo workspace: the xtask shim, the cargo
    /// alias, deploy.toml and metadata stubs (run from a checkout of ferry).
    Init(InitArgs),
    /// Print the JSON Schema of deploy.toml or of `[package.metadata.ferry]`.
    Schema(SchemaArgs),
    /// Check a stage's live chain link by link (DNS, CloudFront, API stage,
    /// routes, permissions, functions, log groups); exit 2 when one is broken.
    Doctor(DoctorArgs),
    /// Print what a stage's functions logged, interleaved in time, each line
    /// prefixed with its service.
    Logs(LogsArgs),
    /// Invalidate paths in the CloudFront cache of a stage's front door.
    Invalidate(InvalidateArgs),
    /// List the releases a stage recorded in AWS: function versions, API
    /// deployment, commit, who and when.
    Releases(ReleasesArgs),
    /// Return a stage to an earlier release: each function's alias and the
    /// API stage move back, with no build and no upload.
    Rollback(RollbackArgs),
    /// Delete a stage's old function versions (all but the newest N, the
    /// one its alias serves and those the newest N releases name) and old
    /// versions of the app's layers that nothing uses.
    Prune(PruneArgs),
    /// Remove everything ferry made for a stage (plan first): DNS records and
    /// the distribution it created, the API, functions, unused layer
    /// versions, the managed role, release records; log groups with --logs.
    Destroy(DestroyArgs),
    /// Deploy exactly the artifacts another stage serves (same code, no
    /// build) to a stage, with that stage's own settings.
    Promote(PromoteArgs),
    /// Send one HTTP request to a deployed stage (or, with --local, to a
    /// running `serve`) and print the response; exit 2 on HTTP 400 and above.
    Invoke(InvokeArgs),
    /// Print the API definition ferry deploys to a stage (OpenAPI 3 with
    /// its integrations; --clean without the AWS extensions).
    Openapi(OpenApiArgs),
    /// Print the least-privilege IAM policies for the identity that runs
    /// ferry on a stage: `read` (plan, doctor, releases, logs) and `deploy`
    /// (every command that writes), as JSON documents IAM takes.
    Iam(IamArgs),
    /// Adopt a stage built by hand: read an API Gateway stage, the functions
    /// its Lambda proxy integrations invoke and the distribution in front of
    /// it, and write the stage into deploy.toml and each mapped service's
    /// routes into its Cargo.toml, for review. Nothing in AWS is written.
    Import(ImportArgs),
    /// Work with build manifests (`merge`: join per-architecture builds).
    Manifest {
        #[command(subcommand)]
        command: ManifestCommand,
    },
}

#[derive(Debug, Clone, clap::Args, Serialize, Deserialize)]
pub struct ImportArgs {
    /// The API Gateway stage to import; it becomes the deploy.toml stage of
    /// that name.
    #[arg(long)]
    pub stage: String,
    /// The REST API: its id, or its name when one API has it.
    #[arg(long, value_name = "ID|NAME")]
    pub rest_api: String,
    /// The function a service becomes (repeatable). Unmapped functions map
    /// to the service whose name they end with (`…-get-item` -> `get-item`).
    #[arg(long = "map", value_name = "FUNCTION=SERVICE")]
    pub maps: Vec<String>,
    /// The CloudFront distribution whose origin serves the stage.
    #[arg(long, value_name = "ID")]
    pub distribution: Option<String>,
    /// The stage's region. Default: the AWS configuration's
    /// (`AWS_REGION`, the profile's).
    #[arg(long)]
    pub region: Option<String>,
    /// The AWS config profile that reaches the stage.
    #[arg(long)]
    pub profile: Option<String>,
    /// Print what would be written, and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, clap::Args)]
pub struct OpenApiArgs {
    /// The deploy.toml stage whose API definition to print.
    #[arg(long)]
    pub stage: String,
    /// Drop the `x-amazon-apigateway-*` extensions and the CORS preflights:
    /// the routes alone, for client generators.
    #[arg(long)]
    pub clean: bool,
    /// The AWS account the integration URIs name. Default: the stage's
    /// `account` in deploy.toml.
    #[arg(long, value_name = "ID")]
    pub account: Option<String>,
}

#[derive(Debug, Clone, clap::Args)]
pub struct IamArgs {
    /// The deploy.toml stage the policies are for.
    #[arg(long)]
    pub stage: String,
    /// The AWS account in the ARNs. Default: the stage's `account` in
    /// deploy.toml, else `*`.
    #[arg(long, value_name = "ID")]
    pub account: Option<String>,
    /// Print only this policy's document.
    #[arg(long, value_parser = ["read", "deploy"])]
    pub only: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ManifestCommand {
    /// Join the manifests of builds made on several machines (one per
    /// architecture) into one for `deploy --manifest`, copying their zips.
    Merge(MergeArgs),
}

#[derive(Debug, Clone, clap::Args)]
pub struct MergeArgs {
    /// The manifest.json files to join, each with its zips next to it.
    #[arg(required = true, num_args = 1.., value_name = "MANIFEST")]
    pub inputs: Vec<PathBuf>,
    /// Where to write the merged manifest; the zips go next to it.
    #[arg(short = 'o', long = "out", value_name = "PATH")]
    pub out: PathBuf,
    /// Print the merged manifest as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, clap::Args, Serialize, Deserialize)]
pub struct LogsArgs {
    /// The deploy.toml stage whose functions' logs to read.
    #[arg(long)]
    pub stage: String,
    /// Only this service's function (repeatable). Default: every service.
    #[arg(short = 'p', long = "service", value_name = "SERVICE")]
    pub services: Vec<String>,
    /// How far back to start: a duration such as 90s, 15m, 2h or 1d.
    #[arg(long, value_name = "DURATION", default_value = "15m", value_parser = crate::logs::parse_since)]
    pub since: u64,
    /// Keep printing new lines as they arrive, until Ctrl-C.
    #[arg(long)]
    pub follow: bool,
    /// Only lines containing this text.
    #[arg(long, value_name = "TEXT")]
    pub filter: Option<String>,
    /// One JSON object per line ({timestamp_ms, service, message}).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, clap::Args, Serialize, Deserialize)]
pub struct ReleasesArgs {
    /// The deploy.toml stage whose releases to list.
    #[arg(long)]
    pub stage: String,
    /// Print the releases as a JSON array on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, clap::Args, Serialize, Deserialize)]
pub struct RollbackArgs {
    /// The deploy.toml stage to roll back.
    #[arg(long)]
    pub stage: String,
    /// The release to return to (default: the one before the current one).
    #[arg(long, value_name = "RELEASE")]
    pub to: Option<u32>,
    #[command(flatten)]
    pub apply: ApplyArgs,
}

/// How `rollback` and `prune` apply what they plan.
#[derive(Debug, Clone, clap::Args, Serialize, Deserialize)]
pub struct ApplyArgs {
    /// Apply without asking (required when stdin is not a terminal).
    #[arg(long)]
    pub yes: bool,
    /// Print the plan and stop, making no write.
    #[arg(long, conflicts_with = "yes")]
    pub dry_run: bool,
    /// Print machine-readable JSON on stdout (progress stays on stderr).
    #[arg(long)]
    pub json: bool,
    /// How long to wait for a deploy of the stage to finish, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 600)]
    pub lock_wait: u64,
}

#[derive(Debug, Clone, clap::Args, Serialize, Deserialize)]
pub struct PruneArgs {
    /// The deploy.toml stage whose old versions to delete.
    #[arg(long)]
    pub stage: String,
    /// How many versions of each function and how many releases to keep.
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u16).range(1..))]
    pub keep: u16,
    #[command(flatten)]
    pub apply: ApplyArgs,
}

#[derive(Debug, Clone, clap::Args, Serialize, Deserialize)]
pub struct DestroyArgs {
    /// The deploy.toml stage to remove (refused when it says `protected = true`).
    #[arg(long)]
    pub stage: String,
    /// Delete the functions' log groups too (kept by default).
    #[arg(long)]
    pub logs: bool,
    #[command(flatten)]
    pub apply: ApplyArgs,
}

#[derive(Debug, Clone, clap::Args, Serialize, Deserialize)]
pub struct PromoteArgs {
    /// The stage whose current release to take.
    #[arg(long)]
    pub from: String,
    /// The stage to deploy it to.
    #[arg(long)]
    pub to: String,
    #[command(flatten)]
    pub apply: ApplyArgs,
}

#[derive(Debug, Clone, clap::Args, Serialize, Deserialize)]
pub struct InvokeArgs {
    /// The deploy.toml stage to call (not needed with --local).
    #[arg(long, required_unless_present = "local")]
    pub stage: Option<String>,
    /// GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS.
    pub method: String,
    /// The path (and query) from the API's root, e.g. `/items/42?full=1`.
    pub path: String,
    /// The request body; `@FILE` reads it from a file.
    #[arg(long, short = 'd', value_name = "BODY")]
    pub data: Option<String>,
    /// A request header, `Name: value` (repeatable).
    #[arg(long = "header", short = 'H', value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// Send it to `cargo xtask serve` on 127.0.0.1 instead.
    #[arg(long)]
    pub local: bool,
    /// serve's port, with --local.
    #[arg(long, default_value_t = 9000, requires = "local")]
    pub port: u16,
    /// Call this base URL instead of the stage's (a custom domain, a proxy).
    #[arg(long, value_name = "URL", conflicts_with = "local")]
    pub url: Option<String>,
    /// Print the method and URL, and send nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print {url, response: {status, headers, body}} as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// How long to wait for the answer, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub timeout: u64,
}

#[derive(Debug, Clone, clap::Args, Serialize, Deserialize)]
pub struct InvalidateArgs {
    /// The deploy.toml stage whose distribution to invalidate.
    #[arg(long)]
    pub stage: String,
    /// Viewer paths such as `/items` or `/items/*` (a `*` only at the end).
    /// Default: `/*`, everything.
    #[arg(value_name = "PATH", value_parser = crate::deploy::front::invalidation_path)]
    pub paths: Vec<String>,
    /// Print {distribution, invalidation, paths} as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, clap::Args, Serialize, Deserialize)]
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

#[derive(Debug, Clone, clap::Args)]
pub struct InitArgs {
    /// The workspace to add ferry to (its root Cargo.toml has `[workspace]`).
    pub dir: PathBuf,
    /// Depend on ferry from this git repository instead of this checkout's path.
    #[arg(long, value_name = "URL")]
    pub git: Option<String>,
    /// With --git: the commit to pin.
    #[arg(long, requires = "git", conflicts_with = "tag")]
    pub rev: Option<String>,
    /// With --git: the tag to pin.
    #[arg(long, requires = "git")]
    pub tag: Option<String>,
    /// Where the workspace's service crates are (a glob; repeatable).
    #[arg(long = "services", value_name = "GLOB")]
    pub services: Vec<String>,
    /// Where the workspace's layer crates are (a glob; repeatable).
    #[arg(long = "layers", value_name = "GLOB")]
    pub layers: Vec<String>,
    /// The stage the new deploy.toml describes.
    #[arg(long, default_value = "dev")]
    pub stage: String,
    /// That stage's AWS region.
    #[arg(long, default_value = "us-east-1")]
    pub region: String,
    /// Overwrite ferry's own files (the xtask shim, the cargo alias) where
    /// they differ from what init writes. deploy.toml and crate metadata
    /// that exist are never rewritten.
    #[arg(long)]
    pub force: bool,
}

/// Which schema `schema` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaWhat {
    /// deploy.toml.
    Deploy,
    /// A crate's `[package.metadata.ferry]` table (services and layers).
    Metadata,
}

#[derive(Debug, Clone, clap::Args)]
pub struct SchemaArgs {
    /// Which file's schema to print.
    #[arg(value_enum, default_value = "deploy")]
    pub what: SchemaWhat,
}

/// What `plan` and `deploy` share.
#[derive(Debug, Clone, clap::Args, Serialize, Deserialize)]
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

#[derive(Debug, Clone, clap::Args, Serialize, Deserialize)]
pub struct PlanArgs {
    #[command(flatten)]
    pub stage: StageArgs,
    /// Exit 2 when the plan is not empty, 0 when it is, 1 on error.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Also save the plan to FILE, for `deploy --plan FILE` to apply exactly
    /// it (secrets are saved as their source, never their value).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Clone, clap::Args, Serialize, Deserialize)]
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
    /// Apply exactly the plan `plan --out FILE` saved, with its artifacts;
    /// refused, with nothing written, when the stage or an artifact changed since.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["manifest", "prune", "dry_run"])]
    pub plan: Option<PathBuf>,
    /// Release gradually: each changed function's alias sends PCT percent of
    /// its traffic to the new version while the bake watches the errors,
    /// then the deploy completes or reverts by itself (exit 3 when reverted).
    #[arg(long, value_name = "PCT", value_parser = clap::value_parser!(u8).range(1..=99), conflicts_with_all = ["plan", "prune"])]
    pub canary: Option<u8>,
    /// How long a canary bakes: 90s, 10m, 1h.
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = crate::logs::parse_since, requires = "canary")]
    pub bake: u64,
    /// Errors a canary tolerates during its bake (the new versions' errors,
    /// and the stage's 5XX answers, each); one more reverts it.
    #[arg(long, value_name = "N", default_value_t = 0, requires = "canary")]
    pub max_errors: u32,
}

impl DeployArgs {
    /// The canary this deploy asks for, if any.
    pub fn canary(&self) -> Option<crate::deploy::canary::CanarySettings> {
        self.canary
            .map(|percent| crate::deploy::canary::CanarySettings {
                percent,
                bake_s: self.bake,
                max_errors: self.max_errors,
            })
    }
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
