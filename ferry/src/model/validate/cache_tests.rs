use crate::model::cache::{Caching, KeyNames};
use crate::model::fixture::Fixture;

const FRONT: &str = "[app]\nname = \"shop\"\n\n[stages.test]\nregion = \"us-east-1\"\n\n[stages.test.cloudfront]\ndomain = \"api.shop.example\"\ncertificate = \"arn:aws:acm:us-east-1:123456789012:certificate/c1\"\n";

fn shop(list_cache: &str, stage_cache: &str) -> Fixture {
    Fixture::new()
        .file("deploy.toml", &format!("{FRONT}{stage_cache}"))
        .service("list", &format!("routes = [\"GET /items\"]\n{list_cache}"))
        .service("get", "routes = [\"GET /items/{id}\"]\n")
        .service(
            "create",
            "routes = [\"POST /items\"]\nauth-header = \"Authorization\"\n",
        )
}

#[test]
fn a_stage_resolves_its_routes_settings_over_the_services() {
    let ws = shop(
        "[package.metadata.ferry.cache.\"GET /items\"]\nquery = [\"limit\"]\nmax-ttl = 300\n",
        "\n[stages.test.cloudfront.cache]\nttl = 10\n\n[stages.test.cloudfront.cache.routes.\"GET /items/{id}\"]\nheaders = [\"Accept-Language\"]\n",
    )
    .load()
    .unwrap();
    let cache = &ws.stages["test"].front.as_ref().unwrap().cache;
    let list = &cache.routes["GET /items"];
    assert_eq!((list.min_ttl, list.default_ttl, list.max_ttl), (0, 10, 300));
    assert_eq!(list.query, KeyNames::Named(["limit".to_owned()].into()));
    let get = &cache.routes["GET /items/{id}"];
    assert_eq!(get.headers, ["accept-language".to_owned()].into());
    let patterns: Vec<(&str, bool)> = cache
        .behaviors
        .iter()
        .map(|b| (b.pattern.as_str(), matches!(b.caching, Caching::On(_))))
        .collect();
    assert_eq!(patterns, [("/items/*", true), ("/items", true)]);
    // POST /items authenticates: its header joins the shared pattern's key.
    let Caching::On(items) = &cache.behaviors[1].caching else {
        unreachable!()
    };
    assert!(items.headers.contains("authorization"));
}

#[test]
fn a_stage_can_turn_caching_off() {
    let ws = shop(
        "[package.metadata.ferry.cache.\"GET /items\"]\nttl = 30\n",
        "\n[stages.test.cloudfront.cache]\nenabled = false\n",
    )
    .load()
    .unwrap();
    assert!(ws.stages["test"].front.as_ref().unwrap().cache.is_empty());
}

#[test]
fn a_cached_route_behind_auth_must_key_on_its_header() {
    let fixture = Fixture::new()
        .file("deploy.toml", FRONT)
        .service(
            "mine",
            "routes = [\"GET /me\"]\nauth-header = \"Authorization\"\n\n[package.metadata.ferry.cache.\"GET /me\"]\nttl = 30\n",
        );
    let rendered = fixture
        .errors()
        .replace(&fixture.path().display().to_string(), "[ROOT]");
    insta::assert_snapshot!("cached_route_behind_auth", rendered);
}

