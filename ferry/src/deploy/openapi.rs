//! The REST API definition ferry sends with `PutRestApi` (mode overwrite):
//! an OpenAPI 3 document in which every route is a Lambda proxy integration.
//! Built from the desired state alone, so it is pure and testable; with the
//! hash that says when a stage needs a new deployment.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::action::Preflight;
use super::state::{Desired, DesiredApi};
use crate::model::cache::ApiCache;
use crate::model::cors::{CorsPolicy, GatewayValue, StageCors, GATEWAY_RESPONSES};
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

/// Where a definition is deployed: what its integration URIs and
/// description name.
pub struct Place<'a> {
    pub app: &'a str,
    pub stage: &'a str,
    pub region: &'a str,
    pub account: &'a str,
}

/// The whole API definition of the stage.
pub fn definition(desired: &Desired, account: &str) -> Value {
    let place = Place {
        app: &desired.app,
        stage: &desired.stage,
        region: &desired.region,
        account,
    };
    document(&desired.api, &place)
}

/// The definition of `api` deployed at `place`.
pub fn document(api: &DesiredApi, place: &Place<'_>) -> Value {
    let alias = super::release::alias_name(place.stage);
    let mut paths: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    for (method, path, function) in &api.routes {
        let mut params = path_parameters(path);
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
                "uri": integration_uri(place.region, place.account, &format!("{function}:{alias}")),
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
        if let Some(name) = api.security.get(&format!("{method} {path}")) {
            operation["security"] = json!([{ name.as_str(): [] }]);
        }
        paths
            .entry(path.clone())
            .or_default()
            .insert(key, operation);
    }
    let mut doc = json!({
        "openapi": "3.0.1",
        "info": {
            "title": api.name,
            "version": api.definition_hash,
            "description": format!("{} stage `{}`, deployed by ferry", place.app, place.stage),
        },
        "paths": paths,
        "x-amazon-apigateway-binary-media-types": api.binary_media_types,
        "x-amazon-apigateway-endpoint-configuration": {"types": [api.endpoint]},
    });
    if let Some(cors) = &api.cors {
        doc["x-amazon-apigateway-gateway-responses"] = gateway_responses(cors);
    }
    if !api.authorizers.is_empty() {
        doc["components"] = json!({
            "securitySchemes": super::authorizers::security_schemes(&api.authorizers, place)
        });
    }
    doc
}

/// The path's `{param}` and `{proxy+}` segments, which every operation on
/// it must declare.
pub fn path_parameters(path: &str) -> Vec<Value> {
    RoutePath::parse(path)
        .map(|p| p.segments)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|s| match s {
            Segment::Param(name) | Segment::Greedy(name) => Some(json!({
                "name": name, "in": "path", "required": true, "schema": {"type": "string"}
            })),
            Segment::Literal(_) => None,
        })
        .collect()
}

/// The CORS preflight of each path with CORS, in path order. They are not
/// in the definition: moto cannot import a mock integration from a body
/// (it needs a `uri`, which AWS's documented form has not), so ferry writes
/// them with `PutMethod` and `PutIntegration*` after the definition, as the
/// console's "Enable CORS" does.
pub fn preflights(desired: &Desired) -> Vec<Preflight> {
    preflights_of(&desired.api)
}

/// The preflights of `api`.
pub fn preflights_of(api: &DesiredApi) -> Vec<Preflight> {
    match &api.cors {
        Some(cors) => preflights_for(cors, &api.routes),
        None => Vec::new(),
    }
}

fn preflights_for(cors: &StageCors, routes: &[(Method, String, String)]) -> Vec<Preflight> {
    let mut methods: BTreeMap<&str, BTreeSet<Method>> = BTreeMap::new();
    for (method, path, _) in routes {
        methods.entry(path).or_default().insert(*method);
    }
    methods
        .into_iter()
        .filter_map(|(path, routes)| {
            let policy = cors.for_path(path)?;
            Some(preflight(path, policy, &policy.preflight_methods(&routes)))
        })
        .collect()
}

