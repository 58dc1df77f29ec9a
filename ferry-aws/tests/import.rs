//! `import` against moto: a stage built through the SDK the way the console
//! builds it (hand-named Node.js functions with a role of their own, a REST
//! API with resources, methods and Lambda proxy integrations, a Lambda
//! authorizer, a MOCK method, a deployment and a stage `v1`, and a
//! CloudFront distribution whose origin path is `/v1`) is imported into the
//! example with every service mapped. What import wrote passes `check`; the
//! first plan creates no function and no API and deletes nothing; the
//! deploy updates the adopted functions' code and runtime in place, keeps
//! the one REST API (its MOCK method too) and the origin path; a second
//! deploy writes nothing; `destroy` would keep the API and the functions.
//!
//! moto differences (coded to AWS's documented behaviour):
//! - PutRestApi in merge mode adds each path of the definition as a new
//!   resource beside the one of that path already there (AWS merges them
//!   into one), so after the deploy GetResources lists `/items` twice. The
//!   test checks the methods ferry manages and the kept MOCK method by path.
//! - Lambda accepts any zip for a Node.js function and never runs it.
//! - UpdateFunctionCode ignores `Architectures` (AWS changes the
//!   function's architecture with its code), so the console's functions are
//!   made arm64 like the example's services; the planner's unit tests cover
//!   an architecture change being a code update.
//! - UpdateFunctionConfiguration ignores `TracingConfig` and
//!   `EphemeralStorage`, so the console's get-item function already has the
//!   tracing and `/tmp` the example's get-item asks for (AWS would update
//!   them with the runtime).

mod support;

use std::path::{Path, PathBuf};

use aws_sdk_apigateway::types::{AuthorizerType, IntegrationType};
use aws_sdk_cloudfront::types as cf;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{
    Architecture, Environment, EphemeralStorage, FunctionCode, Runtime, TracingConfig, TracingMode,
};
use support::{ferry, run, run_json, stage_writes, Readback};

const REGION: &str = "us-east-1";
const ACCOUNT: &str = "123456789012";
const API: &str = "kst-sample";
/// Console function -> the example's service it becomes.
const FUNCTIONS: [(&str, &str); 5] = [
    ("kst-sample-readAllItems", "list-items"),
    ("kst-sample-readItem", "get-item"),
    ("kst-sample-createItem", "create-item"),
    ("kst-sample-echo", "echo"),
    ("kst-sample-authorizer", "jwt"),
];

/// Puts the example's files back however the test ends.
struct Restore(Vec<(PathBuf, Vec<u8>)>);

impl Restore {
    fn new(ws: &Path) -> Restore {
        let mut files = vec![ws.join("deploy.toml")];
        for dir in ["services", "authorizers"] {
            for entry in std::fs::read_dir(ws.join(dir)).unwrap() {
                files.push(entry.unwrap().path().join("Cargo.toml"));
            }
        }
        Restore(
            files
                .into_iter()
                .map(|f| {
                    let bytes = std::fs::read(&f).unwrap();
                    (f, bytes)
                })
                .collect(),
        )
    }
}

impl Drop for Restore {
    fn drop(&mut self) {
        for (path, bytes) in &self.0 {
            let _ = std::fs::write(path, bytes);
        }
    }
}

/// A zip holding one stored file: the Node.js handler the console uploads.
fn node_zip() -> Vec<u8> {
    let (name, data) = (
        b"index.js",
        b"exports.handler = async () => ({ statusCode: 200 });\n",
    );
    let mut crc = flate2::Crc::new();
    crc.update(data);
    let crc = crc.sum();
    let le16 = |v: u16| v.to_le_bytes();
    let le32 = |v: u32| v.to_le_bytes();
    let common = |out: &mut Vec<u8>| {
        out.extend(le16(20)); // version needed
        out.extend(le16(0)); // flags
        out.extend(le16(0)); // stored
        out.extend(le16(0)); // time
        out.extend(le16(0x21)); // 1980-01-01
        out.extend(le32(crc));
        out.extend(le32(data.len() as u32));
        out.extend(le32(data.len() as u32));
        out.extend(le16(name.len() as u16));
        out.extend(le16(0)); // extra
    };
    let mut out = le32(0x0403_4b50).to_vec();
    common(&mut out);
    out.extend(name);
    out.extend(data);
    let central = out.len() as u32;
    out.extend(le32(0x0201_4b50));
    out.extend(le16(20)); // made by
    common(&mut out);
    out.extend([0; 12]); // comment, disk, attributes
    out.extend(le32(0)); // offset of the local header
    out.extend(name);
    let size = out.len() as u32 - central;
    out.extend(le32(0x0605_4b50));
    out.extend([0, 0, 0, 0]);
    out.extend(le16(1));
    out.extend(le16(1));
    out.extend(le32(size));
    out.extend(le32(central));
    out.extend(le16(0));
    out
}

