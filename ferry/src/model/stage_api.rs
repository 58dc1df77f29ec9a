//! A stage API's own settings, validated: X-Ray tracing, throttling (the
//! stage's and per route), access logs and the quotas ferry checks.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// Requests per second and burst ferry accepts (API Gateway caps both at
/// the account's limits; the bound here only catches typos).
pub const THROTTLE: std::ops::RangeInclusive<i64> = 0..=1_000_000;
/// API Gateway's default quota of resources per REST API.
pub const DEFAULT_MAX_RESOURCES: u32 = 300;
/// API Gateway's default quota of stages per REST API.
pub const DEFAULT_MAX_STAGES: u32 = 10;
/// The role ferry creates for API Gateway's logging when allowed to.
pub const MANAGED_CLOUDWATCH_ROLE: &str = "ferry-apigateway-cloudwatch";

/// The access-log line of `format = "json"`.
pub const JSON_FORMAT: &str = concat!(
    r#"{"requestId":"$context.requestId","extendedRequestId":"$context.extendedRequestId","#,
    r#""ip":"$context.identity.sourceIp","requestTime":"$context.requestTime","#,
    r#""httpMethod":"$context.httpMethod","resourcePath":"$context.resourcePath","#,
    r#""path":"$context.path","status":"$context.status","protocol":"$context.protocol","#,
    r#""responseLength":"$context.responseLength","responseLatency":"$context.responseLatency","#,
    r#""integrationLatency":"$context.integrationLatency","#,
    r#""integrationError":"$context.integration.error","userAgent":"$context.identity.userAgent"}"#
);
/// The access-log line of `format = "clf"`.
pub const CLF_FORMAT: &str = concat!(
    "$context.identity.sourceIp $context.identity.caller $context.identity.user ",
    "[$context.requestTime] \"$context.httpMethod $context.resourcePath $context.protocol\" ",
    "$context.status $context.responseLength $context.requestId"
);

/// A token bucket: steady requests per second and the burst above it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Throttle {
    pub rate: u32,
    pub burst: u32,
}

impl fmt::Display for Throttle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/s burst {}", self.rate, self.burst)
    }
}

/// The stage's throttle for every method, and routes' own, by
/// `METHOD /path`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StageThrottle {
    pub stage: Option<Throttle>,
    pub routes: BTreeMap<String, Throttle>,
}

/// Who provides the role API Gateway logs with (an account setting).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CloudWatchRole {
    /// Someone else sets it: ferry only checks that it is set.
    Required,
    /// ferry creates [`MANAGED_CLOUDWATCH_ROLE`] and sets it when none is.
    Managed,
    /// ferry sets this role.
    Arn(String),
}

/// Access logging of the stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessLog {
    /// The line format, `$context` variables expanded by API Gateway.
    pub format: String,
    pub cloudwatch_role: CloudWatchRole,
}

impl AccessLog {
    /// The log group access logs go to.
    pub fn group(api: &str, stage: &str) -> String {
        format!("/aws/apigateway/{api}/{stage}/access")
    }
}

/// The quotas ferry checks before writing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ApiQuotas {
    pub resources: u32,
    pub stages: u32,
}

impl Default for ApiQuotas {
    fn default() -> Self {
        Self {
            resources: DEFAULT_MAX_RESOURCES,
            stages: DEFAULT_MAX_STAGES,
        }
    }
}

/// The resources (path prefixes, the root included) API Gateway makes for
/// `paths`: what its quota counts.
pub fn resource_count<'a>(paths: impl IntoIterator<Item = &'a str>) -> usize {
    let mut resources = std::collections::BTreeSet::from([String::new()]);
    for path in paths {
        let mut prefix = String::new();
        for segment in path.split('/').filter(|s| !s.is_empty()) {
            prefix.push('/');
            prefix.push_str(segment);
            resources.insert(prefix.clone());
        }
    }
    resources.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_count_every_prefix_once_and_the_root() {
        let paths = [
            "/items",
            "/items/{id}",
            "/items/{id}/tags",
            "/echo/{proxy+}",
        ];
        assert_eq!(resource_count(paths), 6);
        assert_eq!(resource_count([]), 1);
    }

    #[test]
    fn the_formats_name_the_request_id() {
        assert!(JSON_FORMAT.contains("$context.requestId"));
        assert!(CLF_FORMAT.contains("$context.requestId"));
        assert!(serde_json::from_str::<serde_json::Value>(JSON_FORMAT).is_ok());
    }
}
