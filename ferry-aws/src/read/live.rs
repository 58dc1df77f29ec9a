//! Reads the live state of a stage: only reads, a small constant number per
//! function (one list page per 50 functions, plus each function's tags,
//! stage alias and policy), so a no-op deploy stays fast however big the
//! workspace.

use std::collections::BTreeMap;

use aws_sdk_lambda::types::Architecture;
use ferry::deploy::front::DesiredFront;
use ferry::deploy::plan::INVOKE_STATEMENT_ID;
use ferry::deploy::{Desired, DesiredRole, Live, LiveFunction, LiveLayerVersion};
use ferry::model::{Arch, Runtime, Stage, Tracing, Workspace};
use futures::stream::{self, StreamExt};

use crate::sdk::clients::Clients;
use crate::sdk::fail::{self, AwsError};

/// Concurrent reads per deploy: Lambda allows GetPolicy and most other
/// control-plane reads at 15 per second, and the SDK retries a throttled call.
const READ_CONCURRENCY: usize = 8;

/// The live state of everything `desired` names, in `account`.
/// The API's routes are read (one more call) only when `routes` is set: for
/// invalidations and `doctor`.
pub async fn read(
    c: &Clients,
    desired: &Desired,
    account: &str,
    routes: bool,
) -> Result<Live, AwsError> {
    // The front door first: a distribution that cannot be found stops the
    // run before the slower reads.
    let front = match &desired.front {
        Some(f) => Some(crate::read::front_live::read(c, f).await?),
        None => None,
    };
    let managed_role_exists = match &desired.role {
        DesiredRole::Managed(name) => {
            let shared = ferry::deploy::plan::shared_role_functions(desired);
            let wanted = ferry::deploy::action::managed_policies(shared);
            crate::read::iam::role_complete(c, name, &wanted).await?
        }
        // Checked by `preflight`, before the build.
        DesiredRole::Arn(_) | DesiredRole::Service { .. } => false,
    };
    let mut service_roles = BTreeMap::new();
    for (name, wanted) in &desired.service_roles {
        if let Some(role) = crate::read::iam::service_role(c, name, &wanted.path).await? {
            service_roles.insert(name.clone(), role);
        }
    }
    let (functions, permissions) = functions(c, desired).await?;
    let (release, canary) = crate::read::releases::current(c, &desired.app, &desired.stage).await?;
    let mut layer_versions = BTreeMap::new();
    for (name, _) in desired.layers.keys() {
        if !layer_versions.contains_key(name) {
            layer_versions.insert(name.clone(), layer_versions_of(c, name).await?);
        }
    }
    let mut live = Live {
        account_id: account.to_owned(),
        managed_role_exists,
        functions,
        layer_versions,
        api: crate::read::live_api::api(c, desired, routes).await?,
        permissions,
        log_groups: log_groups(c, &desired.app, &desired.stage).await?,
        front,
        release,
        canary,
        apigw_account: crate::read::stage_live::apigw_account(c, desired).await?,
        service_roles,
        store: crate::read::store::read(c, desired, account).await?,
        log_archive: None,
    };
    let access_log = crate::read::stage_live::access_log_group(c, desired).await?;
    live.log_groups.extend(access_log);
    live.log_groups
        .extend(crate::read::adopted::log_groups(c, desired).await?);
    let groups = live.log_groups.keys().cloned();
    live.log_archive = crate::read::archive::read(c, desired, groups, account).await?;
    crate::read::releases::canary_versions(c, &mut live, &desired.stage).await?;
    Ok(live)
}

/// The settings that name AWS resources, checked before anything is built:
/// the stage's role and its front door (distribution, origin, hosted zone).
/// `doctor` reports the VPC check as a link instead (`vpc: false`).
pub async fn preflight(
    c: &Clients,
    (workspace, stage): (&Workspace, &Stage),
    account: &str,
    vpc: bool,
) -> Result<(), AwsError> {
    if let Some(role) = &stage.role {
        check_role(c, role, account).await?;
    }
    if vpc {
        crate::read::vpc::preflight(c, workspace, stage).await?;
    }
    crate::read::stage_live::preflight(c, stage).await?;
    crate::read::adopted::preflight(c, (workspace, stage)).await?;
    if let Some(store) = &stage.artifacts {
        crate::read::store::check(c, store, &stage.region, account).await?;
    }
    if let Some(archive) = &stage.log_archive {
        crate::read::store::check(c, &archive.bucket, &stage.region, account).await?;
    }
    if let Some(door) = &stage.front {
        let front = DesiredFront {
            door: door.clone(),
            origin_path: format!("/{}", stage.name),
        };
        crate::read::front_live::read(c, &front).await?;
    }
    Ok(())
}