fn invocation_uri(function: &str) -> String {
    format!("arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function}/invocations")
}

/// The console's stage: returns the API's id and the distribution's.
async fn console(aws: &Readback) -> (String, String) {
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let role = aws
        .iam
        .create_role()
        .role_name("kst-sample-lambda")
        .assume_role_policy_document(trust)
        .send()
        .await
        .unwrap();
    let role = role.role().unwrap().arn().to_owned();
    for (function, service) in FUNCTIONS {
        let get_item = service == "get-item";
        aws.lambda
            .create_function()
            .tracing_config(
                TracingConfig::builder()
                    .mode(if get_item {
                        TracingMode::Active
                    } else {
                        TracingMode::PassThrough
                    })
                    .build(),
            )
            .ephemeral_storage(
                EphemeralStorage::builder()
                    .size(if get_item { 1024 } else { 512 })
                    .build()
                    .unwrap(),
            )
            .function_name(function)
            .runtime(Runtime::Nodejs20x)
            .handler("index.handler")
            .role(&role)
            .architectures(Architecture::Arm64)
            .memory_size(256)
            .environment(Environment::builder().variables("TABLE", "items").build())
            .tags("owner", "console")
            .code(
                FunctionCode::builder()
                    .zip_file(Blob::new(node_zip()))
                    .build(),
            )
            .send()
            .await
            .unwrap();
    }
    let api = aws.apigw.create_rest_api().name(API).send().await.unwrap();
    let id = api.id().unwrap().to_owned();
    let root = aws
        .apigw
        .get_resources()
        .rest_api_id(&id)
        .send()
        .await
        .unwrap()
        .items()[0]
        .id()
        .unwrap()
        .to_owned();
    let authorizer = aws
        .apigw
        .create_authorizer()
        .rest_api_id(&id)
        .name("kst-auth")
        .r#type(AuthorizerType::Request)
        .authorizer_uri(invocation_uri("kst-sample-authorizer"))
        .identity_source("method.request.header.Authorization")
        .send()
        .await
        .unwrap();
    let mut resources = std::collections::BTreeMap::from([(String::new(), root)]);
    for path in [
        "/items",
        "/items/{id}",
        "/echo",
        "/echo/{proxy+}",
        "/health",
    ] {
        let (parent, part) = path.rsplit_once('/').unwrap();
        let made = aws
            .apigw
            .create_resource()
            .rest_api_id(&id)
            .parent_id(&resources[parent])
            .path_part(part)
            .send()
            .await
            .unwrap();
        resources.insert(path.to_owned(), made.id().unwrap().to_owned());
    }
    let methods = [
        ("GET", "/items", Some("kst-sample-readAllItems")),
        ("GET", "/items/{id}", Some("kst-sample-readItem")),
        ("POST", "/items", Some("kst-sample-createItem")),
        ("ANY", "/echo/{proxy+}", Some("kst-sample-echo")),
        ("GET", "/health", None),
    ];
    for (method, path, function) in methods {
        let guarded = method == "POST";
        aws.apigw
            .put_method()
            .rest_api_id(&id)
            .resource_id(&resources[path])
            .http_method(method)
            .authorization_type(if guarded { "CUSTOM" } else { "NONE" })
            .set_authorizer_id(guarded.then(|| authorizer.id().unwrap().to_owned()))
            .send()
            .await
            .unwrap();
        let integration = aws
            .apigw
            .put_integration()
            .rest_api_id(&id)
            .resource_id(&resources[path])
            .http_method(method);
        let integration = match function {
            Some(f) => integration
                .r#type(IntegrationType::AwsProxy)
                .integration_http_method("POST")
                .uri(invocation_uri(f)),
            None => integration.r#type(IntegrationType::Mock),
        };
        integration.send().await.unwrap();
    }
    aws.apigw
        .create_deployment()
        .rest_api_id(&id)
        .stage_name("v1")
        .send()
        .await
        .unwrap();
    let origin = cf::Origin::builder()
        .id("api")
        .domain_name(format!("{id}.execute-api.{REGION}.amazonaws.com"))
        .origin_path("/v1")
        .custom_origin_config(
            cf::CustomOriginConfig::builder()
                .http_port(80)
                .https_port(443)
                .origin_protocol_policy(cf::OriginProtocolPolicy::HttpsOnly)
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let config = cf::DistributionConfig::builder()
        .caller_reference("kst-sample-console")
        .comment("kst-sample")
        .enabled(true)
        .origins(
            cf::Origins::builder()
                .quantity(1)
                .items(origin)
                .build()
                .unwrap(),
        )
        .default_cache_behavior(
            cf::DefaultCacheBehavior::builder()
                .target_origin_id("api")
                .viewer_protocol_policy(cf::ViewerProtocolPolicy::RedirectToHttps)
                // CloudFront's managed CachingDisabled policy.
                .cache_policy_id("4135ea2d-6df8-44a3-9df3-4b5a84be39ad")
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let distribution = aws
        .cloudfront
        .create_distribution()
        .distribution_config(config)
        .send()
        .await
        .unwrap();
    let distribution = distribution.distribution().unwrap().id().to_owned();
    (id, distribution)
}

/// The plan of a `plan --json` or `--dry-run --json`.
fn plan_of(result: &serde_json::Value) -> &serde_json::Value {
    match result.get("plan") {
        Some(plan) if plan.is_object() => plan_of(plan),
        _ => result,
    }
}

/// The `action` of each planned or applied action.
fn actions(result: &serde_json::Value) -> Vec<String> {
    plan_of(result)["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn a_console_stage_is_adopted_in_place() {
    let (moto, proxy) = support::moto_and_proxy();
    let (_lock, ws) = support::shared_workspace();
    let _restore = Restore::new(&ws);
    let endpoint = proxy.url();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let aws = rt.block_on(Readback::new(&moto.url(), REGION));
    let (api_id, distribution) = rt.block_on(console(&aws));
    proxy.take();

    // 1. import: reads only, writes the stage and reports the MOCK method.
    let mut import = ferry(&ws, &endpoint);
    import.args([
        "import",
        "--stage",
        "v1",
        "--rest-api",
        API,
        "--region",
        REGION,
    ]);
    import.args(["--distribution", &distribution]);
    for (function, service) in FUNCTIONS {
        import.args(["--map", &format!("{function}={service}")]);
    }
    let report = run_json(&mut import);
    assert_eq!(stage_writes(&proxy.take()), Vec::<String>::new());
    let kept = report["report"]["kept"].to_string();
    assert!(kept.contains("GET /health: a MOCK integration"), "{kept}");
    assert!(
        kept.contains("POST /items -> kst-sample-createItem is guarded"),
        "{kept}"
    );
    assert_eq!(report["report"]["mapped"].as_object().unwrap().len(), 5);
    let deploy_toml = std::fs::read_to_string(ws.join("deploy.toml")).unwrap();
    assert!(
        deploy_toml.contains(&format!("id = \"{api_id}\"")),
        "{deploy_toml}"
    );
    assert!(deploy_toml.contains("function-name = \"kst-sample-readItem\""));
    let check = run(ferry(&ws, &endpoint).arg("check"));
    assert!(check.status.success(), "check fails on what import wrote");

    // 2. The first plan adopts: no function or API created, nothing deleted.
    let with_env = |c: &mut std::process::Command| {
        c.env("TABLE", "items");
    };
    let mut plan = ferry(&ws, &endpoint);
    plan.args(["plan", "--stage", "v1"]);
    with_env(&mut plan);
    let plan = run_json(&mut plan);
    let planned = actions(&plan);
    for never in ["create_function", "create_rest_api"] {
        assert!(!planned.iter().any(|a| a == never), "{never}: {planned:?}");
    }
    assert!(
        !planned.iter().any(|a| a.starts_with("delete")),
        "{planned:?}"
    );
    assert!(
        planned.iter().any(|a| a == "update_function_code"),
        "{planned:?}"
    );
    assert!(planned.iter().any(|a| a == "update_function_configuration"));
    let put = plan_of(&plan)["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["action"] == "put_rest_api")
        .unwrap();
    assert_eq!(put["adopted"], true, "{put}");
    assert!(put["kept"].to_string().contains("GET /health"), "{put}");

    // 3. The deploy updates in place and keeps the API and the origin path.
    let mut deploy = ferry(&ws, &endpoint);
    deploy.args(["deploy", "--stage", "v1"]);
    with_env(&mut deploy);
    run_json(&mut deploy);
    let writes = stage_writes(&proxy.take());
    for never in ["lambda:CreateFunction", "apigateway:CreateRestApi"] {
        assert!(
            !writes.iter().any(|w| w.starts_with(never)),
            "{never}: {writes:?}"
        );
    }
    for (function, _) in FUNCTIONS {
        let f = rt
            .block_on(
                aws.lambda
                    .get_function_configuration()
                    .function_name(function)
                    .send(),
            )
            .unwrap();
        assert_eq!(f.runtime(), Some(&Runtime::Providedal2023), "{function}");
        assert_eq!(f.handler(), Some("bootstrap"), "{function}");
        assert_eq!(f.architectures(), [Architecture::Arm64], "{function}");
        let tags = rt
            .block_on(
                aws.lambda
                    .list_tags()
                    .resource(f.function_arn().unwrap())
                    .send(),
            )
            .unwrap();
        let tags = tags.tags().cloned().unwrap_or_default();
        assert_eq!(tags.get("ferry:adopted").map(String::as_str), Some("true"));
        assert_eq!(
            tags.get("owner").map(String::as_str),
            Some("console"),
            "{tags:?}"
        );
    }
    let apis = rt.block_on(aws.apigw.get_rest_apis().send()).unwrap();
    let ids: Vec<&str> = apis.items().iter().filter_map(|a| a.id()).collect();
    assert_eq!(ids, [api_id.as_str()]);
    let methods = rt.block_on(support::stage::methods(&aws, &api_id));
    for method in [
        "GET /health",
        "GET /items",
        "GET /items/{id}",
        "POST /items",
    ] {
        assert!(
            methods.iter().any(|m| m.starts_with(method)),
            "{method}: {methods:?}"
        );
    }
    let config = rt
        .block_on(
            aws.cloudfront
                .get_distribution_config()
                .id(&distribution)
                .send(),
        )
        .unwrap();
    let origins = config.distribution_config().unwrap().origins().unwrap();
    assert_eq!(origins.items()[0].origin_path(), Some("/v1"));

    // 4. Nothing changed: nothing written.
    let mut again = ferry(&ws, &endpoint);
    again.args(["deploy", "--stage", "v1"]);
    with_env(&mut again);
    run_json(&mut again);
    assert_eq!(stage_writes(&proxy.take()), Vec::<String>::new());

    // 5. destroy would keep what the stage adopted.
    let mut destroy = ferry(&ws, &endpoint);
    destroy.args(["destroy", "--stage", "v1", "--dry-run"]);
    let destroy = run_json(&mut destroy);
    let doomed = plan_of(&destroy)["actions"].to_string();
    assert!(
        !doomed.contains("delete_rest_api") && !doomed.contains("kst-sample-"),
        "{doomed}"
    );
    let kept = plan_of(&destroy)["unchanged"].to_string();
    assert!(kept.contains("kst-sample-readItem kept"), "{kept}");
    assert!(kept.contains("REST API kst-sample"), "{kept}");
}
