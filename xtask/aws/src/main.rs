//! ferry's AWS side: `cargo xtask plan|deploy` runs this binary (through
//! `cargo run -p xtask-aws`) with its own arguments, so that the other
//! commands never compile the AWS SDK.

mod apply;
mod clients;
mod execute;
mod fail;
mod live;
mod run;
mod wait;

use std::process::ExitCode;

use clap::Parser;
use ferry::cli::{Cli, Command};
use run::Mode;

fn main() -> miette::Result<ExitCode> {
    let cli = Cli::parse();
    let root = ferry::workspace_root(cli.root.as_deref())?;
    let (args, mode) = match &cli.command {
        Command::Plan(a) => (
            &a.stage,
            Mode::Plan {
                detailed_exitcode: a.detailed_exitcode,
            },
        ),
        Command::Deploy(a) if a.dry_run => (
            &a.stage,
            Mode::Plan {
                detailed_exitcode: false,
            },
        ),
        Command::Deploy(a) => (&a.stage, Mode::Apply),
        _ => {
            return Err(miette::miette!(
                "ferry-aws runs `plan` and `deploy`; run the other commands with `cargo xtask`"
            ))
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| miette::miette!("cannot start the async runtime: {e}"))?;
    runtime.block_on(run::run(&root, args, mode))
}
