//! Releases against moto, through the recording proxy: each deploy that
//! changes a function publishes a version and moves the stage's alias, the
//! API invokes the alias, a release is recorded in SSM, `releases` lists
//! them, `rollback` returns the aliases and the stage's deployment to an
//! earlier release with no build, no upload and no publish, and `prune`
//! deletes old function and layer versions, never one in use; `promote`
//! gives another stage, in another region, exactly the code `test` serves.

mod support;

use std::process::Stdio;

use serde_json::Value;
use support::lifecycle::edit;
use support::{ferry, run, run_json, stage_writes, Readback};

/// prod's account, reached through a role its profile assumes.
const PROD_ACCOUNT: &str = "111111111111";
const PROD_ROLE: &str = "arn:aws:iam::111111111111:role/ferry-deployer";

const SERVICES: [&str; 5] = ["create-item", "echo", "get-item", "jwt", "list-items"];

/// The version the `test` alias of `service` serves.
async fn alias(aws: &Readback, service: &str) -> String {
    aws.lambda
        .get_alias()
        .function_name(format!("items-test-{service}"))
        .name("test")
        .send()
        .await
        .unwrap()
        .function_version()
        .unwrap()
        .to_owned()
}

async fn aliases(aws: &Readback) -> Vec<String> {
    let mut out = Vec::new();
    for s in SERVICES {
        out.push(format!("{s}:{}", alias(aws, s).await));
    }
    out
}

async fn stage_deployment(aws: &Readback, api: &str) -> String {
    aws.apigw
        .get_stage()
        .rest_api_id(api)
        .stage_name("test")
        .send()
        .await
        .unwrap()
        .deployment_id()
        .unwrap()
        .to_owned()
}

