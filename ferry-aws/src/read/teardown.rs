//! What `destroy` reads of a stage: only what still exists, each piece
//! checked to be ferry's for this app and stage (tags, the distribution's
//! caller reference, the managed role's name), and what else uses the app's
//! layer versions (every other function of the region, and the releases of
//! the app's other stages there).

use std::collections::{BTreeMap, BTreeSet};

use ferry::deploy::destroy::{ApiToDestroy, DestroyLive, FrontToDestroy, RoleToDestroy};
use ferry::deploy::log_archive::{stream_arn, stream_name};
use ferry::deploy::record;
use ferry::deploy::roles::role_path;
use ferry::deploy::state::{managed_role_name, TAG_ADOPTED, TAG_APP, TAG_STAGE};
use ferry::model::stage_api::AccessLog;
use ferry::model::{Stage, Workspace};

use aws_sdk_lambda::types::FunctionConfiguration;

use crate::read::{front_live, layer_use, live, live_api, releases};
use crate::sdk::clients::Clients;
use crate::sdk::fail::{self, AwsError};

pub async fn read(
    c: &Clients,
    workspace: &Workspace,
    stage: &Stage,
    account: &str,
) -> Result<DestroyLive, AwsError> {
    let app = workspace.app.name.as_str();
    let ours_tags = |tags: &BTreeMap<String, String>| {
        tags.get(TAG_APP).map(String::as_str) == Some(app)
            && tags.get(TAG_STAGE) == Some(&stage.name)
    };
    // Adopted functions are kept whatever their name: deploy.toml's, and
    // those a deploy tagged adopted.
    let mut adopted_functions: BTreeSet<String> = workspace
        .services
        .keys()
        .filter_map(|s| stage.adopted_function(s))
        .map(str::to_owned)
        .collect();
    let all = live::all_functions(c).await?;
    let prefix = format!("{app}-{}-", stage.name);
    let mut functions = Vec::new();
    let mut foreign_functions = Vec::new();
    let mut referenced = BTreeSet::new();
    for f in all
        .iter()
        .filter(|f| f.function_name().is_some_and(|n| n.starts_with(&prefix)))
    {
        let name = f.function_name().unwrap_or_default().to_owned();
        if adopted_functions.contains(&name) {
            continue;
        }
        let tags = function_tags(c, f.function_arn().unwrap_or(&name)).await?;
        if tags.contains_key(TAG_ADOPTED) {
            adopted_functions.insert(name);
        } else if ours_tags(&tags) {
            functions.push(name);
            referenced.extend(f.layers().iter().filter_map(|l| l.arn().map(str::to_owned)));
        } else {
            foreign_functions.push(name);
        }
    }
    for release in releases::history(c, app, &stage.name).await? {
        referenced.extend(release.layers);
    }
    let (unused_layer_versions, shared_layer_versions) =
        layers(c, (workspace, stage), (&all, &functions), &referenced).await?;
    let api = match &stage.api.id {
        // Adopted: kept whole, so only named in the plan.
        Some(id) => Some(ApiToDestroy {
            name: stage.api.name.clone(),
            id: id.clone(),
            ours: false,
            other_stages: Vec::new(),
            has_stage: true,
            adopted: true,
        }),
        None => match live_api::api_id_named(c, &stage.api.name).await? {
            Some(id) => Some(api(c, &stage.api.name, &id, &stage.name, &ours_tags).await?),
            None => None,
        },
    };
    let role_name = managed_role_name(app, &stage.name);
    let role_arn = format!("arn:aws:iam::{account}:role/{role_name}");
    let mut role = role(c, &role_name).await?;
    // The functions outside the stage that run with the role `arn`.
    let used_by = |arn: &str| -> Vec<String> {
        all.iter()
            .filter(|f| f.role() == Some(arn))
            .filter_map(|f| f.function_name())
            .filter(|n| !functions.iter().any(|o| o == n))
            .map(str::to_owned)
            .collect()
    };
    if let Some(role) = role.as_mut() {
        role.used_by = used_by(&role_arn);
    }
    let mut service_roles = service_roles(c, app, &stage.name).await?;
    let path = role_path(app, &stage.name);
    for role in &mut service_roles {
        role.used_by = used_by(&format!("arn:aws:iam::{account}:role{path}{}", role.name));
    }
    let log_groups = log_groups(c, (app, stage), account, &ours_tags).await?;
    // Every group of the stage's name, tagged or not: a filter on a kept
    // group would name a stream that is gone.
    let mut archive_groups: Vec<String> = live::log_groups(c, app, &stage.name)
        .await?
        .into_keys()
        .collect();
    archive_groups.push(AccessLog::group(&stage.api.name, &stage.name));
    archive_groups.extend(adopted_functions.iter().map(|f| format!("/aws/lambda/{f}")));
    Ok(DestroyLive {
        adopted_functions: adopted_functions.into_iter().collect(),
        service_roles,
        account: account.to_owned(),
        front: front(c, app, stage).await?,
        api,
        functions,
        foreign_functions,
        unused_layer_versions,
        shared_layer_versions,
        role,
        archive_stream: crate::read::archive::stream(c, &stream_name(app, &stage.name))
            .await?
            .map(|_| stream_name(app, &stage.name)),
        archive_filters: crate::read::archive::filtered_groups(
            c,
            &archive_groups,
            &stream_arn(&stage.region, account, &stream_name(app, &stage.name)),
        )
        .await?,
        log_groups,
        records: records(c, app, &stage.name).await?,
    })
}

