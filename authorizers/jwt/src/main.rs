//! The items API's Lambda REQUEST authorizer: verifies the caller's bearer
//! JWT with `crates/auth` against the `jwks` layer's keys and answers API
//! Gateway with a policy for the whole stage, since API Gateway caches the
//! answer per token for every route the authorizer guards.
//!
//! A missing or invalid token fails with `Unauthorized` (API Gateway: 401);
//! a valid token of a subject listed in `DENIED_SUBJECTS` (comma-separated)
//! gets an explicit Deny (403). The route sees `principalId` and `sub` in
//! `requestContext.authorizer`.

use std::sync::Arc;
use std::time::SystemTime;

use lambda_http::aws_lambda_events::apigw::ApiGatewayCustomAuthorizerRequestTypeRequest as AuthRequest;
use lambda_http::lambda_runtime::{self, service_fn, LambdaEvent};
use lambda_http::Error;
use serde_json::{json, Value};

/// The error message API Gateway turns into 401 `{"message":"Unauthorized"}`.
const UNAUTHORIZED: &str = "Unauthorized";

struct Authorizer {
    keys: auth::Jwks,
    denied: Vec<String>,
}

impl Authorizer {
    fn decide(&self, request: &AuthRequest, now: SystemTime) -> Result<Value, Error> {
        let header = request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok());
        let claims = auth::bearer(header)
            .and_then(|token| self.keys.verify(token, now))
            .map_err(|_| Error::from(UNAUTHORIZED))?;
        let effect = if self.denied.contains(&claims.sub) {
            "Deny"
        } else {
            "Allow"
        };
        let method_arn = request.method_arn.as_deref().unwrap_or_default();
        Ok(json!({
            "principalId": claims.sub,
            "policyDocument": {
                "Version": "2012-10-17",
                "Statement": [{
                    "Action": "execute-api:Invoke",
                    "Effect": effect,
                    "Resource": stage_arn(method_arn),
                }],
            },
            "context": { "sub": claims.sub, "expires": claims.exp },
        }))
    }
}

/// `arn:aws:execute-api:R:A:API/STAGE/*` from a method ARN
/// (`…:API/STAGE/VERB/path`): every method and path of the stage.
fn stage_arn(method_arn: &str) -> String {
    let mut parts = method_arn.splitn(3, '/');
    match (parts.next(), parts.next()) {
        (Some(api), Some(stage)) => format!("{api}/{stage}/*"),
        _ => method_arn.to_owned(),
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let authorizer = Arc::new(Authorizer {
        keys: auth::Jwks::from_layer()?,
        denied: std::env::var("DENIED_SUBJECTS")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
    });
    lambda_runtime::run(service_fn(move |event: LambdaEvent<AuthRequest>| {
        let authorizer = Arc::clone(&authorizer);
        async move { authorizer.decide(&event.payload, SystemTime::now()) }
    }))
    .await
}

#[cfg(test)]
mod tests {
    use super::stage_arn;

    #[test]
    fn the_policy_covers_the_whole_stage() {
        assert_eq!(
            stage_arn("arn:aws:execute-api:us-east-1:123456789012:abc123/test/POST/items"),
            "arn:aws:execute-api:us-east-1:123456789012:abc123/test/*"
        );
    }
}
