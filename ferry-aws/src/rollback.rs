//! `rollback`: reads the stage's releases, the aliases and the API stage,
//! plans the return to an earlier release (a pure function of ferry's), and
//! applies it with the deploy's executor under the stage's lock: aliases
//! and the stage's deployment move back, and the caches in front of the
//! stage drop what they kept; nothing is built or uploaded.

use std::path::Path;
use std::process::ExitCode;

use ferry::cli::RollbackArgs;
use ferry::deploy::front::DesiredFront;
use ferry::deploy::{render, rollback, Plan};
use miette::IntoDiagnostic;
use serde_json::json;

use crate::maintain::{self, Confirmed};
use crate::read::{front_live, live_api, releases};
use crate::sdk::clients::Clients;

pub async fn run(root: &Path, args: &RollbackArgs) -> miette::Result<ExitCode> {
    let workspace = ferry::check::load(root)?;
    let stage = ferry::deploy::find_stage(&workspace, &args.stage)?;
    let app = workspace.app.name.to_string();
    let clients = Clients::for_stage(stage).await?;
    let account = clients.account_id().await?;
    let how = Confirmed {
        args: &args.apply,
        what: "rollback changes what the stage serves",
        nothing: "the stage serves that release already; nothing to do",
    };
    let planner = async || planned(&clients, &app, stage, &account, args).await;
    let (plan, applied) =
        maintain::plan_and_apply(&clients, &app, &stage.name, &how, planner).await?;
    report(&plan, applied, args.apply.json)
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
    let (_, canary) = releases::current(c, app, &stage.name).await?;
    // A record whose aliases weigh nothing any more (a cut after they moved
    // back or on) is only cleaned up: the rollback goes where it would.
    let weighing = match &canary {
        Some(record) => releases::weighs_any(c, record, &stage.name).await?,
        None => false,
    };
    let pending = canary.as_ref().filter(|_| weighing);
    let target = rollback::target(&stage.name, &history, args.to, pending)?;
    let current = history.iter().map(|r| r.number).max().unwrap_or(0);
    let api = live_api::served(c, (&stage.api.name, stage.api.id.as_deref()), &stage.name).await?;
    let distribution = match &stage.front {
        Some(door) => {
            let front = DesiredFront {
                door: door.clone(),
                origin_path: format!("/{}", stage.name),
            };
            front_live::read(c, &front)
                .await?
                .distribution
                .map(|d| d.id)
        }
        None => None,
    };
    let caches = (stage.api.cache.is_some(), distribution);
    let live =
        releases::for_rollback(c, (app, &stage.name), account, target, api, caches, canary).await?;
    Ok(rollback::plan(
        (app, &stage.name, &stage.region),
        target,
        current,
        &live,
    )?)
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
