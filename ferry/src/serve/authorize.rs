//! API Gateway's authorizer step, as `serve` runs it before a guarded
//! route: the identity sources (a request without them is refused with 401
//! before any function runs), the result cache keyed by their values for
//! the authorizer's TTL, the authorizer binary invoked with the TOKEN or
//! REQUEST event, its policy evaluated against the method ARN, and API
//! Gateway's 401/403/500 answers. A Cognito authorizer cannot be checked
//! offline: its token's claims pass unverified, and `serve` says so.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine;
use bytes::Bytes;
use serde_json::{json, Map, Value};

use super::pool::{InvokeResult, Pool};
use crate::model::auth::{AuthorizerType, CognitoAuthorizer, IdentitySource, LambdaAuthorizer};

/// API Gateway's answer when the authorizer refuses or cannot decide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub body: &'static str,
    pub error_type: &'static str,
}

pub const UNAUTHORIZED: Refusal = Refusal {
    status: 401,
    body: r#"{"message":"Unauthorized"}"#,
    error_type: "UnauthorizedException",
};
pub const EXPLICIT_DENY: Refusal = Refusal {
    status: 403,
    body: r#"{"Message":"User is not authorized to access this resource with an explicit deny"}"#,
    error_type: "AccessDeniedException",
};
pub const NOT_ALLOWED: Refusal = Refusal {
    status: 403,
    body: r#"{"Message":"User is not authorized to access this resource"}"#,
    error_type: "AccessDeniedException",
};
pub const CONFIGURATION: Refusal = Refusal {
    status: 500,
    body: r#"{"message": null}"#,
    error_type: "AuthorizerConfigurationException",
};

/// What the authorizer step decided, and a note for the request's log line.
pub enum Outcome {
    /// The route runs with this `requestContext.authorizer`.
    Allowed {
        context: Value,
        note: String,
    },
    Refused {
        refusal: Refusal,
        note: String,
    },
}

/// A Lambda authorizer's answer, as the cache keeps it.
#[derive(Debug, Clone)]
struct Answer {
    principal: Value,
    statements: Vec<Statement>,
    context: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Statement {
    allow: bool,
    actions: Vec<String>,
    resources: Vec<String>,
}

/// The answers of every Lambda authorizer, by authorizer and identity.
#[derive(Default)]
pub struct Cache {
    entries: Mutex<HashMap<(String, String), (Instant, Answer)>>,
}

/// What the authorizer is asked about one request.
pub struct Ask<'a> {
    /// The REST proxy event the route would get.
    pub event: &'a Value,
    pub method_arn: String,
    pub request_id: &'a str,
}

/// Runs Lambda authorizer `name` for one request, through the cache.
pub async fn lambda(
    name: &str,
    authorizer: &LambdaAuthorizer,
    pool: &Pool,
    cache: &Cache,
    ask: Ask<'_>,
) -> Outcome {
    let refused = |refusal: Refusal, note: String| Outcome::Refused { refusal, note };
    let Some(identity) = identity(&authorizer.identity_sources, ask.event) else {
        return refused(UNAUTHORIZED, format!("{name}: no identity, not called"));
    };
    let key = (name.to_owned(), identity.join("\u{1f}"));
    let ttl = Duration::from_secs(authorizer.ttl_s.into());
    let cached = cache.entries.lock().ok().and_then(|entries| {
        let (at, answer) = entries.get(&key)?;
        (at.elapsed() < ttl).then(|| answer.clone())
    });
    let (answer, how) = match cached {
        Some(answer) => (answer, "cached"),
        None => {
            let event = request_event(authorizer.kind, &identity, &ask);
            let payload = Bytes::from(event.to_string());
            let answer = match pool.invoke(ask.request_id, payload).await {
                InvokeResult::Response(body) => match parse_answer(&body) {
                    Ok(answer) => answer,
                    Err(why) => {
                        eprintln!("[{name}] the authorizer's answer is not a policy: {why}");
                        return refused(CONFIGURATION, format!("{name}: bad answer"));
                    }
                },
                InvokeResult::FunctionError(body) if is_unauthorized(&body) => {
                    return refused(UNAUTHORIZED, format!("{name}: unauthorized"));
                }
                InvokeResult::FunctionError(body) => {
                    eprintln!(
                        "[{name}] authorizer error: {}",
                        String::from_utf8_lossy(&body)
                    );
                    return refused(CONFIGURATION, format!("{name}: error"));
                }
                InvokeResult::Timeout | InvokeResult::Crashed(_) => {
                    return refused(CONFIGURATION, format!("{name}: failed"));
                }
            };
            if ttl > Duration::ZERO {
                if let Ok(mut entries) = cache.entries.lock() {
                    entries.insert(key, (Instant::now(), answer.clone()));
                }
            }
            (answer, "called")
        }
    };
    match decide(&answer.statements, &ask.method_arn) {
        Some(true) => {
            let mut context = answer.context.clone();
            context.insert("principalId".into(), answer.principal.clone());
            context.insert("integrationLatency".into(), json!(0));
            Outcome::Allowed {
                context: Value::Object(context),
                note: format!("{name}: allow ({how})"),
            }
        }
        Some(false) => refused(EXPLICIT_DENY, format!("{name}: deny ({how})")),
        None => refused(NOT_ALLOWED, format!("{name}: not allowed ({how})")),
    }
}

