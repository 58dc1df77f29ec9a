//! Reads a stage's REST API: found by name, the deployment its stage serves
//! (with the definition hash ferry recorded) and its cache, and on request
//! its methods.

use std::collections::BTreeMap;

use ferry::deploy::stage_cache::StageCacheState;
use ferry::deploy::stage_settings::StageSettingsState;
use ferry::deploy::{openapi, Desired, LiveApi};

use crate::sdk::clients::Clients;
use crate::sdk::fail::{self, AwsError};

/// The stage's REST API (found by name) and the deployment its stage serves.
pub async fn api(
    c: &Clients,
    desired: &Desired,
    with_routes: bool,
) -> Result<Option<LiveApi>, AwsError> {
    let id = match &desired.api.id {
        Some(id) if super::adopted::exists(c, id).await? => Some(id.clone()),
        Some(id) => return Err(super::adopted::missing_api(&desired.stage, id)),
        None => api_id_named(c, &desired.api.name).await?,
    };
    let Some(id) = id else {
        return Ok(None);
    };
    // An adopted API keeps the methods ferry does not manage: the plan
    // lists them, so it reads them.
    let with_routes = with_routes || desired.api.id.is_some();
    let (deployment, stage_cache, stage_settings) = stage(c, &id, &desired.stage).await?;
    let stages = super::stage_live::stages(c, &id).await?;
    let stage_deployment =
        deployment_of(c, &id, deployment)
            .await?
            .map(|(deployment, description)| {
                let hash = description.as_deref().and_then(openapi::recorded_hash);
                (deployment, hash)
            });
    let routes = if with_routes {
        routes(c, &id).await?
    } else {
        BTreeMap::new()
    };
    Ok(Some(LiveApi {
        id,
        stage_deployment,
        routes,
        stage_cache,
        stage_settings,
        stages,
    }))
}

/// The stage's API: the one it adopts (`api.id`), else the one named `name`.
pub async fn stage_api_id(
    c: &Clients,
    (name, id): (&str, Option<&str>),
) -> Result<Option<String>, AwsError> {
    match id {
        Some(id) => Ok(Some(id.to_owned())),
        None => api_id_named(c, name).await,
    }
}

/// The stage's API (see [`stage_api_id`]) and the deployment its stage
/// `stage` serves, when there is one: what a rollback moves.
pub async fn served(
    c: &Clients,
    api: (&str, Option<&str>),
    stage_name: &str,
) -> Result<Option<(String, Option<String>)>, AwsError> {
    let Some(id) = stage_api_id(c, api).await? else {
        return Ok(None);
    };
    let (deployment, ..) = stage(c, &id, stage_name).await?;
    Ok(Some((id, deployment)))
}

/// The id of the one REST API named `name`, if there is one.
pub async fn api_id_named(c: &Clients, name: &str) -> Result<Option<String>, AwsError> {
    let apis = c
        .apigw
        .get_rest_apis()
        .limit(500)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| fail::call("apigateway:GetRestApis", e.into_service_error()))?;
    let named: Vec<_> = apis.iter().filter(|a| a.name() == Some(name)).collect();
    match named.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(one.id().unwrap_or_default().to_owned())),
        many => Err(AwsError::Ambiguous(format!(
            "{} REST APIs are named `{name}`; ferry needs exactly one per stage",
            many.len(),
        ))),
    }
}

