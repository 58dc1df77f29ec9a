//! CORS under `serve`, answered as the deployed stage answers it: API
//! Gateway's preflight (the mock integration ferry deploys on each path) and
//! the CORS headers of its own error responses, both from the stage's
//! `[api.cors]`. A function's own responses carry what the function adds
//! from `FERRY_CORS`, which `serve` sets as Lambda does.

use crate::model::cors::{GatewayValue, StageCors};
use crate::model::RouteTable;

use super::router;

/// The headers of the preflight answer for `path`, or `None` where API
/// Gateway would not answer one (no CORS there, or no such resource).
pub fn preflight(
    cors: &StageCors,
    table: &RouteTable,
    path: &str,
    origin: Option<&str>,
) -> Option<Vec<(&'static str, String)>> {
    let resource = router::resource(table, path)?.to_string();
    let policy = cors.for_path(&resource)?;
    let methods = crate::model::cors::path_methods(table);
    let mut headers = policy.preflight_static(&policy.preflight_methods(methods.get(&resource)?));
    if let Some(allowed) = policy.preflight_origin(origin) {
        headers.push(("Access-Control-Allow-Origin", allowed));
    }
    Some(headers)
}

/// The CORS headers of a response API Gateway makes itself (403 for no
/// route, 413, 502, 504), as the gateway responses ferry deploys set them.
pub fn gateway(cors: &StageCors, origin: Option<&str>) -> Vec<(&'static str, String)> {
    cors.gateway_headers()
        .into_iter()
        .filter_map(|(name, value)| match value {
            GatewayValue::Literal(v) => Some((name, v)),
            GatewayValue::RequestOrigin => origin.map(|o| (name, o.to_owned())),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::model::cors::{CorsPolicy, DEFAULT_MAX_AGE_S};
    use crate::model::Route;

    fn stage(origins: &[&str]) -> StageCors {
        StageCors {
            default: CorsPolicy {
                origins: origins.iter().map(|o| o.to_string()).collect(),
                allow_methods: None,
                allow_headers: vec!["Content-Type".into()],
                expose_headers: vec![],
                credentials: false,
                max_age_s: DEFAULT_MAX_AGE_S,
            },
            paths: BTreeMap::from([("/hook".to_owned(), None)]),
        }
    }

    fn table() -> RouteTable {
        RouteTable::new(
            ["POST /items", "GET /items", "POST /hook"]
                .iter()
                .map(|r| (Route::parse(r).unwrap(), "s".to_owned())),
        )
    }

    #[test]
    fn a_preflight_reflects_an_allowed_origin_only() {
        let cors = stage(&["https://a.example"]);
        let allowed = preflight(&cors, &table(), "/items", Some("https://a.example")).unwrap();
        assert!(allowed.contains(&("Access-Control-Allow-Methods", "GET,OPTIONS,POST".into())));
        assert!(allowed.contains(&("Access-Control-Allow-Origin", "https://a.example".into())));
        let refused = preflight(&cors, &table(), "/items", Some("https://evil.example")).unwrap();
        assert!(!refused
            .iter()
            .any(|(n, _)| *n == "Access-Control-Allow-Origin"));
        assert!(preflight(&cors, &table(), "/hook", Some("https://a.example")).is_none());
        assert!(preflight(&cors, &table(), "/nowhere", None).is_none());
    }

    #[test]
    fn gateway_errors_reflect_the_origin_only_when_several_are_allowed() {
        let one = stage(&["https://a.example"]);
        assert!(gateway(&one, Some("https://evil.example"))
            .contains(&("Access-Control-Allow-Origin", "https://a.example".into())));
        let two = stage(&["https://a.example", "https://b.example"]);
        assert!(gateway(&two, Some("https://b.example"))
            .contains(&("Access-Control-Allow-Origin", "https://b.example".into())));
        assert!(!gateway(&two, None)
            .iter()
            .any(|(n, _)| *n == "Access-Control-Allow-Origin"));
    }
}
