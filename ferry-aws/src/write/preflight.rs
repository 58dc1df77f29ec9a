//! The CORS preflights of a REST API: on each path with CORS, an `OPTIONS`
//! method whose mock integration answers 200 with the path's CORS headers
//! (`PutMethod`, `PutMethodResponse`, `PutIntegration`,
//! `PutIntegrationResponse`, as the console's "Enable CORS" writes them).
//! They follow the definition, whose overwrite removes them, and precede the
//! deployment that serves them. Every call is a PUT of the whole thing, so a
//! rerun converges; a method a lost answer already made is taken as made,
//! and API Gateway's "concurrent modification" is waited out. On an adopted
//! API, whose definition is merged rather than overwritten, an `OPTIONS`
//! method already there (the console's "Enable CORS", or an earlier
//! deploy's) is deleted first, so that the PUTs write the whole method.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use aws_sdk_apigateway::types::IntegrationType;
use aws_smithy_runtime_api::client::result::{CreateUnhandledError, SdkError};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use ferry::deploy::action::Preflight;
use ferry::deploy::openapi::PREFLIGHT_REQUEST;

use crate::read::live_api;
use crate::sdk::clients::Clients;
use crate::sdk::fail::{self, AwsError};
use crate::sdk::pace::Quota;

const JSON: &str = "application/json";

/// Writes every preflight of the API `api_id` (`adopted`: merged into).
pub async fn put_all(
    c: &Clients,
    api_id: &str,
    preflights: &[Preflight],
    adopted: bool,
) -> Result<(), AwsError> {
    if preflights.is_empty() {
        return Ok(());
    }
    let resources = resource_ids(c, api_id).await?;
    for preflight in preflights {
        let Some(id) = resources.get(&preflight.path) else {
            return Err(AwsError::Call {
                call: "apigateway:GetResources",
                message: format!(
                    "the API has no resource {} for its CORS preflight",
                    preflight.path
                ),
                help: "run the deploy again: it puts the definition, which makes the resource"
                    .into(),
            });
        };
        if adopted {
            delete_options(c, api_id, id).await?;
        }
        put(c, api_id, id, preflight).await?;
    }
    Ok(())
}

/// Deletes the `OPTIONS` method of resource `id`, if it has one.
async fn delete_options(c: &Clients, api_id: &str, id: &str) -> Result<(), AwsError> {
    c.pace.wait(Quota::ApiGateway).await;
    match c
        .apigw
        .delete_method()
        .rest_api_id(api_id)
        .resource_id(id)
        .http_method("OPTIONS")
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_not_found_exception()) =>
        {
            Ok(())
        }
        Err(e) => Err(fail::call(
            "apigateway:DeleteMethod",
            e.into_service_error(),
        )),
    }
}

/// The API's resource ids by path.
async fn resource_ids(c: &Clients, api_id: &str) -> Result<BTreeMap<String, String>, AwsError> {
    Ok(live_api::resources(c, api_id, false)
        .await?
        .iter()
        .filter_map(|r| Some((r.path()?.to_owned(), r.id()?.to_owned())))
        .collect())
}

async fn put(c: &Clients, api_id: &str, id: &str, p: &Preflight) -> Result<(), AwsError> {
    let method = || {
        c.apigw
            .put_method()
            .rest_api_id(api_id)
            .resource_id(id)
            .http_method("OPTIONS")
            .authorization_type("NONE")
            .send()
    };
    sent(c, "apigateway:PutMethod", method).await?;
    let declared: HashMap<String, bool> = p
        .headers
        .iter()
        .map(|h| (format!("method.response.header.{h}"), false))
        .collect();
    let method_response = || {
        c.apigw
            .put_method_response()
            .rest_api_id(api_id)
            .resource_id(id)
            .http_method("OPTIONS")
            .status_code("200")
            .set_response_parameters(Some(declared.clone()))
            .send()
    };
    sent(c, "apigateway:PutMethodResponse", method_response).await?;
    let integration = || {
        c.apigw
            .put_integration()
            .rest_api_id(api_id)
            .resource_id(id)
            .http_method("OPTIONS")
            .r#type(IntegrationType::Mock)
            .passthrough_behavior("WHEN_NO_MATCH")
            .request_templates(JSON, PREFLIGHT_REQUEST)
            .send()
    };
    sent(c, "apigateway:PutIntegration", integration).await?;
    let parameters: HashMap<String, String> = p
        .response_parameters
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let integration_response = || {
        let request = c
            .apigw
            .put_integration_response()
            .rest_api_id(api_id)
            .resource_id(id)
            .http_method("OPTIONS")
            .status_code("200")
            .set_response_parameters(Some(parameters.clone()));
        // Any origin needs no template (and moto answers an empty one with
        // a null the SDK cannot read).
        if p.template.is_empty() {
            request.send()
        } else {
            request.response_templates(JSON, &p.template).send()
        }
    };
    sent(c, "apigateway:PutIntegrationResponse", integration_response).await
}

/// Sends one PUT, again while API Gateway answers "concurrent
/// modification" (common right after `PutRestApi`; the SDK does not retry a
/// 409), a bounded number of times. Any other `ConflictException` says the
/// method or its response exists: this deploy's earlier attempt made it
/// (the definition's overwrite removed every older one) and its answer was
/// lost.
async fn sent<O, E, R, F, Fut>(c: &Clients, name: &'static str, call: F) -> Result<(), AwsError>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<O, SdkError<E, R>>>,
    E: ProvideErrorMetadata + CreateUnhandledError + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let mut attempt = 0;
    loop {
        c.pace.wait(Quota::ApiGateway).await;
        let err = match call().await {
            Ok(_) => return Ok(()),
            Err(e) => e.into_service_error(),
        };
        if err.code() != Some("ConflictException") {
            return Err(fail::call(name, err));
        }
        let busy = err
            .message()
            .is_some_and(|m| m.to_ascii_lowercase().contains("concurrent modification"));
        if !busy {
            return Ok(());
        }
        if attempt == CONFLICT_RETRIES {
            return Err(fail::call(name, err));
        }
        tokio::time::sleep(Duration::from_millis(500 << attempt)).await;
        attempt += 1;
    }
}

/// About 15 s of waiting in all.
const CONFLICT_RETRIES: u32 = 5;
