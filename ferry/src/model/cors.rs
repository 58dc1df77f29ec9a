//! A stage's CORS, validated: the policy of each path, and what follows from
//! it — the preflight's headers, the headers on API Gateway's own error
//! responses, and the `FERRY_CORS` policy each function gets for its own
//! responses. `deploy` (the OpenAPI definition) and `serve` both read these,
//! so the local API answers as the deployed one does.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::route::RouteTable;
use super::Method;

/// The request headers a browser may send when the stage names none: what
/// API Gateway's console and the Serverless Framework allow by default.
pub const DEFAULT_ALLOW_HEADERS: &[&str] = &[
    "Authorization",
    "Content-Type",
    "X-Amz-Date",
    "X-Api-Key",
    "X-Amz-Security-Token",
];

/// Seconds a browser keeps a preflight answer when the stage names none.
pub const DEFAULT_MAX_AGE_S: u32 = 600;

/// The most any browser honours (Firefox; Chromium caps at 7200).
pub const MAX_AGE_S: u32 = 86_400;

/// API Gateway's own responses that carry the stage's CORS headers: without
/// them a browser reports a CORS failure instead of the 401, 403 or 5XX.
pub const GATEWAY_RESPONSES: &[&str] = &[
    "DEFAULT_4XX",
    "DEFAULT_5XX",
    "MISSING_AUTHENTICATION_TOKEN",
    "UNAUTHORIZED",
    "ACCESS_DENIED",
];

/// One path's CORS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorsPolicy {
    /// Exact origins, or `["*"]`.
    pub origins: Vec<String>,
    /// The methods a preflight may allow; `None` is every method.
    pub allow_methods: Option<BTreeSet<Method>>,
    pub allow_headers: Vec<String>,
    pub expose_headers: Vec<String>,
    pub credentials: bool,
    pub max_age_s: u32,
}

/// `[stages.NAME.api.cors]`: the stage's policy and each path's own, where
/// `None` turns CORS off for that path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageCors {
    pub default: CorsPolicy,
    pub paths: BTreeMap<String, Option<CorsPolicy>>,
}

/// A header value on an API Gateway response: a literal, or the request's
/// `Origin` reflected (API Gateway's gateway responses cannot pick from a
/// list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GatewayValue {
    Literal(String),
    RequestOrigin,
}

impl CorsPolicy {
    /// What the path's actual responses allow, as the function reads it.
    pub fn response(&self) -> ferry_cors::ResponsePolicy {
        ferry_cors::ResponsePolicy {
            origins: self.origins.clone(),
            credentials: self.credentials,
            expose: self.expose_headers.clone(),
        }
    }

    /// The methods a path's preflight allows: its routes' methods (every
    /// method for `ANY`) among `allow-methods`, and `OPTIONS`.
    pub fn preflight_methods(&self, routes: &BTreeSet<Method>) -> String {
        let mut methods: BTreeSet<&str> = routes
            .iter()
            .flat_map(|m| match m {
                Method::Any => Method::ALL_CONCRETE.to_vec(),
                other => vec![*other],
            })
            .filter(|m| self.allow_methods.as_ref().is_none_or(|a| a.contains(m)))
            .map(|m| m.as_str())
            .collect();
        methods.insert("OPTIONS");
        methods.into_iter().collect::<Vec<_>>().join(",")
    }

    /// The preflight's headers whatever the request's origin; the
    /// `Access-Control-Allow-Origin` header comes from [`Self::preflight_origin`].
    pub fn preflight_static(&self, methods: &str) -> Vec<(&'static str, String)> {
        let mut out = vec![("Access-Control-Allow-Methods", methods.to_owned())];
        if !self.allow_headers.is_empty() {
            out.push(("Access-Control-Allow-Headers", self.allow_headers.join(",")));
        }
        out.push(("Access-Control-Max-Age", self.max_age_s.to_string()));
        if self.credentials {
            out.push(("Access-Control-Allow-Credentials", "true".to_owned()));
        }
        if !self.any_origin() {
            out.push(("Vary", "Origin".to_owned()));
        }
        out
    }

    /// The preflight's `Access-Control-Allow-Origin` for a request from
    /// `origin`: only an allowed origin is reflected.
    pub fn preflight_origin(&self, origin: Option<&str>) -> Option<String> {
        if self.any_origin() {
            return Some("*".into());
        }
        origin
            .filter(|o| self.origins.iter().any(|a| a == o))
            .map(str::to_owned)
    }

    pub fn any_origin(&self) -> bool {
        self.origins.iter().any(|o| o == "*")
    }
}

impl StageCors {
    /// The policy of a route path (`/items/{id}`), or `None` without CORS.
    pub fn for_path(&self, path: &str) -> Option<&CorsPolicy> {
        match self.paths.get(path) {
            Some(over) => over.as_ref(),
            None => Some(&self.default),
        }
    }

