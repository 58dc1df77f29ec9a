//! What `import` reads of a stage someone built by hand: the REST API (by
//! id or name), its methods and integrations, authorizers, the usage plans
//! naming the stage, the stage's settings, each invoked function with its
//! log group, and the distribution's origin at the API. Makes no write.

use std::collections::BTreeMap;

use aws_sdk_lambda::types::Architecture;
use ferry::cli::ImportArgs;
use ferry::import::{
    Found, FoundDistribution, FoundFunction, FoundMethod, FoundOrigin, Integration,
};
use ferry::model::{Arch, EndpointType};

use crate::read::{live_api, stage_live};
use crate::sdk::clients::Clients;
use crate::sdk::fail::{self, AwsError};

/// Everything `import` needs of the stage, read.
pub async fn read(c: &Clients, args: &ImportArgs, region: &str) -> Result<Found, AwsError> {
    let id_like = ferry::model::adopt::is_api_id(&args.rest_api);
    let api_id = match id_like && crate::read::adopted::exists(c, &args.rest_api).await? {
        true => args.rest_api.clone(),
        false => live_api::api_id_named(c, &args.rest_api)
            .await?
            .ok_or_else(|| AwsError::Adopted {
                message: format!("no REST API has the id or name `{}` in {region}", args.rest_api),
                help: "list them with `aws apigateway get-rest-apis`, and pass `--region` if the API is elsewhere".into(),
            })?,
    };
    let api = c
        .apigw
        .get_rest_api()
        .rest_api_id(&api_id)
        .send()
        .await
        .map_err(|e| fail::call("apigateway:GetRestApi", e.into_service_error()))?;
    let stage = match c
        .apigw
        .get_stage()
        .rest_api_id(&api_id)
        .stage_name(&args.stage)
        .send()
        .await
    {
        Ok(s) => s,
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_not_found_exception()) =>
        {
            let stages = stage_live::stages(c, &api_id).await?;
            return Err(AwsError::Adopted {
                message: format!("REST API {api_id} has no stage `{}`", args.stage),
                help: format!("import one of its stages: {}", stages.join(", ")),
            });
        }
        Err(e) => return Err(fail::call("apigateway:GetStage", e.into_service_error())),
    };
    let settings = stage_live::settings_of(&stage);
    let methods = methods(c, &api_id).await?;
    let (authorizers, authorizer_functions) = authorizers(c, &api_id).await?;
    let mut functions = BTreeMap::new();
    let invoked = methods.iter().filter_map(|m| match &m.integration {
        Integration::LambdaProxy { function } => Some(function),
        _ => None,
    });
    for function in invoked.chain(&authorizer_functions) {
        if !functions.contains_key(function) {
            functions.insert(function.clone(), function_of(c, function).await?);
        }
    }
    let endpoint = api
        .endpoint_configuration()
        .and_then(|e| e.types().first())
        .and_then(|t| match t.as_str() {
            "REGIONAL" => Some(EndpointType::Regional),
            "EDGE" => Some(EndpointType::Edge),
            _ => None,
        });
    Ok(Found {
        region: region.to_owned(),
        api_id: api_id.clone(),
        api_name: api.name().unwrap_or_default().to_owned(),
        endpoint,
        binary_media_types: api.binary_media_types().to_vec(),
        stage: args.stage.clone(),
        tracing: settings.tracing,
        throttle: settings.throttle,
        method_settings: settings.methods.keys().cloned().collect(),
        stage_variables: stage
            .variables()
            .map(|v| v.keys().cloned().collect())
            .unwrap_or_default(),
        access_log: settings.access_log.map(|a| a.destination),
        methods,
        functions,
        authorizers,
        usage_plans: usage_plans(c, &api_id, &args.stage).await?,
        distribution: match &args.distribution {
            Some(id) => Some(distribution(c, id, &api_id).await?),
            None => None,
        },
    })
}

