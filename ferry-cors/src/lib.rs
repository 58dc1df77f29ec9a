//! The CORS headers of a function's own responses. API Gateway passes a
//! Lambda proxy response through untouched, so the function adds them
//! itself; ferry gives each function the policy of the paths it serves in
//! the `FERRY_CORS` variable (deploy.toml's `[stages.NAME.api.cors]`), and
//! `cargo xtask serve` gives it the same. API Gateway answers the preflight
//! (`OPTIONS`) and its own errors; this crate covers everything else.
//!
//! ```
//! let cors = ferry_cors::Cors::parse(
//!     r#"{"/items":{"origins":["https://app.example.com"],"credentials":false,"expose":[]}}"#,
//! ).unwrap();
//! let headers = cors.headers("/items", Some("https://app.example.com"));
//! assert!(headers.contains(&("access-control-allow-origin", "https://app.example.com".into())));
//! assert!(cors.headers("/items", Some("https://evil.example")).iter().all(|(n, _)| *n == "vary"));
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The variable ferry sets on every function that serves a path with CORS.
pub const ENV: &str = "FERRY_CORS";

/// What a path's actual (non-preflight) responses allow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponsePolicy {
    /// Allowed origins (`scheme://host[:port]`), or `["*"]` for any.
    pub origins: Vec<String>,
    /// Whether a response may be read by a request made with credentials.
    #[serde(default)]
    pub credentials: bool,
    /// Response headers a browser script may read beyond the safelisted ones.
    #[serde(default)]
    pub expose: Vec<String>,
}

impl ResponsePolicy {
    /// Whether any origin is allowed.
    pub fn any_origin(&self) -> bool {
        self.origins.iter().any(|o| o == "*")
    }

    /// Whether a request from `origin` may read the response. Origins
    /// compare exactly, as browsers send them (scheme and host lower case).
    pub fn allows(&self, origin: &str) -> bool {
        self.any_origin() || self.origins.iter().any(|o| o == origin)
    }

    /// The headers a response to a request from `origin` carries: only an
    /// allowed origin is reflected, and a response that depends on the
    /// origin says so with `Vary: Origin` (so caches keep one per origin).
    pub fn headers(&self, origin: Option<&str>) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if self.any_origin() {
            out.push(("access-control-allow-origin", "*".to_owned()));
        } else {
            out.push(("vary", "Origin".to_owned()));
            match origin {
                Some(origin) if self.allows(origin) => {
                    out.push(("access-control-allow-origin", origin.to_owned()));
                    if self.credentials {
                        out.push(("access-control-allow-credentials", "true".to_owned()));
                    }
                }
                _ => return out,
            }
        }
        if !self.expose.is_empty() {
            out.push(("access-control-expose-headers", self.expose.join(",")));
        }
        out
    }
}

/// A function's CORS: the policy of each path it serves with CORS, by the
/// route's path pattern (API Gateway's `resource`, e.g. `/items/{id}`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Cors {
    pub paths: BTreeMap<String, ResponsePolicy>,
}

/// `FERRY_CORS` did not hold a policy ferry writes.
#[derive(Debug)]
pub struct Error(serde_json::Error);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{ENV} is not a CORS policy written by ferry: {}", self.0)
    }
}

impl std::error::Error for Error {}

impl Cors {
    /// The policy in `FERRY_CORS`; no CORS at all when the variable is unset.
    pub fn from_env() -> Result<Self, Error> {
        match std::env::var(ENV) {
            Ok(text) => Self::parse(&text),
            Err(_) => Ok(Self::default()),
        }
    }

    pub fn parse(text: &str) -> Result<Self, Error> {
        serde_json::from_str(text).map_err(Error)
    }

    /// The compact JSON ferry puts in `FERRY_CORS`.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The CORS headers for a response on `resource` (the matched route's
    /// path pattern) to a request from `origin`; none where the path has no
    /// CORS.
    pub fn headers(&self, resource: &str, origin: Option<&str>) -> Vec<(&'static str, String)> {
        self.paths
            .get(resource)
            .map(|p| p.headers(origin))
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(origins: &[&str], credentials: bool, expose: &[&str]) -> ResponsePolicy {
        ResponsePolicy {
            origins: origins.iter().map(|o| o.to_string()).collect(),
            credentials,
            expose: expose.iter().map(|o| o.to_string()).collect(),
        }
    }

    #[test]
    fn only_a_listed_origin_is_reflected_and_the_answer_varies_on_origin() {
        let p = policy(
            &["https://a.example", "http://localhost:3000"],
            true,
            &["ETag"],
        );
        assert_eq!(
            p.headers(Some("http://localhost:3000")),
            vec![
                ("vary", "Origin".to_owned()),
                (
                    "access-control-allow-origin",
                    "http://localhost:3000".to_owned()
                ),
                ("access-control-allow-credentials", "true".to_owned()),
                ("access-control-expose-headers", "ETag".to_owned()),
            ]
        );
        for other in [Some("https://b.example"), Some("https://A.example"), None] {
            assert_eq!(p.headers(other), vec![("vary", "Origin".to_owned())]);
        }
    }

    #[test]
    fn any_origin_is_a_star_without_vary() {
        let p = policy(&["*"], false, &[]);
        assert_eq!(
            p.headers(Some("https://x.example")),
            vec![("access-control-allow-origin", "*".to_owned())]
        );
        assert_eq!(p.headers(None), p.headers(Some("https://y.example")));
    }

    #[test]
    fn the_env_form_round_trips_and_unknown_paths_get_nothing() {
        let mut cors = Cors::default();
        cors.paths.insert(
            "/items/{id}".into(),
            policy(&["https://a.example"], false, &[]),
        );
        let parsed = Cors::parse(&cors.to_json()).unwrap();
        assert_eq!(parsed, cors);
        assert!(parsed
            .headers("/other", Some("https://a.example"))
            .is_empty());
        assert!(Cors::parse("{\"/x\": 3}").is_err());
        assert!(Cors::parse("").unwrap_err().to_string().contains(ENV));
    }
}
