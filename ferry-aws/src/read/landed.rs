//! Did a write already happen? After a write's answer is lost, the SDK's
//! retry meets the write's own effect: a create finds the function it made
//! (`ResourceConflictException`), an update finds the RevisionId it moved
//! (`PreconditionFailedException`). These reads tell such a retry apart from
//! someone else's change, so that the first is success and the second stays
//! an error.

use aws_sdk_lambda::types::FunctionConfiguration;

use crate::sdk::clients::Clients;
use crate::sdk::fail::{self, AwsError};

/// The function's configuration by GetFunction.
pub(crate) async fn configuration_of(
    c: &Clients,
    function: &str,
) -> Result<Option<FunctionConfiguration>, AwsError> {
    // GetFunction is outside Lambda's control-plane quota.
    let out = c
        .lambda
        .get_function()
        .function_name(function)
        .send()
        .await
        .map_err(|e| fail::call("lambda:GetFunction", e.into_service_error()))?;
    Ok(out.configuration().cloned())
}

/// The function's ARN when it runs the zip with `code_sha256`.
pub async fn code(
    c: &Clients,
    function: &str,
    code_sha256: &str,
) -> Result<Option<String>, AwsError> {
    Ok(configuration_of(c, function)
        .await?
        .filter(|f| f.code_sha256() == Some(code_sha256))
        .and_then(|f| f.function_arn().map(str::to_owned)))
}

/// Whether the function's configuration already passes `wanted`.
pub async fn configuration(
    c: &Clients,
    function: &str,
    wanted: impl Fn(&FunctionConfiguration) -> bool,
) -> Result<bool, AwsError> {
    Ok(configuration_of(c, function)
        .await?
        .is_some_and(|f| wanted(&f)))
}
