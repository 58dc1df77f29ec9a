//! ferry's AWS side: reads a stage's live state and applies deploy plans.
//! It is the only part of ferry that compiles the AWS SDK: a workspace's shim
//! runs it as a second binary (`xtask-aws`, `fn main() -> ExitCode {
//! ferry_aws::main() }`) behind a cargo feature, which `cargo xtask
//! plan|deploy|doctor` turns on, so `build`, `serve` and `check` never
//! compile the SDK.

// Layers, each importing only from those above it in this list (a test
// below holds them to it): SDK plumbing, reading live state, writes, the
// executor; then the commands.
mod sdk;

mod read;

mod write;

mod exec;

mod archive;
mod artifacts;
mod canary;
mod destroy;
mod doctor;
mod import;
mod invalidate;
mod invoke;
mod logs;
mod maintain;
mod promote;
mod prune;
mod releases;
mod report;
mod rollback;
mod run;

#[cfg(test)]
mod iam_tests;
#[cfg(test)]
mod layers;

use std::process::ExitCode;

pub use sdk::clients::http_client;

use ferry::aws_side::{AwsCommand, AwsInvocation, INVOCATION_FLAG};
use ferry::cli::StageArgs;
use run::Mode;

/// The AWS binary's `main`: runs the invocation ferry's front half handed
/// over, or, started by hand, the whole command line with the AWS side in process.
pub fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    match args.as_slice() {
        [flag, json] if flag == INVOCATION_FLAG => {
            let invocation = serde_json::from_str::<AwsInvocation>(&json.to_string_lossy())
                .map_err(|e| {
                    miette::miette!(
                        help = "run ferry through `cargo xtask`, whose front half and AWS side come from one ferry version",
                        "ferry's AWS side cannot read the command it was handed: {e}"
                    )
                });
            ferry::report(invocation.and_then(run_invocation))
        }
        _ => ferry::main_with(Some(run_invocation)),
    }
}

/// Runs one AWS-side command to its exit code.
pub fn run_invocation(invocation: AwsInvocation) -> miette::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| miette::miette!("cannot start the async runtime: {e}"))?;
    let doctor_args;
    let (args, mode) = match &invocation.command {
        AwsCommand::Plan(a) => (
            &a.stage,
            Mode::Plan {
                detailed_exitcode: a.detailed_exitcode,
                out: a.out.clone(),
                canary: None,
            },
        ),
        AwsCommand::Deploy(a) if a.dry_run => (
            &a.stage,
            Mode::Plan {
                detailed_exitcode: false,
                out: None,
                canary: a.canary(),
            },
        ),
        AwsCommand::Deploy(a) => (
            &a.stage,
            Mode::Apply {
                wait: a.wait,
                lock_wait: a.lock_wait,
                saved: a.plan.clone(),
                canary: a.canary(),
            },
        ),
        AwsCommand::Doctor(a) => {
            doctor_args = StageArgs {
                stage: a.stage.clone(),
                manifest: a.manifest.clone(),
                prune: false,
                json: a.json,
            };
            (&doctor_args, Mode::Doctor)
        }
        AwsCommand::Logs(a) => return runtime.block_on(logs::run(&invocation.root, a)),
        AwsCommand::Invalidate(a) => return runtime.block_on(invalidate::run(&invocation.root, a)),
        AwsCommand::Releases(a) => return runtime.block_on(releases::run(&invocation.root, a)),
        AwsCommand::Rollback(a) => return runtime.block_on(rollback::run(&invocation.root, a)),
        AwsCommand::Prune(a) => return runtime.block_on(prune::run(&invocation.root, a)),
        AwsCommand::Destroy(a) => return runtime.block_on(destroy::run(&invocation.root, a)),
        AwsCommand::Invoke(a) => return runtime.block_on(invoke::run(&invocation.root, a)),
        AwsCommand::Promote(a) => return runtime.block_on(promote::run(&invocation.root, a)),
        AwsCommand::Import(a) => return runtime.block_on(import::run(&invocation.root, a)),
    };
    runtime.block_on(run::run(&invocation.root, args, mode))
}
