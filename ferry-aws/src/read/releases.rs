//! Reads the releases a stage recorded in SSM: the current one (one
//! `GetParameter`, every deploy) and the whole history (`releases`,
//! `rollback`); and what a rollback needs of the functions: each alias and
//! the target versions' descriptions.

use std::collections::BTreeMap;

use ferry::deploy::canary::{self, CanaryRecord};
use ferry::deploy::record::{self, Release};
use ferry::deploy::rollback::RollbackLive;
use ferry::deploy::{CanaryVersion, Live};

use crate::sdk::clients::Clients;
use crate::sdk::fail::{self, AwsError};

/// The stage's current release (`None` before its first) and the canary in
/// progress, if one is: one `GetParameters` of both, every deploy.
pub async fn current(
    c: &Clients,
    app: &str,
    stage: &str,
) -> Result<(Option<Release>, Option<CanaryRecord>), AwsError> {
    let names = [
        record::current_parameter(app, stage),
        canary::parameter(app, stage),
    ];
    let out = c
        .ssm
        .get_parameters()
        .set_names(Some(names.to_vec()))
        .send()
        .await
        .map_err(|e| fail::call("ssm:GetParameters", e.into_service_error()))?;
    let value = |name: &str| {
        out.parameters()
            .iter()
            .find(|p| p.name() == Some(name))
            .map(|p| p.value().unwrap_or_default())
    };
    let release = value(&names[0]).map(|v| parse(&names[0], v)).transpose()?;
    let canary = value(&names[1])
        .map(|v| {
            serde_json::from_str(v).map_err(|e| AwsError::Call {
                call: "ssm:GetParameters",
                message: format!("the canary record {} is not one ferry wrote: {e}", names[1]),
                help: "delete the parameter, then return the stage to its current release with `cargo xtask rollback --to N` (N from `cargo xtask releases`)".into(),
            })
        })
        .transpose()?;
    Ok((release, canary))
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

/// A stage alias as GetAlias reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Served {
    pub version: String,
    pub description: String,
    /// The additional version of a weighted alias (a canary).
    pub canary: Option<String>,
}

/// The stage alias of `function`; `None` when the alias (or the function)
/// does not exist.
pub async fn alias(c: &Clients, function: &str, alias: &str) -> Result<Option<Served>, AwsError> {
    match c
        .lambda_paced()
        .await
        .get_alias()
        .function_name(function)
        .name(alias)
        .send()
        .await
    {
        Ok(a) => Ok(Some(Served {
            version: a.function_version().unwrap_or_default().to_owned(),
            description: a.description().unwrap_or_default().to_owned(),
            canary: a
                .routing_config()
                .and_then(|r| r.additional_version_weights())
                .and_then(|w| w.keys().next().cloned()),
        })),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception()) =>
        {
            Ok(None)
        }
        Err(e) => Err(fail::call("lambda:GetAlias", e.into_service_error())),
    }
}

/// Whether any alias of the canary's functions still weighs a version.
pub async fn weighs_any(c: &Clients, record: &CanaryRecord, stage: &str) -> Result<bool, AwsError> {
    let alias_name = ferry::deploy::release::alias_name(stage);
    for function in &record.functions {
        if alias(c, function, &alias_name)
            .await?
            .is_some_and(|a| a.canary.is_some())
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Fills in the canary version of each function the stage's canary in
/// progress weighted (a GetAlias and a GetFunction each, only then).
pub async fn canary_versions(c: &Clients, live: &mut Live, stage: &str) -> Result<(), AwsError> {
    let Some(record) = live.canary.clone() else {
        return Ok(());
    };
    let alias_name = ferry::deploy::release::alias_name(stage);
    for function in &record.functions {
        let Some(live_alias) = live
            .functions
            .get_mut(function)
            .and_then(|f| f.alias.as_mut())
        else {
            continue;
        };
        let Some(version) = alias(c, function, &alias_name)
            .await?
            .and_then(|a| a.canary)
        else {
            continue;
        };
        // A version gone since (deleted by hand) cannot complete the canary.
        if let Some(description) = version_description(c, function, &version).await? {
            live_alias.canary = Some(CanaryVersion {
                version,
                description,
            });
        }
    }
    Ok(())
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
    canary: Option<CanaryRecord>,
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
        let function = target.function_of(app, stage, service);
        let Some(description) = version_description(c, &function, version).await? else {
            continue;
        };
        live.versions
            .insert((function.clone(), version.clone()), description);
        let served = alias(c, &function, &alias_name).await?;
        if served.as_ref().is_some_and(|a| a.canary.is_some()) {
            live.weighted.insert(function.clone());
        }
        aliases.insert(function, served.map(|a| a.version));
    }
    live.aliases = aliases;
    live.canary = canary;
    Ok(live)
}
