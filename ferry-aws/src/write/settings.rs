//! Settings writes outside a function's configuration and the API's
//! definition: a function's reserved concurrency, the stage's `UpdateStage`
//! patch (replace and remove operations), and API Gateway's account role.

use std::time::Duration;

use aws_sdk_apigateway::types::{Op, PatchOperation};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use ferry::deploy::stage_cache::StagePatch;

use crate::sdk::clients::Clients;
use crate::sdk::fail::{self, AwsError};
use crate::sdk::pace::Quota;
use crate::write::lambda_role::ROLE_TRIES;

/// Reserves `to` concurrent executions for `function`, or releases its
/// reservation (`None`). Both are idempotent.
pub async fn reserved_concurrency(
    c: &Clients,
    function: &str,
    to: Option<u32>,
) -> Result<(), AwsError> {
    let lambda = c.lambda_paced().await;
    match to {
        Some(n) => lambda
            .put_function_concurrency()
            .function_name(function)
            .reserved_concurrent_executions(n as i32)
            .send()
            .await
            .map(drop)
            .map_err(|e| fail::call("lambda:PutFunctionConcurrency", e.into_service_error())),
        None => lambda
            .delete_function_concurrency()
            .function_name(function)
            .send()
            .await
            .map(drop)
            .map_err(|e| fail::call("lambda:DeleteFunctionConcurrency", e.into_service_error())),
    }
}

/// Applies a stage's patch operations, in order, in calls of at most
/// [`OPS_PER_CALL`]: API Gateway refuses a larger one ("Update size too
/// large"). A run cut between calls leaves a part applied, which the next
/// plan finds and completes.
pub async fn update_stage(
    c: &Clients,
    api_id: &str,
    stage: &str,
    patch: &[StagePatch],
) -> Result<(), AwsError> {
    for part in patch.chunks(OPS_PER_CALL) {
        c.pace.wait(Quota::ApiGateway).await;
        let mut call = c.apigw.update_stage().rest_api_id(api_id).stage_name(stage);
        for p in part {
            let op = PatchOperation::builder().path(&p.path);
            call = call.patch_operations(if p.remove {
                op.op(Op::Remove).build()
            } else {
                op.op(Op::Replace).value(&p.value).build()
            });
        }
        call.send()
            .await
            .map_err(|e| fail::call("apigateway:UpdateStage", e.into_service_error()))?;
    }
    Ok(())
}

/// Patch operations per `UpdateStage` (the Serverless Framework's caching
/// and throttling plugins settled on 80 for the same limit).
pub const OPS_PER_CALL: usize = 80;

/// Sets the role API Gateway writes CloudWatch logs with. API Gateway
/// checks that it may assume the role, which a role made a moment ago may
/// not pass until IAM propagates it: for a role this deploy made
/// (`new_role`), that answer is retried, 2 s apart.
pub async fn account_role(c: &Clients, role: &str, new_role: bool) -> Result<(), AwsError> {
    let mut attempt = 1;
    loop {
        c.pace.wait(Quota::ApiGateway).await;
        let sent = c
            .apigw
            .update_account()
            .patch_operations(
                PatchOperation::builder()
                    .op(Op::Replace)
                    .path("/cloudwatchRoleArn")
                    .value(role)
                    .build(),
            )
            .send()
            .await;
        let err = match sent {
            Ok(_) => return Ok(()),
            Err(e) => e.into_service_error(),
        };
        let not_ready = err.code() == Some("BadRequestException")
            && err.message().is_some_and(|m| m.contains("role ARN"));
        if !new_role || !not_ready || attempt == ROLE_TRIES {
            return Err(AwsError::Call {
                call: "apigateway:UpdateAccount",
                message: format!("API Gateway refused the CloudWatch role {role}: {}", err.message().unwrap_or("no reason given")),
                help: "the role must trust apigateway.amazonaws.com and allow logs:CreateLogGroup, CreateLogStream, DescribeLogGroups, DescribeLogStreams, PutLogEvents (AWS's AmazonAPIGatewayPushToCloudWatchLogs policy); set `cloudwatch-role = \"managed\"` to let ferry make one".into(),
            });
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        attempt += 1;
    }
}
