//! The preflight of a stage that adopts resources (deploy.toml's
//! `function-name` and `api.id`): each must exist before anything is built
//! or written, since ferry updates adopted resources in place and never
//! creates one under a name it was told already exists.

use std::collections::BTreeMap;

use ferry::deploy::Desired;
use ferry::model::{Stage, Workspace};

use crate::sdk::clients::Clients;
use crate::sdk::fail::{self, AwsError};

/// Every function and the API the stage adopts exist.
pub async fn preflight(
    c: &Clients,
    (workspace, stage): (&Workspace, &Stage),
) -> Result<(), AwsError> {
    if let Some(id) = &stage.api.id {
        if !exists(c, id).await? {
            return Err(missing_api(&stage.name, id));
        }
    }
    for service in workspace.services.keys() {
        let Some(name) = stage.adopted_function(service) else {
            continue;
        };
        match c
            .lambda
            .get_function_configuration()
            .function_name(name)
            .send()
            .await
        {
            Ok(_) => {}
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
            {
                return Err(AwsError::Adopted {
                    message: format!(
                        "the function `{name}` that deploy.toml adopts (`stages.{}.services.{service}.function-name`) does not exist in this account and region",
                        stage.name
                    ),
                    help: "check the name with `aws lambda list-functions`, or remove `function-name` to let ferry create the service's own function".into(),
                });
            }
            Err(e) => {
                return Err(fail::call(
                    "lambda:GetFunctionConfiguration",
                    e.into_service_error(),
                ))
            }
        }
    }
    Ok(())
}

/// The error of an adopted API that is gone.
pub fn missing_api(stage: &str, id: &str) -> AwsError {
    AwsError::Adopted {
        message: format!("the REST API `{id}` that deploy.toml adopts (`stages.{stage}.api.id`) does not exist in this account and region"),
        help: "check the id with `aws apigateway get-rest-apis`, or remove `id` from the stage's `api` to let ferry create its own API".into(),
    }
}

/// Whether the REST API `id` exists (an adopted API is never created).
pub async fn exists(c: &Clients, id: &str) -> Result<bool, AwsError> {
    match c.apigw.get_rest_api().rest_api_id(id).send().await {
        Ok(_) => Ok(true),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_not_found_exception()) =>
        {
            Ok(false)
        }
        Err(e) => Err(fail::call("apigateway:GetRestApi", e.into_service_error())),
    }
}

/// The log groups of the functions the stage adopts (outside its name
/// prefix), with their retention: one read each.
pub async fn log_groups(
    c: &Clients,
    desired: &Desired,
) -> Result<BTreeMap<String, Option<u32>>, AwsError> {
    let prefix = format!("{}-{}-", desired.app, desired.stage);
    let mut out = BTreeMap::new();
    for name in desired.functions.keys().filter(|n| !n.starts_with(&prefix)) {
        let group = format!("/aws/lambda/{name}");
        if let Some(retention) = super::stage_live::log_group(c, &group).await? {
            out.insert(group, retention);
        }
    }
    Ok(out)
}
