//! Deploys of the example's stages against moto, through a recording proxy
//! that counts every write. One scenario, in order, on one copy of the
//! example (each step builds on the stage the last one left): first deploy,
//! read back; no-op; `--manifest` from another directory to another stage;
//! a code change; a route change; a layer change; a removed service; prune.

mod support;

use serde_json::Value;
use support::lifecycle::{applied, edit, manifest, split};
use support::stage::{check_stage, methods};
use support::stage_writes;
use support::{ferry, fresh_copy, run, run_json, Readback};

#[test]
fn deploy_lifecycle_against_moto() {
    let (moto, proxy) = support::moto_and_proxy();
    let (_lock, ws) = support::shared_workspace();
    let base = ws.parent().unwrap().to_path_buf();
    let endpoint = proxy.url();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let aws = rt.block_on(Readback::new(&moto.url(), "us-east-1"));

    // Before the first deploy the plan is not empty: exit 2, and no write.
    let out = run(ferry(&ws, &endpoint).args([
        "plan",
        "--stage",
        "test",
        "--detailed-exitcode",
        "--json",
    ]));
    assert_eq!(out.status.code(), Some(2), "plan before deploy");
    assert_eq!(stage_writes(&proxy.take()), Vec::<String>::new());
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    support::cors::check_gateway_responses(&plan);
    support::auth::check_definition(&plan, "test");

    // 1. First deploy: everything is created.
    let first = run_json(ferry(&ws, &endpoint).args(["deploy", "--stage", "test"]));
    let calls = proxy.take();
    eprintln!(
        "first deploy: {} calls, {} writes",
        calls.len(),
        stage_writes(&calls).len()
    );
    let built = manifest(&ws);
    let api_id = first["api_id"].as_str().unwrap().to_owned();
    let deployment = first["deployment_id"].as_str().unwrap().to_owned();
    rt.block_on(check_stage(&aws, &built, &api_id, "test", 7));
    rt.block_on(support::cors::check_preflights(&aws, &api_id));
    rt.block_on(support::cors::check_function_env(&aws));
    rt.block_on(support::settings::check_stage_settings(&aws, &api_id));
    rt.block_on(support::settings::check_reserved_concurrency(&aws));
    rt.block_on(support::roles::check_roles(&aws));
    assert!(first["invoke_url"].as_str().unwrap().ends_with(&format!(
        "{api_id}.execute-api.us-east-1.amazonaws.com/test"
    )));

    // 2. Nothing changed: zero writes, a constant few reads per function.
    let again = run_json(ferry(&ws, &endpoint).args(["deploy", "--stage", "test"]));
    let calls = proxy.take();
    assert_eq!(
        stage_writes(&calls),
        Vec::<String>::new(),
        "a no-op deploy writes nothing"
    );
    assert_eq!(again["noop"], true);
    eprintln!("no-op deploy: {} reads for 5 functions", calls.len());
    // Three more for create-item's own role (the role, its policies
    // attached and inline), one for the log archive's stream (none here).
    assert!(
        calls.len() <= 5 * 4 + 12 + 3 + 1,
        "{} reads: {calls:?}",
        calls.len()
    );
    let out = run(ferry(&ws, &endpoint).args(["plan", "--stage", "test", "--detailed-exitcode"]));
    assert_eq!(out.status.code(), Some(0), "plan after deploy");

    // 2a. One permission more for create-item: exactly its role's policy is
    //     rewritten, and the plan shows the statement; then back.
    let cargo_toml = ws.join("services/create-item/Cargo.toml");
    let (one, two) = (
        r#"actions = ["ssm:GetParameter"]"#,
        r#"actions = ["ssm:GetParameter", "ssm:GetParametersByPath"]"#,
    );
    edit(&cargo_toml, one, two);
    let out = run(ferry(&ws, &endpoint).args(["plan", "--stage", "test"]));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("~ update   role items-test-create-item-ferry policy ferry-permissions:")
            && text.contains("+ Allow ssm:GetParameter, ssm:GetParametersByPath on arn:aws:ssm:us-east-1:123456789012:parameter/items/test/db")
            && text.contains("- Allow ssm:GetParameter on arn:aws:ssm:us-east-1:123456789012:parameter/items/test/db"),
        "{text}"
    );
    proxy.take();
    run_json(ferry(&ws, &endpoint).args(["deploy", "--stage", "test"]));
    assert_eq!(stage_writes(&proxy.take()), ["iam:PutRolePolicy"]);
    let held = rt.block_on(support::roles::statements(&aws, support::roles::OWN_ROLE));
    assert!(
        held.iter()
            .any(|(a, _)| a.contains(&"ssm:GetParametersByPath".to_owned())),
        "{held:?}"
    );
    edit(&cargo_toml, two, one);
    run_json(ferry(&ws, &endpoint).args(["deploy", "--stage", "test"]));
    assert_eq!(stage_writes(&proxy.take()), ["iam:PutRolePolicy"]);
    rt.block_on(support::roles::check_roles(&aws));

    // 2b. The release flow: a two-architecture build, then deploys from its
    //     manifest and from a build of their own, alternating. The bytes of
    //     a zip do not depend on the invocation, so none of them writes, and
    //     the stage's own build keeps the other architecture in the manifest.
    let out = run(ferry(&ws, &endpoint).args(["build", "--arch", "all"]));
    assert!(out.status.success(), "build --arch all");
    assert_eq!(manifest(&ws)["artifacts"].as_array().unwrap().len(), 14);
    let built_manifest = ws.join("target/lambda/manifest.json");
    for with_manifest in [true, false, true] {
        let mut deploy = ferry(&ws, &endpoint);
        deploy.args(["deploy", "--stage", "test"]);
        if with_manifest {
            deploy.arg("--manifest").arg(&built_manifest);
        }
        let result = run_json(&mut deploy);
        assert_eq!(
            stage_writes(&proxy.take()),
            Vec::<String>::new(),
            "deploy (manifest: {with_manifest}) after `build --arch all` writes nothing"
        );
        assert_eq!(result["noop"], true);
        assert_eq!(
            manifest(&ws)["artifacts"].as_array().unwrap().len(),
            14,
            "the stage's build keeps the x86_64 artifacts in the manifest"
        );
    }

    // 3. `--manifest` built elsewhere, to another stage: nothing is built in
    //    the deploying directory, and the `test` stage is untouched. The
    //    manifest is the join (`manifest merge`) of one per architecture, as
    //    two CI jobs would upload them (their bytes are the two-architecture
    //    build's: the build test holds builds to that).
    let other = base.join("other");
    fresh_copy(&other);
    let _ = std::fs::remove_dir_all(other.join("target"));
    let ci = base.join("ci");
    let _ = std::fs::remove_dir_all(&ci);
    let per_arch = ["arm64", "x86_64"].map(|arch| split(&ws, &ci.join(arch), arch));
    let manifest_path = ci.join("joined/manifest.json");
    let out = run(ferry(&other, &endpoint)
        .args(["manifest", "merge"])
        .args(&per_arch)
        .arg("-o")
        .arg(&manifest_path));
    assert!(out.status.success(), "manifest merge");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("14 artifacts (7 arm64, 7 x86_64)"),
        "manifest merge"
    );
    let joined: Value = serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    assert_eq!(
        joined,
        manifest(&ws),
        "the join equals the two-architecture build's manifest"
    );
    assert!(proxy.take().is_empty(), "manifest merge called AWS");
    let prod = run_json(
        ferry(&other, &endpoint)
            .args(["deploy", "--stage", "prod", "--manifest"])
            .arg(&manifest_path),
    );
    assert!(
        !other.join("target/lambda").exists(),
        "--manifest must not build"
    );
    proxy.take();
    let prod_aws = rt.block_on(Readback::new(&moto.url(), "eu-west-1"));
    rt.block_on(check_stage(
        &prod_aws,
        &built,
        prod["api_id"].as_str().unwrap(),
        "prod",
        30,
    ));
    rt.block_on(support::stage::check_prod_settings(&prod_aws));
    let test_stage = rt
        .block_on(
            aws.apigw
                .get_stage()
                .rest_api_id(&api_id)
                .stage_name("test")
                .send(),
        )
        .unwrap();
    assert_eq!(
        test_stage.deployment_id(),
        Some(deployment.as_str()),
        "deploying prod left test alone"
    );

    // 4. One service's code changes: a plan saved for review, then applied
    //    exactly; it updates exactly that function's code.
    edit(
        &ws.join("services/get-item/src/main.rs"),
        "no item {id}",
        "there is no item {id}",
    );
    let reviewed = base.join("code-change.plan.json");
    let out = run(ferry(&ws, &endpoint)
        .args(["plan", "--stage", "test", "--detailed-exitcode", "--out"])
        .arg(&reviewed));
    assert_eq!(out.status.code(), Some(2), "plan --out of a code change");
    assert_eq!(stage_writes(&proxy.take()), Vec::<String>::new());
    let code = run_json(
        ferry(&ws, &endpoint)
            .args(["deploy", "--stage", "test", "--plan"])
            .arg(&reviewed),
    );
    let calls = proxy.take();
    assert_eq!(
        applied(&code),
        [
            "update_function_code items-test-get-item",
            "publish_version items-test-get-item",
            "point_alias items-test-get-item",
            "record_release /ferry/items/test/releases/000002"
        ]
    );
    assert_eq!(
        support::writes(&calls)
            .iter()
            .filter(|w| w.starts_with("lock:"))
            .collect::<Vec<_>>(),
        ["lock:CreateLogGroup", "lock:DeleteLogGroup"],
        "a deploy that writes holds the stage's lock and gives it back"
    );
    assert_eq!(
        stage_writes(&calls),
        [
            "lambda:PUT /2015-03-31/functions/items-test-get-item/code",
            "lambda:POST /2015-03-31/functions/items-test-get-item/versions",
            "lambda:PUT /2015-03-31/functions/items-test-get-item/aliases/test",
            "ssm:PutParameter",
            "ssm:PutParameter"
        ]
    );
    let get_zip = std::fs::metadata(ws.join("target/lambda/arm64/get-item.zip"))
        .unwrap()
        .len();
    assert_eq!(
        code["uploaded_bytes"].as_u64(),
        Some(get_zip),
        "only get-item's zip is uploaded"
    );
    let sha = manifest(&ws)["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "get-item" && a["architecture"] == "arm64")
        .unwrap()["code_sha256"]
        .clone();
    let live = rt
        .block_on(
            aws.lambda
                .get_function_configuration()
                .function_name("items-test-get-item")
                .send(),
        )
        .unwrap();
    assert_eq!(Some(live.code_sha256().unwrap()), sha.as_str());

    // 4b. A saved plan applies only to what it was made against. One made
    //     before a code change is refused after it (the source goes back to
    //     what the stage runs, and the rebuilt zip is no longer the planned one) ...
    let main_rs = ws.join("services/get-item/src/main.rs");
    edit(&main_rs, "there is no item {id}", "no such item {id}");
    let stale = base.join("stale.plan.json");
    let out = run(ferry(&ws, &endpoint)
        .args(["plan", "--stage", "test", "--out"])
        .arg(&stale));
    assert!(out.status.success(), "plan --out");
    edit(&main_rs, "no such item {id}", "there is no item {id}");
    let out = run(ferry(&ws, &endpoint).args(["build", "--arch", "arm64"]));
    assert!(out.status.success(), "build");
    proxy.take();
    let out = run(ferry(&ws, &endpoint)
        .args(["deploy", "--stage", "test", "--plan"])
        .arg(&stale));
    assert_eq!(out.status.code(), Some(1), "a plan whose artifact changed");
    assert!(String::from_utf8_lossy(&out.stderr).contains("changed since the plan was made"));
    assert_eq!(support::writes(&proxy.take()), Vec::<String>::new());
    // ... and so is one made before the stage changed by hand, naming the change.
    let quiet = base.join("quiet.plan.json");
    let out = run(ferry(&ws, &endpoint)
        .args(["plan", "--stage", "test", "--detailed-exitcode", "--out"])
        .arg(&quiet));
    assert_eq!(out.status.code(), Some(0), "nothing to change");
    rt.block_on(
        aws.lambda
            .update_function_configuration()
            .function_name("items-test-list-items")
            .memory_size(1024)
            .send(),
    )
    .unwrap();
    proxy.take();
    let out = run(ferry(&ws, &endpoint)
        .args(["deploy", "--stage", "test", "--plan"])
        .arg(&quiet));
    // The message as words, whatever the width miette wrapped it to.
    let stderr: Vec<String> = String::from_utf8_lossy(&out.stderr)
        .split_whitespace()
        .filter(|w| *w != "│")
        .map(str::to_owned)
        .collect();
    let stderr = stderr.join(" ");
    assert_eq!(
        out.status.code(),
        Some(1),
        "a plan of a stage changed since"
    );
    assert!(
        stderr.contains("the stage changed since the plan was made"),
        "{stderr}"
    );
    assert!(
        stderr.contains("function items-test-list-items config: memory_mb: 1024 -> 256"),
        "{stderr}"
    );
    assert_eq!(support::writes(&proxy.take()), Vec::<String>::new());
    // A plan made now repairs it, and nothing else.
    let out = run(ferry(&ws, &endpoint)
        .args(["plan", "--stage", "test", "--out"])
        .arg(&quiet));
    assert!(out.status.success());
    let repaired = run_json(
        ferry(&ws, &endpoint)
            .args(["deploy", "--stage", "test", "--plan"])
            .arg(&quiet),
    );
    // Its $LATEST changed, so the stage moves to a version published from it.
    assert_eq!(
        applied(&repaired),
        [
            "update_function_configuration items-test-list-items",
            "publish_version items-test-list-items",
            "point_alias items-test-list-items",
            "record_release /ferry/items/test/releases/000003"
        ]
    );
    proxy.take();

    // 5. A route changes: one new API deployment, no function code.
    edit(
        &ws.join("services/list-items/Cargo.toml"),
        r#"routes = ["GET /items"]"#,
        r#"routes = ["GET /items", "HEAD /items"]"#,
    );
    let route = run_json(ferry(&ws, &endpoint).args(["deploy", "--stage", "test"]));
    let calls = proxy.take();
    assert_eq!(
        applied(&route),
        [
            "put_rest_api items-test",
            "create_deployment items-test",
            "record_release /ferry/items/test/releases/000004"
        ]
    );
    // The definition, each of the 3 CORS preflights again (4 PUTs each: the
    // overwrite removed them), the deployment, and the release (its record
    // and the stage's pointer to it: 2 PutParameter).
    assert_eq!(
        stage_writes(&calls).len(),
        1 + 3 * 4 + 1 + 2,
        "{:?}",
        stage_writes(&calls)
    );
    let routes = rt.block_on(methods(&aws, &api_id));
    assert!(routes.contains(&"HEAD /items".to_owned()), "{routes:?}");
    assert_eq!(
        rt.block_on(support::cors::allowed_methods(&aws, &api_id, "/items"))
            .as_deref(),
        Some("'GET,HEAD,OPTIONS,POST'"),
        "the preflight lists the new method"
    );

    // 5b. moto replaces the stage on `CreateDeployment` (AWS points the
    //     stage at the new deployment and keeps its settings), so here the
    //     stage lost its tracing, throttles and access log: the next deploy
    //     finds that drift and restores exactly those.
    let repair = run_json(ferry(&ws, &endpoint).args(["deploy", "--stage", "test"]));
    proxy.take();
    assert_eq!(applied(&repair), ["update_stage_settings items-test"]);
    rt.block_on(support::settings::check_stage_settings(&aws, &api_id));

    // 6. A layer's file changes: one layer version, and only its users move to it.
    let keys = ws.join("layers/jwks/keys/jwks.json");
    let text = std::fs::read_to_string(&keys).unwrap();
    std::fs::write(&keys, format!("{text} ")).unwrap();
    let layer = run_json(ferry(&ws, &endpoint).args(["deploy", "--stage", "test"]));
    proxy.take();
    assert_eq!(
        applied(&layer),
        [
            "publish_layer_version items-jwks",
            "update_function_configuration items-test-echo",
            "publish_version items-test-echo",
            "point_alias items-test-echo",
            "update_function_configuration items-test-jwt",
            "publish_version items-test-jwt",
            "point_alias items-test-jwt",
            "record_release /ferry/items/test/releases/000005",
        ]
    );
    let versions = rt
        .block_on(
            aws.lambda
                .list_layer_versions()
                .layer_name("items-jwks")
                .send(),
        )
        .unwrap();
    assert_eq!(versions.layer_versions().len(), 2);

    // 7. A service leaves the workspace: its route leaves the API; its
    //    function stays until --prune. (get-item: a service whose removal
    //    changes no other binary; removing one that enables extra features
    //    of a shared dependency rebuilds the others, through cargo's feature
    //    unification, and ferry then rightly updates their code.)
    std::fs::remove_dir_all(ws.join("services/get-item")).unwrap();
    let removed = run_json(ferry(&ws, &endpoint).args(["deploy", "--stage", "test"]));
    assert_eq!(
        applied(&removed),
        [
            "put_rest_api items-test",
            "create_deployment items-test",
            "record_release /ferry/items/test/releases/000006"
        ]
    );
    let routes = rt.block_on(methods(&aws, &api_id));
    assert!(
        !routes.iter().any(|m| m.contains("/items/{id}")),
        "{routes:?}"
    );
    assert!(rt
        .block_on(
            aws.lambda
                .get_function()
                .function_name("items-test-get-item")
                .send()
        )
        .is_ok());
    let pruned = run_json(ferry(&ws, &endpoint).args(["deploy", "--stage", "test", "--prune"]));
    // (With, as in 5b, the stage settings moto dropped at the deployment.)
    assert_eq!(
        applied(&pruned),
        [
            "update_stage_settings items-test",
            "delete_function items-test-get-item"
        ]
    );
    assert!(rt
        .block_on(
            aws.lambda
                .get_function()
                .function_name("items-test-get-item")
                .send()
        )
        .is_err());
    assert!(
        rt.block_on(
            prod_aws
                .lambda
                .get_function()
                .function_name("items-prod-get-item")
                .send()
        )
        .is_ok(),
        "prune stays in its stage"
    );
    proxy.take();
    let last = run_json(ferry(&ws, &endpoint).args(["deploy", "--stage", "test", "--prune"]));
    assert_eq!(last["noop"], true);
    assert_eq!(stage_writes(&proxy.take()), Vec::<String>::new());
}
