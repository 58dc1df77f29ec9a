//! `invalidate`: finds the stage's distribution as a deploy does and asks
//! CloudFront to drop the given paths (default `/*`) from its caches; a
//! stage cached by API Gateway instead has its whole stage cache flushed.

use std::path::Path;
use std::process::ExitCode;

use ferry::cli::InvalidateArgs;
use ferry::deploy::front::DesiredFront;
use miette::miette;

use crate::read::{front_live, live_api};
use crate::sdk::clients::Clients;
use crate::write::{front_apply, resources};

/// CloudFront's limit of wildcard paths in progress at once.
const MAX_WILDCARDS: usize = 15;

pub async fn run(root: &Path, args: &InvalidateArgs) -> miette::Result<ExitCode> {
    let workspace = ferry::check::load(root)?;
    let stage = ferry::deploy::find_stage(&workspace, &args.stage)?;
    if let (None, Some(_)) = (&stage.front, &stage.api.cache) {
        return flush(stage, args).await;
    }
    let Some(door) = &stage.front else {
        return Err(miette!(
            help = format!("add [stages.{}.cloudfront] to deploy.toml", stage.name),
            "stage `{}` has no CloudFront front door to invalidate",
            stage.name
        ));
    };
    let paths = if args.paths.is_empty() {
        vec!["/*".to_owned()]
    } else {
        args.paths.clone()
    };
    let wildcards = paths.iter().filter(|p| p.ends_with('*')).count();
    if wildcards > MAX_WILDCARDS {
        return Err(miette!(
            help = "invalidate `/*`, or fewer wildcard paths at a time",
            "{wildcards} wildcard paths; CloudFront takes {MAX_WILDCARDS} at once"
        ));
    }
    let clients = Clients::for_stage(stage).await?;
    let desired = DesiredFront {
        door: door.clone(),
        origin_path: format!("/{}", stage.name),
    };
    let live = front_live::read(&clients, &desired).await?;
    let Some(distribution) = live.distribution else {
        return Err(miette!(
            help = format!(
                "deploy the stage first: cargo xtask deploy --stage {}",
                stage.name
            ),
            "no CloudFront distribution serves stage `{}` yet",
            stage.name
        ));
    };
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let reference = format!("ferry invalidate {} {millis}", stage.name);
    let id = front_apply::invalidate(&clients, &distribution.id, &paths, &reference).await?;
    if args.json {
        let json = serde_json::json!({
            "distribution": distribution.id,
            "invalidation": id,
            "paths": paths,
        });
        println!("{json}");
    } else {
        println!(
            "invalidation {id} of {} on CloudFront distribution {}",
            paths.join(" "),
            distribution.id
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Flushes the API Gateway stage cache (it drops everything or nothing).
async fn flush(stage: &ferry::model::Stage, args: &InvalidateArgs) -> miette::Result<ExitCode> {
    if args.paths.iter().any(|p| p != "/*") {
        return Err(miette!(
            help = "run it without paths: API Gateway's stage cache is flushed whole",
            "stage `{}` is cached by API Gateway, which cannot drop single paths",
            stage.name
        ));
    }
    let clients = Clients::for_stage(stage).await?;
    let Some(api) =
        live_api::stage_api_id(&clients, (&stage.api.name, stage.api.id.as_deref())).await?
    else {
        return Err(miette!(
            help = format!(
                "deploy the stage first: cargo xtask deploy --stage {}",
                stage.name
            ),
            "no REST API named `{}` yet",
            stage.api.name
        ));
    };
    resources::flush_stage_cache(&clients, &api, &stage.name).await?;
    if args.json {
        let json = serde_json::json!({"api": api, "stage": stage.name, "flushed": true});
        println!("{json}");
    } else {
        println!(
            "flushed the cache of stage `{}` of REST API {api}",
            stage.name
        );
    }
    Ok(ExitCode::SUCCESS)
}
