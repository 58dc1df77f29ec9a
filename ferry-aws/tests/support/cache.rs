//! The caching part of the front-door test: the example caches
//! `GET /items/{id}` and `GET /items` and leaves `POST /items` uncached. A
//! TTL changed in deploy.toml changes exactly that behavior; a behavior
//! changed by hand is reported by `doctor` and put back; a code change of
//! `get-item` invalidates `/items/*` only; `invalidate` does it by hand.
//!
//! moto stores CloudFront's per-behavior settings as sent and checks none
//! of them; the TTL ranges, the header names and the quotas are checked by
//! ferry before any call (see the bad-input corpus), as AWS documents them.

use std::path::Path;

use aws_sdk_cloudfront::types::DistributionConfig;
use serde_json::Value;

use super::{ferry, run, run_json, stage_writes, Proxy, Readback};

/// Each cache behavior as one line: pattern, origin, TTLs, cache key, policy.
#[allow(deprecated)]
pub fn behaviors(c: &DistributionConfig) -> Vec<String> {
    let list = c.cache_behaviors().map(|b| b.items()).unwrap_or_default();
    list.iter()
        .map(|b| {
            let f = b.forwarded_values();
            let query = f
                .filter(|f| f.query_string())
                .map(|f| f.query_string_cache_keys().map(|k| k.items().join(",")));
            let headers = f.and_then(|f| f.headers()).map(|h| h.items().join(","));
            let policy = b.cache_policy_id().filter(|p| !p.is_empty());
            format!(
                "{} -> {} ttl {}/{}/{} query {:?} headers {:?} policy {:?}",
                b.path_pattern(),
                b.target_origin_id(),
                b.min_ttl().unwrap_or(-1),
                b.default_ttl().unwrap_or(-1),
                b.max_ttl().unwrap_or(-1),
                query,
                headers,
                policy
            )
        })
        .collect()
}

async fn config(aws: &Readback, id: &str) -> (DistributionConfig, String) {
    let out = aws.cloudfront.get_distribution_config().id(id);
    let out = out.send().await.unwrap();
    (
        out.distribution_config.unwrap(),
        out.e_tag.unwrap_or_default(),
    )
}

/// Sets the min TTL of behavior `index` by hand, as someone in the console.
#[allow(deprecated)]
async fn hand_edit(aws: &Readback, id: &str, index: usize, min_ttl: i64) {
    let (mut c, etag) = config(aws, id).await;
    let items = c.cache_behaviors.as_mut().unwrap().items.as_mut().unwrap();
    items[index].min_ttl = Some(min_ttl);
    let update = aws.cloudfront.update_distribution().id(id).if_match(etag);
    update.distribution_config(c).send().await.unwrap();
}

/// The paths of every invalidation of the distribution.
async fn invalidations(aws: &Readback, id: &str) -> Vec<Vec<String>> {
    let list = aws.cloudfront.list_invalidations().distribution_id(id);
    let list = list.send().await.unwrap();
    let mut out = Vec::new();
    for summary in list
        .invalidation_list()
        .map(|l| l.items())
        .unwrap_or_default()
    {
        let one = aws
            .cloudfront
            .get_invalidation()
            .distribution_id(id)
            .id(summary.id());
        let one = one.send().await.unwrap();
        let batch = one.invalidation().unwrap().invalidation_batch().unwrap();
        out.push(batch.paths().unwrap().items().to_vec());
    }
    out
}

fn doctor_broken(ws: &Path, endpoint: &str) -> (i32, Vec<String>) {
    let out = run(ferry(ws, endpoint).args(["doctor", "--stage", "test", "--json"]));
    let report: Value = serde_json::from_slice(&out.stdout).expect("doctor prints JSON");
    let broken = report["links"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["ok"] == false)
        .map(|l| l["link"].as_str().unwrap().to_owned())
        .collect();
    (out.status.code().unwrap_or(-1), broken)
}

