//! The raw TOML schema of `[stages.NAME.api.cors]` and its per-path
//! overrides, as users write them: spans kept, no defaults applied;
//! `validate/cors.rs` turns them into the model's `StageCors`.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;
use toml::Spanned;

/// `[stages.NAME.api.cors]`: which browser origins may call the stage's API.
/// ferry adds an `OPTIONS` preflight to each path, puts the CORS headers on
/// API Gateway's own error responses, and gives each function the policy of
/// its paths in `FERRY_CORS` for its own responses (crate `ferry-cors`).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawCors {
    /// The origins allowed, each `scheme://host[:port]` as a browser sends
    /// it (e.g. `"https://app.example.com"`), or `["*"]` for any. Required.
    #[schemars(with = "Vec<String>")]
    pub allow_origins: Option<Spanned<Vec<Spanned<String>>>>,
    /// The methods a preflight may allow; each path's preflight lists its
    /// own routes' methods among these. Default: every method.
    #[schemars(with = "Option<Vec<String>>")]
    pub allow_methods: Option<Spanned<Vec<Spanned<String>>>>,
    /// Request headers a browser may send. Default: `["Authorization",
    /// "Content-Type", "X-Amz-Date", "X-Api-Key", "X-Amz-Security-Token"]`.
    #[schemars(with = "Option<Vec<String>>")]
    pub allow_headers: Option<Spanned<Vec<Spanned<String>>>>,
    /// Response headers a browser script may read beyond the safelisted
    /// ones, e.g. `["ETag"]`. Default: `[]`.
    #[schemars(with = "Option<Vec<String>>")]
    pub expose_headers: Option<Spanned<Vec<Spanned<String>>>>,
    /// Whether requests with credentials (cookies, `Authorization`) may read
    /// responses; not with `"*"`. Default: `false`.
    #[schemars(with = "Option<bool>")]
    pub allow_credentials: Option<Spanned<bool>>,
    /// Seconds a browser may cache a preflight answer, 0 to 86400. Default:
    /// 600.
    #[schemars(with = "Option<i64>", range(min = 0, max = 86_400))]
    pub max_age: Option<Spanned<i64>>,
    /// `[stages.NAME.api.cors.paths."/path"]`: a path's settings over the
    /// stage's, by its routes' path pattern (e.g. `"/items/{id}"`).
    /// Default: none.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, RawCorsPath>")]
    pub paths: BTreeMap<Spanned<String>, Spanned<RawCorsPath>>,
}

/// `[stages.NAME.api.cors.paths."/path"]`: one path's CORS over the
/// stage's. A key left out takes the stage's.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawCorsPath {
    /// `false`: no preflight and no CORS headers on this path (for example
    /// a webhook no browser calls). Default: true.
    #[schemars(with = "Option<bool>")]
    pub enabled: Option<Spanned<bool>>,
    #[schemars(with = "Option<Vec<String>>")]
    pub allow_origins: Option<Spanned<Vec<Spanned<String>>>>,
    #[schemars(with = "Option<Vec<String>>")]
    pub allow_methods: Option<Spanned<Vec<Spanned<String>>>>,
    #[schemars(with = "Option<Vec<String>>")]
    pub allow_headers: Option<Spanned<Vec<Spanned<String>>>>,
    #[schemars(with = "Option<Vec<String>>")]
    pub expose_headers: Option<Spanned<Vec<Spanned<String>>>>,
    #[schemars(with = "Option<bool>")]
    pub allow_credentials: Option<Spanned<bool>>,
    #[schemars(with = "Option<i64>", range(min = 0, max = 86_400))]
    pub max_age: Option<Spanned<i64>>,
}
