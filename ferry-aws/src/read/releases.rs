//! Reads the releases a stage recorded in SSM: the current one (one
//! `GetParameter`, every deploy) and the whole history (`releases`,
//! `rollback`); and what a rollback needs of the functions: each alias and
//! the target versions' descriptions.

use std::collections::BTreeMap;

use ferry::deploy::record::{self, Release};
use ferry::deploy::rollback::RollbackLive;

use crate::sdk::clients::Clients;
use crate::sdk::fail::{self, AwsError};

/// The stage's current release; `None` before its first.
pub async fn current(c: &Clients, app: &str, stage: &str) -> Result<Option<Release>, AwsError> {
    let name = record::current_parameter(app, stage);
    match c.ssm.get_parameter().name(&name).send().await {
        Ok(out) => {
            let value = out.parameter().and_then(|p| p.value()).unwrap_or_default();
            parse(&name, value).map(Some)
        }
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_parameter_not_found()) =>
        {
            Ok(None)
        }
        Err(e) => Err(fail::call("ssm:GetParameter", e.into_service_error())),
    }
}

/// Every release of the stage, oldest first.
pub async fn history(c: &Clients, app: &str, stage: &str) -> Result<Vec<Release>, AwsError> {
    let pages: Vec<_> = c
        .ssm
        .get_parameters_by_path()
        .path(record::history_path(app, stage))
        .recursive(false)
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(|e| fail::call("ssm:GetParametersByPath", e.into_service_error()))?;
    let params = pages.iter().flat_map(|p| p.parameters());
    let mut releases = Vec::new();
    for p in params {
        releases.push(parse(
            p.name().unwrap_or_default(),
            p.value().unwrap_or_default(),
        )?);
    }
    releases.sort_by_key(|r| r.number);
    Ok(releases)
}

fn parse(name: &str, value: &str) -> Result<Release, AwsError> {
    serde_json::from_str(value).map_err(|e| AwsError::Call {
        call: "ssm:GetParameter",
        message: format!("the release record {name} is not one ferry wrote: {e}"),
        help: "restore it, or delete the parameter if it was not ferry's".into(),
    })
}

/// The stage alias of `function`: the version it serves and its
/// description; `None` when the alias (or the function) does not exist.
pub async fn alias(
    c: &Clients,
    function: &str,
    alias: &str,
) -> Result<Option<(String, String)>, AwsError> {
    match c
        .lambda_paced()
        .await
        .get_alias()
        .function_name(function)
        .name(alias)
        .send()
        .await
    {
        Ok(a) => Ok(Some((
            a.function_version().unwrap_or_default().to_owned(),
            a.description().unwrap_or_default().to_owned(),
        ))),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception()) =>
        {
            Ok(None)
        }
        Err(e) => Err(fail::call("lambda:GetAlias", e.into_service_error())),
    }
}

/// A version's description; `None` when it was deleted.
pub async fn version_description(
    c: &Clients,
    function: &str,
    version: &str,
) -> Result<Option<String>, AwsError> {
    match c
        .lambda
        .get_function()
        .function_name(function)
        .qualifier(version)
        .send()
        .await
    {
        Ok(out) => Ok(Some(
            out.configuration()
                .and_then(|c| c.description())
                .unwrap_or_default()
                .to_owned(),
        )),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception()) =>
        {
            Ok(None)
        }
        Err(e) => Err(fail::call("lambda:GetFunction", e.into_service_error())),
    }
}

/// What a rollback to `target` reads: the aliases of its functions, the
/// versions it names, and the API stage.
pub async fn for_rollback(
    c: &Clients,
    (app, stage): (&str, &str),
    account: &str,
    target: &Release,
    api: Option<(String, Option<String>)>,
    caches: (bool, Option<String>),
) -> Result<RollbackLive, AwsError> {
    let alias_name = ferry::deploy::release::alias_name(stage);
    let mut live = RollbackLive {
        account: account.to_owned(),
        api,
        stage_cache: caches.0,
        distribution: caches.1,
        ..RollbackLive::default()
    };
    let mut aliases = BTreeMap::new();
    for (service, version) in &target.functions {
        let function = ferry::model::function_name(app, stage, service);
        let Some(description) = version_description(c, &function, version).await? else {
            continue;
        };
        live.versions
            .insert((function.clone(), version.clone()), description);
        let serving = alias(c, &function, &alias_name).await?.map(|(v, _)| v);
        aliases.insert(function, serving);
    }
    live.aliases = aliases;
    Ok(live)
}