#[test]
fn bad_cache_keys_are_named_with_their_fix() {
    let cases = [
        (
            "[package.metadata.ferry.cache.\"GET /items\"]\nttl = 40000000\n",
            "",
            "`package.metadata.ferry.cache.\"GET /items\".ttl`: 40000000 seconds is outside CloudFront's TTL range",
        ),
        (
            "[package.metadata.ferry.cache.\"GET /items\"]\nheaders = [\"Accept Language\"]\n",
            "",
            "`Accept Language` is not an HTTP header name",
        ),
        (
            "[package.metadata.ferry.cache.\"GET /items\"]\nheaders = [\"Host\"]\n",
            "",
            "`Host` cannot be in a cache key",
        ),
        (
            "[package.metadata.ferry.cache.\"GET /things\"]\nttl = 5\n",
            "",
            "`GET /things` is not one of this service's routes",
        ),
        (
            "[package.metadata.ferry.cache.\"GET /items\"]\nquery = \"some\"\n",
            "",
            "neither \"none\", \"all\" nor a list of names",
        ),
        (
            "[package.metadata.ferry.cache.\"GET /items\"]\nmin-ttl = 100\nttl = 5\n",
            "",
            "CloudFront needs min-ttl <= ttl <= max-ttl",
        ),
        (
            "",
            "\n[stages.test.cloudfront.cache.routes.\"POST /items\"]\nttl = 5\n",
            "cannot be cached: CloudFront caches only GET and HEAD",
        ),
        (
            "",
            "\n[stages.test.cloudfront.cache.routes.\"GET /nowhere\"]\nttl = 5\n",
            "no service declares the route `GET /nowhere`",
        ),
    ];
    for (list, stage, expected) in cases {
        let fixture = shop(list, stage);
        let errors = fixture.load().unwrap_err().errors;
        assert_eq!(errors.len(), 1, "{errors:?}");
        let (message, help) = (&errors[0].message, errors[0].help.as_deref());
        assert!(
            message.contains(expected),
            "expected {expected:?} in {message}"
        );
        assert!(help.is_some_and(|h| !h.is_empty()), "{message}: no help");
    }
}

#[test]
fn a_stage_without_a_front_door_can_cache_at_api_gateway() {
    let deploy = "[app]\nname = \"shop\"\n\n[stages.test]\nregion = \"us-east-1\"\n\n[stages.test.api.cache]\nsize = \"1.6\"\n\n[stages.test.api.cache.routes.\"GET /items/{id}\"]\nttl = 600\n";
    let ws = Fixture::new()
        .file("deploy.toml", deploy)
        .service(
            "list",
            "routes = [\"GET /items\"]\n\n[package.metadata.ferry.cache.\"GET /items\"]\nttl = 30\nmax-ttl = 300\nquery = [\"limit\"]\n",
        )
        .service("get", "routes = [\"GET /items/{id}\"]\n")
        .load()
        .unwrap();
    let cache = ws.stages["test"].api.cache.as_ref().unwrap();
    assert_eq!((cache.enabled, cache.size.as_str()), (true, "1.6"));
    let ttls: Vec<(&str, u64)> = cache
        .routes
        .iter()
        .map(|(r, s)| (r.as_str(), s.default_ttl))
        .collect();
    assert_eq!(ttls, [("GET /items", 30), ("GET /items/{id}", 600)]);
}

#[test]
fn what_api_gateway_cannot_cache_is_refused() {
    let front = "[app]\nname = \"shop\"\n\n[stages.test]\nregion = \"us-east-1\"\n\n[stages.test.api.cache]\n";
    let cases = [
        (
            "size = \"2\"\n",
            "ttl = 30\n",
            "`2` is not a cache cluster size",
        ),
        ("", "ttl = 7200\n", "keeps a response at most 3600 s"),
        (
            "",
            "query = \"all\"\n",
            "API Gateway's cache key names each one",
        ),
        (
            "",
            "cookies = [\"session\"]\n",
            "keys on cookies; API Gateway's cache cannot",
        ),
    ];
    for (stage, route, expected) in cases {
        let fixture = Fixture::new()
            .file("deploy.toml", &format!("{front}{stage}"))
            .service(
                "list",
                &format!("routes = [\"GET /items\"]\n\n[package.metadata.ferry.cache.\"GET /items\"]\n{route}"),
            );
        let errors = fixture.load().unwrap_err().errors;
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].message.contains(expected),
            "{}",
            errors[0].message
        );
    }
    let both = format!("{FRONT}\n[stages.test.api.cache]\n");
    let fixture = Fixture::new().file("deploy.toml", &both).service(
        "list",
        "routes = [\"GET /items\"]\n\n[package.metadata.ferry.cache.\"GET /items\"]\nttl = 30\n",
    );
    let errors = fixture.load().unwrap_err().errors;
    assert!(errors[0]
        .message
        .contains("caches its routes at CloudFront already"));
}