/// Every method of the API with its integration.
async fn methods(c: &Clients, api: &str) -> Result<Vec<FoundMethod>, AwsError> {
    let mut out = Vec::new();
    for resource in live_api::resources(c, api, true).await? {
        let path = resource.path().unwrap_or("/").to_owned();
        for (method, m) in resource.resource_methods().into_iter().flatten() {
            let method = live_api::method_name(method);
            let integration = match m.method_integration() {
                None => Integration::Missing,
                Some(i) => integration(i.r#type().map(|t| t.as_str()).unwrap_or_default(), i.uri()),
            };
            out.push(FoundMethod {
                method,
                path: path.clone(),
                authorization: m.authorization_type().unwrap_or("NONE").to_owned(),
                api_key_required: m.api_key_required().unwrap_or(false),
                integration,
            });
        }
    }
    out.sort_by(|a, b| (&a.path, &a.method).cmp(&(&b.path, &b.method)));
    Ok(out)
}

/// What an integration of `kind` to `uri` is to ferry: a Lambda proxy
/// integration names a function (a qualifier or a stage variable in the
/// URI makes it one ferry does not represent).
fn integration(kind: &str, uri: Option<&str>) -> Integration {
    let function = uri
        .filter(|_| kind == "AWS_PROXY")
        .and_then(live_api::invoked)
        .filter(|f| !f.contains(':') && !f.contains('$') && !f.is_empty());
    match function {
        Some(f) => Integration::LambdaProxy {
            function: f.to_owned(),
        },
        None => Integration::Other {
            kind: kind.to_owned(),
            uri: uri.map(str::to_owned),
        },
    }
}

async fn function_of(c: &Clients, name: &str) -> Result<FoundFunction, AwsError> {
    let f = match c
        .lambda
        .get_function_configuration()
        .function_name(name)
        .send()
        .await
    {
        Ok(f) => f,
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception()) =>
        {
            return Err(AwsError::Adopted {
                message: format!("the API invokes function `{name}`, which does not exist"),
                help: "fix or remove that method's integration in the console, then import again"
                    .into(),
            })
        }
        Err(e) => {
            return Err(fail::call(
                "lambda:GetFunctionConfiguration",
                e.into_service_error(),
            ))
        }
    };
    let group = format!("/aws/lambda/{name}");
    let retention_days = stage_live::log_group(c, &group).await?.flatten();
    let vpc = f
        .vpc_config()
        .filter(|v| !v.subnet_ids().is_empty())
        .map(|v| (v.subnet_ids().to_vec(), v.security_group_ids().to_vec()));
    Ok(FoundFunction {
        runtime: f
            .runtime()
            .map_or("(container image)".to_owned(), |r| r.as_str().to_owned()),
        arch: match f.architectures().first() {
            Some(Architecture::Arm64) => Arch::Arm64,
            _ => Arch::X86_64,
        },
        memory_mb: f.memory_size().unwrap_or(128).max(0) as u32,
        timeout_s: f.timeout().unwrap_or(3).max(0) as u32,
        role: f.role().unwrap_or_default().to_owned(),
        env: f
            .environment()
            .and_then(|e| e.variables())
            .map(|v| v.keys().cloned().collect())
            .unwrap_or_default(),
        layers: f
            .layers()
            .iter()
            .filter_map(|l| l.arn().map(str::to_owned))
            .collect(),
        retention_days,
        vpc,
    })
}

/// The API's authorizers, (name, type), and the functions of its Lambda
/// authorizers.
async fn authorizers(
    c: &Clients,
    api: &str,
) -> Result<(Vec<(String, String)>, Vec<String>), AwsError> {
    let out = c
        .apigw
        .get_authorizers()
        .rest_api_id(api)
        .limit(500)
        .send()
        .await
        .map_err(|e| fail::call("apigateway:GetAuthorizers", e.into_service_error()))?;
    let named = out
        .items()
        .iter()
        .map(|a| {
            (
                a.name().unwrap_or_default().to_owned(),
                a.r#type()
                    .map(|t| t.as_str().to_owned())
                    .unwrap_or_default(),
            )
        })
        .collect();
    let functions = out
        .items()
        .iter()
        .filter_map(|a| match integration("AWS_PROXY", a.authorizer_uri()) {
            Integration::LambdaProxy { function } => Some(function),
            _ => None,
        })
        .collect();
    Ok((named, functions))
}

async fn usage_plans(c: &Clients, api: &str, stage: &str) -> Result<Vec<String>, AwsError> {
    let plans: Vec<_> = c
        .apigw
        .get_usage_plans()
        .limit(500)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| fail::call("apigateway:GetUsagePlans", e.into_service_error()))?;
    Ok(plans
        .iter()
        .filter(|p| {
            p.api_stages()
                .iter()
                .any(|s| s.api_id() == Some(api) && s.stage() == Some(stage))
        })
        .map(|p| p.name().unwrap_or_default().to_owned())
        .collect())
}

/// The distribution `id` and its origin at the API (`<api>.execute-api.`).
async fn distribution(c: &Clients, id: &str, api: &str) -> Result<FoundDistribution, AwsError> {
    let out = c
        .cloudfront
        .get_distribution_config()
        .id(id)
        .send()
        .await
        .map_err(|e| match e.as_service_error() {
            Some(s) if s.is_no_such_distribution() => AwsError::Adopted {
                message: format!("CloudFront distribution {id} does not exist"),
                help: "check the id with `aws cloudfront list-distributions`, or leave out `--distribution`".into(),
            },
            _ => fail::call("cloudfront:GetDistributionConfig", e.into_service_error()),
        })?;
    let config = out.distribution_config();
    let api_host = format!("{api}.execute-api.");
    let origin = config
        .and_then(|c| c.origins())
        .map(|o| o.items())
        .unwrap_or_default()
        .iter()
        .find(|o| o.domain_name().starts_with(&api_host))
        .map(|o| FoundOrigin {
            id: o.id().to_owned(),
            path: o.origin_path().unwrap_or_default().to_owned(),
        });
    Ok(FoundDistribution {
        id: id.to_owned(),
        origin,
        default_origin: config
            .and_then(|c| c.default_cache_behavior())
            .map(|b| b.target_origin_id().to_owned())
            .unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_unqualified_proxy_integrations_name_a_function() {
        let uri = |f: &str| {
            format!("arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:{f}/invocations")
        };
        assert_eq!(
            integration("AWS_PROXY", Some(&uri("kst-readAll"))),
            Integration::LambdaProxy {
                function: "kst-readAll".into()
            }
        );
        for (kind, u) in [
            ("AWS_PROXY", uri("kst-readAll:live")),
            ("AWS_PROXY", uri("${stageVariables.fn}")),
            ("AWS", uri("kst-readAll")),
            ("HTTP_PROXY", "https://example.com/{proxy}".to_owned()),
        ] {
            assert!(
                matches!(integration(kind, Some(&u)), Integration::Other { .. }),
                "{kind} {u}"
            );
        }
    }
}
