//! `releases`: the releases a stage recorded in SSM, oldest first, as a
//! table or as JSON.

use std::path::Path;
use std::process::ExitCode;

use ferry::cli::ReleasesArgs;
use ferry::deploy::record::{Release, ReleaseKind};
use miette::IntoDiagnostic;

use crate::read::releases;
use crate::sdk::clients::Clients;

pub async fn run(root: &Path, args: &ReleasesArgs) -> miette::Result<ExitCode> {
    let workspace = ferry::check::load(root)?;
    let stage = ferry::deploy::find_stage(&workspace, &args.stage)?;
    let clients = Clients::for_stage(stage).await?;
    clients.account_id().await?;
    let app = workspace.app.name.to_string();
    let history = releases::history(&clients, &app, &stage.name).await?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&history).into_diagnostic()?
        );
    } else {
        print!("{}", table(&app, &stage.name, &history));
    }
    Ok(ExitCode::SUCCESS)
}

/// One line per release, the current one marked.
pub fn table(app: &str, stage: &str, history: &[Release]) -> String {
    if history.is_empty() {
        return format!("Stage `{stage}` of `{app}` has no release recorded yet: deploy it.\n");
    }
    let mut out = format!("Releases of stage `{stage}` of `{app}`, oldest first:\n");
    let current = history.iter().map(|r| r.number).max();
    for r in history {
        let what = match r.kind {
            ReleaseKind::Deploy => "deploy".to_owned(),
            ReleaseKind::Rollback { to } => format!("rollback to {to}"),
        };
        let versions: Vec<String> = r
            .functions
            .iter()
            .map(|(service, v)| format!("{service}:{v}"))
            .collect();
        out.push_str(&format!(
            "{} {:>4}  {}  {:<16} commit {:<12}  deployment {:<10}  {}  by {}\n",
            if Some(r.number) == current { "*" } else { " " },
            r.number,
            r.at,
            what,
            r.commit.as_deref().unwrap_or("-"),
            r.deployment,
            versions.join(" "),
            r.by
        ));
    }
    out
}
