//! ferry: declarative build-and-deploy for Rust serverless APIs on AWS.
//!
//! A workspace runs ferry through a shim of its own (`fn main() -> ExitCode
//! { ferry::main() }` in its `xtask` crate): [`main`] parses the command line
//! and dispatches to one module per command. `plan`, `deploy` and `doctor`
//! run in ferry's AWS side (`ferry-aws`), a separate binary of the same shim,
//! so that the other commands never compile the AWS SDK ([`aws_side`]).

pub mod aws_side;
pub mod build;
pub mod check;
pub mod cli;
pub mod deploy;
pub mod iam;
pub mod import;
pub mod init;
pub mod invoke;
pub mod logs;
pub mod manifest;
pub mod merge;
pub mod model;
pub mod openapi;
pub mod routes;
pub mod schema;
pub mod serve;
pub mod tools;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;

use aws_side::{AwsCommand, AwsEntry};
use cli::{Cli, Command, ManifestCommand};

/// The `cargo xtask` command line of a workspace's shim, without the AWS side
/// in process: `plan`, `deploy` and `doctor` run the shim's AWS binary.
pub fn main() -> ExitCode {
    main_with(None)
}

/// The command line with `aws` (ferry-aws's entry point) in process, when given.
pub fn main_with(aws: Option<AwsEntry>) -> ExitCode {
    if let Some(code) = build::wrap::run_if_wrapping() {
        return code;
    }
    report(dispatch(Cli::parse(), aws))
}

/// Prints an error the way miette renders it and turns the outcome into an exit code.
pub fn report(outcome: miette::Result<ExitCode>) -> ExitCode {
    match outcome {
        Ok(code) => code,
        Err(error) => {
            eprintln!("{error:?}");
            ExitCode::FAILURE
        }
    }
}

fn dispatch(cli: Cli, aws: Option<AwsEntry>) -> miette::Result<ExitCode> {
    let in_workspace = || workspace_root(cli.root.as_deref());
    let done = match cli.command {
        // These need no ferry workspace.
        Command::Init(args) => init::run(&args),
        Command::Schema(args) => schema::run(args.what),
        Command::Manifest {
            command: ManifestCommand::Merge(args),
        } => merge::command(&args),
        Command::Build(args) => build::run(&in_workspace()?, &args),
        Command::Check => check::run(&in_workspace()?),
        Command::Routes { json } => routes::run(&in_workspace()?, json),
        Command::Openapi(args) => openapi::run(&in_workspace()?, &args),
        Command::Iam(args) => iam::run(&in_workspace()?, &args),
        Command::Serve(args) => serve::run(&in_workspace()?, &args),
        Command::Plan(args) => return aws_side::run(&in_workspace()?, AwsCommand::Plan(args), aws),
        Command::Deploy(args) => {
            return aws_side::run(&in_workspace()?, AwsCommand::Deploy(args), aws)
        }
        Command::Doctor(args) => {
            return aws_side::run(&in_workspace()?, AwsCommand::Doctor(args), aws)
        }
        Command::Logs(args) => return aws_side::run(&in_workspace()?, AwsCommand::Logs(args), aws),
        Command::Invalidate(args) => {
            return aws_side::run(&in_workspace()?, AwsCommand::Invalidate(args), aws)
        }
        Command::Releases(args) => {
            return aws_side::run(&in_workspace()?, AwsCommand::Releases(args), aws)
        }
        Command::Rollback(args) => {
            return aws_side::run(&in_workspace()?, AwsCommand::Rollback(args), aws)
        }
        Command::Prune(args) => {
            return aws_side::run(&in_workspace()?, AwsCommand::Prune(args), aws)
        }
        Command::Invoke(args) if args.local => return invoke::run_local(&args),
        Command::Invoke(args) => {
            return aws_side::run(&in_workspace()?, AwsCommand::Invoke(args), aws)
        }
        Command::Promote(args) => {
            return aws_side::run(&in_workspace()?, AwsCommand::Promote(args), aws)
        }
        Command::Destroy(args) => {
            return aws_side::run(&in_workspace()?, AwsCommand::Destroy(args), aws)
        }
        Command::Import(args) => {
            return aws_side::run(&in_workspace()?, AwsCommand::Import(args), aws)
        }
    };
    done.map(|()| ExitCode::SUCCESS)
}

/// The workspace root: `explicit` when given, else the nearest folder upwards
/// from the current directory that holds both Cargo.toml and deploy.toml.
pub fn workspace_root(explicit: Option<&Path>) -> miette::Result<PathBuf> {
    if let Some(root) = explicit {
        return std::path::absolute(root)
            .map_err(|e| miette::miette!("cannot resolve the root {}: {e}", root.display()));
    }
    let cwd = std::env::current_dir()
        .map_err(|e| miette::miette!("cannot read the current directory: {e}"))?;
    cwd.ancestors()
        .find(|dir| dir.join("deploy.toml").is_file() && dir.join("Cargo.toml").is_file())
        .map(Path::to_path_buf)
        .ok_or_else(|| {
            miette::miette!(
                help = "run ferry inside a workspace with deploy.toml at its root, or pass --root",
                "no ferry workspace (Cargo.toml with deploy.toml) at or above {}",
                cwd.display()
            )
        })
}
