use crate::model::fixture::{Fixture, DEPLOY};
use crate::model::Method;

fn shop(cors: &str) -> Fixture {
    Fixture::new()
        .file(
            "deploy.toml",
            &format!("{DEPLOY}\n[stages.test.api.cors]\n{cors}"),
        )
        .service("list", "routes = [\"GET /items\"]\n")
        .service("create", "routes = [\"POST /items\"]\n")
        .service("get", "routes = [\"GET /items/{id}\"]\n")
        .service("hook", "routes = [\"POST /hook\"]\n")
}

fn snapshot(name: &str, fixture: Fixture) {
    insta::assert_snapshot!(name, fixture.redacted_errors());
}

#[test]
fn a_stage_policy_applies_to_every_path_under_its_overrides() {
    let ws = shop(
        "allow-origins = [\"https://app.example.com\", \"http://localhost:3000\"]\nallow-credentials = true\nexpose-headers = [\"ETag\"]\n\n[stages.test.api.cors.paths.\"/hook\"]\nenabled = false\n\n[stages.test.api.cors.paths.\"/items/{id}\"]\nmax-age = 60\nallow-methods = [\"GET\"]\n",
    )
    .load()
    .unwrap();
    let stage = &ws.stages["test"];
    let cors = stage.api.cors.as_ref().unwrap();
    let items = cors.for_path("/items").unwrap();
    assert_eq!(
        items.origins,
        ["http://localhost:3000", "https://app.example.com"]
    );
    assert!(items.credentials);
    assert_eq!(items.max_age_s, 600);
    assert_eq!(items.allow_headers[0], "Authorization");
    let one = cors.for_path("/items/{id}").unwrap();
    assert_eq!((one.max_age_s, one.credentials), (60, true));
    assert_eq!(one.allow_methods, Some([Method::Get].into()));
    assert!(cors.for_path("/hook").is_none());

    let env = |service: &str| {
        stage
            .settings(&ws.app, &ws.services[service])
            .env
            .get(ferry_cors::ENV)
            .cloned()
    };
    assert!(env("hook").is_none(), "a path without CORS sets nothing");
    let Some(crate::model::EnvValue::Plain(list)) = env("list") else {
        panic!("the list service gets its policy");
    };
    let parsed = ferry_cors::Cors::parse(&list).unwrap();
    assert_eq!(parsed.paths["/items"].expose, ["ETag"]);
}

#[test]
fn cors_errors() {
    snapshot(
        "cors_origins",
        shop("allow-origins = [\"https://app.example.com/\", \"app.example.com\", \"https://App.example.com\", \"http://localhost:0\", \"*\"]\n"),
    );
    snapshot("cors_without_origins", shop("max-age = 90000\n"));
    snapshot(
        "cors_default_port_and_idle_keys",
        shop("allow-origins = [\"https://app.example.com:443\", \"http://localhost:8080\"]\n[stages.test.api.cors.paths.\"/hook\"]\nenabled = false\nmax-age = 5\n"),
    );
    snapshot(
        "cors_star_with_credentials",
        shop("allow-origins = [\"*\"]\nallow-credentials = true\nallow-methods = [\"FETCH\"]\nallow-headers = [\"Content Type\"]\n"),
    );
    snapshot(
        "cors_unknown_path",
        shop("allow-origins = [\"*\"]\n[stages.test.api.cors.paths.\"GET /items\"]\nmax-age = 5\n[stages.test.api.cors.paths.\"/nowhere\"]\nenabled = false\n[stages.test.api.cors.paths.\"/items/{id}\"]\nmax-age = 5\n"),
    );
    snapshot(
        "cors_own_options_route",
        Fixture::new()
            .file(
                "deploy.toml",
                &format!("{DEPLOY}\n[stages.test.api.cors]\nallow-origins = [\"*\"]\n"),
            )
            .service("any", "routes = [\"GET /a\", \"OPTIONS /a\"]\n"),
    );
}

#[test]
fn ferry_cors_is_not_a_users_variable() {
    snapshot(
        "cors_env_reserved",
        Fixture::new().service(
            "a",
            "routes = [\"GET /a\"]\nenv = { FERRY_CORS = \"{}\" }\n",
        ),
    );
}

#[test]
fn a_cached_route_that_reflects_listed_origins_keys_on_origin() {
    let front = "\n[stages.test.cloudfront]\ndomain = \"api.shop.example\"\ncertificate = \"arn:aws:acm:us-east-1:123456789012:certificate/c1\"\n";
    let ws = Fixture::new()
        .file(
            "deploy.toml",
            &format!("{DEPLOY}{front}\n[stages.test.api.cors]\nallow-origins = [\"https://app.example.com\"]\n[stages.test.api.cors.paths.\"/open\"]\nallow-origins = [\"*\"]\n"),
        )
        .service(
            "list",
            "routes = [\"GET /items\"]\n[package.metadata.ferry.cache.\"GET /items\"]\nttl = 30\n",
        )
        .service(
            "open",
            "routes = [\"GET /open\"]\n[package.metadata.ferry.cache.\"GET /open\"]\nttl = 30\n",
        )
        .load()
        .unwrap();
    let cache = &ws.stages["test"].front.as_ref().unwrap().cache;
    assert!(cache.routes["GET /items"].headers.contains("origin"));
    assert!(
        !cache.routes["GET /open"].headers.contains("origin"),
        "any origin gets one answer"
    );
    let items = cache
        .behaviors
        .iter()
        .find(|b| b.pattern == "/items")
        .unwrap();
    assert!(format!("{items:?}").contains("origin"), "{items:?}");
}
