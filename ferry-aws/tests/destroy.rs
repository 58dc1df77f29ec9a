//! `destroy` against moto, through the recording proxy. The example's `test`
//! stage gets a front door and a second stage, `qa`, shares its region and
//! its first layer versions. Destroying `test` leaves none of its resources
//! (log groups only until `--logs`), leaves `qa` exactly as it was, keeps
//! the layer versions `qa` uses; a second destroy writes nothing; a
//! protected stage is refused before any AWS call; and a destroy cut after
//! its N-th write, for every N, finishes when run again.

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Output, Stdio};

use support::lifecycle::edit;
use support::state::snapshot;
use support::{ferry, run, run_json, writes, Readback};

const CERT: &str = "arn:aws:acm:us-east-1:123456789012:certificate/ferry-test";

fn destroy(ws: &Path, endpoint: &str, extra: &[&str]) -> Output {
    run(ferry(ws, endpoint)
        .args(["destroy", "--stage", "test"])
        .args(extra)
        .stdin(Stdio::null()))
}

/// Deploys `stage` from the last build's manifest, with no build.
fn deploy(ws: &Path, endpoint: &str, stage: &str) {
    let manifest = ws.join("target/lambda/manifest.json");
    run_json(
        ferry(ws, endpoint)
            .args(["deploy", "--stage", stage, "--manifest"])
            .arg(manifest),
    );
}

