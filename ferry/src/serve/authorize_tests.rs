//! The authorizer step's pure parts: identity sources, the events the
//! authorizer gets, its answer, and IAM's evaluation of the policy.

use serde_json::json;

use super::*;

fn statement(allow: bool, action: &str, resource: &str) -> Statement {
    Statement {
        allow,
        actions: vec![action.into()],
        resources: vec![resource.into()],
    }
}

const ARN: &str = "arn:aws:execute-api:us-east-1:123456789012:local/test/POST/items";

#[test]
fn an_explicit_deny_wins_then_an_allow_else_nothing_allows() {
    let stage = "arn:aws:execute-api:us-east-1:123456789012:local/test/*";
    assert_eq!(
        decide(&[statement(true, "execute-api:Invoke", stage)], ARN),
        Some(true)
    );
    assert_eq!(decide(&[statement(true, "*", "*")], ARN), Some(true));
    assert_eq!(
        decide(
            &[
                statement(true, "execute-api:Invoke", stage),
                statement(false, "execute-api:*", ARN)
            ],
            ARN
        ),
        Some(false)
    );
    let other = "arn:aws:execute-api:us-east-1:123456789012:local/test/GET/*";
    assert_eq!(
        decide(&[statement(true, "execute-api:Invoke", other)], ARN),
        None
    );
    assert_eq!(decide(&[statement(true, "s3:GetObject", "*")], ARN), None);
}

#[test]
fn wildcards_follow_iam() {
    assert!(wildcard("a*c", "abbbc"));
    assert!(wildcard("a?c", "abc"));
    assert!(wildcard("*", ""));
    assert!(!wildcard("a?c", "ac"));
    assert!(!wildcard("abc", "abcd"));
    assert!(wildcard("arn:*/test/*", "arn:x:y/test/POST/items"));
}

#[test]
fn the_identity_is_every_source_or_nothing() {
    let event = json!({
        "headers": {"authorization": "Bearer t"},
        "queryStringParameters": {"tenant": "a"},
        "requestContext": {"stage": "test", "identity": {"sourceIp": "127.0.0.1"}},
    });
    let sources = |texts: &[&str]| -> Vec<IdentitySource> {
        texts
            .iter()
            .map(|t| IdentitySource::parse(t).unwrap())
            .collect()
    };
    assert_eq!(
        identity(
            &sources(&[
                "header:Authorization",
                "query:tenant",
                "context:identity.sourceIp"
            ]),
            &event
        ),
        Some(vec!["Bearer t".into(), "a".into(), "127.0.0.1".into()])
    );
    assert_eq!(
        identity(&sources(&["header:Authorization", "query:other"]), &event),
        None
    );
    // `$context.sourceIp` is not a variable of API Gateway's.
    assert_eq!(identity(&sources(&["context:sourceIp"]), &event), None);
    assert!(IdentitySource::parse("stage:audience").is_err());
}

#[test]
fn token_and_request_events_carry_the_method_arn() {
    let event = json!({"httpMethod": "POST", "body": "x", "isBase64Encoded": false, "headers": {}});
    let ask = Ask {
        event: &event,
        method_arn: ARN.into(),
        request_id: "r1",
    };
    assert_eq!(
        request_event(AuthorizerType::Token, &["Bearer t".into()], &ask),
        json!({"type": "TOKEN", "authorizationToken": "Bearer t", "methodArn": ARN})
    );
    let request = request_event(AuthorizerType::Request, &[], &ask);
    assert_eq!(request["type"], "REQUEST");
    assert_eq!(request["methodArn"], ARN);
    assert_eq!(request["httpMethod"], "POST");
    assert!(request.get("body").is_none());
}

#[test]
fn answers_are_policies_with_flat_contexts() {
    let ok = br#"{"principalId":"u1","policyDocument":{"Version":"2012-10-17","Statement":[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":["*"]}]},"context":{"sub":"u1","n":3,"b":true}}"#;
    let answer = parse_answer(ok).unwrap();
    assert_eq!(answer.principal, "u1");
    // A proxy integration gets every value as a string, as on AWS.
    assert_eq!(answer.context["n"], "3");
    assert_eq!(answer.context["b"], "true");
    let null = br#"{"principalId":"u1","policyDocument":{"Statement":[]},"context":{"x":null}}"#;
    assert!(parse_answer(null).is_err());
    assert_eq!(decide(&answer.statements, ARN), Some(true));
    let nested =
        br#"{"principalId":"u1","policyDocument":{"Statement":[]},"context":{"x":{"y":1}}}"#;
    assert!(parse_answer(nested).unwrap_err().contains("`x`"));
    assert!(parse_answer(br#"{"policyDocument":{"Statement":[]}}"#).is_err());
    assert!(is_unauthorized(
        br#"{"errorType":"&str","errorMessage":"Unauthorized"}"#
    ));
    assert!(!is_unauthorized(br#"{"errorMessage":"boom"}"#));
}

#[test]
fn a_cognito_token_passes_with_its_claims_unverified() {
    let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"sub":"u1"}"#);
    let event = json!({"headers": {"Authorization": format!("h.{claims}.s")}});
    let pool = CognitoAuthorizer {
        user_pools: vec![],
        header: "authorization".into(),
        ttl_s: 300,
    };
    match cognito("users", &pool, &event) {
        Outcome::Allowed { context, .. } => assert_eq!(context["claims"]["sub"], "u1"),
        Outcome::Refused { .. } => panic!("refused"),
    }
    assert!(matches!(
        cognito("users", &pool, &json!({"headers": {}})),
        Outcome::Refused { refusal, .. } if refusal == UNAUTHORIZED
    ));
}
