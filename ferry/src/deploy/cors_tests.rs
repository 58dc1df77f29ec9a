//! CORS in the planner: the preflight and gateway responses in the API
//! definition, the hash that moves only for a stage with CORS, and the
//! functions whose `FERRY_CORS` changes with the policy.

use std::collections::BTreeMap;

use super::tests::{converged, desired_for, kinds, workspace};
use super::*;
use crate::model::cors::{CorsPolicy, StageCors, DEFAULT_MAX_AGE_S};

fn with_cors(origins: &[&str]) -> StageCors {
    StageCors {
        default: CorsPolicy {
            origins: origins.iter().map(|o| o.to_string()).collect(),
            allow_methods: None,
            allow_headers: vec!["Authorization".into(), "Content-Type".into()],
            expose_headers: vec!["ETag".into()],
            credentials: true,
            max_age_s: DEFAULT_MAX_AGE_S,
        },
        paths: BTreeMap::from([("/items/{id}".to_owned(), None)]),
    }
}

#[test]
fn each_path_with_cors_gets_a_mock_preflight_and_gateway_responses_get_headers() {
    let (_f, mut ws) = workspace(true);
    let plain = desired_for(&ws, &[]);
    ws.stages.get_mut("test").unwrap().api.cors = Some(with_cors(&[
        "https://app.example.com",
        "http://localhost:3000",
    ]));
    let desired = desired_for(&ws, &[]);
    assert_ne!(desired.api.definition_hash, plain.api.definition_hash);
    let doc = openapi::definition(&desired, "123456789012");
    let preflights = openapi::preflights(&desired);
    let paths: Vec<&str> = preflights.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(paths, ["/items"], "CORS is off on /items/{{id}}");
    assert!(
        doc["paths"]["/items"].get("options").is_none(),
        "preflights are written beside the definition"
    );
    let pretty = |v: &serde_json::Value| serde_json::to_string_pretty(v).unwrap();
    insta::assert_snapshot!(
        "cors_preflight",
        pretty(&openapi::preflight_operation(&preflights[0]))
    );
    insta::assert_snapshot!(
        "cors_gateway_responses",
        pretty(&doc["x-amazon-apigateway-gateway-responses"])
    );
    assert!(plain.api.cors.is_none());
    assert!(openapi::preflights(&plain).is_empty());
    assert!(openapi::definition(&plain, "123456789012")
        .get("x-amazon-apigateway-gateway-responses")
        .is_none());
}

#[test]
fn turning_cors_on_redeploys_the_api_and_updates_the_functions_it_reaches() {
    let (_f, mut ws) = workspace(false);
    let before = desired_for(&ws, &[]);
    let live = converged(&before);
    ws.stages.get_mut("test").unwrap().api.cors = Some(with_cors(&["https://app.example.com"]));
    let after = desired_for(&ws, &[]);
    let plan = plan(&after, &live, false);
    assert_eq!(
        kinds(&plan),
        [
            "update_function_configuration",
            "publish_version",
            "point_alias",
            "put_rest_api",
            "create_deployment",
            "record_release"
        ],
        "only `list` serves a path with CORS"
    );
    let text = render::text(&plan);
    assert!(
        text.contains("2 routes, CORS on 1 path for https://app.example.com (definition"),
        "{text}"
    );
    assert!(text.contains("FERRY_CORS"), "{text}");
    assert!(super::plan(&after, &converged(&after), false).is_empty());
}

#[test]
fn doctor_finds_a_missing_preflight() {
    let (_f, mut ws) = workspace(false);
    ws.stages.get_mut("test").unwrap().api.cors = Some(with_cors(&["https://app.example.com"]));
    let desired = desired_for(&ws, &[]);
    let live = converged(&desired);
    let states: BTreeMap<String, String> = desired
        .functions
        .keys()
        .map(|f| (f.clone(), "Active".to_owned()))
        .collect();
    let report = doctor::check(&desired, &live, &states);
    assert!(report.ok, "{}", doctor::text(&report));
    let mut bad = live.clone();
    bad.api.as_mut().unwrap().routes.remove("OPTIONS /items");
    let report = doctor::check(&desired, &bad, &states);
    let text = doctor::text(&report);
    assert!(
        text.contains("OPTIONS /items is missing: browsers' preflights fail"),
        "{text}"
    );
}
