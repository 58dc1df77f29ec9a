//! The deletions of `destroy`. Each one treats "already gone" as done: a
//! retry after a lost answer, or a second destroy after an interrupted one,
//! meets its own earlier effect and goes on.

use std::time::Duration;

use crate::read::wait::{self, Poll};
use crate::sdk::clients::Clients;
use crate::sdk::fail::{self, AwsError};

/// How long a disabled distribution may take to deploy before it can be
/// deleted (CloudFront takes minutes; a rerun of destroy picks it up). Well
/// inside the stage lock's 30 minutes, which destroy holds meanwhile.
const DISTRIBUTION_DEPLOYED_WITHIN: Duration = Duration::from_secs(15 * 60);

/// Waits until the disabled distribution's change has deployed, then
/// deletes it with its current ETag.
pub async fn delete_distribution(c: &Clients, id: &str) -> Result<(), AwsError> {
    let what = format!("CloudFront distribution {id} to finish disabling");
    let etag = wait::until(&what, DISTRIBUTION_DEPLOYED_WITHIN, || async {
        match c.cloudfront.get_distribution().id(id).send().await {
            Ok(out) => {
                let status = out.distribution().map(|d| d.status()).unwrap_or_default();
                if status == "Deployed" {
                    Ok(Poll::Done(out.e_tag().map(str::to_owned)))
                } else {
                    Ok(Poll::Pending(status.to_owned()))
                }
            }
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_no_such_distribution()) =>
            {
                Ok(Poll::Done(None))
            }
            Err(e) => Err(fail::call(
                "cloudfront:GetDistribution",
                e.into_service_error(),
            )),
        }
    })
    .await?;
    let Some(etag) = etag else {
        return Ok(());
    };
    match c
        .cloudfront
        .delete_distribution()
        .id(id)
        .if_match(etag)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_no_such_distribution()) =>
        {
            Ok(())
        }
        Err(e) => Err(fail::call(
            "cloudfront:DeleteDistribution",
            e.into_service_error(),
        )),
    }
}

pub async fn delete_api(c: &Clients, api_id: &str) -> Result<(), AwsError> {
    match c.apigw.delete_rest_api().rest_api_id(api_id).send().await {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_not_found_exception()) =>
        {
            Ok(())
        }
        Err(e) => Err(fail::call(
            "apigateway:DeleteRestApi",
            e.into_service_error(),
        )),
    }
}

pub async fn delete_api_stage(c: &Clients, api_id: &str, stage: &str) -> Result<(), AwsError> {
    let out = c
        .apigw
        .delete_stage()
        .rest_api_id(api_id)
        .stage_name(stage)
        .send()
        .await;
    match out {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_not_found_exception()) =>
        {
            Ok(())
        }
        Err(e) => Err(fail::call("apigateway:DeleteStage", e.into_service_error())),
    }
}

/// Lambda answers success for a version that does not exist.
pub async fn delete_layer_version(c: &Clients, layer: &str, version: u64) -> Result<(), AwsError> {
    c.lambda_paced()
        .await
        .delete_layer_version()
        .layer_name(layer)
        .version_number(version as i64)
        .send()
        .await
        .map_err(|e| fail::call("lambda:DeleteLayerVersion", e.into_service_error()))?;
    Ok(())
}

/// Detaches `attached`, deletes the `inline` policies, then the role.
pub async fn delete_role(
    c: &Clients,
    name: &str,
    attached: &[String],
    inline: &[String],
) -> Result<(), AwsError> {
    for arn in attached {
        let out = c
            .iam
            .detach_role_policy()
            .role_name(name)
            .policy_arn(arn)
            .send()
            .await;
        if let Err(e) = out {
            if !gone(&e) {
                return Err(fail::call("iam:DetachRolePolicy", e.into_service_error()));
            }
        }
    }
    for policy in inline {
        let out = c
            .iam
            .delete_role_policy()
            .role_name(name)
            .policy_name(policy)
            .send()
            .await;
        if let Err(e) = out {
            if !gone(&e) {
                return Err(fail::call("iam:DeleteRolePolicy", e.into_service_error()));
            }
        }
    }
    match c.iam.delete_role().role_name(name).send().await {
        Ok(_) => Ok(()),
        Err(e) if gone(&e) => Ok(()),
        Err(e) => Err(fail::call("iam:DeleteRole", e.into_service_error())),
    }
}

/// Whether IAM answered that the role or policy is not there.
fn gone<E, R>(e: &aws_sdk_iam::error::SdkError<E, R>) -> bool
where
    E: aws_sdk_iam::error::ProvideErrorMetadata,
{
    e.as_service_error().and_then(|s| s.code()) == Some("NoSuchEntity")
}

pub async fn delete_log_group(c: &Clients, name: &str) -> Result<(), AwsError> {
    match c.logs.delete_log_group().log_group_name(name).send().await {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception()) =>
        {
            Ok(())
        }
        Err(e) => Err(fail::call("logs:DeleteLogGroup", e.into_service_error())),
    }
}

/// SSM deletes at most ten parameters per call and lists the missing ones
/// as invalid instead of failing.
pub async fn delete_parameters(c: &Clients, names: &[String]) -> Result<(), AwsError> {
    for chunk in names.chunks(10) {
        c.ssm
            .delete_parameters()
            .set_names(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(|e| fail::call("ssm:DeleteParameters", e.into_service_error()))?;
    }
    Ok(())
}
