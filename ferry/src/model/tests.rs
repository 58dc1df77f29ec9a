//! Validation of the workspace model: one snapshot of the rendered report per
//! kind of problem, and checks of the defaults applied to valid input.

use super::fixture::Fixture;
use super::*;

const OK_SERVICE: &str = "routes = [\"GET /ok\"]\n";

#[test]
fn valid_workspace_gets_its_defaults_once() {
    let ws = Fixture::new()
        .service("list", "routes = [\"GET /items\"]\nlayers = [\"keys\"]\n")
        .service("one", "routes = [\"GET /items/{id}\"]\nmemory = 512\ntimeout = 30\narchitecture = \"x86_64\"\nruntime = \"provided.al2\"\nenv = { A = \"1\" }\n")
        .layer("keys", "files = { \"shop/keys\" = \"data\" }\n")
        .load()
        .unwrap();
    let list = &ws.services["list"];
    assert_eq!(
        (list.memory_mb, list.timeout_s),
        (DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT_S)
    );
    assert_eq!(
        (list.architecture, list.runtime),
        (Arch::Arm64, Runtime::ProvidedAl2023)
    );
    assert_eq!(list.bin, "list");
    assert_eq!(list.layers, [LayerRef::Workspace("keys".into())]);
    let one = &ws.services["one"];
    assert_eq!(
        (one.memory_mb, one.timeout_s, one.architecture, one.runtime),
        (512, 30, Arch::X86_64, Runtime::ProvidedAl2)
    );
    let keys = &ws.layers["keys"];
    assert_eq!(keys.compatible_architectures.len(), 2);
    assert_eq!(keys.files["shop/keys"], std::path::Path::new("data"));
    assert_eq!(ws.routes.render_text().lines().count(), 3);
    let test = &ws.stages["test"];
    assert_eq!(
        (test.log_retention_days, test.api.name.as_str()),
        (DEFAULT_LOG_RETENTION_DAYS, "shop-test")
    );
}

#[test]
fn cargo_lambda_metadata_is_read_without_edits() {
    let manifest = "[package]\nname = \"legacy\"\nversion = \"0.1.0\"\n\n[package.metadata.lambda.deploy]\nmemory = 1024\ntimeout = 20\nenv = { MODE = \"x\" }\nlayers = [\"arn:aws:lambda:us-east-1:123456789012:layer:otel:7\"]\ntracing = \"active\"\nrole = \"arn:aws:iam::123456789012:role/r\"\n\n[package.metadata.lambda.build]\ncompiler = { type = \"cargo\" }\n";
    let ws = Fixture::new()
        .file("services/legacy/Cargo.toml", manifest)
        .file("services/legacy/src/main.rs", "fn main() {}")
        .load()
        .unwrap();
    let s = &ws.services["legacy"];
    assert_eq!((s.memory_mb, s.timeout_s), (1024, 20));
    assert_eq!(s.env["MODE"], crate::model::EnvValue::from("x"));
    assert!(matches!(&s.layers[0], LayerRef::Arn(arn) if arn.ends_with(":otel:7")));
    assert_eq!(s.tracing, crate::model::Tracing::Active);
    assert_eq!(ws.warnings.len(), 1, "{:?}", ws.warnings);
    assert!(ws.warnings[0].contains("role"), "{:?}", ws.warnings);
}

#[test]
fn tracing_and_ephemeral_storage_are_read_and_checked() {
    let ws = Fixture::new()
        .service(
            "a",
            "routes = [\"GET /a\"]\ntracing = \"active\"\nephemeral-storage = 2048\n",
        )
        .load()
        .unwrap();
    let a = &ws.services["a"];
    assert_eq!(
        (a.tracing, a.ephemeral_mb),
        (crate::model::Tracing::Active, 2048)
    );
    snapshot(
        "tracing_and_ephemeral_storage",
        Fixture::new().service(
            "a",
            "routes = [\"GET /a\"]\ntracing = \"active\"\nephemeral-storage = 256\n",
        ),
    );
}

fn snapshot(name: &str, fixture: Fixture) {
    insta::assert_snapshot!(name, fixture.redacted_errors());
}