    /// The CORS headers of API Gateway's own responses, from the stage's
    /// policy: one allowed origin is a literal; several can only be
    /// reflected from the request, since a gateway response holds no logic
    /// (README: "CORS").
    pub fn gateway_headers(&self) -> Vec<(&'static str, GatewayValue)> {
        let policy = &self.default;
        let origin = match policy.origins.as_slice() {
            [one] => GatewayValue::Literal(one.clone()),
            _ => GatewayValue::RequestOrigin,
        };
        let mut out = vec![("Access-Control-Allow-Origin", origin)];
        if !policy.any_origin() {
            out.push(("Vary", GatewayValue::Literal("Origin".into())));
        }
        if policy.credentials {
            out.push((
                "Access-Control-Allow-Credentials",
                GatewayValue::Literal("true".into()),
            ));
        }
        out
    }

    /// The `FERRY_CORS` value of a function serving `paths`, or `None` when
    /// none of them has CORS.
    pub fn function_env<'a>(&self, paths: impl IntoIterator<Item = &'a str>) -> Option<String> {
        let mut cors = ferry_cors::Cors::default();
        for path in paths {
            if let Some(policy) = self.for_path(path) {
                cors.paths.insert(path.to_owned(), policy.response());
            }
        }
        (!cors.paths.is_empty()).then(|| cors.to_json())
    }

    /// One line for the plan: which paths answer browsers, from where.
    pub fn summary(&self, routes: &[(Method, String, String)]) -> String {
        let paths: BTreeSet<&str> = routes.iter().map(|(_, p, _)| p.as_str()).collect();
        let on = paths.iter().filter(|p| self.for_path(p).is_some()).count();
        let count = if on == 1 {
            "1 path".to_owned()
        } else {
            format!("{on} paths")
        };
        format!("CORS on {count} for {}", self.default.origins.join(" "))
    }
}

/// Each route path of the table with its routes' methods, in path order.
pub fn path_methods(table: &RouteTable) -> BTreeMap<String, BTreeSet<Method>> {
    let mut out: BTreeMap<String, BTreeSet<Method>> = BTreeMap::new();
    for entry in &table.entries {
        out.entry(entry.path.to_string())
            .or_default()
            .insert(entry.method);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn policy(origins: &[&str]) -> CorsPolicy {
        CorsPolicy {
            origins: origins.iter().map(|o| o.to_string()).collect(),
            allow_methods: None,
            allow_headers: vec!["Content-Type".into(), "Authorization".into()],
            expose_headers: vec![],
            credentials: false,
            max_age_s: DEFAULT_MAX_AGE_S,
        }
    }

    #[test]
    fn a_preflight_lists_the_paths_methods_among_those_allowed() {
        let mut p = policy(&["https://a.example"]);
        let routes: BTreeSet<Method> = [Method::Post, Method::Get].into();
        assert_eq!(p.preflight_methods(&routes), "GET,OPTIONS,POST");
        assert_eq!(
            p.preflight_methods(&[Method::Any].into()),
            "DELETE,GET,HEAD,OPTIONS,PATCH,POST,PUT"
        );
        p.allow_methods = Some([Method::Get].into());
        assert_eq!(p.preflight_methods(&routes), "GET,OPTIONS");
    }

    #[test]
    fn only_listed_origins_are_reflected_by_the_preflight() {
        let p = policy(&["https://a.example", "http://localhost:3000"]);
        assert_eq!(
            p.preflight_origin(Some("http://localhost:3000")).as_deref(),
            Some("http://localhost:3000")
        );
        assert_eq!(p.preflight_origin(Some("https://evil.example")), None);
        assert_eq!(p.preflight_origin(None), None);
        let static_headers = p.preflight_static("GET,OPTIONS");
        assert!(static_headers.contains(&("Vary", "Origin".into())));
        assert!(!static_headers
            .iter()
            .any(|(n, _)| n.contains("Credentials")));
        assert_eq!(
            policy(&["*"]).preflight_origin(Some("https://x.example")),
            Some("*".into())
        );
    }

    #[test]
    fn gateway_responses_take_one_origin_literally_and_reflect_several() {
        let mut cors = StageCors {
            default: policy(&["https://a.example"]),
            paths: BTreeMap::new(),
        };
        assert_eq!(
            cors.gateway_headers()[0].1,
            GatewayValue::Literal("https://a.example".into())
        );
        cors.default = policy(&["https://a.example", "https://b.example"]);
        cors.default.credentials = true;
        let headers = cors.gateway_headers();
        assert_eq!(headers[0].1, GatewayValue::RequestOrigin);
        assert!(headers.contains(&(
            "Access-Control-Allow-Credentials",
            GatewayValue::Literal("true".into())
        )));
    }

    #[test]
    fn a_function_gets_the_policy_of_its_paths_with_cors_only() {
        let mut cors = StageCors {
            default: policy(&["https://a.example"]),
            paths: BTreeMap::new(),
        };
        cors.paths.insert("/hook".into(), None);
        assert_eq!(cors.function_env(["/hook"]), None);
        let env = cors.function_env(["/hook", "/items"]).unwrap();
        let parsed = ferry_cors::Cors::parse(&env).unwrap();
        assert_eq!(parsed.paths.keys().collect::<Vec<_>>(), ["/items"]);
        assert_eq!(parsed.paths["/items"].origins, ["https://a.example"]);
    }
}
