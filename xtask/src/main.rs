//! `cargo xtask`: parses flags and dispatches to one module per command.

use std::process::ExitCode;

use clap::Parser;
use ferry::cli::{Cli, Command};

fn main() -> miette::Result<ExitCode> {
    let cli = Cli::parse();
    let root = ferry::workspace_root(cli.root.as_deref())?;
    let done = match cli.command {
        Command::Build(args) => ferry::build::run(&root, &args),
        Command::Check => ferry::check::run(&root),
        Command::Routes { json } => ferry::routes::run(&root, json),
        Command::Test { cargo_args } => ferry::test_cmd::run(&root, &cargo_args),
        Command::Serve(args) => ferry::serve::run(&root, &args),
        Command::Bench(args) => ferry::bench::run(&root, &args),
        Command::Plan(args) => {
            return ferry::aws_side::forward(&root, &args.stage.stage).map(ExitCode::from)
        }
        Command::Deploy(args) => {
            return ferry::aws_side::forward(&root, &args.stage.stage).map(ExitCode::from)
        }
        Command::Doctor(args) => {
            return ferry::aws_side::forward(&root, &args.stage).map(ExitCode::from)
        }
    };
    done.map(|()| ExitCode::SUCCESS)
}
