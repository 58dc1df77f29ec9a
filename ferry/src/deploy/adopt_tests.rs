//! Planning a stage that adopts a console-built function and REST API: the
//! Node.js function becomes the Rust service in place (code, runtime and
//! handler updated, never created or deleted), the API's definition is
//! merged and keeps the methods ferry does not manage, and the release
//! records which function each service runs as.

use super::tests::{converged, desired_for, kinds};
use super::*;
use crate::model::fixture::Fixture;

const DEPLOY: &str = r#"[app]
name = "shop"

[stages.test]
region = "us-east-1"
api = { name = "console-api", id = "a1b2c3d4e5" }

[stages.test.services.get]
function-name = "console-get"
"#;

fn adopted() -> (Fixture, Desired) {
    let fx = Fixture::new()
        .service("list", "routes = [\"GET /items\"]\n")
        .service("get", "routes = [\"GET /items/{id}\"]\n")
        .file("deploy.toml", DEPLOY);
    let ws = fx.load().unwrap();
    (fx, desired_for(&ws, &[]))
}

#[test]
fn a_console_function_becomes_the_service_in_place() {
    let (_fx, desired) = adopted();
    assert!(desired.functions.contains_key("console-get"));
    let mut live = converged(&desired);
    let console = live.functions.get_mut("console-get").unwrap();
    console.code_sha256 = "node-code".into();
    console.runtime = None;
    console.other_runtime = Some("nodejs20.x".into());
    let api = live.api.as_mut().unwrap();
    api.stage_deployment = Some(("console".into(), None));
    api.routes.insert("GET /health".into(), String::new());

    let plan = plan(&desired, &live, true);
    let kinds = kinds(&plan);
    assert!(
        !kinds.iter().any(|k| k.starts_with("create_function")),
        "{kinds:?}"
    );
    assert!(!kinds.iter().any(|k| k.starts_with("delete")), "{kinds:?}");
    assert!(!kinds.contains(&"create_rest_api".to_owned()), "{kinds:?}");
    let text = render::text(&plan);
    assert!(
        text.contains("runtime: nodejs20.x -> provided.al2023"),
        "{text}"
    );
    assert!(
        text.contains("merged into the adopted API, which keeps 1 method(s) ferry does not manage: GET /health"),
        "{text}"
    );
    let put = plan.actions.iter().find_map(|a| match a {
        Action::PutRestApi {
            adopted, api_id, ..
        } => Some((*adopted, api_id.clone())),
        _ => None,
    });
    assert_eq!(
        put,
        Some((true, Some(live.api.as_ref().unwrap().id.clone())))
    );
    let adopted_in_release = plan.actions.iter().find_map(|a| match a {
        Action::RecordRelease { release, .. } => Some(release.adopted.clone()),
        _ => None,
    });
    assert_eq!(
        adopted_in_release,
        Some([("get".to_owned(), "console-get".to_owned())].into())
    );
}

#[test]
fn an_adopted_api_is_never_created() {
    let (_fx, desired) = adopted();
    let plan = plan(&desired, &Live::default(), false);
    let kinds = kinds(&plan);
    assert!(!kinds.contains(&"create_rest_api".to_owned()), "{kinds:?}");
}
