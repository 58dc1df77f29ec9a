//! `cargo xtask`: parses flags and dispatches to one module per command.

use clap::Parser;
use ferry::cli::{Cli, Command};

fn main() -> miette::Result<()> {
    let cli = Cli::parse();
    let root = ferry::workspace_root(cli.root.as_deref())?;
    match cli.command {
        Command::Build(args) => ferry::build::run(&root, &args),
        Command::Check => ferry::check::run(&root),
        Command::Routes { json } => ferry::routes::run(&root, json),
        Command::Test { cargo_args } => ferry::test_cmd::run(&root, &cargo_args),
        Command::Serve(args) => ferry::serve::run(&root, &args),
        Command::Bench(args) => ferry::bench::run(&root, &args),
    }
}