#[test]
fn unknown_key() {
    snapshot(
        "unknown_key",
        Fixture::new().service("svc", "routes = [\"GET /a\"]\nmemroy = 256\n"),
    );
}

#[test]
fn wrong_type() {
    snapshot(
        "wrong_type",
        Fixture::new().service("svc", "routes = [\"GET /a\"]\ntimeout = \"10s\"\n"),
    );
}

#[test]
fn values_out_of_range() {
    snapshot(
        "out_of_range",
        Fixture::new().service("svc", "routes = [\"GET /a\"]\nmemory = 64\ntimeout = 901\n"),
    );
}

#[test]
fn too_many_layers() {
    let arn = |n: u32| format!("\"arn:aws:lambda:us-east-1:123456789012:layer:l{n}:1\"");
    let layers: Vec<String> = (1..=6).map(arn).collect();
    snapshot(
        "too_many_layers",
        Fixture::new().service(
            "svc",
            &format!("{OK_SERVICE}layers = [{}]\n", layers.join(", ")),
        ),
    );
}

#[test]
fn environment_reserved_and_invalid_names() {
    snapshot(
        "environment",
        Fixture::new().service(
            "svc",
            &format!("{OK_SERVICE}env = {{ AWS_REGION = \"eu-west-1\", \"1BAD\" = \"v\" }}\n"),
        ),
    );
}

#[test]
fn environment_over_four_kilobytes() {
    let vars: Vec<String> = (0..42)
        .map(|i| format!("V{i:02} = \"{}\"", "x".repeat(96)))
        .collect();
    let fixture = Fixture::new().service(
        "svc",
        &format!(
            "{OK_SERVICE}[package.metadata.ferry.env]\n{}\n",
            vars.join("\n")
        ),
    );
    let errors = fixture.load().unwrap_err();
    assert_eq!(errors.errors.len(), 1);
    let error = &errors.errors[0];
    assert_eq!(
        (error.file.as_str(), error.key.as_str()),
        ("services/svc/Cargo.toml", "package.metadata.ferry.env")
    );
    assert!(
        error.message.contains("4158 bytes; Lambda allows 4096"),
        "{}",
        error.message
    );
}

#[test]
fn malformed_routes() {
    snapshot(
        "malformed_routes",
        Fixture::new().service(
            "svc",
            "routes = [\"GET items\", \"FETCH /a\", \"GET /{proxy+}/x\", \"GET /a//b\"]\n",
        ),
    );
}

#[test]
fn route_claimed_twice_names_both_places() {
    snapshot(
        "duplicate_route",
        Fixture::new()
            .service("alpha", "routes = [\"GET /items/{id}\"]\n")
            .service("beta", "memory = 256\nroutes = [\"GET /items/{key}\"]\n"),
    );
}

#[test]
fn sibling_variables_must_agree() {
    snapshot(
        "sibling_variables",
        Fixture::new()
            .service("alpha", "routes = [\"GET /items/{id}\"]\n")
            .service("beta", "routes = [\"PUT /items/{proxy+}\"]\n"),
    );
}

#[test]
fn unknown_layer_name() {
    snapshot(
        "unknown_layer",
        Fixture::new()
            .service(
                "svc",
                &format!("{OK_SERVICE}layers = [\"nope\", \"arn:aws:lambda:x\"]\n"),
            )
            .layer("keys", "files = { \"k\" = \"data\" }\n"),
    );
}

#[test]
fn invalid_lambda_names() {
    let fixture = Fixture::new()
        .file(
            "services/bad.name/Cargo.toml",
            "[package]\nname = \"bad.name\"\nversion = \"0.1.0\"\n",
        )
        .file("services/bad.name/src/main.rs", "fn main() {}")
        .file(
            "layers/layer.x/Cargo.toml",
            "[package]\nname = \"layer.x\"\nversion = \"0.1.0\"\n",
        );
    snapshot("invalid_names", fixture);
}

#[test]
fn broken_toml() {
    snapshot(
        "broken_toml",
        Fixture::new().file(
            "services/svc/Cargo.toml",
            "[package]\nname = \"svc\"\n[package.metadata.ferry]\nroutes = [\"GET /a\"\n",
        ),
    );
}