#[test]
fn versions_releases_and_rollback_against_moto() {
    let (moto, proxy) = support::moto_and_proxy();
    let (_lock, ws) = support::shared_workspace();
    let endpoint = proxy.url();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let aws = rt.block_on(Readback::new(&moto.url(), "us-east-1"));

    // 1. The first deploy publishes version 1 of each function behind the
    //    stage's alias (check_stage reads the alias, its version's code, the
    //    permission on the alias and the integration naming it).
    let first = run_json(ferry(&ws, &endpoint).args(["deploy", "--stage", "test"]));
    proxy.take();
    let api = first["api_id"].as_str().unwrap().to_owned();
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(ws.join("target/lambda/manifest.json")).unwrap())
            .unwrap();
    rt.block_on(support::stage::check_stage(
        &aws, &manifest, &api, "test", 7,
    ));
    assert_eq!(
        rt.block_on(aliases(&aws)),
        [
            "create-item:1",
            "echo:1",
            "get-item:1",
            "jwt:1",
            "list-items:1"
        ]
    );
    let first_deployment = rt.block_on(stage_deployment(&aws, &api));

    // 2. Nothing changed: nothing published, nothing written.
    let again = run_json(ferry(&ws, &endpoint).args(["deploy", "--stage", "test"]));
    assert_eq!(again["noop"], true);
    assert_eq!(stage_writes(&proxy.take()), Vec::<String>::new());

    // `invoke` calls the stage's URL, read from AWS (moto serves no
    // execute-api stage, so the request itself is tested against `serve`).
    assert_eq!(
        support::invoke_url(&ws, &endpoint),
        format!("GET https://{api}.execute-api.us-east-1.amazonaws.com/test/items")
    );
    assert!(proxy.take().iter().all(|c| !c.write), "invoke wrote");

    // 3. One service's code changes and a route is added: that function
    //    alone gets version 2, and the stage a new deployment.
    let main_rs = ws.join("services/get-item/src/main.rs");
    edit(&main_rs, "no item {id}", "no item with id {id}");
    let list_toml = ws.join("services/list-items/Cargo.toml");
    edit(
        &list_toml,
        r#"["GET /items"]"#,
        r#"["GET /items", "HEAD /items"]"#,
    );
    run_json(ferry(&ws, &endpoint).args(["deploy", "--stage", "test"]));
    let writes = stage_writes(&proxy.take());
    let lambda: Vec<&String> = writes.iter().filter(|w| w.starts_with("lambda:")).collect();
    assert_eq!(
        lambda,
        [
            "lambda:PUT /2015-03-31/functions/items-test-get-item/code",
            "lambda:POST /2015-03-31/functions/items-test-get-item/versions",
            "lambda:PUT /2015-03-31/functions/items-test-get-item/aliases/test",
        ]
    );
    assert!(
        writes.contains(&format!("apigateway:POST /restapis/{api}/deployments")),
        "{writes:?}"
    );
    assert_eq!(writes.last().map(String::as_str), Some("ssm:PutParameter"));
    assert_eq!(
        rt.block_on(aliases(&aws)),
        [
            "create-item:1",
            "echo:1",
            "get-item:2",
            "jwt:1",
            "list-items:1"
        ]
    );

    // 4. `releases` lists both, from AWS.
    let listed = run_json(ferry(&ws, &endpoint).args(["releases", "--stage", "test"]));
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert_eq!(listed[0]["functions"]["get-item"], "1");
    assert_eq!(listed[1]["functions"]["get-item"], "2");
    assert_eq!(listed[1]["functions"]["list-items"], "1");
    assert_eq!(listed[0]["deployment"], first_deployment.as_str());
    assert!(listed[1]["by"].as_str().unwrap().starts_with("arn:aws:"));
    assert!(listed[1]["manifest_sha256"].as_str().unwrap().len() == 64);
    let text = run(ferry(&ws, &endpoint).args(["releases", "--stage", "test"]));
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("get-item:2"), "{text}");
    assert!(proxy.take().iter().all(|c| !c.write), "releases wrote");

    // 5. A rollback without --yes and without a terminal writes nothing.
    let out = ferry(&ws, &endpoint)
        .args(["rollback", "--stage", "test"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--yes"));
    assert_eq!(support::writes(&proxy.take()), Vec::<String>::new());

    // 6. The rollback: the alias and nothing else of the functions moves,
    //    no code is uploaded, no version or layer published, no build.
    let back = run_json(ferry(&ws, &endpoint).args(["rollback", "--stage", "test", "--yes"]));
    assert_eq!(back["release"], 3);
    let writes = stage_writes(&proxy.take());
    assert_eq!(
        writes,
        [
            "lambda:PUT /2015-03-31/functions/items-test-get-item/aliases/test",
            &format!("apigateway:PATCH /restapis/{api}/stages/test"),
            "ssm:PutParameter",
            "ssm:PutParameter",
        ]
    );
    assert_eq!(
        rt.block_on(aliases(&aws)),
        [
            "create-item:1",
            "echo:1",
            "get-item:1",
            "jwt:1",
            "list-items:1"
        ]
    );
    assert_eq!(rt.block_on(stage_deployment(&aws, &api)), first_deployment);
    let listed = run_json(ferry(&ws, &endpoint).args(["releases", "--stage", "test"]));
    assert_eq!(
        listed[2]["kind"],
        serde_json::json!({"rollback": {"to": 1}})
    );
    // Rolled back already: a second rollback to 1 plans nothing.
    let same =
        run_json(ferry(&ws, &endpoint).args(["rollback", "--stage", "test", "--to", "1", "--yes"]));
    assert_eq!(same["noop"], true);
    proxy.take();

    // 7. Deploying the workspace again returns the alias to what it builds
    //    without uploading code: Lambda answers the publish with version 2.
    run_json(ferry(&ws, &endpoint).args(["deploy", "--stage", "test"]));
    let writes = stage_writes(&proxy.take());
    assert!(
        !writes.iter().any(|w| w.ends_with("/code")),
        "code uploaded: {writes:?}"
    );
    assert_eq!(
        rt.block_on(aliases(&aws)),
        [
            "create-item:1",
            "echo:1",
            "get-item:2",
            "jwt:1",
            "list-items:1"
        ]
    );
    let after = run_json(ferry(&ws, &endpoint).args(["deploy", "--stage", "test"]));
    assert_eq!(after["noop"], true);
    assert_eq!(stage_writes(&proxy.take()), Vec::<String>::new());

    // 8. Prune keeping one: get-item's version 1 goes (its alias serves 2,
    //    the newest release names 2); every other function keeps its one.
    let pruned =
        run_json(ferry(&ws, &endpoint).args(["prune", "--stage", "test", "--keep", "1", "--yes"]));
    assert_eq!(pruned["deleted"], 1, "{pruned}");
    assert_eq!(
        stage_writes(&proxy.take()),
        ["lambda:DELETE /2015-03-31/functions/items-test-get-item"]
    );
    let versions = rt
        .block_on(
            aws.lambda
                .list_versions_by_function()
                .function_name("items-test-get-item")
                .send(),
        )
        .unwrap();
    let versions: Vec<&str> = versions
        .versions()
        .iter()
        .filter_map(|v| v.version())
        .collect();
    assert_eq!(versions, ["$LATEST", "2"]);
    let again =
        run_json(ferry(&ws, &endpoint).args(["prune", "--stage", "test", "--keep", "1", "--yes"]));
    assert_eq!(again["deleted"], 0);
    // Release 1's version is gone: rolling back to it is refused, unwritten.
    let out =
        run(ferry(&ws, &endpoint).args(["rollback", "--stage", "test", "--to", "1", "--yes"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no longer exists"));
    assert_eq!(support::writes(&proxy.take()), Vec::<String>::new());

    // 9. Two new versions of the jwks layer: prune keeping one deletes the
    //    two older layer versions (no function and no kept release uses
    //    them) and leaves request-logger's only version.
    let keys = ws.join("layers/jwks/keys/jwks.json");
    let original = std::fs::read_to_string(&keys).unwrap();
    for extra in [" ", "  "] {
        std::fs::write(&keys, format!("{original}{extra}")).unwrap();
        run_json(ferry(&ws, &endpoint).args(["deploy", "--stage", "test"]));
    }
    proxy.take();
    run_json(ferry(&ws, &endpoint).args(["prune", "--stage", "test", "--keep", "1", "--yes"]));
    let deleted: Vec<String> = stage_writes(&proxy.take())
        .into_iter()
        .filter(|w| w.contains("/layers/"))
        .collect();
    assert_eq!(
        deleted,
        [
            "lambda:DELETE /2018-10-31/layers/items-jwks/versions/1",
            "lambda:DELETE /2018-10-31/layers/items-jwks/versions/2"
        ]
    );
    let jwks = rt
        .block_on(
            aws.lambda
                .list_layer_versions()
                .layer_name("items-jwks")
                .send(),
        )
        .unwrap();
    let left: Vec<i64> = jwks.layer_versions().iter().map(|v| v.version()).collect();
    assert_eq!(left, [3]);
    std::fs::write(&keys, original).unwrap();

    // 10. promote --from test --to prod (another region, and another
    //     account: prod's profile assumes a role there): prod gets the code
    //     test serves, from the release's archived manifest, with no build
    //     (the source changed since, and the build's manifest is untouched).
    edit(&main_rs, "no item with id {id}", "no such item {id}");
    let deploy_toml = ws.join("deploy.toml");
    edit(
        &deploy_toml,
        "[stages.prod]\n",
        &format!("[stages.prod]\naccount = \"{PROD_ACCOUNT}\"\nprofile = \"prod\"\n"),
    );
    let aws_config = ws.join("target/aws-config-prod");
    std::fs::write(
        &aws_config,
        format!("[profile prod]\nrole_arn = {PROD_ROLE}\ncredential_source = Environment\n"),
    )
    .unwrap();
    let ferry = |ws: &std::path::Path, endpoint: &str| {
        let mut command = ferry(ws, endpoint);
        command.env("AWS_CONFIG_FILE", &aws_config);
        command
    };
    let built = std::fs::read(ws.join("target/lambda/manifest.json")).unwrap();
    proxy.take();
    let asked = run(ferry(&ws, &endpoint)
        .args(["promote", "--from", "test", "--to", "prod"])
        .stdin(Stdio::null()));
    assert!(!asked.status.success(), "no --yes and no terminal");
    assert_eq!(support::writes(&proxy.take()), Vec::<String>::new());
    // An alias moved by hand: test no longer serves its release; refused.
    let served = rt.block_on(alias(&aws, "get-item"));
    let point = |version: &str| {
        rt.block_on(
            aws.lambda
                .update_alias()
                .function_name("items-test-get-item")
                .name("test")
                .function_version(version)
                .send(),
        )
        .unwrap();
    };
    point("$LATEST");
    let moved =
        run(ferry(&ws, &endpoint).args(["promote", "--from", "test", "--to", "prod", "--yes"]));
    assert!(String::from_utf8_lossy(&moved.stderr).contains("serves version $LATEST"));
    assert_eq!(support::writes(&proxy.take()), Vec::<String>::new());
    point(&served);
    let promoted = run_json(
        ferry(&ws, &endpoint).args(["promote", "--from", "test", "--to", "prod", "--yes"]),
    );
    assert_eq!(promoted["stage"], "prod", "{promoted}");
    proxy.take();
    let prod = rt.block_on(Readback::assumed(&moto.url(), "eu-west-1", PROD_ROLE));
    for service in SERVICES {
        let code = |aws: &Readback, stage: &str| {
            let out = rt
                .block_on(
                    aws.lambda
                        .get_function()
                        .function_name(format!("items-{stage}-{service}"))
                        .qualifier(stage)
                        .send(),
                )
                .unwrap();
            out.configuration()
                .unwrap()
                .code_sha256()
                .unwrap()
                .to_owned()
        };
        assert_eq!(code(&prod, "prod"), code(&aws, "test"), "{service}");
    }
    assert_eq!(
        std::fs::read(ws.join("target/lambda/manifest.json")).unwrap(),
        built
    );
    let again = run_json(
        ferry(&ws, &endpoint).args(["promote", "--from", "test", "--to", "prod", "--yes"]),
    );
    assert_eq!(again["noop"], true, "{again}");
    assert_eq!(stage_writes(&proxy.take()), Vec::<String>::new());
    // Nothing of prod is in test's account.
    let home = rt.block_on(Readback::new(&moto.url(), "eu-west-1"));
    let found = rt.block_on(home.lambda.list_functions().send()).unwrap();
    assert_eq!(found.functions(), [], "prod landed in test's account");
    edit(
        &deploy_toml,
        &format!("[stages.prod]\naccount = \"{PROD_ACCOUNT}\"\nprofile = \"prod\"\n"),
        "[stages.prod]\n",
    );
    edit(&main_rs, "no such item {id}", "no item {id}");
    edit(
        &list_toml,
        r#"["GET /items", "HEAD /items"]"#,
        r#"["GET /items"]"#,
    );
}
