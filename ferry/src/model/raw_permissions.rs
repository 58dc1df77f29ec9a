//! The raw TOML schema of a service's AWS permissions as users write them:
//! `[[package.metadata.ferry.permissions]]`, one table per IAM statement;
//! spans kept, nothing checked. `permissions.rs` checks them.

use schemars::JsonSchema;
use serde::Deserialize;
use toml::Spanned;

/// One statement of the service's own role: it may call `actions` on
/// `resources`. `${app}`, `${stage}`, `${region}` and `${account}` in a
/// resource are replaced by the stage's values.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawPermission {
    /// IAM actions, `service:Action` (`dynamodb:GetItem`); a `*` or `?`
    /// wildcard may end an action's name (`s3:Get*`).
    #[schemars(with = "Vec<String>", length(min = 1))]
    pub actions: Option<Spanned<Vec<Spanned<String>>>>,
    /// Resource ARNs (`arn:aws:dynamodb:${region}:${account}:table/${app}-${stage}-items`),
    /// or `"*"` for actions that take no resource.
    #[schemars(with = "Vec<String>", length(min = 1))]
    pub resources: Option<Spanned<Vec<Spanned<String>>>>,
}
