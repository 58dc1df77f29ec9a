//! Reading back, past the proxy, what a deploy of a stage made: every
//! function's code, settings, tags, stage alias, permission and log group,
//! and the API's methods, integrations and the deployment its stage serves.

use std::collections::BTreeMap;

use serde_json::Value;

use super::Readback;

/// `METHOD /path` of every method of the API, as moto reports them.
pub async fn methods(aws: &Readback, api: &str) -> Vec<String> {
    let resources = aws
        .apigw
        .get_resources()
        .rest_api_id(api)
        .embed("methods")
        .limit(500)
        .send()
        .await
        .unwrap();
    let mut out = Vec::new();
    for r in resources.items() {
        for m in r
            .resource_methods()
            .map(|m| m.keys().cloned().collect::<Vec<_>>())
            .unwrap_or_default()
        {
            // moto keeps ANY as the OpenAPI extension's name.
            // The routes' methods only: `support::cors` reads the CORS
            // preflights ferry adds.
            if m == "OPTIONS" {
                continue;
            }
            let m = if m == "X-AMAZON-APIGATEWAY-ANY-METHOD" {
                "ANY".to_owned()
            } else {
                m
            };
            out.push(format!("{m} {}", r.path().unwrap_or_default()));
        }
    }
    out.sort();
    out
}

/// The id of the API's resource at `path`.
pub async fn resource_id(aws: &Readback, api_id: &str, path: &str) -> Option<String> {
    let resources = aws
        .apigw
        .get_resources()
        .rest_api_id(api_id)
        .limit(500)
        .send()
        .await
        .unwrap();
    resources
        .items()
        .iter()
        .find(|r| r.path() == Some(path))
        .and_then(|r| r.id())
        .map(str::to_owned)
}