/// A role given by ARN must exist when it is in the deploying account (a
/// role of another account cannot be read, and Lambda checks it itself).
async fn check_role(c: &Clients, arn: &str, account: &str) -> Result<(), AwsError> {
    let Some(name) = arn
        .strip_prefix(&format!("arn:aws:iam::{account}:role/"))
        .map(|rest| rest.rsplit('/').next().unwrap_or(rest))
    else {
        return Ok(());
    };
    if crate::read::iam::role_exists(c, name).await? {
        Ok(())
    } else {
        Err(AwsError::Role {
            role: arn.to_owned(),
            why: format!("no role `{name}` exists in account {account}"),
        })
    }
}

/// The stage's functions (by name prefix) and ferry's invoke permission of each.
async fn functions(
    c: &Clients,
    desired: &Desired,
) -> Result<(BTreeMap<String, LiveFunction>, BTreeMap<String, String>), AwsError> {
    let prefix = format!("{}-{}-", desired.app, desired.stage);
    // The stage's by prefix, and those it adopts (`function-name`) by name.
    let ours: Vec<_> = all_functions(c)
        .await?
        .into_iter()
        .filter(|f| {
            f.function_name()
                .is_some_and(|n| n.starts_with(&prefix) || desired.functions.contains_key(n))
        })
        .collect();
    // Each function's tags, alias and policy: independent reads, a few at a time.
    let alias = ferry::deploy::release::alias_name(&desired.stage);
    let read: Vec<Result<FunctionRead, AwsError>> = stream::iter(&ours)
        .map(|f| function(c, f, &alias))
        .buffer_unordered(READ_CONCURRENCY)
        .collect()
        .await;
    let mut out = BTreeMap::new();
    let mut permissions = BTreeMap::new();
    for result in read {
        let (name, function, permission) = result?;
        if let Some(source) = permission {
            permissions.insert(name.clone(), source);
        }
        out.insert(name, function);
    }
    Ok((out, permissions))
}

/// Every function of the region.
pub async fn all_functions(
    c: &Clients,
) -> Result<Vec<aws_sdk_lambda::types::FunctionConfiguration>, AwsError> {
    c.lambda_paced()
        .await
        .list_functions()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| fail::call("lambda:ListFunctions", e.into_service_error()))
}

/// A function's name, live state and invoke permission source.
type FunctionRead = (String, LiveFunction, Option<String>);

/// One function's live state from its ListFunctions entry, its tags, its
/// stage alias and that alias's policy.
async fn function(
    c: &Clients,
    f: &aws_sdk_lambda::types::FunctionConfiguration,
    alias: &str,
) -> Result<FunctionRead, AwsError> {
    let name = f.function_name().unwrap_or_default().to_owned();
    let (tags, live_alias) = tags_and_alias(c, &name, alias).await?;
    // The permission is on the alias: none can exist without it.
    let permission = match live_alias {
        Some(_) => permission_source(c, &name, Some(alias)).await?,
        None => None,
    };
    let arch = match f.architectures().first() {
        Some(Architecture::Arm64) => Arch::Arm64,
        _ => Arch::X86_64,
    };
    let function = LiveFunction {
        code_sha256: f.code_sha256().unwrap_or_default().to_owned(),
        arch,
        runtime: f
            .runtime()
            .and_then(|r| Runtime::ALL.into_iter().find(|x| x.as_str() == r.as_str())),
        other_runtime: f
            .runtime()
            .map(|r| r.as_str().to_owned())
            .filter(|r| Runtime::ALL.iter().all(|x| x.as_str() != r)),
        memory_mb: f.memory_size().unwrap_or(128).max(0) as u32,
        timeout_s: f.timeout().unwrap_or(3).max(0) as u32,
        tracing: f
            .tracing_config()
            .and_then(|t| t.mode())
            .map_or(Tracing::default(), |m| Tracing::from_lambda(m.as_str())),
        ephemeral_mb: f.ephemeral_storage().map_or(512, |e| e.size()).max(0) as u32,
        vpc: crate::sdk::convert::vpc_of(f),
        env: crate::sdk::convert::env_of(f),
        layers: f
            .layers()
            .iter()
            .filter_map(|l| l.arn().map(str::to_owned))
            .collect(),
        role: f.role().unwrap_or_default().to_owned(),
        tags,
        revision_id: f.revision_id().unwrap_or_default().to_owned(),
        reserved_concurrency: crate::read::stage_live::reserved_concurrency(c, &name).await?,
        alias: live_alias.map(|(version, description)| ferry::deploy::LiveAlias {
            version,
            description,
            canary: None,
        }),
    };
    Ok((name, function, permission))
}

