//! `plan` and `deploy`: one flow. Load and validate, take the artifacts
//! (build, or `--manifest`), read the live state, plan; `plan` and
//! `deploy --dry-run` stop there, `deploy` applies and reports.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use ferry::cli::StageArgs;
use ferry::deploy::{self, render, Desired};
use ferry::manifest::Manifest;
use miette::{miette, IntoDiagnostic};

use crate::clients::Clients;
use crate::{apply, live, lock, report, secrets};

/// What the command does after planning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Plan {
        detailed_exitcode: bool,
    },
    Apply {
        wait: bool,
        lock_wait: u64,
    },
    /// Check the live chain instead of planning.
    Doctor,
}

pub async fn run(root: &Path, args: &StageArgs, mode: Mode) -> miette::Result<ExitCode> {
    let started = Instant::now();
    let workspace = ferry::check::load(root)?;
    let stage = deploy::find_stage(&workspace, &args.stage)?;
    // Credentials first: a missing profile should not wait for a build.
    let clients = Clients::connect(&stage.region).await;
    let account = clients.account_id().await?;
    live::preflight(&clients, stage, &account).await?;
    let secrets = secrets::resolve(&clients, &workspace, stage).await?;
    let (manifest, zips) = artifacts(root, &workspace, args.manifest.as_deref())?;
    let mut desired = deploy::desired(&workspace, stage, &manifest, &secrets)?;
    resolve_zips(&mut desired, &zips);
    let invalidating = desired.front.as_ref().is_some_and(|f| f.door.invalidate);
    let live = live::read(
        &clients,
        &desired,
        &account,
        invalidating || mode == Mode::Doctor,
    )
    .await?;
    if mode == Mode::Doctor {
        return crate::doctor::run(&clients, &desired, &live, args.json).await;
    }
    let plan = deploy::plan(&desired, &live, args.prune);

    if let Mode::Plan { detailed_exitcode } = mode {
        if args.json {
            println!(
                "{}",
                serde_json::to_string_pretty(&render::json(&plan)).into_diagnostic()?
            );
        } else {
            print!("{}", render::text(&plan));
        }
        let code = if detailed_exitcode && !plan.is_empty() {
            2
        } else {
            0
        };
        return Ok(ExitCode::from(code));
    }

    let Mode::Apply { wait, lock_wait } = mode else {
        unreachable!("plan and doctor returned above")
    };
    // A deploy with something to write holds the stage's lock while it
    // writes, and plans again under it: another deploy may have changed the
    // stage meanwhile. A deploy with nothing to write takes no lock.
    let (mut live, mut plan, mut lock) = (live, plan, None);
    if !plan.is_empty() {
        let wait_for = Duration::from_secs(lock_wait);
        let held = lock::acquire(&clients, &desired.app, &desired.stage, wait_for).await?;
        live = live::read(&clients, &desired, &account, invalidating).await?;
        plan = deploy::plan(&desired, &live, args.prune);
        lock = Some(held);
    }
    eprint!("{}", render::text(&plan));
    let applied = apply::apply(&clients, &desired, &live, &plan).await;
    let waited_for = lock.as_ref().and_then(|l| l.waited_for.clone());
    if let Some(held) = lock {
        if let Err(e) = held.release(&clients).await {
            eprintln!("ferry: the deploy lock was not released ({e}); it expires in 30 minutes");
        }
    }
    let mut outcome = applied?;
    outcome.waited_for = waited_for;
    let front = report::front_status(&clients, &desired, &outcome, wait).await?;
    report::deployed(
        &desired,
        &plan,
        &outcome,
        front.as_ref(),
        &account,
        started.elapsed().as_secs_f64(),
        args.json,
    )?;
    Ok(ExitCode::SUCCESS)
}

/// Where the zips of a manifest are: the workspace root for a fresh build,
/// or next to a `--manifest` (CI keeps `target/lambda/` as one artifact).
enum Zips {
    Root(PathBuf),
    NextTo(PathBuf),
}

fn artifacts(
    root: &Path,
    workspace: &ferry::model::Workspace,
    manifest: Option<&Path>,
) -> miette::Result<(Manifest, Zips)> {
    match manifest {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                miette!(
                    help = "pass the manifest.json a `cargo xtask build` wrote",
                    "cannot read {}: {e}",
                    path.display()
                )
            })?;
            let manifest: Manifest = serde_json::from_str(&text).map_err(|e| {
                miette!(
                    help = "pass the manifest.json a `cargo xtask build` wrote",
                    "{} is not a ferry manifest: {e}",
                    path.display()
                )
            })?;
            if manifest.schema_version != ferry::manifest::SCHEMA_VERSION {
                return Err(miette!(
                    help = "build it again with this version of ferry",
                    "{} has manifest schema {}, this ferry reads {}",
                    path.display(),
                    manifest.schema_version,
                    ferry::manifest::SCHEMA_VERSION
                ));
            }
            let dir = std::path::absolute(path).into_diagnostic()?;
            Ok((
                manifest,
                Zips::NextTo(dir.parent().unwrap_or(Path::new("/")).to_path_buf()),
            ))
        }
        None => {
            let plan = ferry::build::select::stage_plan(workspace).map_err(|e| miette!("{e}"))?;
            let outcome = ferry::build::build(workspace, &plan)?;
            Ok((outcome.manifest, Zips::Root(root.to_path_buf())))
        }
    }
}

fn resolve_zips(desired: &mut Desired, zips: &Zips) {
    let resolve = |rel: &str| -> String {
        let path = match zips {
            Zips::Root(root) => root.join(rel),
            Zips::NextTo(dir) => dir.join(rel.strip_prefix("target/lambda/").unwrap_or(rel)),
        };
        path.to_string_lossy().into_owned()
    };
    for layer in desired.layers.values_mut() {
        layer.zip = resolve(&layer.zip);
    }
    for function in desired.functions.values_mut() {
        function.zip = resolve(&function.zip);
    }
}
