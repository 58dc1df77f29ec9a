//! `rollback`: reads the stage's releases, the aliases and the API stage,
//! plans the return to an earlier release (a pure function of ferry's), and
//! applies it with the deploy's executor under the stage's lock: aliases
//! and the stage's deployment move back; nothing is built or uploaded.

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use ferry::cli::RollbackArgs;
use ferry::deploy::{render, rollback, Live, LiveApi, Plan};
use miette::{miette, IntoDiagnostic};
use serde_json::json;

use crate::exec::apply;
use crate::read::{live_api, releases};
use crate::sdk::clients::Clients;
use crate::write::lock;

pub async fn run(root: &Path, args: &RollbackArgs) -> miette::Result<ExitCode> {
    let workspace = ferry::check::load(root)?;
    let stage = ferry::deploy::find_stage(&workspace, &args.stage)?;
    let app = workspace.app.name.to_string();
    let clients = Clients::connect(&stage.region).await?;
    let account = clients.account_id().await?;
    let plan = planned(&clients, &app, stage, &account, args).await?;
    eprint!("{}", render::text(&plan));
    if plan.is_empty() {
        eprintln!(
            "ferry: stage `{}` serves that release already; nothing to do",
            stage.name
        );
        return report(&plan, false, args.json);
    }
    if args.dry_run {
        return report(&plan, false, args.json);
    }
    if !args.yes {
        confirm(&stage.name)?;
    }
    let wait = Duration::from_secs(args.lock_wait);
    let held = lock::acquire(&clients, &app, &stage.name, wait).await?;
    // Another deploy may have moved the stage while we waited: plan again.
    let result = match planned(&clients, &app, stage, &account, args).await {
        Ok(again) => {
            let live = live_of(&again);
            let applied = apply::apply(
                &clients,
                &live,
                &again,
                &Default::default(),
                Default::default(),
            )
            .await;
            applied.map(|_| again).map_err(miette::Report::new)
        }
        Err(e) => Err(e),
    };
    if let Err(e) = held.release(&clients).await {
        eprintln!("ferry: the deploy lock was not released ({e}); it expires in 30 minutes");
    }
    report(&result?, true, args.json)
}

/// The rollback plan against the stage as it is now.
async fn planned(
    c: &Clients,
    app: &str,
    stage: &ferry::model::Stage,
    account: &str,
    args: &RollbackArgs,
) -> miette::Result<Plan> {
    let history = releases::history(c, app, &stage.name).await?;
    let target = rollback::target(&stage.name, &history, args.to)?;
    let current = history.iter().map(|r| r.number).max().unwrap_or(0);
    let api = live_api::served(c, &stage.api.name, &stage.name).await?;
    let live = releases::for_rollback(c, (app, &stage.name), account, target, api).await?;
    Ok(rollback::plan(
        (app, &stage.name, &stage.region),
        target,
        current,
        &live,
    )?)
}

/// What the executor needs of the live state: the account and the API.
fn live_of(plan: &Plan) -> Live {
    let api_id = plan.actions.iter().find_map(|a| match a {
        ferry::deploy::Action::RecordRelease { release, .. } => release.api_id.clone(),
        _ => None,
    });
    Live {
        account_id: plan.account.clone(),
        api: api_id.map(|id| LiveApi {
            id,
            stage_deployment: None,
            routes: Default::default(),
            stage_cache: Default::default(),
        }),
        ..Live::default()
    }
}

/// Asks on a terminal; refuses without one, before any write.
fn confirm(stage: &str) -> miette::Result<()> {
    if !std::io::stdin().is_terminal() {
        return Err(miette!(
            help = "pass --yes to apply it (or --dry-run to only print it)",
            "rollback changes what stage `{stage}` serves and stdin is not a terminal to ask; nothing was written"
        ));
    }
    eprint!("Roll stage `{stage}` back as planned? [y/N] ");
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer).into_diagnostic()?;
    if matches!(answer.trim(), "y" | "Y" | "yes") {
        Ok(())
    } else {
        Err(miette!("rollback cancelled; nothing was written"))
    }
}

fn report(plan: &Plan, applied: bool, as_json: bool) -> miette::Result<ExitCode> {
    let record = plan.actions.iter().find_map(|a| match a {
        ferry::deploy::Action::RecordRelease { release, .. } => Some(release),
        _ => None,
    });
    if as_json {
        let result = json!({
            "app": plan.app,
            "stage": plan.stage,
            "noop": plan.is_empty(),
            "applied": applied,
            "release": record.map(|r| r.number),
            "kind": record.map(|r| &r.kind),
            "plan": render::json(plan),
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&result).into_diagnostic()?
        );
    } else if let (Some(r), true) = (record, applied) {
        if let ferry::deploy::record::ReleaseKind::Rollback { to } = r.kind {
            println!(
                "Rolled back stage `{}` to release {to}, recorded as release {}.",
                plan.stage, r.number
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
