//! One action, its AWS calls: the exhaustive `match` of the executor. Every
//! function write is guarded by the RevisionId read before it and followed
//! by waiting until the function settles.

use std::collections::HashMap;

use aws_sdk_apigateway::types::{EndpointConfiguration, EndpointType, PutMode};
use aws_sdk_lambda::types::{Environment, LayerVersionContentInput, Runtime};
use ferry::deploy::front::api_domain;
use ferry::deploy::{openapi, Action};
use ferry::model::EndpointType as Endpoint;

use crate::apply::{architecture, function, read_zip, Ctx};
use crate::fail::{self, AwsError};
use crate::front_apply;
use crate::pace::Quota;
use crate::{function_writes, once};

/// The trust policy of the managed role: Lambda may assume it.
const LAMBDA_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

/// Applies one action; returns the id or ARN of what it made, if anything.
pub(crate) async fn execute(ctx: &Ctx<'_>, action: &Action) -> Result<Option<String>, AwsError> {
    let c = ctx.c;
    let desired = ctx.desired;
    match action {
        Action::CreateRole { name } => {
            let created = c
                .iam
                .create_role()
                .role_name(name)
                .description(format!(
                    "Lambda execution role of {} stage {}, managed by ferry",
                    desired.app, desired.stage
                ))
                .assume_role_policy_document(LAMBDA_TRUST)
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
            c.iam
                .attach_role_policy()
                .role_name(name)
                .policy_arn(crate::apply::BASIC_EXECUTION_POLICY)
                .send()
                .await
                .map_err(|e| fail::call("iam:AttachRolePolicy", e.into_service_error()))?;
            Ok(Some(desired.role.arn(&ctx.account)))
        }
        Action::PublishLayerVersion { layer, arch, .. } => {
            let wanted = &desired.layers[&(layer.clone(), *arch)];
            let zip = read_zip(ctx, &wanted.zip).await?;
            let runtimes: Vec<Runtime> = wanted
                .compatible_runtimes
                .iter()
                .map(|r| Runtime::from(r.as_str()))
                .collect();
            // Publishing again would make a second version of the same zip.
            let publish = || async {
                let out = c
                    .lambda_paced()
                    .await
                    .publish_layer_version()
                    .layer_name(layer)
                    .description(&wanted.description)
                    .content(
                        LayerVersionContentInput::builder()
                            .zip_file(zip.clone())
                            .build(),
                    )
                    .compatible_architectures(architecture(*arch))
                    .set_compatible_runtimes(Some(runtimes.clone()))
                    .customize()
                    .config_override(once::lambda_single())
                    .send()
                    .await?;
                Ok(out.layer_version_arn().unwrap_or_default().to_owned())
            };
            let published = || crate::live::layer_version_with(c, layer, &wanted.description);
            let arn = once::write("lambda:PublishLayerVersion", publish, published).await?;
            ctx.layer_arns
                .lock()
                .unwrap()
                .insert((layer.clone(), *arch), arn.clone());
            Ok(Some(arn))
        }
        Action::CreateRestApi { name } => {
            let endpoint = match desired.api.endpoint {
                Endpoint::Regional => EndpointType::Regional,
                Endpoint::Edge => EndpointType::Edge,
            };
            // Creating it again would leave two APIs of one name.
            let create = || async {
                let out = c
                    .apigw
                    .create_rest_api()
                    .name(name)
                    .description(format!(
                        "{} stage `{}`, deployed by ferry",
                        desired.app, desired.stage
                    ))
                    .endpoint_configuration(
                        EndpointConfiguration::builder()
                            .types(endpoint.clone())
                            .build(),
                    )
                    .set_binary_media_types(Some(desired.api.binary_media_types.clone()))
                    .set_tags(Some(desired.tags.clone().into_iter().collect()))
                    .customize()
                    .config_override(once::apigw_single())
                    .send()
                    .await?;
                Ok(out.id().unwrap_or_default().to_owned())
            };
            let created = || crate::live_api::api_id_named(c, name);
            let id = once::write("apigateway:CreateRestApi", create, created).await?;
            *ctx.api_id.lock().unwrap() = Some(id.clone());
            Ok(Some(id))
        }
        Action::CreateLogGroup {
            name,
            retention_days,
        } => {
            let created = c
                .logs
                .create_log_group()
                .log_group_name(name)
                .set_tags(Some(desired.tags.clone().into_iter().collect()))
                .send()
                .await;
            match created {
                Ok(_) => {}
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|e| e.is_resource_already_exists_exception()) => {}
                Err(e) => return Err(fail::call("logs:CreateLogGroup", e.into_service_error())),
            }
            put_retention(ctx, name, *retention_days).await?;
            Ok(None)
        }
        Action::PutRetentionPolicy { name, to, .. } => {
            put_retention(ctx, name, *to).await?;
            Ok(None)
        }
        Action::CreateFunction { function: name, .. } => function_writes::create(ctx, name).await,
        Action::UpdateFunctionCode {
            function: name,
            arch,
            ..
        } => function_writes::update_code(ctx, name, arch).await,
        Action::UpdateFunctionConfiguration { function: name, .. } => {
            function_writes::update_configuration(ctx, name).await
        }
        Action::TagFunction {
            function: name,
            set,
            remove,
        } => {
            let f = function(ctx, name);
            let arn = openapi::function_arn(&desired.region, &ctx.account, name);
            if !set.is_empty() {
                let tags: HashMap<String, String> =
                    set.iter().map(|k| (k.clone(), f.tags[k].clone())).collect();
                c.lambda_paced()
                    .await
                    .tag_resource()
                    .resource(&arn)
                    .set_tags(Some(tags))
                    .send()
                    .await
                    .map_err(|e| fail::call("lambda:TagResource", e.into_service_error()))?;
            }
            if !remove.is_empty() {
                c.lambda_paced()
                    .await
                    .untag_resource()
                    .resource(&arn)
                    .set_tag_keys(Some(remove.clone()))
                    .send()
                    .await
                    .map_err(|e| fail::call("lambda:UntagResource", e.into_service_error()))?;
            }
            Ok(None)
        }
        Action::AddInvokePermission {
            function: name,
            replace,
        } => function_writes::add_permission(ctx, name, replace).await,
        Action::PutRestApi { .. } => {
            let api = current_api(ctx);
            let body =
                serde_json::to_vec(&openapi::definition(desired, &ctx.account)).unwrap_or_default();
            c.pace.wait(Quota::PutRestApi).await;
            c.apigw
                .put_rest_api()
                .rest_api_id(&api)
                .mode(PutMode::Overwrite)
                .fail_on_warnings(true)
                .body(aws_sdk_apigateway::primitives::Blob::new(body))
                .send()
                .await
                .map_err(|e| fail::call("apigateway:PutRestApi", e.into_service_error()))?;
            Ok(None)
        }
        Action::CreateDeployment {
            stage,
            definition_hash,
            ..
        } => {
            let api = current_api(ctx);
            // Creating the deployment with the stage name moves the stage to
            // it in the same call: the stage serves the old or the new API.
            // A repeated deployment would be churn the next deploy cannot tell apart.
            let description = openapi::deployment_description(definition_hash);
            let deploy = || async {
                c.pace.wait(Quota::CreateDeployment).await;
                let out = c
                    .apigw
                    .create_deployment()
                    .rest_api_id(&api)
                    .stage_name(stage)
                    .description(&description)
                    .customize()
                    .config_override(once::apigw_single())
                    .send()
                    .await?;
                Ok(out.id().unwrap_or_default().to_owned())
            };
            let deployed = || crate::live_api::stage_deployment_with(c, &api, stage, &description);
            let id = once::write("apigateway:CreateDeployment", deploy, deployed).await?;
            Ok(Some(id))
        }
        Action::CreateDistribution {
            domain,
            certificate,
            origin_path,
            ..
        } => {
            let api = current_api(ctx);
            front_apply::create_distribution(ctx, &api, domain, certificate, origin_path).await
        }
        Action::UpdateDistributionOrigin {
            distribution,
            origin,
            to_path,
            ..
        } => {
            let domain = api_domain(&current_api(ctx), &desired.region);
            front_apply::retarget(&c.cloudfront, distribution, origin, &domain, to_path).await?;
            Ok(None)
        }
        Action::UpsertAliasRecords {
            zone,
            domain,
            target,
        } => front_apply::alias_records(ctx, zone, domain, target.as_deref()).await,
        Action::CreateInvalidation {
            distribution,
            paths,
        } => {
            let millis = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis());
            let reference = format!("ferry {} {millis}", desired.api.definition_hash);
            let id = front_apply::invalidate(c, distribution, paths, &reference).await?;
            Ok(Some(id))
        }
        Action::DeleteFunction { function: name } => {
            c.lambda_paced()
                .await
                .delete_function()
                .function_name(name)
                .send()
                .await
                .map_err(|e| fail::call("lambda:DeleteFunction", e.into_service_error()))?;
            Ok(None)
        }
    }
}

pub(crate) fn environment(env: &std::collections::BTreeMap<String, String>) -> Environment {
    Environment::builder()
        .set_variables(Some(env.clone().into_iter().collect()))
        .build()
}

async fn put_retention(ctx: &Ctx<'_>, name: &str, days: u32) -> Result<(), AwsError> {
    ctx.c
        .logs
        .put_retention_policy()
        .log_group_name(name)
        .retention_in_days(days as i32)
        .send()
        .await
        .map_err(|e| fail::call("logs:PutRetentionPolicy", e.into_service_error()))?;
    Ok(())
}

/// The stage's REST API: the live one, or the one this deploy created.
pub(crate) fn current_api(ctx: &Ctx<'_>) -> String {
    ctx.api_id.lock().unwrap().clone().unwrap_or_default()
}
