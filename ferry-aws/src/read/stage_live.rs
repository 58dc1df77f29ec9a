//! Reads what a stage's own settings are compared with: the stage's
//! tracing, throttles and access log (from its `GetStage` answer), the
//! API's stages, API Gateway's account role, and the access-log group;
//! and a function's reserved concurrency, kept outside its configuration.

use std::collections::BTreeMap;

use aws_sdk_apigateway::operation::get_stage::GetStageOutput;
use ferry::deploy::action::APIGW_LOGS_POLICY;
use ferry::deploy::stage_checks::StageSettingsError::NoCloudWatchRole;
use ferry::deploy::stage_settings::{self, AccessLogState, StageSettingsState, STAGE_KEY};
use ferry::deploy::{ApiGatewayAccount, Desired};
use ferry::model::stage_api::{CloudWatchRole, Throttle, MANAGED_CLOUDWATCH_ROLE};
use ferry::model::Stage;

use crate::sdk::clients::Clients;
use crate::sdk::fail::{self, AwsError};

/// The stage's own settings from its `GetStage` answer. A throttle of `-1`
/// (API Gateway's "not set") reads as none.
pub fn settings_of(stage: &GetStageOutput) -> StageSettingsState {
    let throttle = |m: &aws_sdk_apigateway::types::MethodSetting| {
        let (rate, burst) = (m.throttling_rate_limit(), m.throttling_burst_limit());
        (rate >= 0.0 && burst >= 0).then(|| Throttle {
            rate: rate.round() as u32,
            burst: burst as u32,
        })
    };
    let settings = stage.method_settings().into_iter().flatten();
    let mut state = StageSettingsState {
        tracing: stage.tracing_enabled(),
        ..StageSettingsState::default()
    };
    for (key, method) in settings {
        if key == STAGE_KEY {
            state.throttle = throttle(method);
        } else {
            state.methods.insert(key.clone(), throttle(method));
        }
    }
    state.access_log = stage.access_log_settings().and_then(|l| {
        Some(AccessLogState {
            destination: l.destination_arn()?.to_owned(),
            format: l.format().unwrap_or_default().to_owned(),
        })
    });
    state
}

/// The names of API `id`'s stages.
pub async fn stages(c: &Clients, id: &str) -> Result<Vec<String>, AwsError> {
    let out = c
        .apigw
        .get_stages()
        .rest_api_id(id)
        .send()
        .await
        .map_err(|e| fail::call("apigateway:GetStages", e.into_service_error()))?;
    let mut names: Vec<String> = out
        .item()
        .iter()
        .filter_map(|s| s.stage_name().map(str::to_owned))
        .collect();
    names.sort();
    Ok(names)
}

/// API Gateway's account role, read when the stage keeps access logs
/// (and whether ferry's own role exists, when none is set and ferry may
/// make it).
pub async fn apigw_account(
    c: &Clients,
    desired: &Desired,
) -> Result<Option<ApiGatewayAccount>, AwsError> {
    let Some(log) = &desired.api.access_log else {
        return Ok(None);
    };
    let cloudwatch_role = account_role(c).await?;
    let managed_role_exists = cloudwatch_role.is_none()
        && log.cloudwatch_role == CloudWatchRole::Managed
        && super::iam::role_complete(c, MANAGED_CLOUDWATCH_ROLE, &[APIGW_LOGS_POLICY.into()])
            .await?;
    Ok(Some(ApiGatewayAccount {
        cloudwatch_role,
        managed_role_exists,
    }))
}

/// The role API Gateway logs with in this account and region, if set.
async fn account_role(c: &Clients) -> Result<Option<String>, AwsError> {
    let account = c
        .apigw
        .get_account()
        .send()
        .await
        .map_err(|e| fail::call("apigateway:GetAccount", e.into_service_error()))?;
    Ok(account
        .cloudwatch_role_arn()
        .filter(|r| !r.is_empty())
        .map(str::to_owned))
}

/// Before the build: a stage whose access log needs the account's role
/// set by someone else stops here when none is set.
pub async fn preflight(c: &Clients, stage: &Stage) -> Result<(), AwsError> {
    let required = stage
        .api
        .access_log
        .as_ref()
        .is_some_and(|l| l.cloudwatch_role == CloudWatchRole::Required);
    if !required {
        return Ok(());
    }
    if account_role(c).await?.is_some() {
        return Ok(());
    }
    Err(NoCloudWatchRole {
        stage: stage.name.clone(),
        region: stage.region.clone(),
    }
    .into())
}

/// The stage's access-log group with its retention, when it keeps one
/// and the group exists.
pub async fn access_log_group(
    c: &Clients,
    desired: &Desired,
) -> Result<BTreeMap<String, Option<u32>>, AwsError> {
    if desired.api.access_log.is_none() {
        return Ok(BTreeMap::new());
    }
    let name = stage_settings::access_log_group(desired);
    Ok(log_group(c, &name)
        .await?
        .map(|days| (name, days))
        .into_iter()
        .collect())
}

/// The retention of the log group named `name` (`Some(None)`: it never
/// expires), if it exists.
pub async fn log_group(c: &Clients, name: &str) -> Result<Option<Option<u32>>, AwsError> {
    let groups = c
        .logs
        .describe_log_groups()
        .log_group_name_prefix(name)
        .send()
        .await
        .map_err(|e| fail::call("logs:DescribeLogGroups", e.into_service_error()))?;
    Ok(groups
        .log_groups()
        .iter()
        .find(|g| g.log_group_name() == Some(name))
        .map(|g| g.retention_in_days().map(|d| d.max(0) as u32)))
}

/// The function's reserved concurrency, if it has one.
pub async fn reserved_concurrency(c: &Clients, function: &str) -> Result<Option<u32>, AwsError> {
    let out = c
        .lambda_paced()
        .await
        .get_function_concurrency()
        .function_name(function)
        .send()
        .await
        .map_err(|e| fail::call("lambda:GetFunctionConcurrency", e.into_service_error()))?;
    Ok(out
        .reserved_concurrent_executions()
        .map(|n| n.max(0) as u32))
}
