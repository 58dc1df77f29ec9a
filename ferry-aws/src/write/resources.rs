//! The writes to a stage's other resources: the managed execution role,
//! layer versions, log groups, and the REST API with its definition and
//! deployments and its stage's cache. A rerun after a partial deploy converges: an existing role
//! gets its policies, an existing log group its retention, and a publish,
//! create or deployment whose answer was lost is found instead of repeated.

use std::collections::BTreeMap;

use aws_sdk_apigateway::types::{EndpointConfiguration, PutMode};
use ferry::deploy::action::InlinePolicy;
use ferry::model::{Arch, EndpointType, Runtime};

use crate::read::{live, live_api};
use crate::sdk::clients::Clients;
use crate::sdk::convert::{architecture, endpoint, runtime, tags};
use crate::sdk::fail::{self, AwsError};
use crate::sdk::once;
use crate::sdk::pace::Quota;
use crate::write::functions::CodeSource;

/// What a role is created with.
pub struct NewRole<'a> {
    pub name: &'a str,
    pub path: Option<&'a str>,
    pub description: &'a str,
    pub trust_policy: &'a str,
    pub policies: &'a [String],
    pub inline: Option<&'a InlinePolicy>,
}

/// Creates the role (or finds the one a stopped deploy made), attaches
/// its policies and puts its inline policy.
pub async fn create_role(c: &Clients, role: &NewRole<'_>) -> Result<(), AwsError> {
    let name = role.name;
    let created = c
        .iam
        .create_role()
        .role_name(name)
        .set_path(role.path.map(str::to_owned))
        .description(role.description)
        .assume_role_policy_document(role.trust_policy)
        .send()
        .await;
    match created {
        Ok(_) => {}
        // Made by a deploy that stopped before attaching the policy.
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_entity_already_exists_exception()) => {}
        Err(e) => return Err(fail::call("iam:CreateRole", e.into_service_error())),
    }
    attach_role_policies(c, name, role.policies).await?;
    if let Some(inline) = role.inline {
        put_role_policy(c, name, &inline.name, &inline.document).await?;
    }
    Ok(())
}

pub async fn attach_role_policies(
    c: &Clients,
    role: &str,
    policies: &[String],
) -> Result<(), AwsError> {
    for policy in policies {
        c.iam
            .attach_role_policy()
            .role_name(role)
            .policy_arn(policy)
            .send()
            .await
            .map_err(|e| fail::call("iam:AttachRolePolicy", e.into_service_error()))?;
    }
    Ok(())
}

/// Creates or replaces the role's inline policy `name`.
pub async fn put_role_policy(
    c: &Clients,
    role: &str,
    name: &str,
    document: &str,
) -> Result<(), AwsError> {
    c.iam
        .put_role_policy()
        .role_name(role)
        .policy_name(name)
        .policy_document(document)
        .send()
        .await
        .map_err(|e| fail::call("iam:PutRolePolicy", e.into_service_error()))?;
    Ok(())
}

/// What a layer version is published with.
pub struct LayerVersion<'a> {
    pub layer: &'a str,
    pub arch: Arch,
    pub description: &'a str,
    pub compatible_runtimes: &'a [Runtime],
}

/// Publishes a layer version; returns its ARN.
pub async fn publish_layer(
    c: &Clients,
    version: &LayerVersion<'_>,
    zip: CodeSource<'_>,
) -> Result<String, AwsError> {
    let runtimes: Vec<_> = version
        .compatible_runtimes
        .iter()
        .map(|r| runtime(*r))
        .collect();
    // Publishing again would make a second version of the same zip.
    let publish = || async {
        let out = c
            .lambda_paced()
            .await
            .publish_layer_version()
            .layer_name(version.layer)
            .description(version.description)
            .content(zip.clone().layer_content())
            .compatible_architectures(architecture(version.arch))
            .set_compatible_runtimes(Some(runtimes.clone()))
            .customize()
            .config_override(once::lambda_single())
            .send()
            .await?;
        Ok(out.layer_version_arn().unwrap_or_default().to_owned())
    };
    let published = || live::layer_version_with(c, version.layer, version.description);
    once::write(
        "lambda:PublishLayerVersion",
        &c.credentials,
        publish,
        published,
    )
    .await
}

