//! The raw TOML schema of authorizers as users write them: a crate's
//! `[package.metadata.ferry.authorizer]` (it is a Lambda authorizer), a
//! service's `auth` (which authorizer guards its routes), and a stage's
//! `[stages.NAME.authorizers.NAME]` (a Cognito user pool authorizer). Spans
//! kept, nothing checked; `auth.rs` checks them.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;
use toml::Spanned;

use super::auth::AuthorizerType;

/// `[package.metadata.ferry.authorizer]`: this crate is a Lambda authorizer
/// of the API: packed, versioned and deployed like a service, invocable
/// only by the stage's API, and serving no route of its own.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawAuthorizer {
    /// `"request"` (the function sees the request's headers, query, path and
    /// stage) or `"token"` (it sees one header's value). Default: `"request"`.
    #[serde(rename = "type")]
    #[schemars(with = "Option<AuthorizerType>")]
    pub kind: Option<Spanned<AuthorizerType>>,
    /// Where the caller's identity is, each `header:NAME`, `query:NAME` or
    /// `context:PATH` (a `$context` variable, e.g. `identity.sourceIp`); a `token`
    /// authorizer takes exactly one `header:`. A request without them is
    /// refused with 401 before the function runs, and they are the cache
    /// key. Default: `["header:Authorization"]`.
    #[schemars(with = "Option<Vec<String>>")]
    pub identity_sources: Option<Spanned<Vec<Spanned<String>>>>,
    /// How long API Gateway keeps the function's answer for the same
    /// identity, in seconds, 0 (no caching) to 3600. Default: 300.
    #[schemars(with = "Option<i64>", range(min = 0, max = 3600))]
    pub ttl: Option<Spanned<i64>>,
}

/// A service's `auth`: one authorizer (or `"public"`) for all its routes,
/// or one per route, keyed `"METHOD /path"` as in `routes`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum RawRouteAuth {
    All(String),
    PerRoute(BTreeMap<String, String>),
}

/// `[stages.NAME.authorizers.NAME]`: a Cognito user pool authorizer; the
/// caller sends a pool's ID token in `header`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawCognito {
    /// The user pool ARNs whose tokens are accepted
    /// (`arn:aws:cognito-idp:REGION:ACCOUNT:userpool/POOL_ID`), at least one.
    #[schemars(with = "Vec<String>", length(min = 1))]
    pub user_pools: Spanned<Vec<Spanned<String>>>,
    /// The request header that carries the token. Default: `"Authorization"`.
    #[schemars(with = "Option<String>")]
    pub header: Option<Spanned<String>>,
    /// How long API Gateway keeps a token's verdict, in seconds, 0 to 3600.
    /// Default: 300.
    #[schemars(with = "Option<i64>", range(min = 0, max = 3600))]
    pub ttl: Option<Spanned<i64>>,
}