/// After the first deploy with the front door `with_door` (deploy.toml's text).
pub fn scenario(
    rt: &tokio::runtime::Runtime,
    aws: &Readback,
    ws: &Path,
    proxy: &Proxy,
    id: &str,
    with_door: &str,
) {
    let endpoint = proxy.url();
    let origin = "ferry-api";
    let (c, _) = rt.block_on(config(aws, id));
    // The test stage's CORS lists origins on both paths, so both key on
    // `Origin` too.
    let items = "/items -> ferry-api ttl 0/30/300 query Some(Some(\"limit,tag\")) headers Some(\"authorization,origin\") policy None";
    assert_eq!(
        behaviors(&c),
        [
            "/items/* -> ferry-api ttl 0/60/3600 query None headers Some(\"origin\") policy None",
            items,
        ],
        "one behavior per cached pattern, the more specific first; POST /items authenticates, so its header is in /items' key"
    );
    let default = c.default_cache_behavior().unwrap();
    assert_eq!(
        default.cache_policy_id(),
        Some(ferry::deploy::front::CACHING_DISABLED)
    );

    // One TTL changed in deploy.toml: exactly that behavior changes.
    let deploy_toml = ws.join("deploy.toml");
    let longer = format!(
        "{with_door}\n[stages.test.cloudfront.cache.routes.\"GET /items/{{id}}\"]\nttl = 120\n"
    );
    std::fs::write(&deploy_toml, &longer).unwrap();
    let out = run(ferry(ws, &endpoint).args(["plan", "--stage", "test"]));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let changed: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("  ") && !l.starts_with("  ="))
        .collect();
    assert_eq!(
        changed,
        [
            format!("  ~ update   CloudFront distribution {id} cache behaviors of origin `{origin}`:").as_str(),
            "      ~ /items/*  ttl 60 s (0..3600), key: headers=origin -> ttl 120 s (0..3600), key: headers=origin",
        ],
        "{text}"
    );
    proxy.take();
    run_json(ferry(ws, &endpoint).args(["deploy", "--stage", "test"]));
    let w = stage_writes(&proxy.take());
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].contains(&format!("/distribution/{id}/config")),
        "{w:?}"
    );
    let (c, _) = rt.block_on(config(aws, id));
    let now = behaviors(&c);
    assert!(now[0].contains("ttl 0/120/3600"), "{now:?}");
    assert_eq!(now[1], items);
    run_json(ferry(ws, &endpoint).args(["deploy", "--stage", "test"]));
    assert_eq!(stage_writes(&proxy.take()), Vec::<String>::new());
    std::fs::write(&deploy_toml, with_door).unwrap();
    run_json(ferry(ws, &endpoint).args(["deploy", "--stage", "test"]));
    proxy.take();

    // A behavior changed by hand: doctor names it, deploy puts it back.
    rt.block_on(hand_edit(aws, id, 1, 5));
    assert_eq!(
        doctor_broken(ws, &endpoint),
        (2, vec!["cache behaviors".to_owned()])
    );
    run_json(ferry(ws, &endpoint).args(["deploy", "--stage", "test"]));
    assert_eq!(stage_writes(&proxy.take()).len(), 1);
    assert_eq!(doctor_broken(ws, &endpoint), (0, Vec::new()));
    let (c, _) = rt.block_on(config(aws, id));
    assert_eq!(behaviors(&c)[1], items);

    // get-item's code changes (here: live, by hand): its cached paths go.
    let before = rt.block_on(invalidations(aws, id)).len();
    proxy.take();
    let stale = hand_code_change(rt, aws, ws);
    let out = run_json(ferry(ws, &endpoint).args(["deploy", "--stage", "test"]));
    assert_ne!(out["noop"], true, "{out}");
    let after = rt.block_on(invalidations(aws, id));
    assert_eq!(after.len(), before + 1, "{after:?}");
    assert!(
        after.contains(&vec!["/items/*".to_owned()]),
        "{after:?} ({stale})"
    );

    // By hand: `invalidate` takes paths, checked before any call.
    let out = run_json(ferry(ws, &endpoint).args(["invalidate", "--stage", "test", "/items"]));
    assert_eq!(out["distribution"], id);
    assert_eq!(out["paths"], serde_json::json!(["/items"]));
    let w = stage_writes(&proxy.take());
    assert!(w.last().unwrap().contains("/invalidation"), "{w:?}");
    let out = run(ferry(ws, &endpoint).args(["invalidate", "--stage", "test", "items/*"]));
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("must start with `/`"));
    assert!(proxy.take().is_empty());
}

/// Replaces get-item's live code with another function's zip, so the next
/// deploy sees a code change; returns the hash it put there.
fn hand_code_change(rt: &tokio::runtime::Runtime, aws: &Readback, ws: &Path) -> String {
    let zip = std::fs::read(built_zip(ws, "echo")).unwrap();
    let update = aws
        .lambda
        .update_function_code()
        .function_name("items-test-get-item")
        .zip_file(aws_sdk_lambda::primitives::Blob::new(zip));
    let out = rt.block_on(update.send()).unwrap();
    out.code_sha256().unwrap_or_default().to_owned()
}

