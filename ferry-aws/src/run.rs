//! `plan` and `deploy`: one flow. Load and validate, take the artifacts
//! (build, or `--manifest`), read the live state, plan; `plan` and
//! `deploy --dry-run` stop there, `deploy` applies and reports.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use ferry::cli::StageArgs;
use ferry::deploy::canary::CanarySettings;
use ferry::deploy::plan::layer_version_arn;
use ferry::deploy::{self, render, Desired, Live, Plan, SavedPlan};
use ferry::model::Arch;
use miette::IntoDiagnostic;

use crate::artifacts::{artifacts, resolve_zips};
use crate::exec::apply;
use crate::read::{live, secrets};
use crate::sdk::clients::Clients;
use crate::write::lock;
use crate::{doctor, report};

/// What the command does after planning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Plan {
        detailed_exitcode: bool,
        /// Save the plan here for `deploy --plan`.
        out: Option<PathBuf>,
        /// Show the canary's plan (`deploy --dry-run --canary`).
        canary: Option<CanarySettings>,
    },
    Apply {
        wait: bool,
        lock_wait: u64,
        /// Apply exactly this saved plan.
        saved: Option<PathBuf>,
        canary: Option<CanarySettings>,
    },
    /// Check the live chain instead of planning.
    Doctor,
}

pub async fn run(root: &Path, args: &StageArgs, mode: Mode) -> miette::Result<ExitCode> {
    let started = Instant::now();
    let workspace = ferry::check::load(root)?;
    let stage = deploy::find_stage(&workspace, &args.stage)?;
    let saved = match &mode {
        Mode::Apply {
            saved: Some(path), ..
        } => Some(SavedPlan::read(path, &args.stage)?),
        _ => None,
    };
    let prune = saved.as_ref().map_or(args.prune, |s| s.prune);
    // Credentials first: a missing profile should not wait for a build.
    let clients = Clients::for_stage(stage).await?;
    let account = clients.account_id().await?;
    let doctor = mode == Mode::Doctor;
    live::preflight(&clients, (&workspace, stage), &account, !doctor).await?;
    let secrets = secrets::resolve(&clients, &workspace, stage).await?;
    let manifest = match &saved {
        Some(s) => {
            s.check_artifacts()?;
            Some(s.manifest.as_path())
        }
        None => args.manifest.as_deref(),
    };
    let (manifest, zips, manifest_file) = artifacts(root, &workspace, manifest)?;
    let mut desired = deploy::desired(&workspace, stage, &manifest, &secrets)?;
    resolve_zips(&mut desired, &zips);
    let saved_plan = saved.as_ref().map(|s| &s.plan);
    crate::artifacts::provenance(root, &mut desired, &manifest_file, saved_plan);
    let invalidating = desired.front.as_ref().is_some_and(|f| f.door.invalidate);
    let live = live::read(
        &clients,
        &desired,
        &account,
        invalidating || mode == Mode::Doctor,
    )
    .await?;
    let modes = match mode {
        Mode::Doctor => {
            let network = crate::read::vpc::problems(&clients, &workspace, stage).await?;
            return doctor::run(&clients, (&desired, &live), network, args.json).await;
        }
        Mode::Plan {
            detailed_exitcode,
            out,
            canary,
        } => {
            deploy::stage_checks::check_live(&desired, &live)?;
            let mut plan = deploy::plan(&desired, &live, prune);
            if let Some(settings) = &canary {
                deploy::canary::check_none_in_progress(&live, &desired.stage)?;
                deploy::canary::split(&mut plan, &live, settings);
            }
            if let Some(out) = out {
                SavedPlan::new(plan.clone(), &live, manifest_file, prune).write(&out)?;
                eprintln!(
                    "ferry: plan saved to {}; apply exactly it with `cargo xtask deploy --stage {} --plan {}`",
                    out.display(),
                    plan.stage,
                    out.display()
                );
            }
            return print_plan(&plan, args.json, detailed_exitcode);
        }
        Mode::Apply {
            wait,
            lock_wait,
            canary,
            ..
        } => (wait, lock_wait, canary),
    };
    let (wait, lock_wait, canary) = modes;
    let planned = |live: &Live| {
        let mut plan = planned(&desired, live, prune, saved.as_ref())?;
        if let Some(settings) = &canary {
            deploy::canary::check_none_in_progress(live, &desired.stage)?;
            deploy::canary::split(&mut plan, live, settings);
        }
        Ok::<Plan, miette::Report>(plan)
    };
    let plan = planned(&live)?;
    // A deploy with something to write holds the stage's lock while it
    // writes, and plans again under it: another deploy may have changed the
    // stage meanwhile. A deploy with nothing to write takes no lock.
    let (mut live, mut plan, mut lock) = (live, plan, None);
    if !plan.is_empty() {
        let wait_for = Duration::from_secs(lock_wait);
        let held = lock::acquire(&clients, &desired.app, &desired.stage, wait_for).await?;
        let again = live::read(&clients, &desired, &account, invalidating)
            .await
            .map_err(miette::Report::new)
            .and_then(|l| Ok((planned(&l)?, l)));
        match again {
            Ok((p, l)) => (plan, live) = (p, l),
            Err(e) => {
                release(&clients, held).await;
                return Err(e);
            }
        }
        lock = Some(held);
    }
    eprint!("{}", render::text(&plan));
    let layers = layers_in_use(&desired, &live);
    let applied = apply::apply(&clients, &live, &plan, &secrets, layers).await;
    let waited_for = lock.as_ref().and_then(|l| l.waited_for.clone());
    if let Some(held) = lock {
        release(&clients, held).await;
    }
    let mut outcome = applied?;
    outcome.waited_for = waited_for;
    if let Some(sha) = &desired.manifest_sha256 {
        let deployed = (&manifest, manifest_file.as_path());
        let zip_of = |rel: &str| crate::artifacts::zip_path(&zips, rel);
        let commit = desired.commit.as_deref();
        if let Err(e) = crate::archive::keep(root, deployed, zip_of, sha, commit) {
            eprintln!("ferry: the deployed artifacts were not archived for `promote`: {e}");
        }
    }
    let shifted = plan
        .actions
        .iter()
        .any(|a| matches!(a, deploy::Action::StartCanary { .. }));
    let canary = match canary {
        Some(settings) if shifted => {
            let baking = crate::canary::Baking {
                desired: &desired,
                account: &account,
                secrets: &secrets,
                settings,
                lock_wait,
                json: args.json,
            };
            Some(crate::canary::bake(&clients, &baking, &outcome).await?)
        }
        _ => None,
    };
    let front = report::front_status(&clients, &desired, &outcome, wait).await?;
    report::deployed(
        &desired,
        &plan,
        &outcome,
        (front.as_ref(), canary.as_ref()),
        &account,
        started.elapsed().as_secs_f64(),
        args.json,
    )?;
    Ok(match canary {
        Some(c) if c.reverted() => ExitCode::from(3),
        _ => ExitCode::SUCCESS,
    })
}