/// What is left of the `test` stage in moto, log groups apart.
async fn leftovers(aws: &Readback, zone: &str) -> Vec<String> {
    let mut left = Vec::new();
    let functions = aws.lambda.list_functions().send().await.unwrap();
    for f in functions.functions() {
        let name = f.function_name().unwrap_or_default();
        if name.starts_with("items-test-") {
            left.push(format!("function {name}"));
        }
    }
    let apis = aws.apigw.get_rest_apis().send().await.unwrap();
    for a in apis.items() {
        if a.name() == Some("items-test") {
            left.push("REST API items-test".into());
        }
    }
    let dists = aws.cloudfront.list_distributions().send().await.unwrap();
    let count = dists.distribution_list().map_or(0, |l| l.items().len());
    if count > 0 {
        left.push(format!("{count} distributions"));
    }
    let records = aws
        .route53
        .list_resource_record_sets()
        .hosted_zone_id(zone)
        .send()
        .await
        .unwrap();
    for r in records.resource_record_sets() {
        if r.alias_target().is_some() {
            left.push(format!("alias record {} {}", r.name(), r.r#type().as_str()));
        }
    }
    if aws
        .iam
        .get_role()
        .role_name("items-test-ferry-lambda")
        .send()
        .await
        .is_ok()
    {
        left.push("role items-test-ferry-lambda".into());
    }
    // create-item's own role, found by the stage's IAM path.
    let roles = aws
        .iam
        .list_roles()
        .path_prefix("/ferry/items/test/")
        .send()
        .await
        .unwrap();
    for r in roles.roles() {
        left.push(format!("role {}", r.role_name()));
    }
    let params = aws
        .ssm
        .get_parameters_by_path()
        .path("/ferry/items/test/")
        .recursive(true)
        .send()
        .await
        .unwrap();
    for p in params.parameters() {
        left.push(format!("parameter {}", p.name().unwrap_or_default()));
    }
    let lock = log_groups(aws, "/ferry/lock/items/test").await;
    left.extend(lock.into_iter().map(|g| format!("lock {g}")));
    left
}

async fn log_groups(aws: &Readback, prefix: &str) -> Vec<String> {
    let out = aws
        .logs
        .describe_log_groups()
        .log_group_name_prefix(prefix)
        .send()
        .await
        .unwrap();
    out.log_groups()
        .iter()
        .filter_map(|g| g.log_group_name().map(str::to_owned))
        .collect()
}

/// qa's own resources, without the region's distributions and layer
/// version counts, which destroying test changes.
fn qa(rt: &tokio::runtime::Runtime, aws: &Readback) -> BTreeMap<String, String> {
    let mut state = rt.block_on(snapshot(aws, "items", "qa"));
    state.retain(|k, _| {
        let layer_count = k.starts_with("layer ") && k.ends_with(" versions");
        !(k.starts_with("distribution") || layer_count)
    });
    state
}

async fn layer_versions(aws: &Readback, layer: &str) -> Vec<i64> {
    let out = aws
        .lambda
        .list_layer_versions()
        .layer_name(layer)
        .send()
        .await
        .unwrap();
    let mut v: Vec<i64> = out.layer_versions().iter().map(|v| v.version()).collect();
    v.sort_unstable();
    v
}

#[test]
fn destroy_removes_the_stage_and_nothing_else() {
    let (moto, proxy) = support::moto_and_proxy();
    let (_lock, ws) = support::shared_workspace();
    let endpoint = proxy.url();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let aws = rt.block_on(Readback::new(&moto.url(), "us-east-1"));
    let zone = rt.block_on(support::hosted_zone(&aws, "items.test"));
    let toml = ws.join("deploy.toml");
    let base = std::fs::read_to_string(&toml).unwrap();
    let full = format!(
        "{base}\n[stages.test.cloudfront]\ndomain = \"api.items.test\"\ncertificate = \"{CERT}\"\nhosted-zone = \"{zone}\"\n\n[stages.qa]\nregion = \"us-east-1\"\n"
    );
    std::fs::write(&toml, &full).unwrap();

    // test and qa share the first layer versions; then test alone moves to
    // a second version of jwks.
    run_json(ferry(&ws, &endpoint).args(["deploy", "--stage", "test"]));
    deploy(&ws, &endpoint, "qa");
    let keys = ws.join("layers/jwks/keys/jwks.json");
    let text = std::fs::read_to_string(&keys).unwrap();
    std::fs::write(&keys, format!("{text} ")).unwrap();
    run_json(ferry(&ws, &endpoint).args(["deploy", "--stage", "test"]));
    assert_eq!(rt.block_on(layer_versions(&aws, "items-jwks")), [1, 2]);
    let qa_before = qa(&rt, &aws);
    proxy.take();

    // 1. A protected stage is refused before any AWS call.
    edit(
        &toml,
        "[stages.test]\n",
        "[stages.test]\nprotected = true\n",
    );
    let refused = destroy(&ws, &endpoint, &["--yes"]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(stderr.contains("stage `test` is protected"), "{stderr}");
    assert!(stderr.contains("deploy.toml:"), "{stderr}");
    assert!(proxy.take().is_empty(), "a protected destroy called AWS");
    std::fs::write(&toml, &full).unwrap();

    // 2. --dry-run, and no --yes without a terminal: the plan, no write.
    let dry = destroy(&ws, &endpoint, &["--dry-run"]);
    let plan = String::from_utf8_lossy(&dry.stderr);
    assert!(dry.status.success());
    for line in [
        "delete   DNS A/AAAA alias api.items.test",
        "disable  CloudFront distribution",
        "delete   REST API items-test",
        "delete   function items-test-get-item",
        "delete   layer version items-jwks:2",
        "delete   role items-test-ferry-lambda",
        "delete   role items-test-create-item-ferry",
        "6 log groups kept",
        "layer items-jwks: 1 versions kept",
    ] {
        assert!(plan.contains(line), "no `{line}` in:\n{plan}");
    }
    assert!(!destroy(&ws, &endpoint, &[]).status.success());
    assert_eq!(writes(&proxy.take()), Vec::<String>::new());

    // 3. The destroy: nothing of test is left but its log groups, qa is
    //    untouched, and the layer versions qa uses are kept.
    let done = run_json(ferry(&ws, &endpoint).args(["destroy", "--stage", "test", "--yes"]));
    assert_eq!(done["applied"], true);
    let made = writes(&proxy.take());
    eprintln!("destroy: {} writes: {made:?}", made.len());
    assert_eq!(rt.block_on(leftovers(&aws, &zone)), Vec::<String>::new());
    let groups = rt.block_on(log_groups(&aws, "/aws/lambda/items-test-"));
    assert_eq!(groups.len(), 5, "{groups:?}");
    let access = "/aws/apigateway/items-test/test/access";
    assert_eq!(
        rt.block_on(log_groups(&aws, access)),
        [access],
        "the access log is kept too"
    );
    assert_eq!(qa(&rt, &aws), qa_before);
    assert_eq!(rt.block_on(layer_versions(&aws, "items-jwks")), [1]);
    assert_eq!(
        rt.block_on(layer_versions(&aws, "items-request-logger")),
        [1]
    );

    // 4. Again: nothing to do, nothing written; --logs takes the log groups.
    let again = run_json(ferry(&ws, &endpoint).args(["destroy", "--stage", "test", "--yes"]));
    assert_eq!(again["applied"], false);
    assert_eq!(writes(&proxy.take()), Vec::<String>::new());
    run_json(ferry(&ws, &endpoint).args(["destroy", "--stage", "test", "--yes", "--logs"]));
    assert_eq!(
        writes(&proxy.take()).len(),
        8,
        "five functions' log groups, the access log's, and the lock's two writes"
    );
    assert!(rt
        .block_on(log_groups(&aws, "/aws/lambda/items-test-"))
        .is_empty());
    assert!(rt.block_on(log_groups(&aws, access)).is_empty());

    // 5. Cut after the N-th write (the process dies there), then run again:
    //    the second run finishes, and a third has nothing to do.
    //    With --logs a destroy also deletes the five log groups.
    let total = made.len() + 5;
    for n in 1..=total {
        deploy(&ws, &endpoint, "test");
        proxy.faults(|f| f.cut_after_writes = Some(n));
        let cut = run(ferry(&ws, &endpoint)
            .args(["destroy", "--stage", "test", "--yes", "--logs"])
            .env("AWS_MAX_ATTEMPTS", "1"));
        proxy.faults(|f| *f = support::FaultPlan::default());
        let rerun = destroy(&ws, &endpoint, &["--yes", "--logs"]);
        assert!(rerun.status.success(), "after a cut at write {n}");
        assert_eq!(
            rt.block_on(leftovers(&aws, &zone)),
            Vec::<String>::new(),
            "cut at write {n}"
        );
        proxy.take();
        let third = destroy(&ws, &endpoint, &["--yes"]);
        assert!(third.status.success());
        assert_eq!(writes(&proxy.take()), Vec::<String>::new(), "cut at {n}");
        eprintln!(
            "destroy cut after write {n}/{total}: the cut run {}; converged",
            if cut.status.success() {
                "finished"
            } else {
                "failed"
            }
        );
    }
    assert_eq!(qa(&rt, &aws), qa_before);
}
