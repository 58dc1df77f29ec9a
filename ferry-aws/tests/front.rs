//! The front door against moto, through the recording proxy: a stage with a
//! domain, certificate and hosted zone gets its distribution (origin path
//! `/test`) and alias records; a second deploy writes nothing; an origin
//! changed by hand is found by `plan` and `doctor` and repaired by `deploy`;
//! `doctor` names each link a test breaks on purpose; pointing the domain at
//! another stage changes only the distribution's origin. The caching part
//! is in `support/cache.rs`.

mod support;

use std::path::Path;

use aws_sdk_apigateway::types::{Op, PatchOperation};
use aws_sdk_cloudfront::types::DistributionConfig;
use serde_json::Value;
use support::{ferry, run, run_json, stage_writes, Readback};

const CERT: &str = "arn:aws:acm:us-east-1:123456789012:certificate/ferry-test";
const DOMAIN: &str = "api.items.test";

fn door(zone: &str) -> String {
    format!(
        "domain = \"{DOMAIN}\"\ncertificate = \"{CERT}\"\nhosted-zone = \"{zone}\"\ninvalidate = true\n"
    )
}

fn doctor(ws: &Path, endpoint: &str) -> (i32, Value) {
    let out = run(ferry(ws, endpoint).args(["doctor", "--stage", "test", "--json"]));
    let report: Value = serde_json::from_slice(&out.stdout).expect("doctor prints JSON");
    (out.status.code().unwrap_or(-1), report)
}

fn broken(report: &Value) -> Vec<String> {
    report["links"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["ok"] == false)
        .map(|l| l["link"].as_str().unwrap().to_owned())
        .collect()
}

async fn config(aws: &Readback, id: &str) -> (DistributionConfig, String) {
    let out = aws
        .cloudfront
        .get_distribution_config()
        .id(id)
        .send()
        .await
        .unwrap();
    (
        out.distribution_config.unwrap(),
        out.e_tag.unwrap_or_default(),
    )
}

async fn set_origin_path(aws: &Readback, id: &str, path: &str) {
    let (mut c, etag) = config(aws, id).await;
    c.origins.as_mut().unwrap().items[0].origin_path = Some(path.into());
    let update = aws.cloudfront.update_distribution().id(id).if_match(etag);
    update.distribution_config(c).send().await.unwrap();
}

/// Makes moto report a distribution `InProgress` for its next `reads`
/// reads, as CloudFront does for minutes after a change.
fn propagation_takes(moto_port: u16, reads: u32) {
    use std::io::{Read, Write};
    let body = format!(
        r#"{{"model_name": "cloudfront::distribution", "transition": {{"progression": "manual", "times": {reads}}}}}"#
    );
    let mut s = std::net::TcpStream::connect(("127.0.0.1", moto_port)).unwrap();
    write!(
        s,
        "POST /moto-api/state-manager/set-transition HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 201") || answer.starts_with("HTTP/1.1 200"),
        "{answer}"
    );
}