/// The stage's functions' log groups and its access log's that carry its
/// tags (ferry creates them so).
async fn log_groups(
    c: &Clients,
    (app, stage): (&str, &Stage),
    account: &str,
    ours: &impl Fn(&BTreeMap<String, String>) -> bool,
) -> Result<Vec<String>, AwsError> {
    let mut out = Vec::new();
    let mut names: Vec<String> = live::log_groups(c, app, &stage.name)
        .await?
        .into_keys()
        .collect();
    let access = AccessLog::group(&stage.api.name, &stage.name);
    if super::stage_live::log_group(c, &access).await?.is_some() {
        names.push(access);
    }
    for name in names {
        let arn = format!("arn:aws:logs:{}:{account}:log-group:{name}", stage.region);
        let tags = c
            .logs
            .list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await;
        let tags = match tags {
            Ok(t) => t.tags().cloned().unwrap_or_default().into_iter().collect(),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
            {
                continue
            }
            Err(e) => {
                return Err(fail::call(
                    "logs:ListTagsForResource",
                    e.into_service_error(),
                ))
            }
        };
        if ours(&tags) {
            out.push(name);
        }
    }
    Ok(out)
}

async fn function_tags(c: &Clients, arn: &str) -> Result<BTreeMap<String, String>, AwsError> {
    let out = c
        .lambda
        .list_tags()
        .resource(arn)
        .send()
        .await
        .map_err(|e| fail::call("lambda:ListTags", e.into_service_error()))?;
    Ok(out
        .tags()
        .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default())
}

/// The distribution of the stage's front door, if it still exists, and the
/// domain's alias records.
async fn front(c: &Clients, app: &str, stage: &Stage) -> Result<Option<FrontToDestroy>, AwsError> {
    let Some(door) = &stage.front else {
        return Ok(None);
    };
    let id = match (&door.distribution, &door.domain) {
        (Some(id), _) => id.clone(),
        (None, Some(domain)) => match front_live::by_alias(c, domain).await? {
            Some(d) => d.id,
            None => return Ok(None),
        },
        (None, None) => return Ok(None),
    };
    let out = match c.cloudfront.get_distribution().id(&id).send().await {
        Ok(out) => out,
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_no_such_distribution()) =>
        {
            return Ok(None)
        }
        Err(e) => {
            return Err(fail::call(
                "cloudfront:GetDistribution",
                e.into_service_error(),
            ))
        }
    };
    let Some(d) = out.distribution() else {
        return Ok(None);
    };
    let config = d.distribution_config();
    let reference = config.map(|c| c.caller_reference()).unwrap_or_default();
    let records = match (&door.hosted_zone, &door.domain) {
        (Some(zone), Some(domain)) => Some((
            zone.clone(),
            domain.clone(),
            front_live::alias_records(c, zone, domain).await?,
        )),
        _ => None,
    };
    Ok(Some(FrontToDestroy {
        id,
        domain_name: d.domain_name().to_owned(),
        enabled: config.is_some_and(|c| c.enabled()),
        ours: reference.starts_with(&format!("ferry {app} {} ", stage.name)),
        records,
    }))
}

