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
    let out = c
        .cloudfront
        .delete_distribution()
        .id(id)
        .if_match(etag)
        .send()
        .await;
    fail::deleted("cloudfront:DeleteDistribution", out, "NoSuchDistribution")
}

pub async fn delete_api(c: &Clients, api_id: &str) -> Result<(), AwsError> {
    let out = c.apigw.delete_rest_api().rest_api_id(api_id).send().await;
    fail::deleted("apigateway:DeleteRestApi", out, "NotFoundException")
}

pub async fn delete_api_stage(c: &Clients, api_id: &str, stage: &str) -> Result<(), AwsError> {
    let out = c
        .apigw
        .delete_stage()
        .rest_api_id(api_id)
        .stage_name(stage)
        .send()
        .await;
    fail::deleted("apigateway:DeleteStage", out, "NotFoundException")
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
        fail::deleted("iam:DetachRolePolicy", out, NO_SUCH_ENTITY)?;
    }
    for policy in inline {
        let out = c
            .iam
            .delete_role_policy()
            .role_name(name)
            .policy_name(policy)
            .send()
            .await;
        fail::deleted("iam:DeleteRolePolicy", out, NO_SUCH_ENTITY)?;
    }
    let out = c.iam.delete_role().role_name(name).send().await;
    fail::deleted("iam:DeleteRole", out, NO_SUCH_ENTITY)
}

/// What IAM answers for a role or policy that is not there.
const NO_SUCH_ENTITY: &str = "NoSuchEntity";

pub async fn delete_log_group(c: &Clients, name: &str) -> Result<(), AwsError> {
    let out = c.logs.delete_log_group().log_group_name(name).send().await;
    fail::deleted("logs:DeleteLogGroup", out, "ResourceNotFoundException")
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
