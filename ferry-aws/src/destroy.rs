//! `destroy`: refuses a protected stage before any AWS call, then reads what
//! ferry made for the stage, plans its removal (a pure function of ferry's)
//! and applies it under the stage's lock after confirmation. Each run plans
//! from what still exists, so an interrupted destroy finishes when run again
//! and a finished one writes nothing.

use std::path::Path;
use std::process::ExitCode;

use ferry::cli::DestroyArgs;
use ferry::deploy::destroy;
use miette::miette;

use crate::maintain::{self, Confirmed};
use crate::read::teardown;
use crate::sdk::clients::Clients;

pub async fn run(root: &Path, args: &DestroyArgs) -> miette::Result<ExitCode> {
    let workspace = ferry::check::load(root)?;
    let stage = ferry::deploy::find_stage(&workspace, &args.stage)?;
    if let Some(at) = &stage.protected {
        return Err(miette!(
            help = format!(
                "remove `protected = true` from [stages.{}] (or set it to false), then run destroy again",
                stage.name
            ),
            "{}:{}: stage `{}` is protected; destroy refused, nothing was read or written",
            at.file,
            at.line,
            stage.name
        ));
    }
    let app = workspace.app.name.to_string();
    let clients = Clients::for_stage(stage).await?;
    let account = clients.account_id().await?;
    let how = Confirmed {
        args: &args.apply,
        what: "destroy deletes the resources",
        nothing: "nothing of this stage is left to destroy",
    };
    let at = (app.as_str(), stage.name.as_str(), stage.region.as_str());
    let planner = async || {
        let live = teardown::read(&clients, &workspace, stage, &account).await?;
        Ok(destroy::plan(at, args.logs, &live))
    };
    let (plan, applied) =
        maintain::plan_and_apply(&clients, &app, &stage.name, &how, planner).await?;
    maintain::report_deletions(&plan, applied, args.apply.json, "Destroyed")
}