async fn api(
    c: &Clients,
    name: &str,
    id: &str,
    stage: &str,
    ours: &impl Fn(&BTreeMap<String, String>) -> bool,
) -> Result<ApiToDestroy, AwsError> {
    let out = c
        .apigw
        .get_rest_api()
        .rest_api_id(id)
        .send()
        .await
        .map_err(|e| fail::call("apigateway:GetRestApi", e.into_service_error()))?;
    let tags: BTreeMap<String, String> = out
        .tags()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .collect();
    let stages = c
        .apigw
        .get_stages()
        .rest_api_id(id)
        .send()
        .await
        .map_err(|e| fail::call("apigateway:GetStages", e.into_service_error()))?;
    let names: Vec<String> = stages
        .item()
        .iter()
        .filter_map(|s| s.stage_name().map(str::to_owned))
        .collect();
    Ok(ApiToDestroy {
        name: name.to_owned(),
        id: id.to_owned(),
        ours: ours(&tags),
        has_stage: names.iter().any(|n| n == stage),
        other_stages: names.into_iter().filter(|n| n != stage).collect(),
        adopted: false,
    })
}

/// The versions of the app's layers that this stage's functions or releases
/// used and nothing else uses, and per layer how many are kept because
/// something else does. A version the stage never used is not destroy's:
/// another stage's deploy may have just published it.
async fn layers(
    c: &Clients,
    (workspace, stage): (&Workspace, &Stage),
    (all, ours): (&[FunctionConfiguration], &[String]),
    referenced: &BTreeSet<String>,
) -> Result<(Vec<(String, u64)>, BTreeMap<String, usize>), AwsError> {
    if workspace.layers.is_empty() {
        return Ok((Vec::new(), BTreeMap::new()));
    }
    let counted = layer_use::Releases {
        this_stage: false,
        newest: None,
        stage,
    };
    let in_use = layer_use::in_use(c, workspace, (all, ours), &counted).await?;
    let mut unused = Vec::new();
    let mut shared = BTreeMap::new();
    for (name, version, arn) in layer_use::versions(c, workspace).await? {
        if !referenced.contains(&arn) {
            continue;
        }
        if in_use.contains(&arn) {
            *shared.entry(name).or_insert(0) += 1;
        } else {
            unused.push((name, version));
        }
    }
    Ok((unused, shared))
}

/// The roles under the stage's IAM path, a removed service's too.
async fn service_roles(
    c: &Clients,
    app: &str,
    stage: &str,
) -> Result<Vec<RoleToDestroy>, AwsError> {
    let mut out = Vec::new();
    for name in crate::read::iam::roles_under(c, &role_path(app, stage)).await? {
        out.extend(role(c, &name).await?);
    }
    Ok(out)
}

/// The managed role, if it exists, with what is attached to it.
async fn role(c: &Clients, name: &str) -> Result<Option<RoleToDestroy>, AwsError> {
    if let Err(e) = c.iam.get_role().role_name(name).send().await {
        return match e.as_service_error() {
            Some(s) if s.is_no_such_entity_exception() => Ok(None),
            _ => Err(fail::call("iam:GetRole", e.into_service_error())),
        };
    }
    let attached = crate::read::iam::attached_policies(c, name).await?;
    let inline = c
        .iam
        .list_role_policies()
        .role_name(name)
        .send()
        .await
        .map_err(|e| fail::call("iam:ListRolePolicies", e.into_service_error()))?;
    Ok(Some(RoleToDestroy {
        name: name.to_owned(),
        used_by: Vec::new(),
        attached,
        inline: inline.policy_names().to_vec(),
    }))
}

/// The names of the stage's release records (its history and current one).
async fn records(c: &Clients, app: &str, stage: &str) -> Result<Vec<String>, AwsError> {
    let folder = record::current_parameter(app, stage);
    let folder = folder.trim_end_matches("release");
    let pages: Vec<_> = c
        .ssm
        .get_parameters_by_path()
        .path(folder)
        .recursive(true)
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(|e| fail::call("ssm:GetParametersByPath", e.into_service_error()))?;
    Ok(pages
        .iter()
        .flat_map(|p| p.parameters())
        .filter_map(|p| p.name().map(str::to_owned))
        .collect())
}