#[test]
fn layer_problems() {
    let manifest = "[package]\nname = \"keys\"\nversion = \"0.1.0\"\n\n[package.metadata.ferry]\nroutes = [\"GET /x\"]\n\n[package.metadata.ferry.layer]\nfiles = { \"/abs\" = \"data\", \"ok\" = \"missing\", \"up\" = \"../x\" }\n";
    snapshot(
        "layer_problems",
        Fixture::new()
            .file("layers/keys/Cargo.toml", manifest)
            .file("layers/keys/data/a.json", "{}"),
    );
}

#[test]
fn deploy_toml_problems() {
    let deploy = "[app]\nname = \"shop\"\n\n[stages.prod]\nregion = \"Europe\"\nrole = \"admin\"\nlog-retention-days = 10\n\n[stages.prod.services.ghost]\nmemory = 256\n";
    snapshot(
        "deploy_toml",
        Fixture::new()
            .file("deploy.toml", deploy)
            .service("svc", OK_SERVICE),
    );
}

#[test]
fn stage_account_and_profile_problems() {
    let deploy = "[app]\nname = \"shop\"\n\n[stages.prod]\nregion = \"eu-west-1\"\naccount = \"1234-5678-9012\"\nprofile = \"prod account\"\n\n[stages.test]\nregion = \"us-east-1\"\naccount = \"123456789012\"\nprofile = \"test\"\n";
    let fixture = Fixture::new()
        .file("deploy.toml", deploy)
        .service("svc", OK_SERVICE);
    let errors = fixture.load().unwrap_err();
    assert_eq!(errors.errors.len(), 2, "{}", diag::render_plain(&errors));
    snapshot("stage_account_profile", fixture);
}

#[test]
fn a_stage_pins_its_account_and_profile() {
    let deploy = "[app]\nname = \"shop\"\n\n[stages.prod]\nregion = \"eu-west-1\"\naccount = \"123456789012\"\nprofile = \"prod\"\n";
    let ws = Fixture::new()
        .file("deploy.toml", deploy)
        .service("svc", OK_SERVICE)
        .load()
        .unwrap();
    let prod = &ws.stages["prod"];
    assert_eq!(prod.profile.as_deref(), Some("prod"));
    let pin = prod.account.as_ref().unwrap();
    assert_eq!((pin.id.as_str(), pin.line), ("123456789012", 6));
}

#[test]
fn missing_deploy_toml() {
    let fixture = Fixture::new().service("svc", OK_SERVICE);
    std::fs::remove_file(fixture.path().join("deploy.toml")).unwrap();
    snapshot("missing_deploy_toml", fixture);
}

