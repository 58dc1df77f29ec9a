//! IAM reads: whether a role exists, and whether it holds the managed
//! policies ferry attaches to it.

use crate::sdk::clients::Clients;
use crate::sdk::fail::{self, AwsError};

/// Whether IAM has a role named `name`.
pub async fn role_exists(c: &Clients, name: &str) -> Result<bool, AwsError> {
    match c.iam.get_role().role_name(name).send().await {
        Ok(_) => Ok(true),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_no_such_entity_exception()) =>
        {
            Ok(false)
        }
        Err(e) => Err(fail::call("iam:GetRole", e.into_service_error())),
    }
}

/// Whether the role exists with every policy in `wanted` attached: a role
/// ferry manages is complete only so (a deploy cut between CreateRole and
/// AttachRolePolicy leaves it without), and its CreateRole completes it.
pub async fn role_complete(c: &Clients, name: &str, wanted: &[String]) -> Result<bool, AwsError> {
    Ok(role_exists(c, name).await? && role_has_policies(c, name, wanted).await?)
}

/// Whether every policy in `wanted` is attached to the role.
async fn role_has_policies(c: &Clients, name: &str, wanted: &[String]) -> Result<bool, AwsError> {
    let out = c
        .iam
        .list_attached_role_policies()
        .role_name(name)
        .send()
        .await
        .map_err(|e| fail::call("iam:ListAttachedRolePolicies", e.into_service_error()))?;
    let attached: Vec<&str> = out
        .attached_policies()
        .iter()
        .filter_map(|p| p.policy_arn())
        .collect();
    Ok(wanted.iter().all(|w| attached.contains(&w.as_str())))
}
