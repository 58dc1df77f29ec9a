//! ferry's AWS side: `cargo xtask plan|deploy` runs this binary (through
//! `cargo run -p xtask-aws`) with its own arguments, so that the other
//! commands never compile the AWS SDK.

mod apply;
mod clients;
mod doctor;
mod execute;
mod fail;
mod front_apply;
mod front_config;
mod front_live;
mod function_writes;
mod landed;
mod live;
mod live_api;
mod lock;
mod once;
mod pace;
mod report;
mod run;
mod secrets;
mod wait;

use std::process::ExitCode;

use clap::Parser;
use ferry::cli::{Cli, Command, StageArgs};
use run::Mode;

fn main() -> miette::Result<ExitCode> {
    let cli = Cli::parse();
    let root = ferry::workspace_root(cli.root.as_deref())?;
    let doctor_args;
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
        Command::Deploy(a) => (
            &a.stage,
            Mode::Apply {
                wait: a.wait,
                lock_wait: a.lock_wait,
            },
        ),
        Command::Doctor(a) => {
            doctor_args = StageArgs {
                stage: a.stage.clone(),
                manifest: a.manifest.clone(),
                prune: false,
                json: a.json,
            };
            (&doctor_args, Mode::Doctor)
        }
        _ => {
            return Err(miette::miette!(
                "ferry-aws runs `plan`, `deploy` and `doctor`; run the other commands with `cargo xtask`"
            ))
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| miette::miette!("cannot start the async runtime: {e}"))?;
    runtime.block_on(run::run(&root, args, mode))
}