/// Reads back everything a deploy of `stage` must have made.
pub async fn check_stage(
    aws: &Readback,
    manifest: &Value,
    api_id: &str,
    stage: &str,
    retention: i32,
) {
    let region = aws.lambda.config().region().unwrap().to_string();
    let artifacts: BTreeMap<String, &Value> = manifest["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["architecture"] == "arm64")
        .map(|a| (a["name"].as_str().unwrap().to_owned(), a))
        .collect();
    for service in ["create-item", "echo", "get-item", "jwt", "list-items"] {
        let name = format!("items-{stage}-{service}");
        let f = aws
            .lambda
            .get_function_configuration()
            .function_name(&name)
            .send()
            .await
            .unwrap();
        assert_eq!(
            f.code_sha256(),
            artifacts[service]["code_sha256"].as_str(),
            "{name} code"
        );
        assert_eq!(f.architectures()[0].as_str(), "arm64");
        assert_eq!(f.runtime().map(|r| r.as_str()), Some("provided.al2023"));
        assert_eq!(f.handler(), Some("bootstrap"));
        let env = f.environment().and_then(|e| e.variables()).unwrap();
        assert_eq!(
            env.get("LOG_FORMAT").map(String::as_str),
            Some(if stage == "test" { "text" } else { "json" })
        );
        for layer in f.layers() {
            let arn = layer.arn().unwrap();
            assert!(
                arn.contains(":layer:items-")
                    && arn.rsplit(':').next().unwrap().parse::<u32>().is_ok(),
                "{arn}"
            );
        }
        let tags = aws
            .lambda
            .list_tags()
            .resource(f.function_arn().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(
            tags.tags().unwrap().get("ferry:stage").map(String::as_str),
            Some(stage)
        );
        // The stage serves a published version through its alias, which
        // holds the manifest's code; the permission is on the alias.
        let alias = aws
            .lambda
            .get_alias()
            .function_name(&name)
            .name(stage)
            .send()
            .await
            .unwrap();
        let version = aws
            .lambda
            .get_function_configuration()
            .function_name(&name)
            .qualifier(alias.function_version().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(
            version.code_sha256(),
            artifacts[service]["code_sha256"].as_str(),
            "{name}:{stage} code"
        );
        assert!(
            version.description().unwrap().starts_with("ferry sha256:"),
            "{version:?}"
        );
        let policy = aws
            .lambda
            .get_policy()
            .function_name(&name)
            .qualifier(stage)
            .send()
            .await
            .unwrap();
        let policy: Value = serde_json::from_str(policy.policy().unwrap()).unwrap();
        let statements = policy["Statement"].as_array().unwrap();
        assert_eq!(statements.len(), 1, "one statement per function: {policy}");
        assert_eq!(
            statements[0]["Principal"]["Service"],
            "apigateway.amazonaws.com"
        );
        let source = statements[0]["Condition"]["ArnLike"]["AWS:SourceArn"]
            .as_str()
            .unwrap();
        // The authorizer may be invoked only as one, by this API.
        let scope = if service == "jwt" {
            "authorizers/*"
        } else {
            "*/*/*"
        };
        assert_eq!(
            source,
            format!("arn:aws:execute-api:{region}:123456789012:{api_id}/{scope}")
        );
        let groups = aws
            .logs
            .describe_log_groups()
            .log_group_name_prefix(format!("/aws/lambda/{name}"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            groups.log_groups()[0].retention_in_days(),
            Some(retention),
            "{name} log retention"
        );
    }
    assert_eq!(
        methods(aws, api_id).await,
        [
            "ANY /echo/{proxy+}",
            "GET /items",
            "GET /items/{id}",
            "POST /items"
        ]
    );
    let item = resource_id(aws, api_id, "/items/{id}").await.unwrap();
    let integration = aws
        .apigw
        .get_integration()
        .rest_api_id(api_id)
        .resource_id(item)
        .http_method("GET")
        .send()
        .await
        .unwrap();
    assert_eq!(
        integration
            .r#type()
            .map(|t| t.as_str().to_ascii_uppercase())
            .as_deref(),
        Some("AWS_PROXY")
    );
    assert!(integration.uri().unwrap().contains(&format!(
        "function:items-{stage}-get-item:{stage}/invocations"
    )));
    let stage_now = aws
        .apigw
        .get_stage()
        .rest_api_id(api_id)
        .stage_name(stage)
        .send()
        .await
        .unwrap();
    let deployment = aws
        .apigw
        .get_deployment()
        .rest_api_id(api_id)
        .deployment_id(stage_now.deployment_id().unwrap())
        .send()
        .await
        .unwrap();
    assert!(deployment
        .description()
        .unwrap()
        .starts_with("ferry definition "));
}

/// Prod's own settings, as the example declares them: create-item's memory
/// override; get-item tracing actively with 1 GB of /tmp, and the managed
/// role allowed to send X-Ray its traces.
pub async fn check_prod_settings(aws: &Readback) {
    let create = aws
        .lambda
        .get_function_configuration()
        .function_name("items-prod-create-item")
        .send()
        .await
        .unwrap();
    assert_eq!(create.memory_size(), Some(512), "prod's override");
    // get-item traces actively with 1 GB of /tmp; the managed role may
    // send X-Ray its traces.
    let get = aws
        .lambda
        .get_function_configuration()
        .function_name("items-prod-get-item")
        .send()
        .await
        .unwrap();
    let mode = get.tracing_config().and_then(|t| t.mode());
    assert_eq!(mode.map(|m| m.as_str()), Some("Active"));
    assert_eq!(get.ephemeral_storage().map(|e| e.size()), Some(1024));
    assert_eq!(
        create
            .tracing_config()
            .and_then(|t| t.mode())
            .map(|m| m.as_str()),
        Some("PassThrough")
    );
    let role = get.role().unwrap().rsplit('/').next().unwrap().to_owned();
    let arns = attached_policies(aws, &role).await;
    assert!(
        arns.iter()
            .any(|a| a == "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess"),
        "{arns:?}"
    );
}

/// The ARNs of the managed policies attached to `role`.
pub async fn attached_policies(aws: &Readback, role: &str) -> Vec<String> {
    let attached = aws
        .iam
        .list_attached_role_policies()
        .role_name(role)
        .send()
        .await
        .unwrap();
    attached
        .attached_policies()
        .iter()
        .filter_map(|p| p.policy_arn().map(str::to_owned))
        .collect()
}
