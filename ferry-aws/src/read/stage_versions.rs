//! What `prune` reads of a stage: each of its functions with every
//! published version and the version its alias serves, its releases, and
//! the app's layer versions with those in use. Above the function, release
//! and layer reads it joins.

use std::collections::BTreeMap;

use ferry::deploy::prune::PruneLive;

use ferry::model::{Stage, Workspace};

use crate::read::layer_use;
use crate::read::releases::{alias, history};
use crate::sdk::clients::Clients;
use crate::sdk::fail::{self, AwsError};

/// What `prune` reads: each of the stage's functions (by name prefix) with
/// its published versions and its alias's version, and the releases.
pub async fn for_prune(
    c: &Clients,
    (workspace, stage): (&Workspace, &Stage),
    keep: usize,
    account: &str,
) -> Result<PruneLive, AwsError> {
    let app = workspace.app.name.as_str();
    let counted = layer_use::Releases {
        this_stage: true,
        newest: Some(keep),
        stage,
    };
    let all = crate::read::live::all_functions(c).await?;
    let layers_in_use = layer_use::in_use(c, workspace, (&all, &[]), &counted).await?;
    // The stage's functions by prefix, and those it adopts by name.
    let adopted: Vec<&str> = workspace
        .services
        .keys()
        .filter_map(|s| stage.adopted_function(s))
        .collect();
    let prefix = format!("{app}-{}-", stage.name);
    let stage = stage.name.as_str();
    let alias_name = ferry::deploy::release::alias_name(stage);
    let ours = all
        .iter()
        .filter_map(|f| f.function_name())
        .filter(|n| n.starts_with(&prefix) || adopted.contains(n));
    let mut functions = BTreeMap::new();
    for f in ours {
        let versions = versions_of(c, f).await?;
        // An adopted function's versions from before ferry are its owners'
        // (console aliases, other callers): only ferry's are pruned.
        let adopted_fn = adopted.contains(&f);
        let numbers = versions
            .iter()
            .filter(|v| {
                !adopted_fn
                    || v.description()
                        .is_some_and(|d| d.starts_with(ferry::deploy::release::VERSION_MARK))
            })
            .filter_map(|v| v.version()?.parse::<u64>().ok())
            .collect();
        let serving = match alias(c, f, &alias_name).await? {
            Some(a) => std::iter::once(a.version).chain(a.canary).collect(),
            None => Vec::new(),
        };
        functions.insert(f.to_owned(), (numbers, serving));
    }
    Ok(PruneLive {
        account: account.to_owned(),
        functions,
        releases: history(c, app, stage).await?,
        layers: layer_use::versions(c, workspace).await?,
        layers_in_use,
    })
}

/// Every version of `function` (`$LATEST` included), with its settings.
pub async fn versions_of(
    c: &Clients,
    function: &str,
) -> Result<Vec<aws_sdk_lambda::types::FunctionConfiguration>, AwsError> {
    c.lambda_paced()
        .await
        .list_versions_by_function()
        .function_name(function)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| fail::call("lambda:ListVersionsByFunction", e.into_service_error()))
}
