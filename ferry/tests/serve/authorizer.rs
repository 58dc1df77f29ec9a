//! The test stage's `jwt` authorizer under `serve`: it runs before
//! `POST /items` as API Gateway runs it, with the same answers (401 without
//! a token or with a bad one, 403 on an explicit deny), its answer cached
//! per token for its TTL, and its context in `requestContext.authorizer`.

use std::time::{SystemTime, UNIX_EPOCH};

use super::support::http::request;
use super::{dev_token, Serve};

pub fn check(serve: &Serve) {
    let exp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 900;
    let item = br#"{"name":"kayak","price_cents":90000,"tags":[]}"#;
    let post = |headers: &[(&str, &str)]| {
        let mut all = vec![("content-type", "application/json")];
        all.extend_from_slice(headers);
        request(&serve.address, "POST", "/items", &all, item)
    };

    let fresh = format!("Bearer {}", dev_token("walker", exp));
    for _ in 0..2 {
        let created = post(&[("authorization", &fresh)]);
        assert_eq!(created.status, 201, "{}", created.text());
        assert_eq!(
            created.json()["created_by"],
            "walker",
            "the function reads the authorizer's principalId"
        );
    }
    let lines = serve.log_lines("POST /items -> 201");
    let last_two: Vec<&String> = lines.iter().rev().take(2).rev().collect();
    assert!(last_two[0].contains("jwt: allow (called)"), "{last_two:?}");
    assert!(
        last_two[1].contains("jwt: allow (cached)"),
        "the authorizer is not called again within its TTL: {last_two:?}"
    );

    let origin = ("origin", "http://localhost:3000");
    let anonymous = post(&[origin]);
    assert_eq!(
        (anonymous.status, anonymous.text()),
        (401, r#"{"message":"Unauthorized"}"#.to_owned())
    );
    assert_eq!(
        anonymous.header("access-control-allow-origin"),
        Some("http://localhost:3000"),
        "API Gateway's own 401 carries the stage's CORS headers"
    );
    assert!(serve
        .log_lines("POST /items -> 401")
        .last()
        .is_some_and(|l| l.contains("jwt: no identity, not called")));

    let forged = format!("Bearer {}x", dev_token("walker", exp));
    let refused = post(&[("authorization", &forged)]);
    assert_eq!(
        (refused.status, refused.text()),
        (401, r#"{"message":"Unauthorized"}"#.to_owned())
    );

    let suspended = format!("Bearer {}", dev_token("suspended", exp));
    let denied = post(&[("authorization", &suspended)]);
    assert_eq!(denied.status, 403);
    assert_eq!(
        denied.json()["Message"],
        "User is not authorized to access this resource with an explicit deny"
    );
}
