//! The stage's authorizers as API Gateway is given them: which authorizer
//! guards which route, each authorizer's OpenAPI security scheme (the
//! `x-amazon-apigateway-authorizer` extension that `PutRestApi` imports),
//! and what each part adds to the definition hash. Pure.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::openapi::{integration_uri, Place};
use crate::model::auth::{AuthorizerType, RouteAuth};
use crate::model::{Stage, Workspace};

/// One authorizer of the stage's API, as deployed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DesiredAuthorizer {
    /// A workspace crate's function, invoked through the stage's alias.
    Lambda {
        function: String,
        #[serde(rename = "type")]
        kind: AuthorizerType,
        /// API Gateway's expressions (`method.request.header.Authorization`).
        identity_sources: Vec<String>,
        ttl_s: u32,
    },
    /// A Cognito user pool authorizer.
    Cognito {
        user_pools: Vec<String>,
        header: String,
        ttl_s: u32,
    },
}

/// Who may invoke a function through the API: its routes' methods, or API
/// Gateway's authorizer machinery. Each names a different source ARN.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Invoker {
    #[default]
    Routes,
    Authorizer,
}

/// The stage's authorizers that some route uses, by name, and the
/// authorizer of each guarded route (`METHOD /path`).
pub fn desired(
    workspace: &Workspace,
    stage: &Stage,
) -> (
    BTreeMap<String, DesiredAuthorizer>,
    BTreeMap<String, String>,
) {
    let mut security = BTreeMap::new();
    let mut authorizers = BTreeMap::new();
    for service in workspace.services.values() {
        for (route, auth) in &service.auth {
            let RouteAuth::Authorizer(name) = auth else {
                continue;
            };
            security.insert(route.clone(), name.clone());
            if authorizers.contains_key(name) {
                continue;
            }
            let found = match workspace.services.get(name) {
                Some(crate_) => crate_
                    .authorizer
                    .as_ref()
                    .map(|a| DesiredAuthorizer::Lambda {
                        function: stage.function_name(&workspace.app, name),
                        kind: a.kind,
                        identity_sources: a.identity_sources.iter().map(|s| s.gateway()).collect(),
                        ttl_s: a.ttl_s,
                    }),
                None => stage
                    .authorizers
                    .get(name)
                    .map(|c| DesiredAuthorizer::Cognito {
                        user_pools: c.user_pools.clone(),
                        header: c.header.clone(),
                        ttl_s: c.ttl_s,
                    }),
            };
            // The loader refuses a name that is neither.
            if let Some(found) = found {
                authorizers.insert(name.clone(), found);
            }
        }
    }
    (authorizers, security)
}

/// The OpenAPI `securitySchemes` of `authorizers`, as API Gateway imports
/// them: Lambda ones invoke the function's stage alias.
pub fn security_schemes(
    authorizers: &BTreeMap<String, DesiredAuthorizer>,
    place: &Place<'_>,
) -> Value {
    let alias = super::release::alias_name(place.stage);
    let mut schemes = Map::new();
    for (name, authorizer) in authorizers {
        let scheme = match authorizer {
            DesiredAuthorizer::Lambda {
                function,
                kind,
                identity_sources,
                ttl_s,
            } => {
                // API Gateway reads `name` for a token authorizer only;
                // client generators read it for any, so give the header.
                let header = identity_sources
                    .iter()
                    .find_map(|s| s.strip_prefix("method.request.header."))
                    .unwrap_or("Unused")
                    .to_owned();
                let mut authorizer = json!({
                    "type": kind.as_str(),
                    "authorizerUri": integration_uri(place.region, place.account, &format!("{function}:{alias}")),
                    "authorizerResultTtlInSeconds": ttl_s,
                });
                // Optional without caching; an empty expression is invalid.
                if !identity_sources.is_empty() {
                    authorizer["identitySource"] = json!(identity_sources.join(", "));
                }
                json!({
                    "type": "apiKey",
                    "name": header,
                    "in": "header",
                    "x-amazon-apigateway-authtype": "custom",
                    "x-amazon-apigateway-authorizer": authorizer,
                })
            }
            DesiredAuthorizer::Cognito {
                user_pools,
                header,
                ttl_s,
            } => json!({
                "type": "apiKey",
                "name": header,
                "in": "header",
                "x-amazon-apigateway-authtype": "cognito_user_pools",
                "x-amazon-apigateway-authorizer": {
                    "type": "cognito_user_pools",
                    "providerARNs": user_pools,
                    "identitySource": format!("method.request.header.{header}"),
                    "authorizerResultTtlInSeconds": ttl_s,
                },
            }),
        };
        schemes.insert(name.clone(), scheme);
    }
    Value::Object(schemes)
}

/// What the authorizers add to the definition hash: nothing when no route
/// names one, so a stage without authorizers hashes as it always has.
pub fn hash_input(
    authorizers: &BTreeMap<String, DesiredAuthorizer>,
    security: &BTreeMap<String, String>,
) -> Option<String> {
    if security.is_empty() {
        return None;
    }
    let schemes = serde_json::to_string(authorizers).unwrap_or_default();
    let routes = serde_json::to_string(security).unwrap_or_default();
    Some(format!("auth {schemes} {routes}\n"))
}

/// One line per authorizer for the plan: its kind, cache and routes.
pub fn summary(
    authorizers: &BTreeMap<String, DesiredAuthorizer>,
    security: &BTreeMap<String, String>,
) -> Vec<String> {
    authorizers
        .iter()
        .map(|(name, authorizer)| {
            let (kind, ttl) = match authorizer {
                DesiredAuthorizer::Lambda { kind, ttl_s, .. } => {
                    (format!("lambda {}", kind.as_str()), ttl_s)
                }
                DesiredAuthorizer::Cognito { ttl_s, .. } => ("cognito".to_owned(), ttl_s),
            };
            let routes: Vec<&str> = security
                .iter()
                .filter(|(_, n)| *n == name)
                .map(|(route, _)| route.as_str())
                .collect();
            let cache = match ttl {
                0 => "no cache".to_owned(),
                s => format!("{s} s cache"),
            };
            format!(
                "authorizer {name} ({kind}, {cache}) on {}",
                routes.join(", ")
            )
        })
        .collect()
}