#[test]
fn unknown_cargo_lambda_key() {
    let manifest = "[package]\nname = \"legacy\"\nversion = \"0.1.0\"\n\n[package.metadata.lambda.deploy]\nmemory_size = 1024\n";
    snapshot(
        "cargo_lambda_unknown",
        Fixture::new()
            .file("services/legacy/Cargo.toml", manifest)
            .file("services/legacy/src/main.rs", ""),
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let fixture = Fixture::new()
        .service("a", "routes = [\"GET /x\"]\nmemory = 1\n")
        .service("b", "routes = [\"GET x\"]\n")
        .service("c", "routes = [\"GET /x\"]\ntimeout = 0\n");
    let errors = fixture.load().unwrap_err();
    // memory, malformed route, timeout, and the duplicate `GET /x` at both places.
    assert_eq!(errors.errors.len(), 5, "{}", diag::render_plain(&errors));
    assert!(errors
        .errors
        .iter()
        .all(|e| e.line > 0 && e.file.ends_with("Cargo.toml")));
}

#[test]
fn cloudfront_problems() {
    let deploy = format!(
        "{}\n[stages.test.cloudfront]\ndomain = \"API.example\"\ncertificate = \"arn:aws:acm:eu-west-1:123456789012:certificate/c\"\nhosted-zone = \"zone one\"\norigin = \"api\"\n\n[stages.bare]\nregion = \"us-east-1\"\n[stages.bare.cloudfront]\ninvalidate = true\n",
        fixture::DEPLOY
    );
    snapshot(
        "cloudfront_problems",
        Fixture::new()
            .service("ok", OK_SERVICE)
            .file("deploy.toml", &deploy),
    );
}

#[test]
fn a_front_door_is_validated_into_the_stage() {
    let deploy = format!(
        "{}\n[stages.test.cloudfront]\ndomain = \"api.shop.example\"\ncertificate = \"arn:aws:acm:us-east-1:123456789012:certificate/c\"\nhosted-zone = \"/hostedzone/Z0SHOP\"\n",
        fixture::DEPLOY
    );
    let ws = Fixture::new()
        .service("ok", OK_SERVICE)
        .file("deploy.toml", &deploy)
        .load()
        .unwrap();
    let front = ws.stages["test"].front.clone().unwrap();
    assert_eq!(front.hosted_zone.as_deref(), Some("Z0SHOP"));
    assert!(!front.invalidate && front.distribution.is_none());
}

/// deploy.toml with `extra` under `[app]`.
fn deploy_with_app(extra: &str) -> String {
    fixture::DEPLOY.replacen("[app]\n", &format!("[app]\n{extra}"), 1)
}

#[test]
fn crates_are_found_by_the_globs_of_deploy_toml() {
    let deploy = deploy_with_app("services = [\"lambdas/*\"]\nlayers = [\"extensions/*\"]\n");
    let fixture = Fixture::new()
        .file("deploy.toml", &deploy)
        .service_at(
            "lambdas/orders",
            "routes = [\"GET /orders\"]\nlayers = [\"keys\"]\n",
        )
        .service_at("lambdas/users", "routes = [\"GET /users\"]\n")
        .layer_at("extensions/keys", "files = { \"k\" = \"data\" }\n")
        // Not matched once deploy.toml names other folders.
        .service("stale", OK_SERVICE)
        .file("lambdas/notes/README.md", "not a crate\n");
    let files = WorkspaceFiles::read(fixture.path()).unwrap();
    let kinds: Vec<(String, load::CrateKind)> = files
        .crates
        .iter()
        .map(|c| (c.dir.display().to_string(), c.kind))
        .collect();
    assert_eq!(
        kinds,
        [
            ("lambdas/orders".to_owned(), load::CrateKind::Service),
            ("lambdas/users".to_owned(), load::CrateKind::Service),
            ("extensions/keys".to_owned(), load::CrateKind::Layer),
        ]
    );
    let ws = fixture.load().unwrap();
    assert_eq!(ws.services.keys().collect::<Vec<_>>(), ["orders", "users"]);
    assert_eq!(
        ws.services["orders"].dir,
        std::path::Path::new("lambdas/orders")
    );
    assert_eq!(
        ws.services["orders"].layers,
        [LayerRef::Workspace("keys".into())]
    );
    assert_eq!(
        ws.layers["keys"].dir,
        std::path::Path::new("extensions/keys")
    );
    assert_eq!(
        (ws.app.services.as_slice(), ws.app.layers.as_slice()),
        (
            &["lambdas/*".to_owned()][..],
            &["extensions/*".to_owned()][..]
        )
    );
}

#[test]
fn default_globs_may_match_nothing() {
    let ws = Fixture::new().service("svc", OK_SERVICE).load().unwrap();
    assert!(ws.layers.is_empty());
    assert_eq!(
        (ws.app.services, ws.app.layers),
        (
            vec!["services/*".to_owned(), "authorizers/*".to_owned()],
            vec!["layers/*".to_owned()]
        )
    );
}

#[test]
fn glob_problems() {
    let deploy = deploy_with_app(
        "services = [\"lambdas/*\", \"nowhere/*\", \"../up\"]\nlayers = [\"extensions/*\", \"lambdas/shared\"]\n",
    );
    snapshot(
        "glob_problems",
        Fixture::new()
            .file("deploy.toml", &deploy)
            .service_at("lambdas/orders", OK_SERVICE)
            .layer_at("lambdas/shared", "files = { \"k\" = \"data\" }\n")
            .layer_at("extensions/keys", "files = { \"k\" = \"data\" }\n"),
    );
}