/// The deployment `stage` of API `id` serves, its cache and its own settings.
async fn stage(
    c: &Clients,
    id: &str,
    stage: &str,
) -> Result<(Option<String>, StageCacheState, StageSettingsState), AwsError> {
    let stage = c
        .apigw
        .get_stage()
        .rest_api_id(id)
        .stage_name(stage)
        .send()
        .await;
    match stage {
        Ok(stage) => {
            let enabled = stage.cache_cluster_enabled();
            let methods = stage
                .method_settings()
                .into_iter()
                .flatten()
                .filter(|(_, m)| m.caching_enabled())
                .map(|(k, m)| (k.clone(), m.cache_ttl_in_seconds().max(0) as u64))
                .collect();
            let cache = StageCacheState {
                enabled,
                size: enabled
                    .then(|| stage.cache_cluster_size().map(|s| s.as_str().to_owned()))
                    .flatten(),
                methods,
            };
            let settings = super::stage_live::settings_of(&stage);
            Ok((stage.deployment_id().map(str::to_owned), cache, settings))
        }
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_not_found_exception()) =>
        {
            Ok((
                None,
                StageCacheState::default(),
                StageSettingsState::default(),
            ))
        }
        Err(e) => Err(fail::call("apigateway:GetStage", e.into_service_error())),
    }
}

/// The deployment `stage` of API `id` serves, with that deployment's description.
async fn stage_deployment(
    c: &Clients,
    id: &str,
    stage_name: &str,
) -> Result<Option<(String, Option<String>)>, AwsError> {
    let (deployment, ..) = stage(c, id, stage_name).await?;
    deployment_of(c, id, deployment).await
}

/// A deployment's id with its description.
async fn deployment_of(
    c: &Clients,
    id: &str,
    deployment: Option<String>,
) -> Result<Option<(String, Option<String>)>, AwsError> {
    let Some(deployment) = deployment else {
        return Ok(None);
    };
    let out = c
        .apigw
        .get_deployment()
        .rest_api_id(id)
        .deployment_id(&deployment)
        .send()
        .await
        .map_err(|e| fail::call("apigateway:GetDeployment", e.into_service_error()))?;
    Ok(Some((deployment, out.description().map(str::to_owned))))
}

/// The deployment `stage` serves when its description is `description`:
/// how a CreateDeployment whose answer was lost is recognised.
pub async fn stage_deployment_with(
    c: &Clients,
    id: &str,
    stage: &str,
    description: &str,
) -> Result<Option<String>, AwsError> {
    Ok(stage_deployment(c, id, stage)
        .await?
        .filter(|(_, d)| d.as_deref() == Some(description))
        .map(|(deployment, _)| deployment))
}

/// Every method of the API: `"GET /items/{id}"` -> the function its
/// integration invokes (empty when it invokes none).
async fn routes(c: &Clients, api: &str) -> Result<BTreeMap<String, String>, AwsError> {
    let resources = resources(c, api, true).await?;
    let mut out = BTreeMap::new();
    for resource in &resources {
        let path = resource.path().unwrap_or("/");
        for (method, m) in resource.resource_methods().into_iter().flatten() {
            let method = method_name(method);
            let function = m
                .method_integration()
                .and_then(|i| i.uri())
                .and_then(invoked)
                .unwrap_or_default()
                .to_owned();
            out.insert(format!("{method} {path}"), function);
        }
    }
    Ok(out)
}

/// A method's name as ferry writes it: OpenAPI's
/// `x-amazon-apigateway-any-method`, as some servers store it, is `ANY`.
pub fn method_name(method: &str) -> String {
    if method.eq_ignore_ascii_case("X-AMAZON-APIGATEWAY-ANY-METHOD") {
        "ANY".to_owned()
    } else {
        method.to_uppercase()
    }
}

/// The function (with its qualifier, if any) a Lambda integration URI invokes.
pub fn invoked(uri: &str) -> Option<&str> {
    uri.split(":function:")
        .nth(1)
        .map(|rest| rest.trim_end_matches("/invocations"))
}

/// Every resource of the API, with its methods when `methods` is asked for.
pub async fn resources(
    c: &Clients,
    api: &str,
    methods: bool,
) -> Result<Vec<aws_sdk_apigateway::types::Resource>, AwsError> {
    let mut request = c.apigw.get_resources().rest_api_id(api).limit(500);
    if methods {
        request = request.embed("methods");
    }
    request
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| fail::call("apigateway:GetResources", e.into_service_error()))
}
