//! `prune`: reads each of the stage's functions' versions and alias and the
//! stage's releases, plans the deletions (a pure function of ferry's) and
//! applies them under the stage's lock after confirmation.

use std::path::Path;
use std::process::ExitCode;

use ferry::cli::PruneArgs;
use ferry::deploy::prune;

use crate::maintain::{self, Confirmed};
use crate::read::stage_versions;
use crate::sdk::clients::Clients;

pub async fn run(root: &Path, args: &PruneArgs) -> miette::Result<ExitCode> {
    let workspace = ferry::check::load(root)?;
    let stage = ferry::deploy::find_stage(&workspace, &args.stage)?;
    let app = workspace.app.name.to_string();
    let clients = Clients::for_stage(stage).await?;
    let account = clients.account_id().await?;
    let how = Confirmed {
        args: &args.apply,
        what: "prune deletes function versions",
        nothing: "no version to delete",
    };
    let at = (app.as_str(), stage.name.as_str(), stage.region.as_str());
    let planner = async || {
        let live = stage_versions::for_prune(
            &clients,
            (&workspace, stage),
            usize::from(args.keep),
            &account,
        )
        .await?;
        Ok(prune::plan(at, usize::from(args.keep), &live))
    };
    let (plan, applied) =
        maintain::plan_and_apply(&clients, &app, &stage.name, &how, planner).await?;
    maintain::report_deletions(&plan, applied, args.apply.json, "Pruned")
}
