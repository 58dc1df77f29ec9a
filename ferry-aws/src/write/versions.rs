//! The writes of a release: publishing a function version, moving the
//! stage's alias, pointing the API stage at a deployment (a rollback), and
//! recording the release in SSM. Each recognises its own effect when a
//! retry meets it: Lambda answers a repeated publish with the version it
//! made, an alias that exists is updated instead, and the parameters are
//! overwritten with the same value.

use aws_sdk_apigateway::types::{Op, PatchOperation};
use aws_sdk_lambda::types::AliasRoutingConfiguration;
use aws_sdk_ssm::types::{ParameterTier, ParameterType};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use ferry::deploy::canary::CanaryRecord;
use ferry::deploy::record::Release;
use ferry::deploy::release::recorded_digest;

use crate::sdk::clients::Clients;
use crate::sdk::fail::{self, AwsError};
use crate::sdk::once;

/// Publishes `$LATEST` (which must still hold `code_sha256`) and returns the
/// version number: a new one, or the newest when nothing changed since it.
pub async fn publish(
    c: &Clients,
    function: &str,
    code_sha256: &str,
    description: &str,
) -> Result<String, AwsError> {
    let publish = || async {
        let out = c
            .lambda_paced()
            .await
            .publish_version()
            .function_name(function)
            .code_sha256(code_sha256)
            .description(description)
            .customize()
            .config_override(once::lambda_single())
            .send()
            .await?;
        Ok(out.version().unwrap_or_default().to_owned())
    };
    let published = || async { newest_holding(c, function, code_sha256, description).await };
    once::write("lambda:PublishVersion", &c.credentials, publish, published).await
}

/// The newest version of `function` with this code and digest, if any.
async fn newest_holding(
    c: &Clients,
    function: &str,
    code_sha256: &str,
    description: &str,
) -> Result<Option<String>, AwsError> {
    let versions = crate::read::stage_versions::versions_of(c, function).await?;
    Ok(versions
        .iter()
        .filter(|v| v.version().is_some_and(|n| n != "$LATEST"))
        .filter(|v| v.code_sha256() == Some(code_sha256))
        .filter(|v| {
            recorded_digest(v.description().unwrap_or_default()) == recorded_digest(description)
        })
        .filter_map(|v| v.version()?.parse::<u64>().ok())
        .max()
        .map(|n| n.to_string()))
}

/// Where an alias points: its version, with a canary's weighted one.
pub struct Target<'a> {
    pub version: &'a str,
    /// The additional version and the percent of traffic it takes.
    pub weighted: Option<(&'a str, u8)>,
    pub description: &'a str,
}

/// Points the stage's alias at `to`, creating it when it does not exist (or
/// updating it when a create meets the one a lost answer made). The routing
/// configuration is always sent: UpdateAlias without one keeps the old
/// weights, so a move that ends a canary sends an empty one.
pub async fn point_alias(
    c: &Clients,
    function: &str,
    alias: &str,
    to: Target<'_>,
    exists: bool,
) -> Result<(), AwsError> {
    let routing = AliasRoutingConfiguration::builder()
        .set_additional_version_weights(Some(
            to.weighted
                .map(|(v, pct)| (v.to_owned(), f64::from(pct) / 100.0))
                .into_iter()
                .collect(),
        ))
        .build();
    let update = || async {
        c.lambda_paced()
            .await
            .update_alias()
            .function_name(function)
            .name(alias)
            .function_version(to.version)
            .description(to.description)
            .routing_config(routing.clone())
            .send()
            .await
    };
    let create = || async {
        c.lambda_paced()
            .await
            .create_alias()
            .function_name(function)
            .name(alias)
            .function_version(to.version)
            .description(to.description)
            .routing_config(routing.clone())
            .send()
            .await
    };
    if exists {
        match update().await {
            Ok(_) => return Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) => {}
            Err(e) => return Err(fail::call("lambda:UpdateAlias", e.into_service_error())),
        }
    }
    match create().await {
        Ok(_) => Ok(()),
        // AWS answers ResourceConflictException; moto says ConflictException.
        Err(e)
            if e.as_service_error().is_some_and(|e| {
                e.is_resource_conflict_exception() || e.code() == Some("ConflictException")
            }) =>
        {
            update()
                .await
                .map(|_| ())
                .map_err(|e| fail::call("lambda:UpdateAlias", e.into_service_error()))
        }
        Err(e) => Err(fail::call("lambda:CreateAlias", e.into_service_error())),
    }
}

/// Records the canary in progress (overwriting one a cut deploy left).
pub async fn start_canary(
    c: &Clients,
    parameter: &str,
    record: &CanaryRecord,
) -> Result<(), AwsError> {
    let value = json("the canary record", record)?;
    let about = "ferry: a canary in progress; `cargo xtask deploy` completes it, `cargo xtask rollback` reverts it";
    put_json(c, parameter, about, &value).await
}

/// Forgets the canary (one already gone is fine: a rerun converges).
pub async fn end_canary(c: &Clients, parameter: &str) -> Result<(), AwsError> {
    let out = c.ssm.delete_parameter().name(parameter).send().await;
    fail::deleted("ssm:DeleteParameter", out, "ParameterNotFound")
}

/// Deletes one version (one already gone is fine: a rerun converges).
/// Lambda refuses a version an alias serves; `prune` never plans one.
pub async fn delete(c: &Clients, function: &str, version: &str) -> Result<(), AwsError> {
    let out = c
        .lambda_paced()
        .await
        .delete_function()
        .function_name(function)
        .qualifier(version)
        .send()
        .await;
    fail::deleted("lambda:DeleteFunction", out, "ResourceNotFoundException")
}

/// Makes the API stage serve `deployment`.
pub async fn set_stage_deployment(
    c: &Clients,
    api_id: &str,
    stage: &str,
    deployment: &str,
) -> Result<(), AwsError> {
    c.apigw
        .update_stage()
        .rest_api_id(api_id)
        .stage_name(stage)
        .patch_operations(
            PatchOperation::builder()
                .op(Op::Replace)
                .path("/deploymentId")
                .value(deployment)
                .build(),
        )
        .send()
        .await
        .map_err(|e| fail::call("apigateway:UpdateStage", e.into_service_error()))?;
    Ok(())
}

/// Writes the release under its own name, then as the stage's current one.
pub async fn record(
    c: &Clients,
    parameter: &str,
    current: &str,
    release: &Release,
) -> Result<(), AwsError> {
    let value = json("the release record", release)?;
    let about = format!(
        "ferry release {} of this stage; `cargo xtask releases` lists them",
        release.number
    );
    for name in [parameter, current] {
        put_json(c, name, &about, &value).await?;
    }
    Ok(())
}

/// One of ferry's records as the JSON its parameter holds.
fn json(what: &str, value: &impl serde::Serialize) -> Result<String, AwsError> {
    serde_json::to_string(value).map_err(|e| AwsError::Call {
        call: "ssm:PutParameter",
        message: format!("{what} cannot be written: {e}"),
        help: "this is a bug in ferry".into(),
    })
}

/// Writes (or overwrites) one of ferry's JSON records in SSM.
async fn put_json(c: &Clients, name: &str, about: &str, value: &str) -> Result<(), AwsError> {
    c.ssm
        .put_parameter()
        .name(name)
        .description(about)
        .value(value)
        .r#type(ParameterType::String)
        .tier(ParameterTier::IntelligentTiering)
        .overwrite(true)
        .send()
        .await
        .map_err(|e| fail::call("ssm:PutParameter", e.into_service_error()))?;
    Ok(())
}
