//! The raw TOML schema of a stage API's own settings as users write them:
//! `[stages.NAME.api.throttle]` (with per-route overrides),
//! `[stages.NAME.api.access-log]` and `[stages.NAME.api.quotas]`; spans
//! kept, no defaults applied. `validate/stage_api.rs` checks them.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;
use toml::Spanned;

use super::stage_api::THROTTLE;

/// `[stages.NAME.api.throttle]`: API Gateway's token bucket for every
/// method of the stage, and per route. Requests beyond it get `429`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawThrottle {
    /// Steady requests per second (whole), 0 to 1000000; `0` refuses every
    /// request. Required with `burst`.
    #[schemars(with = "Option<i64>", range(min = *THROTTLE.start(), max = *THROTTLE.end()))]
    pub rate: Option<Spanned<i64>>,
    /// Requests API Gateway lets through at once above the rate (the
    /// bucket's size), 0 to 1000000. Required with `rate`.
    #[schemars(with = "Option<i64>", range(min = *THROTTLE.start(), max = *THROTTLE.end()))]
    pub burst: Option<Spanned<i64>>,
    /// `[stages.NAME.api.throttle.routes."METHOD /path"]`: one route's
    /// `rate` and `burst` instead of the stage's. Default: none.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, RawRouteThrottle>")]
    pub routes: BTreeMap<Spanned<String>, Spanned<RawRouteThrottle>>,
}

/// One route's throttle: both keys required.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawRouteThrottle {
    #[schemars(with = "i64", range(min = *THROTTLE.start(), max = *THROTTLE.end()))]
    pub rate: Option<Spanned<i64>>,
    #[schemars(with = "i64", range(min = *THROTTLE.start(), max = *THROTTLE.end()))]
    pub burst: Option<Spanned<i64>>,
}

/// `[stages.NAME.api.access-log]`: one line per request to a log group
/// ferry manages (`/aws/apigateway/<api>/<stage>/access`), kept for the
/// stage's `log-retention-days`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawAccessLog {
    /// `"json"` (one JSON object a request: id, time, caller IP, method,
    /// path, status, latency, bytes, integration error), `"clf"` (Common
    /// Log Format), or your own single-line format of `$context` variables,
    /// which must include `$context.requestId` or
    /// `$context.extendedRequestId`. Default: `"json"`.
    #[schemars(with = "Option<String>")]
    pub format: Option<Spanned<String>>,
    /// The IAM role API Gateway writes logs with: one per account and
    /// region, set in its account settings. `"managed"`: when none is set,
    /// ferry creates `ferry-apigateway-cloudwatch` and sets it (a role set
    /// already is kept); an IAM role ARN: ferry sets that one. Default:
    /// ferry only checks that one is set and stops before writing if not.
    #[schemars(with = "Option<String>")]
    pub cloudwatch_role: Option<Spanned<String>>,
}

/// `[stages.NAME.api.quotas]`: API Gateway's quotas for REST APIs, which
/// ferry checks before writing. Raise them here only after AWS raised
/// them for your account.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawQuotas {
    /// Resources (path segments) per API. Default: 300.
    #[schemars(with = "Option<i64>", range(min = 1))]
    pub resources: Option<Spanned<i64>>,
    /// Stages per API. Default: 10.
    #[schemars(with = "Option<i64>", range(min = 1))]
    pub stages: Option<Spanned<i64>>,
}