/// The plan against `live`; with a saved plan, that plan, refused unless
/// planning now gives exactly it against the same live state.
fn planned(
    desired: &Desired,
    live: &Live,
    prune: bool,
    saved: Option<&SavedPlan>,
) -> miette::Result<Plan> {
    deploy::stage_checks::check_live(desired, live)?;
    let plan = deploy::plan(desired, live, prune);
    if let Some(saved) = saved {
        saved.check(&plan, live)?;
    }
    Ok(plan)
}

fn print_plan(plan: &Plan, json: bool, detailed_exitcode: bool) -> miette::Result<ExitCode> {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&render::json(plan)).into_diagnostic()?
        );
    } else {
        print!("{}", render::text(plan));
    }
    let code = if detailed_exitcode && !plan.is_empty() {
        2
    } else {
        0
    };
    Ok(ExitCode::from(code))
}

async fn release(clients: &Clients, held: lock::Lock) {
    if let Err(e) = held.release(clients).await {
        eprintln!("ferry: the deploy lock was not released ({e}); it expires in 30 minutes");
    }
}

/// The existing layer versions the stage's functions use, for the report.
fn layers_in_use(desired: &Desired, live: &Live) -> BTreeMap<(String, Arch), String> {
    desired
        .layers
        .iter()
        .filter_map(|((name, arch), layer)| {
            layer_version_arn(live, name, *arch, &layer.code_sha256)
                .map(|arn| ((name.clone(), *arch), arn.to_owned()))
        })
        .collect()
}
