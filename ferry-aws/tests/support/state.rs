//! The whole live state of one stage as plain, comparable text: read from
//! moto through the SDK (past the proxy), with generated ids replaced by
//! placeholders, so that two deploys' results compare with `assert_eq!`
//! however their APIs, deployments and distributions were numbered.

use std::collections::BTreeMap;

use super::Readback;

/// Every resource of `<app>-<stage>`, one `key = value` line each.
pub async fn snapshot(aws: &Readback, app: &str, stage: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let prefix = format!("{app}-{stage}-");
    let apis = aws.apigw.get_rest_apis().limit(500).send().await.unwrap();
    let ours: Vec<_> = apis
        .items()
        .iter()
        .filter(|a| a.name() == Some(&format!("{app}-{stage}")))
        .collect();
    out.insert("rest apis named".into(), ours.len().to_string());
    let api = ours
        .first()
        .and_then(|a| a.id())
        .unwrap_or_default()
        .to_owned();
    let ids = |text: &str| text.replace(&api, "<api>");

    let functions = aws
        .lambda
        .list_functions()
        .max_items(1000)
        .send()
        .await
        .unwrap();
    let mut layers_in_use = BTreeMap::new();
    for f in functions.functions() {
        let name = f.function_name().unwrap_or_default();
        if !name.starts_with(&prefix) {
            continue;
        }
        let layers: Vec<String> = f
            .layers()
            .iter()
            .filter_map(|l| l.arn().map(str::to_owned))
            .collect();
        for l in &layers {
            layers_in_use.insert(l.clone(), ());
        }
        let mut env: Vec<String> = f
            .environment()
            .and_then(|e| e.variables())
            .map(|v| v.iter().map(|(k, v)| format!("{k}={v}")).collect())
            .unwrap_or_default();
        env.sort();
        let line = format!(
            "{} {:?} {:?} {}MB {}s env[{}] layers[{}]",
            f.code_sha256().unwrap_or_default(),
            f.architectures(),
            f.runtime(),
            f.memory_size().unwrap_or_default(),
            f.timeout().unwrap_or_default(),
            env.join(","),
            layers.join(",")
        );
        out.insert(format!("function {name}"), line);
        let policy = aws.lambda.get_policy().function_name(name).send().await;
        let statements = policy
            .ok()
            .and_then(|p| p.policy().map(str::to_owned))
            .map(|p| {
                let v: serde_json::Value = serde_json::from_str(&p).unwrap();
                v["Statement"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| format!("{} {}", s["Sid"], s["Condition"]))
                    .collect::<Vec<_>>()
                    .join(" | ")
            })
            .unwrap_or_default();
        out.insert(format!("permissions {name}"), ids(&statements));
        // Versions are never published twice, and the alias serves the last.
        let versions = aws
            .lambda
            .list_versions_by_function()
            .function_name(name)
            .send()
            .await
            .unwrap();
        let published = versions
            .versions()
            .iter()
            .filter(|v| v.version() != Some("$LATEST"))
            .count();
        out.insert(format!("versions {name}"), published.to_string());
        let alias = aws
            .lambda
            .get_alias()
            .function_name(name)
            .name(stage)
            .send()
            .await
            .ok()
            .and_then(|a| a.function_version().map(str::to_owned))
            .unwrap_or_default();
        out.insert(format!("alias {name}:{stage}"), alias);
    }
    let releases = aws
        .ssm
        .get_parameters_by_path()
        .path(format!("/ferry/{app}/{stage}/releases/"))
        .send()
        .await
        .unwrap();
    out.insert(
        "releases recorded".into(),
        releases.parameters().len().to_string(),
    );
    for layer in ["items-jwks", "items-request-logger"] {
        let versions = aws
            .lambda
            .list_layer_versions()
            .layer_name(layer)
            .send()
            .await
            .unwrap();
        let described: Vec<String> = versions
            .layer_versions()
            .iter()
            .map(|v| v.description().unwrap_or_default().to_owned())
            .collect();
        out.insert(
            format!("layer {layer} versions"),
            described.len().to_string(),
        );
        let mut unique = described.clone();
        unique.sort();
        unique.dedup();
        out.insert(
            format!("layer {layer} duplicate versions"),
            (described.len() - unique.len()).to_string(),
        );
    }
    out.insert(
        "layer versions in use".into(),
        layers_in_use.len().to_string(),
    );

    if !api.is_empty() {
        let resources = aws
            .apigw
            .get_resources()
            .rest_api_id(&api)
            .embed("methods")
            .limit(500)
            .send()
            .await
            .unwrap();
        for r in resources.items() {
            for (method, m) in r.resource_methods().into_iter().flatten() {
                let uri = m
                    .method_integration()
                    .and_then(|i| i.uri())
                    .unwrap_or_default();
                out.insert(
                    format!("route {method} {}", r.path().unwrap_or_default()),
                    uri.to_owned(),
                );
            }
        }
        let stage_out = aws
            .apigw
            .get_stage()
            .rest_api_id(&api)
            .stage_name(stage)
            .send()
            .await;
        let served = match stage_out
            .ok()
            .and_then(|s| s.deployment_id().map(str::to_owned))
        {
            Some(d) => {
                let dep = aws
                    .apigw
                    .get_deployment()
                    .rest_api_id(&api)
                    .deployment_id(&d)
                    .send()
                    .await
                    .unwrap();
                dep.description().unwrap_or_default().to_owned()
            }
            None => "(no stage)".into(),
        };
        out.insert("stage serves".into(), served);
        let deployments = aws
            .apigw
            .get_deployments()
            .rest_api_id(&api)
            .limit(500)
            .send()
            .await
            .unwrap();
        out.insert("deployments".into(), deployments.items().len().to_string());
    }
    let groups = aws
        .logs
        .describe_log_groups()
        .log_group_name_prefix(format!("/aws/lambda/{prefix}"))
        .send()
        .await
        .unwrap();
    for g in groups.log_groups() {
        out.insert(
            format!("log group {}", g.log_group_name().unwrap_or_default()),
            format!("{:?}", g.retention_in_days()),
        );
    }
    let role = aws
        .iam
        .list_attached_role_policies()
        .role_name(format!("{app}-{stage}-ferry-lambda"))
        .send()
        .await;
    let policies = role
        .map(|r| {
            r.attached_policies()
                .iter()
                .filter_map(|p| p.policy_name().map(str::to_owned))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_else(|_| "(no role)".into());
    out.insert("role policies".into(), policies);

    let dists = aws.cloudfront.list_distributions().send().await.unwrap();
    let items = dists
        .distribution_list()
        .map(|l| l.items().to_vec())
        .unwrap_or_default();
    out.insert("distributions".into(), items.len().to_string());
    for d in &items {
        let origin = d.origins().map(|o| o.items().to_vec()).unwrap_or_default();
        let origins: Vec<String> = origin
            .iter()
            .map(|o| {
                ids(&format!(
                    "{}{}",
                    o.domain_name(),
                    o.origin_path().unwrap_or_default()
                ))
            })
            .collect();
        let aliases = d.aliases().map(|a| a.items().join(",")).unwrap_or_default();
        out.insert(format!("distribution {aliases}"), origins.join(","));
    }
    out
}
