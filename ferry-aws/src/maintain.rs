//! The commands that plan from the live state alone and change what a stage
//! keeps or serves (`rollback`, `prune`): print the plan, stop on
//! `--dry-run`, ask (or require `--yes` without a terminal), then take the
//! stage's lock, plan again under it and apply with the deploy's executor.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use ferry::deploy::{render, Action, Live, LiveApi, Plan};
use miette::{miette, IntoDiagnostic};
use serde_json::json;

use crate::exec::apply;
use crate::sdk::clients::Clients;
use crate::write::lock;

/// How a command asks before it writes.
pub struct Confirmed<'a> {
    pub args: &'a ferry::cli::ApplyArgs,
    /// What applying does, for the question and the refusal.
    pub what: &'static str,
    /// Said when the plan is empty.
    pub nothing: &'static str,
}

/// Plans, asks and applies; returns the plan applied (or printed) and
/// whether it was applied.
pub async fn plan_and_apply(
    c: &Clients,
    app: &str,
    stage: &str,
    how: &Confirmed<'_>,
    planned: impl AsyncFn() -> miette::Result<Plan>,
) -> miette::Result<(Plan, bool)> {
    let plan = planned().await?;
    eprint!("{}", render::text(&plan));
    if plan.is_empty() {
        eprintln!("ferry: {}", how.nothing);
        return Ok((plan, false));
    }
    if how.args.dry_run {
        return Ok((plan, false));
    }
    if !how.args.yes {
        confirm(stage, how.what)?;
    }
    let held = lock::acquire(c, app, stage, Duration::from_secs(how.args.lock_wait)).await?;
    // Another deploy may have changed the stage while we waited: plan again.
    let result = match planned().await {
        Ok(again) => apply::apply(
            c,
            &live_of(&again),
            &again,
            &Default::default(),
            Default::default(),
        )
        .await
        .map(|_| (again, true))
        .map_err(miette::Report::new),
        Err(e) => Err(e),
    };
    if let Err(e) = held.release(c).await {
        eprintln!("ferry: the deploy lock was not released ({e}); it expires in 30 minutes");
    }
    result
}

/// What the executor needs of the live state: the account and the API.
fn live_of(plan: &Plan) -> Live {
    let api_id = plan.actions.iter().find_map(|a| match a {
        Action::RecordRelease { release, .. } => release.api_id.clone(),
        _ => None,
    });
    Live {
        account_id: plan.account.clone(),
        api: api_id.map(|id| LiveApi {
            id,
            stage_deployment: None,
            routes: Default::default(),
            stage_cache: Default::default(),
            stage_settings: Default::default(),
            stages: Vec::new(),
        }),
        ..Live::default()
    }
}

/// Asks on a terminal; refuses without one, before any write.
pub fn confirm(stage: &str, what: &str) -> miette::Result<()> {
    if !std::io::stdin().is_terminal() {
        return Err(miette!(
            help = "pass --yes to apply it (or --dry-run to only print it)",
            "{what} of stage `{stage}`, and stdin is not a terminal to ask; nothing was written"
        ));
    }
    eprint!("Apply this plan to stage `{stage}`? [y/N] ");
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer).into_diagnostic()?;
    if matches!(answer.trim(), "y" | "Y" | "yes") {
        Ok(())
    } else {
        Err(miette!("cancelled; nothing was written"))
    }
}

/// The result of a command whose plan only deletes (`prune`, `destroy`):
/// JSON on stdout with `--json`, else one line once applied.
pub fn report_deletions(
    plan: &Plan,
    applied: bool,
    as_json: bool,
    done: &str,
) -> miette::Result<ExitCode> {
    if as_json {
        let result = json!({
            "app": plan.app,
            "stage": plan.stage,
            "applied": applied,
            "deleted": plan.actions.len(),
            "plan": render::json(plan),
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&result).into_diagnostic()?
        );
    } else if applied {
        println!(
            "{done} stage `{}`: {} deletions.",
            plan.stage,
            plan.actions.len()
        );
    }
    Ok(ExitCode::SUCCESS)
}
