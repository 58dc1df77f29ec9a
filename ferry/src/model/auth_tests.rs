//! Authorizers in the model: an authorizer crate under `authorizers/`, the
//! routes that name it or a stage's Cognito authorizer, and every refusal
//! with its file, line, key and help.

use super::auth::{AuthorizerType, IdentitySource, RouteAuth};
use super::fixture::{Fixture, DEPLOY};

const COGNITO: &str = "[stages.test.authorizers.users]\nuser-pools = [\"arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_AbC123\"]\n";

fn authorizer(fixture: Fixture, name: &str, table: &str) -> Fixture {
    let manifest = format!("[package]\nname = \"{name}\"\nversion = \"0.1.0\"\n\n[package.metadata.ferry.authorizer]\n{table}");
    fixture
        .file(&format!("authorizers/{name}/Cargo.toml"), &manifest)
        .file(&format!("authorizers/{name}/src/main.rs"), "fn main() {}\n")
}

#[test]
fn routes_name_an_authorizer_crate_a_cognito_pool_or_say_public() {
    let fixture = authorizer(Fixture::new(), "jwt", "type = \"token\"\nttl = 60\n")
        .file("deploy.toml", &format!("{DEPLOY}\n[stages.test.api]\nrequire-authorizer = true\n\n{COGNITO}"))
        .service("items", "routes = [\"GET /items\", \"POST /items\", \"DELETE /items\"]\nauth = { \"GET /items\" = \"public\", \"POST /items\" = \"jwt\", \"DELETE  /items\" = \"users\" }\n")
        .service("health", "routes = [\"GET /health\"]\nauth = \"public\"\n");
    let ws = fixture.load().unwrap();
    let jwt = ws.services["jwt"].authorizer.as_ref().unwrap();
    assert_eq!(jwt.kind, AuthorizerType::Token);
    assert_eq!(jwt.ttl_s, 60);
    assert_eq!(
        jwt.identity_sources,
        [IdentitySource::Header("Authorization".into())]
    );
    assert!(ws.services["jwt"].routes.is_empty());
    let items = &ws.services["items"].auth;
    assert_eq!(items["GET /items"], RouteAuth::Public);
    assert_eq!(items["POST /items"], RouteAuth::Authorizer("jwt".into()));
    assert_eq!(
        items["DELETE /items"],
        RouteAuth::Authorizer("users".into()),
        "route keys are normalised"
    );
    let users = &ws.stages["test"].authorizers["users"];
    assert_eq!((users.header.as_str(), users.ttl_s), ("Authorization", 300));
    assert!(ws.stages["test"].api.require_authorizer);
}

#[test]
fn bad_authorizers_are_refused_with_file_line_key_and_help() {
    let fixture = authorizer(Fixture::new(), "two", "type = \"token\"\nidentity-sources = [\"header:A\", \"query:b\"]\n")
        .file("authorizers/slow/Cargo.toml", "[package]\nname = \"slow\"\nversion = \"0.1.0\"\n\n[package.metadata.ferry]\nroutes = [\"GET /slow\"]\n\n[package.metadata.ferry.authorizer]\nttl = 4000\nidentity-sources = [\"cookie:x\"]\n")
        .file("authorizers/slow/src/main.rs", "fn main() {}\n")
        .file("deploy.toml", &format!("{DEPLOY}\n[stages.test.api]\nrequire-authorizer = true\n\n[stages.test.authorizers.pool]\nuser-pools = [\"us-east-1_AbC123\"]\n\n[stages.prod]\nregion = \"eu-west-1\"\n{}", COGNITO.replace("stages.test", "stages.prod")))
        .service("items", "routes = [\"GET /items\", \"POST /items\"]\nauth = { \"POST /items\" = \"jtw\", \"PUT /items\" = \"two\" }\n")
        .service("orders", "routes = [\"GET /orders\"]\nauth = \"users\"\n")
        .service("plain", "routes = [\"GET /plain\"]\nauth = \"orders\"\n");
    insta::assert_snapshot!("auth_errors", fixture.redacted_errors());
}

#[test]
fn a_refused_authorizer_table_is_reported_once_not_at_each_route() {
    let fixture = authorizer(Fixture::new(), "slow", "ttl = 4000\n")
        .service("items", "routes = [\"GET /items\"]\nauth = \"slow\"\n");
    let errors = fixture.errors();
    assert!(errors.contains("ttl"), "{errors}");
    assert!(!errors.contains("is a service"), "{errors}");
}
