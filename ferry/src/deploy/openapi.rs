//! The REST API definition ferry sends with `PutRestApi` (mode overwrite):
//! an OpenAPI 3 document in which every route is a Lambda proxy integration.
//! Built from the desired state alone, so it is pure and testable; with the
//! hash that says when a stage needs a new deployment.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::state::Desired;
use crate::model::cache::ApiCache;
use crate::model::{Method, RoutePath, Segment, Stage};

/// How the deployment's description records the definition hash, so that
/// the next deploy learns from one read what the stage serves.
pub const DEPLOYMENT_MARK: &str = "ferry definition ";

/// The description ferry gives a deployment of `hash`.
pub fn deployment_description(hash: &str) -> String {
    format!("{DEPLOYMENT_MARK}{hash}")
}

/// The definition hash recorded in a deployment's description, if ferry made it.
pub fn recorded_hash(description: &str) -> Option<String> {
    description
        .strip_prefix(DEPLOYMENT_MARK)
        .map(|h| h.trim().to_owned())
}

/// The function's ARN, as an integration and a permission name it.
pub fn function_arn(region: &str, account: &str, function: &str) -> String {
    format!("arn:aws:lambda:{region}:{account}:function:{function}")
}

/// The proxy integration URI API Gateway calls for `function` (with its
/// alias: `name:alias`).
pub fn integration_uri(region: &str, account: &str, function: &str) -> String {
    format!(
        "arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{}/invocations",
        function_arn(region, account, function)
    )
}

/// The whole API definition of the stage.
pub fn definition(desired: &Desired, account: &str) -> Value {
    let api = &desired.api;
    let mut paths: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    for (method, path, function) in &api.routes {
        let mut params: Vec<Value> = RoutePath::parse(path)
            .map(|p| p.segments)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|s| match s {
                Segment::Param(name) | Segment::Greedy(name) => Some(json!({
                    "name": name, "in": "path", "required": true, "schema": {"type": "string"}
                })),
                Segment::Literal(_) => None,
            })
            .collect();
        let key = match method {
            Method::Any => "x-amazon-apigateway-any-method".to_owned(),
            other => other.as_str().to_ascii_lowercase(),
        };
        let mut operation = json!({
            "responses": {"200": {"description": "The function's proxy response"}},
            "x-amazon-apigateway-integration": {
                "type": "aws_proxy",
                "httpMethod": "POST",
                "passthroughBehavior": "when_no_match",
                "uri": integration_uri(&desired.region, account, &desired.target(function)),
            }
        });
        let cached = api
            .cache
            .as_ref()
            .and_then(|c| c.routes.get(&format!("{method} {path}")));
        if let Some(settings) = cached {
            // API Gateway keys its stage cache on declared request
            // parameters only.
            let keys = ApiCache::key_parameters(settings);
            for key in &keys {
                let (place, name) = match key.strip_prefix("method.request.querystring.") {
                    Some(name) => ("query", name),
                    None => ("header", key.trim_start_matches("method.request.header.")),
                };
                params.push(json!({
                    "name": name, "in": place, "required": false, "schema": {"type": "string"}
                }));
            }
            operation["x-amazon-apigateway-integration"]["cacheKeyParameters"] = json!(keys);
        }
        if !params.is_empty() {
            operation["parameters"] = Value::Array(params);
        }
        paths
            .entry(path.clone())
            .or_default()
            .insert(key, operation);
    }
    json!({
        "openapi": "3.0.1",
        "info": {
            "title": api.name,
            "version": api.definition_hash,
            "description": format!("{} stage `{}`, deployed by ferry", desired.app, desired.stage),
        },
        "paths": paths,
        "x-amazon-apigateway-binary-media-types": api.binary_media_types,
        "x-amazon-apigateway-endpoint-configuration": {"types": [api.endpoint]},
    })
}

/// Changes exactly when the API definition would: routes, their functions,
/// the endpoint type and binary media types. Function code is not part of it.
pub fn definition_hash(routes: &[(Method, String, String)], stage: &Stage) -> String {
    let mut hasher = Sha256::new();
    // Integrations invoke each function's stage alias.
    hasher.update("ferry-api-2\n");
    let alias = super::release::alias_name(&stage.name);
    for (method, path, function) in routes {
        hasher.update(format!("{method} {path} {function}:{alias}\n"));
    }
    hasher.update(format!(
        "{:?}\n{:?}\n{}\n",
        stage.api.endpoint, stage.api.binary_media_types, stage.region
    ));
    // A regional cache's key parameters are part of the definition; a stage
    // without one hashes as it always has.
    for (route, settings) in stage.api.cache.iter().flat_map(|c| &c.routes) {
        let keys = crate::model::cache::ApiCache::key_parameters(settings);
        hasher.update(format!("cache {route} {}\n", keys.join(",")));
    }
    crate::build::pack::hex(&hasher.finalize())[..16].to_owned()
}