/// Creates the log group (or keeps the one that exists) with its retention.
pub async fn create_log_group(
    c: &Clients,
    name: &str,
    retention_days: u32,
    group_tags: &BTreeMap<String, String>,
) -> Result<(), AwsError> {
    let created = c
        .logs
        .create_log_group()
        .log_group_name(name)
        .set_tags(Some(tags(group_tags)))
        .send()
        .await;
    match created {
        Ok(_) => {}
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_resource_already_exists_exception()) => {}
        Err(e) => return Err(fail::call("logs:CreateLogGroup", e.into_service_error())),
    }
    put_retention(c, name, retention_days).await
}

pub async fn put_retention(c: &Clients, name: &str, days: u32) -> Result<(), AwsError> {
    c.logs
        .put_retention_policy()
        .log_group_name(name)
        .retention_in_days(days as i32)
        .send()
        .await
        .map_err(|e| fail::call("logs:PutRetentionPolicy", e.into_service_error()))?;
    Ok(())
}

/// What a REST API is created with.
pub struct NewApi<'a> {
    pub name: &'a str,
    pub description: &'a str,
    pub endpoint: EndpointType,
    pub binary_media_types: &'a [String],
    pub tags: &'a BTreeMap<String, String>,
}

/// Creates the REST API (empty until its definition is put); returns its id.
pub async fn create_api(c: &Clients, api: &NewApi<'_>) -> Result<String, AwsError> {
    // Creating it again would leave two APIs of one name.
    let create = || async {
        let out = c
            .apigw
            .create_rest_api()
            .name(api.name)
            .description(api.description)
            .endpoint_configuration(
                EndpointConfiguration::builder()
                    .types(endpoint(api.endpoint))
                    .build(),
            )
            .set_binary_media_types(Some(api.binary_media_types.to_vec()))
            .set_tags(Some(tags(api.tags)))
            .customize()
            .config_override(once::apigw_single())
            .send()
            .await?;
        Ok(out.id().unwrap_or_default().to_owned())
    };
    let created = || live_api::api_id_named(c, api.name);
    once::write("apigateway:CreateRestApi", &c.credentials, create, created).await
}

/// Replaces the API's whole definition with `definition` (OpenAPI 3), or
/// merges it into an adopted API, whose other methods stay as they are.
pub async fn put_definition(
    c: &Clients,
    api_id: &str,
    definition: &serde_json::Value,
    adopted: bool,
) -> Result<(), AwsError> {
    let body = serde_json::to_vec(definition).unwrap_or_default();
    c.pace.wait(Quota::PutRestApi).await;
    c.apigw
        .put_rest_api()
        .rest_api_id(api_id)
        .mode(if adopted {
            PutMode::Merge
        } else {
            PutMode::Overwrite
        })
        .fail_on_warnings(true)
        .body(aws_sdk_apigateway::primitives::Blob::new(body))
        .send()
        .await
        .map_err(|e| fail::call("apigateway:PutRestApi", e.into_service_error()))?;
    Ok(())
}

/// Creates a deployment and moves `stage` to it in the same call, so the
/// stage serves the old or the new API and nothing between; returns its id.
pub async fn deploy_stage(
    c: &Clients,
    api_id: &str,
    stage: &str,
    description: &str,
) -> Result<String, AwsError> {
    // A repeated deployment would be churn the next deploy cannot tell apart.
    let deploy = || async {
        c.pace.wait(Quota::CreateDeployment).await;
        let out = c
            .apigw
            .create_deployment()
            .rest_api_id(api_id)
            .stage_name(stage)
            .description(description)
            .customize()
            .config_override(once::apigw_single())
            .send()
            .await?;
        Ok(out.id().unwrap_or_default().to_owned())
    };
    let deployed = || live_api::stage_deployment_with(c, api_id, stage, description);
    once::write(
        "apigateway:CreateDeployment",
        &c.credentials,
        deploy,
        deployed,
    )
    .await
}

/// Drops every response the stage's cache holds.
pub async fn flush_stage_cache(c: &Clients, api_id: &str, stage: &str) -> Result<(), AwsError> {
    c.apigw
        .flush_stage_cache()
        .rest_api_id(api_id)
        .stage_name(stage)
        .send()
        .await
        .map_err(|e| fail::call("apigateway:FlushStageCache", e.into_service_error()))?;
    Ok(())
}