#[test]
fn front_door_against_moto() {
    let (moto, proxy) = support::moto_and_proxy();
    let (_lock, ws) = support::shared_workspace();
    let endpoint = proxy.url();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let aws = rt.block_on(Readback::new(&moto.url(), "us-east-1"));
    let zone = rt.block_on(support::hosted_zone(&aws, "items.test"));
    let deploy_toml = ws.join("deploy.toml");
    let base_toml = std::fs::read_to_string(&deploy_toml).unwrap();
    let with_door = format!("{base_toml}\n[stages.test.cloudfront]\n{}", door(&zone));
    std::fs::write(&deploy_toml, &with_door).unwrap();

    // The plan shows the distribution and records to create, and writes nothing.
    let out = run(ferry(&ws, &endpoint).args(["plan", "--stage", "test", "--detailed-exitcode"]));
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains(
            "+ create   CloudFront distribution for api.items.test, origin <new api>/test"
        ),
        "{text}"
    );
    assert!(
        text.contains("~ upsert   DNS A/AAAA alias api.items.test -> <new distribution>"),
        "{text}"
    );
    assert_eq!(stage_writes(&proxy.take()), Vec::<String>::new());
    assert_eq!(
        support::invoke_url(&ws, &endpoint),
        "GET https://api.items.test/items",
        "invoke calls the front door"
    );

    // 1. First deploy with --wait: the distribution, its origin, the records;
    //    the deploy waits while CloudFront reports InProgress.
    propagation_takes(moto.port, 3);
    let out = run(ferry(&ws, &endpoint).args(["deploy", "--stage", "test", "--wait", "--json"]));
    assert!(out.status.success());
    let progress = String::from_utf8_lossy(&out.stderr);
    assert!(
        progress.contains("is InProgress") && progress.contains("waiting for Deployed"),
        "{progress}"
    );
    let first: Value = serde_json::from_slice(&out.stdout).unwrap();
    proxy.take();
    let api_id = first["api_id"].as_str().unwrap().to_owned();
    let front = &first["front"];
    assert_eq!(front["status"], "Deployed", "{front}");
    assert_eq!(front["public_url"], format!("https://{DOMAIN}/"));
    let id = front["distribution"].as_str().unwrap().to_owned();
    let cf_domain = front["domain_name"].as_str().unwrap().to_owned();
    let (c, _) = rt.block_on(config(&aws, &id));
    assert_eq!(c.aliases().unwrap().items(), [DOMAIN]);
    let origin = &c.origins().unwrap().items()[0];
    assert_eq!(
        origin.domain_name(),
        format!("{api_id}.execute-api.us-east-1.amazonaws.com")
    );
    assert_eq!(origin.origin_path(), Some("/test"));
    assert_eq!(
        c.viewer_certificate().unwrap().acm_certificate_arn(),
        Some(CERT)
    );
    let list = aws
        .route53
        .list_resource_record_sets()
        .hosted_zone_id(&zone);
    let records = rt.block_on(list.send()).unwrap();
    let aliases: Vec<(String, String)> = records
        .resource_record_sets()
        .iter()
        .filter_map(|r| {
            Some((
                r.r#type().as_str().to_owned(),
                r.alias_target()?.dns_name().to_owned(),
            ))
        })
        .collect();
    let target = |ty: &str| {
        aliases
            .iter()
            .any(|(t, d)| t == ty && d.trim_end_matches('.') == cf_domain)
    };
    assert!(target("A") && target("AAAA"), "{aliases:?}");

    // 2. Nothing changed: nothing written; doctor finds every link sound.
    let again = run_json(ferry(&ws, &endpoint).args(["deploy", "--stage", "test"]));
    assert_eq!(again["noop"], true);
    assert_eq!(stage_writes(&proxy.take()), Vec::<String>::new());
    let (code, report) = doctor(&ws, &endpoint);
    assert_eq!(
        (code, broken(&report)),
        (0, Vec::<String>::new()),
        "{report}"
    );
    // 13 with "roles": the example's create-item has a role of its own.
    assert_eq!(report["links"].as_array().unwrap().len(), 13, "{report}");

    // 2a. Caching: behaviors per cached path, TTL changes, hand edits,
    //     invalidation after a code change, `invalidate`.
    support::cache::scenario(&rt, &aws, &ws, &proxy, &id, &with_door);

    // 3. Someone points the origin elsewhere by hand: plan and doctor see it,
    //    deploy puts it back (with IfMatch) and invalidates everything.
    rt.block_on(set_origin_path(&aws, &id, "/hand"));
    let out = run(ferry(&ws, &endpoint).args(["plan", "--stage", "test", "--detailed-exitcode"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stdout).contains("origin path /hand -> /test"));
    let (code, report) = doctor(&ws, &endpoint);
    assert_eq!((code, broken(&report)), (2, vec!["origin path".to_owned()]));
    proxy.take();
    run_json(ferry(&ws, &endpoint).args(["deploy", "--stage", "test"]));
    let w = stage_writes(&proxy.take());
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(
        w[0].contains(&format!("/distribution/{id}/config")) && w[1].contains("/invalidation"),
        "{w:?}"
    );
    let (c, _) = rt.block_on(config(&aws, &id));
    assert_eq!(c.origins().unwrap().items()[0].origin_path(), Some("/test"));

    // 4. Broken on purpose: a permission, the stage's deployment, a retention.
    let remove = aws
        .lambda
        .remove_permission()
        .function_name("items-test-get-item");
    rt.block_on(remove.statement_id("ferry-apigateway-invoke").send())
        .unwrap();
    let old = aws
        .apigw
        .create_deployment()
        .rest_api_id(&api_id)
        .description("by hand");
    let old = rt.block_on(old.send()).unwrap().id().unwrap().to_owned();
    let op = PatchOperation::builder()
        .op(Op::Replace)
        .path("/deploymentId")
        .value(old)
        .build();
    let update = aws
        .apigw
        .update_stage()
        .rest_api_id(&api_id)
        .stage_name("test");
    rt.block_on(update.patch_operations(op).send()).unwrap();
    let retention = aws
        .logs
        .delete_retention_policy()
        .log_group_name("/aws/lambda/items-test-list-items");
    rt.block_on(retention.send()).unwrap();
    let (code, report) = doctor(&ws, &endpoint);
    assert_eq!(code, 2);
    assert_eq!(
        broken(&report),
        ["stage", "permissions", "log groups"],
        "{report}"
    );
    run_json(ferry(&ws, &endpoint).args(["deploy", "--stage", "test"]));
    // moto replaced the stage at that deployment, dropping its own settings
    // (AWS keeps them; see support/settings.rs): doctor says so, and one
    // more deploy restores them.
    let (_, report) = doctor(&ws, &endpoint);
    assert_eq!(broken(&report), ["stage settings"], "{report}");
    let restored = run_json(ferry(&ws, &endpoint).args(["deploy", "--stage", "test"]));
    assert_eq!(
        support::lifecycle::applied(&restored),
        ["update_stage_settings items-test"]
    );
    let (code, report) = doctor(&ws, &endpoint);
    assert_eq!(
        (code, broken(&report)),
        (0, Vec::<String>::new()),
        "{report}"
    );

    // 5. The domain moves to another stage: deploy `blue`, then give it the
    //    front door. Only the distribution's origin changes (blue's CORS
    //    lists origins too, so its cached routes key on `Origin` as test's).
    let blue = format!("{base_toml}\n[stages.blue]\nregion = \"us-east-1\"\n[stages.blue.api.cors]\nallow-origins = [\"https://items.example.com\"]\n");
    std::fs::write(&deploy_toml, &blue).unwrap();
    let blue_first = run_json(ferry(&ws, &endpoint).args(["deploy", "--stage", "blue"]));
    let blue_api = blue_first["api_id"].as_str().unwrap().to_owned();
    let (before, _) = rt.block_on(config(&aws, &id));
    std::fs::write(
        &deploy_toml,
        format!("{blue}\n[stages.blue.cloudfront]\n{}", door(&zone)),
    )
    .unwrap();
    let out = run(ferry(&ws, &endpoint).args(["plan", "--stage", "blue"]));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let changes: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("  ") && !l.starts_with("  ="))
        .collect();
    assert_eq!(changes.len(), 2, "{text}");
    assert!(changes[0].contains(&format!("origin {api_id}.execute-api.us-east-1.amazonaws.com/test -> {blue_api}.execute-api.us-east-1.amazonaws.com/blue")), "{text}");
    assert!(changes[1].contains("invalidation of /*"), "{text}");
    proxy.take();
    run_json(ferry(&ws, &endpoint).args(["deploy", "--stage", "blue"]));
    let w = stage_writes(&proxy.take());
    assert!(
        !w.iter().any(|w| w.contains("rrset")),
        "the alias records stay: {w:?}"
    );
    let (mut after, _) = rt.block_on(config(&aws, &id));
    let moved = &mut after.origins.as_mut().unwrap().items[0];
    assert_eq!(
        (moved.domain_name.as_str(), moved.origin_path.as_deref()),
        (
            format!("{blue_api}.execute-api.us-east-1.amazonaws.com").as_str(),
            Some("/blue")
        )
    );
    moved.domain_name = before.origins().unwrap().items()[0]
        .domain_name()
        .to_owned();
    moved.origin_path = Some("/test".into());
    assert_eq!(after, before, "only the origin changed");
    std::fs::write(&deploy_toml, &base_toml).unwrap();

    // 6. Without a front door, API Gateway's stage cache.
    support::cache::regional(&rt, &aws, &ws, &proxy, &base_toml);
}
