//! Authorizers in the plan and the API definition: Lambda and Cognito
//! security schemes, each guarded route's `security`, the authorizer's own
//! invoke permission, and the definition hash moving with them.

use super::tests::{converged, desired_for, kinds};
use super::*;
use crate::model::fixture::{Fixture, DEPLOY};
use crate::model::Workspace;

fn workspace(auth: &str) -> (Fixture, Workspace) {
    let fixture = Fixture::new()
        .file(
            "deploy.toml",
            &format!("{DEPLOY}\n[stages.test.authorizers.users]\nuser-pools = [\"arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_AbC123\"]\nttl = 0\n"),
        )
        .file(
            "authorizers/jwt/Cargo.toml",
            "[package]\nname = \"jwt\"\nversion = \"0.1.0\"\n\n[package.metadata.ferry.authorizer]\nidentity-sources = [\"header:Authorization\", \"query:tenant\"]\n",
        )
        .file("authorizers/jwt/src/main.rs", "fn main() {}\n")
        .service("items", &format!("routes = [\"GET /items\", \"POST /items\", \"DELETE /items/{{id}}\"]\n{auth}"));
    let ws = fixture.load().unwrap();
    (fixture, ws)
}

const GUARDED: &str = "auth = { \"GET /items\" = \"public\", \"POST /items\" = \"jwt\", \"DELETE /items/{id}\" = \"users\" }\n";

#[test]
fn guarded_routes_name_their_security_scheme_and_public_ones_none() {
    let (_f, ws) = workspace(GUARDED);
    let desired = desired_for(&ws, &[]);
    let doc = openapi::definition(&desired, "123456789012");
    let pretty = |v: &serde_json::Value| serde_json::to_string_pretty(v).unwrap();
    insta::assert_snapshot!("auth_security_schemes", pretty(&doc["components"]));
    assert_eq!(
        doc["paths"]["/items"]["post"]["security"],
        serde_json::json!([{"jwt": []}])
    );
    assert_eq!(
        doc["paths"]["/items/{id}"]["delete"]["security"],
        serde_json::json!([{"users": []}])
    );
    assert!(
        doc["paths"]["/items"]["get"].get("security").is_none(),
        "public"
    );
    let jwt = &desired.functions["shop-test-jwt"];
    assert_eq!(jwt.invoker, authorizers::Invoker::Authorizer);
    assert_eq!(
        desired.functions["shop-test-items"].invoker,
        authorizers::Invoker::Routes
    );
}

#[test]
fn the_hash_moves_with_authorizers_and_stays_for_a_stage_without() {
    let (_f, plain) = workspace("");
    let (_g, guarded) = workspace(GUARDED);
    let (_h, other_ttl) = workspace(&GUARDED.replace("\"users\"", "\"jwt\""));
    let hash = |ws: &Workspace| desired_for(ws, &[]).api.definition_hash;
    assert_ne!(hash(&plain), hash(&guarded));
    assert_ne!(hash(&guarded), hash(&other_ttl));
    assert!(
        openapi::definition(&desired_for(&plain, &[]), "123456789012")
            .get("components")
            .is_none()
    );
}

#[test]
fn an_authorizer_may_be_invoked_only_by_the_apis_authorizers() {
    let (_f, ws) = workspace(GUARDED);
    let desired = desired_for(&ws, &[]);
    let live = converged(&desired);
    assert_eq!(
        live.permissions["shop-test-jwt"],
        "arn:aws:execute-api:us-east-1:123456789012:abc123/authorizers/*"
    );
    assert!(
        plan::plan(&desired, &live, false).actions.is_empty(),
        "converged"
    );
    // A permission that names the routes' source is replaced.
    let mut wrong = live.clone();
    wrong.permissions.insert(
        "shop-test-jwt".into(),
        plan::invoke_source_arn("us-east-1", "123456789012", "abc123", Default::default()),
    );
    let plan = plan::plan(&desired, &wrong, false);
    assert_eq!(kinds(&plan), ["add_invoke_permission"]);
    let text = render::text(&plan);
    assert!(
        text.contains(
            "~ replace  permission for API Gateway to invoke shop-test-jwt:test as an authorizer"
        ),
        "{text}"
    );
}

#[test]
fn the_plan_says_which_authorizer_guards_which_routes() {
    let (_f, ws) = workspace(GUARDED);
    let desired = desired_for(&ws, &[]);
    let mut live = converged(&desired);
    live.api.as_mut().unwrap().stage_deployment = Some(("d0".into(), Some("old".into())));
    let text = render::text(&plan::plan(&desired, &live, false));
    assert!(
        text.contains("authorizer jwt (lambda request, 300 s cache) on POST /items, authorizer users (cognito, no cache) on DELETE /items/{id}"),
        "{text}"
    );
}
