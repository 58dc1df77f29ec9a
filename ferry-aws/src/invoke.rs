//! `invoke` of a deployed stage: finds its base URL (the front door's
//! domain, else the REST API's stage URL, read from AWS; or `--url`), sends
//! the request as a client of the API would and prints the answer.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use ferry::cli::InvokeArgs;
use ferry::invoke::{self, Request};
use miette::miette;

use crate::read::live_api;
use crate::sdk::clients::Clients;
use crate::sdk::plain;

pub async fn run(root: &Path, args: &InvokeArgs) -> miette::Result<ExitCode> {
    let request = Request::from_args(args)?;
    let base = match &args.url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => stage_base(root, args.stage.as_deref().unwrap_or_default()).await?,
    };
    let url = format!("{base}{}", request.path);
    if args.dry_run {
        println!("{} {url}", request.method);
        return Ok(ExitCode::SUCCESS);
    }
    let response = tokio::time::timeout(
        Duration::from_secs(args.timeout),
        plain::send(&url, &request),
    )
    .await
    .map_err(|_| miette!("no answer from {url} within {} s", args.timeout))?
    .map_err(|e| {
        miette!(
            help =
                "check that the stage is deployed (`cargo xtask doctor`) and reachable from here",
            "{e}"
        )
    })?;
    invoke::print(&url, &response, args.json)
}

/// The stage's front door, or its REST API's stage URL.
async fn stage_base(root: &Path, name: &str) -> miette::Result<String> {
    let workspace = ferry::check::load(root)?;
    let stage = ferry::deploy::find_stage(&workspace, name)?;
    if let Some(domain) = stage.front.as_ref().and_then(|f| f.domain.as_deref()) {
        return Ok(format!("https://{domain}"));
    }
    let clients = Clients::for_stage(stage).await?;
    let id = live_api::stage_api_id(&clients, (&stage.api.name, stage.api.id.as_deref()))
        .await?
        .ok_or_else(|| {
            miette!(
                help = format!("deploy it first: cargo xtask deploy --stage {name}"),
                "stage `{name}` has no REST API `{}` in {}",
                stage.api.name,
                stage.region
            )
        })?;
    Ok(invoke::api_stage_url(&id, &stage.region, &stage.name))
}