/// The zip the test workspace's build made for `service` (arm64).
fn built_zip(ws: &Path, service: &str) -> std::path::PathBuf {
    ws.join(format!("target/lambda/arm64/{service}.zip"))
}

/// The same routes cached by API Gateway's stage cache, on a stage without
/// a front door. moto keeps the stage's cache settings and method settings
/// but drops an integration's `cacheKeyParameters` from an imported
/// definition, so the key is checked in the definition ferry sends (unit
/// tests), and here only what the stage holds.
pub fn regional(
    rt: &tokio::runtime::Runtime,
    aws: &Readback,
    ws: &Path,
    proxy: &Proxy,
    base_toml: &str,
) {
    let endpoint = proxy.url();
    let deploy_toml = ws.join("deploy.toml");
    let cached = format!("{base_toml}\n[stages.test.api.cache]\nsize = \"0.5\"\n");
    std::fs::write(&deploy_toml, &cached).unwrap();
    proxy.take();
    let first = run_json(ferry(ws, &endpoint).args(["deploy", "--stage", "test"]));
    let api = first["api_id"].as_str().unwrap().to_owned();
    let w = stage_writes(&proxy.take());
    assert!(
        w.iter()
            .any(|w| w.contains("PATCH") && w.contains("/stages/test")),
        "{w:?}"
    );
    super::settings::restore_after_deployment(ws, &endpoint);
    proxy.take();
    let stage = aws.apigw.get_stage().rest_api_id(&api).stage_name("test");
    let stage = rt.block_on(stage.send()).unwrap();
    assert!(stage.cache_cluster_enabled());
    assert_eq!(stage.cache_cluster_size().map(|s| s.as_str()), Some("0.5"));
    let mut methods: Vec<(String, bool, i32)> = stage
        .method_settings()
        .unwrap()
        .iter()
        .map(|(k, m)| (k.clone(), m.caching_enabled(), m.cache_ttl_in_seconds()))
        .collect();
    methods.sort();
    assert_eq!(
        methods,
        [
            // The stage's and POST /items's throttles (deploy.toml).
            ("*/*".to_owned(), false, 300),
            ("~1items/GET".to_owned(), true, 30),
            ("~1items/POST".to_owned(), false, 300),
            ("~1items~1{id}/GET".to_owned(), true, 60)
        ]
    );
    // A cached method has settings of its own: it carries the stage's
    // throttle, which it would not inherit.
    let own = &stage.method_settings().unwrap()["~1items/GET"];
    assert_eq!(
        (own.throttling_rate_limit(), own.throttling_burst_limit()),
        (100.0, 200)
    );
    let again = run_json(ferry(ws, &endpoint).args(["deploy", "--stage", "test"]));
    assert_eq!(again["noop"], true);
    assert_eq!(stage_writes(&proxy.take()), Vec::<String>::new());
    assert_eq!(doctor_broken(ws, &endpoint), (0, Vec::new()));

    // One TTL: one UpdateStage with exactly that method's settings.
    let longer =
        format!("{cached}\n[stages.test.api.cache.routes.\"GET /items/{{id}}\"]\nttl = 90\n");
    std::fs::write(&deploy_toml, &longer).unwrap();
    let out = run(ferry(ws, &endpoint).args(["plan", "--stage", "test"]));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        text.contains("~ update   stage `test` cache: 0.5 GB, /items/GET 30 s, /items/{id}/GET 60 s -> 0.5 GB, /items/GET 30 s, /items/{id}/GET 90 s"),
        "{text}"
    );
    run_json(ferry(ws, &endpoint).args(["deploy", "--stage", "test"]));
    let w = stage_writes(&proxy.take());
    assert_eq!(w.len(), 1, "{w:?}");

    // Turned off by hand: doctor names the stage cache.
    let off = aws_sdk_apigateway::types::PatchOperation::builder()
        .op(aws_sdk_apigateway::types::Op::Replace)
        .path("/cacheClusterEnabled")
        .value("false")
        .build();
    let update = aws
        .apigw
        .update_stage()
        .rest_api_id(&api)
        .stage_name("test");
    rt.block_on(update.patch_operations(off).send()).unwrap();
    assert_eq!(
        doctor_broken(ws, &endpoint),
        (2, vec!["stage cache".to_owned()])
    );
    run_json(ferry(ws, &endpoint).args(["deploy", "--stage", "test"]));
    assert_eq!(doctor_broken(ws, &endpoint), (0, Vec::new()));
    std::fs::write(&deploy_toml, base_toml).unwrap();
}