/// A function's tags and the version its stage alias serves, with that
/// version's description: one GetFunction of the alias (Lambda leaves
/// GetFunction and GetPolicy out of its 15-per-second control-plane quota),
/// and of the function itself when the alias does not exist yet.
async fn tags_and_alias(
    c: &Clients,
    function: &str,
    alias: &str,
) -> Result<(BTreeMap<String, String>, Option<(String, String)>), AwsError> {
    let get = |qualifier: Option<&str>| {
        c.lambda
            .get_function()
            .function_name(function)
            .set_qualifier(qualifier.map(str::to_owned))
            .send()
    };
    let tags_of = |out: &aws_sdk_lambda::operation::get_function::GetFunctionOutput| {
        out.tags()
            .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default()
    };
    match get(Some(alias)).await {
        Ok(out) => {
            let config = out.configuration();
            let version = config.and_then(|c| c.version()).unwrap_or_default();
            let description = config.and_then(|c| c.description()).unwrap_or_default();
            let served = (version.to_owned(), description.to_owned());
            Ok((tags_of(&out), Some(served)))
        }
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception()) =>
        {
            let out = get(None)
                .await
                .map_err(|e| fail::call("lambda:GetFunction", e.into_service_error()))?;
            Ok((tags_of(&out), None))
        }
        Err(e) => Err(fail::call("lambda:GetFunction", e.into_service_error())),
    }
}

/// The source ARN of ferry's invoke statement in the policy of the
/// function (or of its alias `qualifier`).
pub(crate) async fn permission_source(
    c: &Clients,
    function: &str,
    qualifier: Option<&str>,
) -> Result<Option<String>, AwsError> {
    let policy = match c
        .lambda
        .get_policy()
        .function_name(function)
        .set_qualifier(qualifier.map(str::to_owned))
        .send()
        .await
    {
        Ok(out) => out.policy().unwrap_or_default().to_owned(),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception()) =>
        {
            return Ok(None)
        }
        Err(e) => return Err(fail::call("lambda:GetPolicy", e.into_service_error())),
    };
    let policy: serde_json::Value = serde_json::from_str(&policy).unwrap_or_default();
    let statement = policy["Statement"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["Sid"] == INVOKE_STATEMENT_ID);
    Ok(statement.map(|s| {
        s["Condition"]["ArnLike"]["AWS:SourceArn"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }))
}

/// The newest version of `layer` whose description is `description` (which
/// carries the zip's hash): how a publish whose answer was lost is recognised.
pub async fn layer_version_with(
    c: &Clients,
    layer: &str,
    description: &str,
) -> Result<Option<String>, AwsError> {
    let versions = layer_versions_of(c, layer).await?;
    Ok(versions
        .into_iter()
        .rev()
        .find(|v| v.description == description)
        .map(|v| v.arn))
}

pub(crate) async fn layer_versions_of(
    c: &Clients,
    layer: &str,
) -> Result<Vec<LiveLayerVersion>, AwsError> {
    let items = c
        .lambda_paced()
        .await
        .list_layer_versions()
        .layer_name(layer)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await;
    let items = match items {
        Ok(items) => items,
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception()) =>
        {
            Vec::new()
        }
        Err(e) => {
            return Err(fail::call(
                "lambda:ListLayerVersions",
                e.into_service_error(),
            ))
        }
    };
    let mut versions: Vec<LiveLayerVersion> = items
        .iter()
        .map(|v| LiveLayerVersion {
            arn: v.layer_version_arn().unwrap_or_default().to_owned(),
            version: v.version().max(0) as u64,
            description: v.description().unwrap_or_default().to_owned(),
            compatible_architectures: v
                .compatible_architectures()
                .iter()
                .map(|a| match a {
                    Architecture::Arm64 => Arch::Arm64,
                    _ => Arch::X86_64,
                })
                .collect(),
        })
        .collect();
    versions.sort_by_key(|v| v.version);
    Ok(versions)
}

/// The log groups of the stage's functions (by name prefix), with their
/// retention in days (`None`: never expire).
pub(crate) async fn log_groups(
    c: &Clients,
    app: &str,
    stage: &str,
) -> Result<BTreeMap<String, Option<u32>>, AwsError> {
    let prefix = format!("/aws/lambda/{app}-{stage}-");
    let groups = c
        .logs
        .describe_log_groups()
        .log_group_name_prefix(prefix)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| fail::call("logs:DescribeLogGroups", e.into_service_error()))?;
    Ok(groups
        .iter()
        .filter_map(|g| {
            let name = g.log_group_name()?.to_owned();
            Some((name, g.retention_in_days().map(|d| d.max(0) as u32)))
        })
        .collect())
}
