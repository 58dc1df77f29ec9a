//! The writes to one Lambda function: create it, update its code or its
//! configuration (each with the RevisionId read before it, then waiting for
//! it to settle), and give API Gateway its invoke permission. Each
//! recognises its own effect when the SDK retried it after a lost answer.

use std::time::Duration;

use aws_sdk_lambda::types::{FunctionCode, Runtime};
use ferry::deploy::plan::{invoke_source_arn, INVOKE_STATEMENT_ID};
use ferry::model::Arch;

use crate::apply::{architecture, function, layer_arns, read_zip, revision, settle, Ctx};
use crate::execute::{current_api, environment};
use crate::fail::{self, AwsError};
use crate::{landed, once};

pub async fn create(ctx: &Ctx<'_>, name: &str) -> Result<Option<String>, AwsError> {
    let c = ctx.c;
    let desired = ctx.desired;
    let f = function(ctx, name);
    let zip = read_zip(ctx, &f.zip).await?;
    let role = desired.role.arn(&ctx.account);
    let request = c
        .lambda_paced()
        .await
        .create_function()
        .function_name(name)
        .runtime(Runtime::from(f.runtime.as_str()))
        .handler("bootstrap")
        .role(&role)
        .code(FunctionCode::builder().zip_file(zip).build())
        .architectures(architecture(f.arch))
        .memory_size(f.memory_mb as i32)
        .timeout(f.timeout_s as i32)
        .environment(environment(&f.env))
        .set_layers(Some(layer_arns(ctx, f)))
        .set_tags(Some(f.tags.clone().into_iter().collect()));
    // A role created a moment ago may not be assumable yet (IAM is
    // eventually consistent): Lambda says so, and a retry succeeds.
    let mut tries = 0;
    let arn = loop {
        match request.clone().send().await {
            Ok(out) => break out.function_arn().map(str::to_owned),
            Err(e) => {
                let e = e.into_service_error();
                // The SDK's retry of a create whose answer was lost
                // finds the function that create made.
                if e.is_resource_conflict_exception() {
                    if let Some(arn) = landed::code(c, name, &f.code_sha256).await? {
                        break Some(arn);
                    }
                }
                let retry = e.is_invalid_parameter_value_exception()
                    && e.to_string().contains("cannot be assumed")
                    || e.meta()
                        .message()
                        .is_some_and(|m| m.contains("cannot be assumed"));
                if retry && tries < 10 {
                    tries += 1;
                    tokio::time::sleep(Duration::from_secs(2)).await;
                    continue;
                }
                if e.is_invalid_parameter_value_exception()
                    && e.meta().message().is_some_and(|m| m.contains("role"))
                {
                    return Err(AwsError::Role {
                        role,
                        why: e.meta().message().unwrap_or_default().to_owned(),
                    });
                }
                return Err(fail::call("lambda:CreateFunction", e));
            }
        }
    };
    settle(ctx, name).await?;
    Ok(arn)
}

pub async fn update_code(
    ctx: &Ctx<'_>,
    name: &str,
    arch: &Arch,
) -> Result<Option<String>, AwsError> {
    let c = ctx.c;
    let f = function(ctx, name);
    let zip = read_zip(ctx, &f.zip).await?;
    let updated = c
        .lambda_paced()
        .await
        .update_function_code()
        .function_name(name)
        .zip_file(zip)
        // The architecture travels with the code: Lambda takes it nowhere else.
        .architectures(architecture(*arch))
        .set_revision_id(revision(ctx, name))
        .send()
        .await;
    if let Err(e) = updated {
        let e = e.into_service_error();
        // A retry whose first attempt landed finds a new RevisionId.
        let landed = e.is_precondition_failed_exception()
            && landed::code(c, name, &f.code_sha256).await?.is_some();
        if !landed {
            return Err(fail::call("lambda:UpdateFunctionCode", e));
        }
    }
    settle(ctx, name).await?;
    Ok(None)
}

pub async fn update_configuration(ctx: &Ctx<'_>, name: &str) -> Result<Option<String>, AwsError> {
    let c = ctx.c;
    let desired = ctx.desired;
    let f = function(ctx, name);
    let (role, layers) = (desired.role.arn(&ctx.account), layer_arns(ctx, f));
    let updated = c
        .lambda_paced()
        .await
        .update_function_configuration()
        .function_name(name)
        .runtime(Runtime::from(f.runtime.as_str()))
        .handler("bootstrap")
        .role(&role)
        .memory_size(f.memory_mb as i32)
        .timeout(f.timeout_s as i32)
        .environment(environment(&f.env))
        .set_layers(Some(layers.clone()))
        .set_revision_id(revision(ctx, name))
        .send()
        .await;
    if let Err(e) = updated {
        let e = e.into_service_error();
        // A retry whose first attempt landed finds a new RevisionId.
        let landed = e.is_precondition_failed_exception()
            && landed::configuration(c, f, &role, &layers).await?;
        if !landed {
            return Err(fail::call("lambda:UpdateFunctionConfiguration", e));
        }
    }
    settle(ctx, name).await?;
    Ok(None)
}

pub async fn add_permission(
    ctx: &Ctx<'_>,
    name: &str,
    replace: &bool,
) -> Result<Option<String>, AwsError> {
    let c = ctx.c;
    let desired = ctx.desired;
    let api = current_api(ctx);
    if *replace {
        match c
            .lambda_paced()
            .await
            .remove_permission()
            .function_name(name)
            .statement_id(INVOKE_STATEMENT_ID)
            .send()
            .await
        {
            Ok(_) => {}
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) => {}
            Err(e) => {
                return Err(fail::call(
                    "lambda:RemovePermission",
                    e.into_service_error(),
                ))
            }
        }
    }
    let source = invoke_source_arn(&desired.region, &ctx.account, &api);
    // One attempt at a time: a repeated add after a lost answer meets the
    // statement it made (AWS refuses the Sid; an emulator may add it twice).
    let add = || async {
        c.lambda_paced()
            .await
            .add_permission()
            .function_name(name)
            .statement_id(INVOKE_STATEMENT_ID)
            .action("lambda:InvokeFunction")
            .principal("apigateway.amazonaws.com")
            .source_arn(&source)
            .customize()
            .config_override(once::lambda_single())
            .send()
            .await
            .map(|_| ())
    };
    let added = || async {
        let current = crate::live::permission_source(c, name).await?;
        Ok((current.as_deref() == Some(source.as_str())).then_some(()))
    };
    once::write("lambda:AddPermission", add, added).await?;
    Ok(None)
}
