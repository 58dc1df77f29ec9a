use super::*;
use crate::model::route::Route;

fn table(routes: &[(&str, &str)]) -> RouteTable {
    RouteTable::new(
        routes
            .iter()
            .map(|(r, s)| (Route::parse(r).unwrap(), (*s).to_owned())),
    )
}

fn settings(ttl: u64, headers: &[&str]) -> CacheSettings {
    CacheSettings {
        min_ttl: 0,
        default_ttl: ttl,
        max_ttl: MAX_TTL_S,
        query: KeyNames::None,
        headers: headers.iter().map(|h| (*h).to_owned()).collect(),
        cookies: KeyNames::None,
    }
}

fn patterns(b: &[Behavior]) -> Vec<(String, String)> {
    b.iter()
        .map(|b| (b.pattern.clone(), b.caching.to_string()))
        .collect()
}

#[test]
fn patterns_replace_parameters() {
    let p = |r: &str| pattern_of(&Route::parse(r).unwrap().path.segments);
    assert_eq!(p("GET /"), "/");
    assert_eq!(p("GET /items"), "/items");
    assert_eq!(p("GET /items/{id}"), "/items/*");
    assert_eq!(p("GET /items/{id}/tags"), "/items/*/tags");
    assert_eq!(p("ANY /files/{proxy+}"), "/files/*");
    assert!(pattern_matches("/items/*", "/items/7/tags"));
    assert!(!pattern_matches("/items", "/items/7"));
}

#[test]
fn the_example_stage_gets_one_behavior_per_cached_pattern() {
    let routes = table(&[
        ("GET /items", "list-items"),
        ("POST /items", "create-item"),
        ("GET /items/{id}", "get-item"),
    ]);
    let cached = BTreeMap::from([
        ("GET /items".to_owned(), settings(30, &[])),
        (
            "GET /items/{id}".to_owned(),
            settings(60, &["accept-language"]),
        ),
    ]);
    let auth = BTreeMap::from([("create-item".to_owned(), "authorization".to_owned())]);
    let got = behaviors(&routes, &cached, &auth).unwrap();
    assert_eq!(
        patterns(&got),
        [
            (
                "/items/*".to_owned(),
                "ttl 60 s (0..31536000), key: headers=accept-language".to_owned()
            ),
            // POST /items authenticates, and CloudFront forwards only what
            // the key holds: the header joins the GET's key.
            (
                "/items".to_owned(),
                "ttl 30 s (0..31536000), key: headers=authorization".to_owned()
            ),
        ]
    );
    assert_eq!(behavior_for(&got, "/items/3").unwrap().pattern, "/items/*");
    assert_eq!(behavior_for(&got, "/items").unwrap().pattern, "/items");
    assert!(behavior_for(&got, "/health").is_none());
}

#[test]
fn an_uncached_path_under_a_cached_pattern_gets_its_own_uncached_behavior_first() {
    let routes = table(&[
        ("GET /items/{id}", "get-item"),
        ("GET /items/{id}/history", "history"),
        ("GET /health", "health"),
    ]);
    let cached = BTreeMap::from([("GET /items/{id}".to_owned(), settings(60, &[]))]);
    let got = behaviors(&routes, &cached, &BTreeMap::new()).unwrap();
    assert_eq!(
        patterns(&got),
        [
            ("/items/*/history".to_owned(), "not cached".to_owned()),
            (
                "/items/*".to_owned(),
                "ttl 60 s (0..31536000), key: path only".to_owned()
            ),
        ]
    );
}

#[test]
fn routes_sharing_a_pattern_must_cache_alike() {
    let routes = table(&[("GET /files/{id}", "a"), ("GET /files/{proxy+}", "b")]);
    let cached = BTreeMap::from([("GET /files/{id}".to_owned(), settings(60, &[]))]);
    let err = behaviors(&routes, &cached, &BTreeMap::new()).unwrap_err();
    assert!(
        err.contains("share CloudFront's path pattern `/files/*`"),
        "{err}"
    );
}

#[test]
fn nothing_cached_means_no_behaviors() {
    let routes = table(&[("GET /items", "a")]);
    assert!(behaviors(&routes, &BTreeMap::new(), &BTreeMap::new())
        .unwrap()
        .is_empty());
}

#[test]
fn serve_explains_what_cloudfront_would_do() {
    let routes = table(&[("GET /items", "list"), ("POST /items", "create")]);
    let mut s = settings(30, &["accept-language"]);
    s.query = KeyNames::Named(["limit".to_owned()].into());
    let cached = BTreeMap::from([("GET /items".to_owned(), s)]);
    let b = behaviors(&routes, &cached, &BTreeMap::new()).unwrap();
    assert_eq!(
        decision(&b, "GET", "/items").unwrap(),
        "cache: hit-able 30 s (/items), key: path query=limit headers=accept-language"
    );
    assert_eq!(
        decision(&b, "POST", "/items").unwrap(),
        "cache: no (POST is never cached)"
    );
    assert_eq!(
        decision(&b, "GET", "/other").unwrap(),
        "cache: no (default behavior)"
    );
    assert_eq!(decision(&[], "GET", "/items"), None);
}
