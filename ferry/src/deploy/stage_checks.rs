//! The checks of a stage's own settings against live state: what stops a
//! deploy before it writes (a new stage past the stages-per-API quota,
//! access logs without API Gateway's account role), and `doctor`'s link.

use super::stage_settings::wanted;
use super::state::{Desired, Live};
use crate::model::stage_api::{CloudWatchRole, MANAGED_CLOUDWATCH_ROLE};

/// `doctor`'s judgement of the stage's own settings (and the account role
/// its access log needs), when the stage sets any: what is off, or what
/// holds.
pub fn doctor(desired: &Desired, live: &Live) -> Option<(Vec<String>, String)> {
    let api = live.api.as_ref()?;
    let to = wanted(desired, &live.account_id, api.stage_settings.methods.keys());
    if !to.is_set() && !api.stage_settings.is_set() {
        return None;
    }
    let mut broken = api.stage_settings.differences(&to);
    if let Some(account) = &live.apigw_account {
        if account.cloudwatch_role.is_none() {
            broken.push(format!(
                "API Gateway has no CloudWatch role in {}: no access log is written",
                desired.region
            ));
        }
    }
    Some((broken, to.to_string()))
}

/// Why a stage cannot be deployed as it is, found from live state before
/// anything is written.
#[derive(Debug, thiserror::Error, miette::Diagnostic, PartialEq, Eq)]
pub enum StageSettingsError {
    #[error("access logs of stage `{stage}` need API Gateway's CloudWatch role, and none is set for this account in {region}")]
    #[diagnostic(help("set `cloudwatch-role = \"managed\"` in [stages.{stage}.api.access-log] to let ferry create `{MANAGED_CLOUDWATCH_ROLE}` and set it, give a role ARN there, or set one in API Gateway's settings"))]
    NoCloudWatchRole { stage: String, region: String },
    #[error("REST API `{api}` has {count} stages already; a new stage `{stage}` would pass the quota of {quota} per API")]
    #[diagnostic(help("delete a stage you no longer use (`cargo xtask destroy --stage NAME`), give this stage its own API (`[stages.{stage}.api] name`), or, if AWS raised your quota, set `[stages.{stage}.api.quotas] stages = N`"))]
    TooManyStages {
        api: String,
        stage: String,
        count: usize,
        quota: u32,
    },
}

/// What API Gateway would refuse of this stage given live state: a new
/// stage past the quota, access logs without the account's role.
pub fn check_live(desired: &Desired, live: &Live) -> Result<(), StageSettingsError> {
    if let Some(api) = &live.api {
        let count = api.stages.len();
        let quota = desired.api.quotas.stages;
        if !api.stages.contains(&desired.stage) && count >= quota as usize {
            return Err(StageSettingsError::TooManyStages {
                api: desired.api.name.clone(),
                stage: desired.stage.clone(),
                count,
                quota,
            });
        }
    }
    let required = desired
        .api
        .access_log
        .as_ref()
        .is_some_and(|l| l.cloudwatch_role == CloudWatchRole::Required);
    let unset = live
        .apigw_account
        .as_ref()
        .is_some_and(|a| a.cloudwatch_role.is_none());
    if required && unset {
        return Err(StageSettingsError::NoCloudWatchRole {
            stage: desired.stage.clone(),
            region: desired.region.clone(),
        });
    }
    Ok(())
}
