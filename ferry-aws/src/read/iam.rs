//! IAM reads: whether a role exists, whether it holds the managed policies
//! ferry attaches to it, and a service role's own policy.

use ferry::deploy::roles::{LiveRole, PERMISSIONS_POLICY};

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
    let attached = attached_policies(c, name).await?;
    Ok(wanted.iter().all(|w| attached.contains(w)))
}

/// The ARNs of the managed policies attached to the role.
pub async fn attached_policies(c: &Clients, name: &str) -> Result<Vec<String>, AwsError> {
    let out = c
        .iam
        .list_attached_role_policies()
        .role_name(name)
        .send()
        .await
        .map_err(|e| fail::call("iam:ListAttachedRolePolicies", e.into_service_error()))?;
    Ok(out
        .attached_policies()
        .iter()
        .filter_map(|p| p.policy_arn().map(str::to_owned))
        .collect())
}

/// A service role as IAM has it (`None`: no such role): its attached
/// policies and ferry's inline policy, URL-decoded. A role of that name at
/// another `path` is someone else's, and an error: names are unique in the
/// account whatever the path.
pub async fn service_role(
    c: &Clients,
    name: &str,
    path: &str,
) -> Result<Option<LiveRole>, AwsError> {
    let found = match c.iam.get_role().role_name(name).send().await {
        Ok(out) => out.role().map(|r| r.path().to_owned()).unwrap_or_default(),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_no_such_entity_exception()) =>
        {
            return Ok(None)
        }
        Err(e) => return Err(fail::call("iam:GetRole", e.into_service_error())),
    };
    if found != path {
        return Err(AwsError::ForeignRole {
            role: name.to_owned(),
            found,
            expected: path.to_owned(),
        });
    }
    let attached = attached_policies(c, name).await?;
    let policy = c
        .iam
        .get_role_policy()
        .role_name(name)
        .policy_name(PERMISSIONS_POLICY)
        .send()
        .await;
    let permissions = match policy {
        Ok(out) => Some(decoded(out.policy_document())),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_no_such_entity_exception()) =>
        {
            None
        }
        Err(e) => return Err(fail::call("iam:GetRolePolicy", e.into_service_error())),
    };
    Ok(Some(LiveRole {
        attached,
        permissions,
    }))
}

/// IAM returns policy documents URL-encoded (RFC 3986); a document that is
/// not (moto's) decodes to itself, as JSON policies hold no `%`.
fn decoded(document: &str) -> String {
    percent_encoding::percent_decode_str(document)
        .decode_utf8_lossy()
        .into_owned()
}

/// The service roles under `path` (a stage's, `/ferry/APP/STAGE/`), by name.
pub async fn roles_under(c: &Clients, path: &str) -> Result<Vec<String>, AwsError> {
    let mut names = Vec::new();
    let mut pages = c.iam.list_roles().path_prefix(path).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| fail::call("iam:ListRoles", e.into_service_error()))?;
        names.extend(page.roles().iter().map(|r| r.role_name().to_owned()));
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    #[test]
    fn documents_are_url_decoded() {
        assert_eq!(
            super::decoded("%7B%22Version%22%3A%222012-10-17%22%7D"),
            r#"{"Version":"2012-10-17"}"#
        );
        assert_eq!(super::decoded(r#"{"a":1}"#), r#"{"a":1}"#);
    }
}