/// A Cognito authorizer, offline: the token must be there; its claims
/// reach the route as `requestContext.authorizer.claims`, unverified.
pub fn cognito(name: &str, authorizer: &CognitoAuthorizer, event: &Value) -> Outcome {
    let token = header(event, &authorizer.header);
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return Outcome::Refused {
            refusal: UNAUTHORIZED,
            note: format!("{name}: no token"),
        };
    };
    let claims = token
        .trim_start_matches("Bearer ")
        .split('.')
        .nth(1)
        .and_then(|p| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(p.trim_end_matches('='))
                .ok()
        })
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .and_then(|v| v.as_object().map(stringified))
        .map(Value::Object)
        .unwrap_or(Value::Null);
    Outcome::Allowed {
        context: json!({ "claims": claims }),
        note: format!("{name}: cognito, not verified locally"),
    }
}

/// `arn:aws:execute-api:REGION:ACCOUNT:API/STAGE/METHOD/path`, as API
/// Gateway gives the authorizer and matches its policy against.
pub fn method_arn(
    region: &str,
    account: &str,
    api: &str,
    stage: &str,
    method: &str,
    path: &str,
) -> String {
    format!(
        "arn:aws:execute-api:{region}:{account}:{api}/{stage}/{method}/{}",
        path.trim_start_matches('/')
    )
}

/// The values of `sources` in the request, or `None` if one is missing.
fn identity(sources: &[IdentitySource], event: &Value) -> Option<Vec<String>> {
    sources
        .iter()
        .map(|source| {
            let value = match source {
                IdentitySource::Header(name) => header(event, name),
                IdentitySource::Query(name) => event["queryStringParameters"][name.as_str()]
                    .as_str()
                    .map(str::to_owned),
                IdentitySource::Context(path) => path
                    .split('.')
                    .try_fold(&event["requestContext"], |v, part| v.get(part))
                    .and_then(|v| match v {
                        Value::String(s) => Some(s.clone()),
                        Value::Number(n) => Some(n.to_string()),
                        _ => None,
                    }),
            };
            value.filter(|v| !v.is_empty())
        })
        .collect()
}

fn header(event: &Value, name: &str) -> Option<String> {
    event["headers"]
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.as_str().map(str::to_owned))
}

/// The TOKEN event (`authorizationToken`, `methodArn`) or the REQUEST event
/// (the proxy event without its body, with `type` and `methodArn`).
fn request_event(kind: AuthorizerType, identity: &[String], ask: &Ask<'_>) -> Value {
    match kind {
        AuthorizerType::Token => json!({
            "type": "TOKEN",
            "authorizationToken": identity.first(),
            "methodArn": ask.method_arn,
        }),
        AuthorizerType::Request => {
            let mut event = ask.event.clone();
            if let Some(map) = event.as_object_mut() {
                map.remove("body");
                map.remove("isBase64Encoded");
                map.insert("type".into(), json!("REQUEST"));
                map.insert("methodArn".into(), json!(ask.method_arn));
            }
            event
        }
    }
}

/// The error a Lambda authorizer fails with to get 401: message `Unauthorized`.
fn is_unauthorized(body: &[u8]) -> bool {
    serde_json::from_slice::<Value>(body)
        .ok()
        .is_some_and(|v| v["errorMessage"] == "Unauthorized")
}

fn parse_answer(body: &[u8]) -> Result<Answer, String> {
    let value: Value = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let principal = value
        .get("principalId")
        .cloned()
        .ok_or("no `principalId`")?;
    let statements = value["policyDocument"]["Statement"]
        .as_array()
        .ok_or("no `policyDocument.Statement` list")?
        .iter()
        .map(|s| {
            let list = |v: &Value| match v {
                Value::String(one) => vec![one.clone()],
                Value::Array(many) => many
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect(),
                _ => Vec::new(),
            };
            Statement {
                allow: s["Effect"] == "Allow",
                actions: list(&s["Action"]),
                resources: list(&s["Resource"]),
            }
        })
        .collect();
    let context = match value.get("context") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(map)) => {
            if let Some((key, _)) = map
                .iter()
                .find(|(_, v)| v.is_object() || v.is_array() || v.is_null())
            {
                return Err(format!(
                    "context value `{key}` is not a string, number or boolean"
                ));
            }
            // A Lambda proxy integration gets every value as a string.
            stringified(map)
        }
        Some(_) => return Err("`context` is not an object".into()),
    };
    Ok(Answer {
        principal,
        statements,
        context,
    })
}

/// IAM's evaluation for `execute-api:Invoke` on `arn`: an explicit Deny
/// wins (`Some(false)`), then an Allow (`Some(true)`); else `None`.
fn decide(statements: &[Statement], arn: &str) -> Option<bool> {
    let applies = |s: &&Statement| {
        s.actions
            .iter()
            .any(|a| wildcard(&a.to_ascii_lowercase(), "execute-api:invoke"))
            && s.resources.iter().any(|r| wildcard(r, arn))
    };
    let matching: Vec<&Statement> = statements.iter().filter(applies).collect();
    if matching.iter().any(|s| !s.allow) {
        Some(false)
    } else if matching.iter().any(|s| s.allow) {
        Some(true)
    } else {
        None
    }
}

/// IAM's wildcards: `*` any run of characters, `?` any one.
fn wildcard(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
#[path = "authorize_tests.rs"]
mod tests;

/// `map` with each value as the string API Gateway passes a Lambda proxy
/// integration (`"123"`, `"true"`); objects and arrays as their JSON.
fn stringified(map: &Map<String, Value>) -> Map<String, Value> {
    map.iter()
        .map(|(k, v)| {
            let text = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.clone(), Value::String(text))
        })
        .collect()
}