/// A path's preflight: the path's methods and the policy's headers as
/// literals; the allowed origin picked in the response template, since only
/// a template can compare the request's `Origin` with a list. A disallowed
/// origin gets no `Access-Control-Allow-Origin`, which the browser takes as
/// a refusal.
fn preflight(path: &str, policy: &CorsPolicy, methods: &str) -> Preflight {
    let mut headers = vec!["Access-Control-Allow-Origin".to_owned()];
    let mut parameters = BTreeMap::new();
    for (name, value) in policy.preflight_static(methods) {
        headers.push(name.to_owned());
        parameters.insert(
            format!("method.response.header.{name}"),
            format!("'{value}'"),
        );
    }
    let template = if policy.any_origin() {
        parameters.insert(
            "method.response.header.Access-Control-Allow-Origin".into(),
            "'*'".into(),
        );
        String::new()
    } else {
        // Origins are validated as scheme://host[:port], so they need no
        // escaping inside a VTL string.
        let test = policy
            .origins
            .iter()
            .map(|o| format!("$origin == \"{o}\""))
            .collect::<Vec<_>>()
            .join(" || ");
        format!(
            "#set($origin = $input.params().header.get(\"Origin\"))\n\
             #if(!$origin)#set($origin = $input.params().header.get(\"origin\"))#end\n\
             #if({test})#set($context.responseOverride.header.Access-Control-Allow-Origin = $origin)#end\n"
        )
    };
    headers.sort();
    Preflight {
        path: path.to_owned(),
        headers,
        response_parameters: parameters,
        template,
    }
}

/// A preflight as the OpenAPI operation AWS documents for it (for reading:
/// `cargo xtask openapi`, and the plan's JSON).
pub fn preflight_operation(p: &Preflight) -> Value {
    let headers: Map<String, Value> = p
        .headers
        .iter()
        .map(|h| (h.clone(), json!({"schema": {"type": "string"}})))
        .collect();
    json!({
        "summary": "CORS preflight (ferry)",
        "responses": {"200": {"description": "The CORS preflight's answer", "headers": headers}},
        "x-amazon-apigateway-integration": {
            "type": "mock",
            "passthroughBehavior": "when_no_match",
            "requestTemplates": {"application/json": PREFLIGHT_REQUEST},
            "responses": {"default": {
                "statusCode": "200",
                "responseParameters": p.response_parameters,
                "responseTemplates": {"application/json": p.template},
            }},
        }
    })
}

/// The mock integration's request template: it answers 200.
pub const PREFLIGHT_REQUEST: &str = "{\"statusCode\": 200}";

/// API Gateway's own responses (no route, authorizer refusals, 5XX) with
/// the stage's CORS headers, so a browser sees them instead of a CORS error.
fn gateway_responses(cors: &StageCors) -> Value {
    let mut parameters = Map::new();
    for (name, value) in cors.gateway_headers() {
        let value = match value {
            GatewayValue::Literal(v) => format!("'{v}'"),
            GatewayValue::RequestOrigin => "method.request.header.Origin".to_owned(),
        };
        parameters.insert(
            format!("gatewayresponse.header.{name}"),
            Value::String(value),
        );
    }
    GATEWAY_RESPONSES
        .iter()
        .map(|kind| {
            (
                (*kind).to_owned(),
                json!({"responseParameters": parameters}),
            )
        })
        .collect::<Map<String, Value>>()
        .into()
}

/// Changes exactly when the API definition would: routes, their functions,
/// the endpoint type and binary media types. Function code is not part of it.
pub fn definition_hash(
    routes: &[(Method, String, String)],
    stage: &Stage,
    authorizers: Option<&str>,
) -> String {
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
    // CORS adds preflights and gateway responses: what they write, so that
    // a change that reaches only the functions (`expose-headers`) moves no
    // deployment. A stage without CORS hashes as it always has.
    if let Some(cors) = &stage.api.cors {
        let preflights = serde_json::to_string(&preflights_for(cors, routes));
        hasher.update(format!(
            "cors {} {}\n",
            preflights.unwrap_or_default(),
            gateway_responses(cors)
        ));
    }
    if let Some(auth) = authorizers {
        hasher.update(auth);
    }
    crate::build::pack::hex(&hasher.finalize())[..16].to_owned()
}
