//! The artifact bucket against moto: a data layer of 51 MB, over Lambda's
//! 50 MB for a zip sent in a request, deploys only through the stage's
//! `artifact-bucket`. Without one, with a bucket that does not exist, or
//! with one in another region, the run stops before any write, naming
//! deploy.toml's key. With `create = true` ferry makes the bucket private
//! and encrypted, uploads each zip once under its hash, and Lambda takes the
//! layer and the functions from there; a second deploy writes nothing, S3
//! included. On a machine without the local release archive, `promote`
//! fetches the release's manifest and zips from the bucket.
//!
//! moto differences (coded to AWS's documented behaviour):
//! - Lambda takes code from a bucket in any region; AWS requires the
//!   function's region, so ferry checks the bucket's region first.
//! - HeadBucket ignores `ExpectedBucketOwner`; AWS answers 403 for another
//!   account's bucket, which ferry reports as not the stage's.
//! - PutObject does not check `x-amz-checksum-sha256` against the bytes.

mod support;

use std::path::Path;

use support::{ferry, run, run_json, stage_writes, writes, Readback};

const BUCKET: &str = "items-artifacts-test";
const ELSEWHERE: &str = "items-artifacts-elsewhere";
const PROD_BUCKET: &str = "items-artifacts-prod";
const BLOB_MB: usize = 51;

/// `layers/bulk`: 51 MB of incompressible bytes, the same every run, used
/// by `echo`.
fn add_bulk_layer(ws: &Path) {
    let dir = ws.join("layers/bulk");
    std::fs::create_dir_all(dir.join("data")).unwrap();
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        r#"[package]
name = "bulk"
version = "0.1.0"
edition.workspace = true
license.workspace = true
publish.workspace = true

[package.metadata.ferry.layer]
description = "Generated data, over Lambda's direct-upload limit"
files = { "ferry/bulk" = "data" }
compatible-runtimes = ["provided.al2023"]

[lib]
path = "src/lib.rs"
"#,
    )
    .unwrap();
    std::fs::write(dir.join("src/lib.rs"), "//! Data only.\n").unwrap();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut data = Vec::with_capacity(BLOB_MB << 20);
    while data.len() < BLOB_MB << 20 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        data.extend_from_slice(&x.to_le_bytes());
    }
    std::fs::write(dir.join("data/blob.bin"), data).unwrap();
    edit(
        &ws.join("services/echo/Cargo.toml"),
        "layers = [\"jwks\"]",
        "layers = [\"jwks\", \"bulk\"]",
    );
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} has {from}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

/// deploy.toml with `line` added to the stage `stage`.
fn set_bucket(ws: &Path, base: &str, lines: &[(&str, &str)]) {
    let mut text = base.to_owned();
    for (stage, line) in lines {
        let header = format!("[stages.{stage}]\n");
        assert!(text.contains(&header));
        text = text.replacen(&header, &format!("{header}{line}\n"), 1);
    }
    std::fs::write(ws.join("deploy.toml"), text).unwrap();
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The manifest's CodeSha256 of `name` for arm64.
fn built_code(ws: &Path, name: &str) -> String {
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(ws.join("target/lambda/manifest.json")).unwrap())
            .unwrap();
    manifest["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == name && a["architecture"] == "arm64")
        .unwrap_or_else(|| panic!("{name} is in the manifest"))["code_sha256"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn layer_code(aws: &Readback, layer: &str) -> String {
    let versions = aws
        .lambda
        .list_layer_versions()
        .layer_name(layer)
        .send()
        .await
        .unwrap();
    let newest = versions.layer_versions()[0].version();
    let version = aws
        .lambda
        .get_layer_version()
        .layer_name(layer)
        .version_number(newest)
        .send()
        .await
        .unwrap();
    version.content().unwrap().code_sha256().unwrap().to_owned()
}

async fn keys(aws: &Readback, bucket: &str, prefix: &str) -> Vec<String> {
    let out = aws
        .s3
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .send()
        .await
        .unwrap();
    out.contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_owned))
        .collect()
}

#[test]
fn zips_over_50_mb_deploy_through_the_bucket() {
    let (moto, proxy) = support::moto_and_proxy();
    let (_lock, ws) = support::shared_workspace();
    let endpoint = proxy.url();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let aws = rt.block_on(Readback::new(&moto.url(), "us-east-1"));
    add_bulk_layer(&ws);
    let base = std::fs::read_to_string(ws.join("deploy.toml")).unwrap();

    // 1. No bucket: the 51 MB layer is refused before any AWS write.
    let refused = run(ferry(&ws, &endpoint).args(["deploy", "--stage", "test"]));
    assert!(!refused.status.success());
    let text = stderr(&refused);
    assert!(
        text.contains("bulk (arm64)") && text.contains("artifact-bucket"),
        "{text}"
    );
    assert_eq!(writes(&proxy.take()), Vec::<String>::new());

    // 2. A bucket that does not exist, and ferry not asked to create it.
    set_bucket(
        &ws,
        &base,
        &[("test", &format!("artifact-bucket = \"{BUCKET}\""))],
    );
    let missing = run(ferry(&ws, &endpoint).args(["deploy", "--stage", "test"]));
    // miette wraps a long message, after a hyphen too.
    let text = stderr(&missing).replace("\n  │ ", "");
    assert!(!missing.status.success());
    assert!(
        text.contains("no such bucket") && text.contains("stages.test.artifact-bucket"),
        "{text}"
    );
    assert_eq!(writes(&proxy.take()), Vec::<String>::new());

    // 3. A bucket in another region than the stage's.
    let eu = rt.block_on(Readback::new(&moto.url(), "eu-west-1"));
    rt.block_on(
        eu.s3
            .create_bucket()
            .bucket(ELSEWHERE)
            .create_bucket_configuration(
                aws_sdk_s3::types::CreateBucketConfiguration::builder()
                    .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::EuWest1)
                    .build(),
            )
            .send(),
    )
    .unwrap();
    set_bucket(
        &ws,
        &base,
        &[("test", &format!("artifact-bucket = \"{ELSEWHERE}\""))],
    );
    let elsewhere = run(ferry(&ws, &endpoint).args(["plan", "--stage", "test"]));
    let text = stderr(&elsewhere);
    assert!(!elsewhere.status.success());
    assert!(text.contains("it is in eu-west-1"), "{text}");
    assert_eq!(writes(&proxy.take()), Vec::<String>::new());

    // 4. ferry creates the bucket and deploys through it.
    let test_bucket = format!("artifact-bucket = {{ name = \"{BUCKET}\", create = true }}");
    set_bucket(&ws, &base, &[("test", &test_bucket)]);
    let first = run_json(ferry(&ws, &endpoint).args(["deploy", "--stage", "test"]));
    assert_eq!(first["stage"], "test", "{first}");
    let calls = proxy.take();
    let bulk = built_code(&ws, "bulk");
    let big: Vec<_> = calls
        .iter()
        .filter(|c| c.bytes > 50 << 20)
        .map(|c| c.name.clone())
        .collect();
    assert_eq!(big.len(), 1, "one request carries the layer: {big:?}");
    assert!(
        big[0].starts_with(&format!("s3:PUT /{BUCKET}/ferry/zips/")),
        "{big:?}"
    );
    assert_eq!(rt.block_on(layer_code(&aws, "items-bulk")), bulk);
    let encryption = rt
        .block_on(aws.s3.get_bucket_encryption().bucket(BUCKET).send())
        .unwrap();
    let rule = &encryption
        .server_side_encryption_configuration()
        .unwrap()
        .rules()[0];
    let algorithm = rule
        .apply_server_side_encryption_by_default()
        .unwrap()
        .sse_algorithm();
    assert_eq!(algorithm.as_str(), "AES256");
    let block = rt
        .block_on(aws.s3.get_public_access_block().bucket(BUCKET).send())
        .unwrap();
    let block = block.public_access_block_configuration().unwrap();
    assert_eq!(
        (
            block.block_public_acls(),
            block.ignore_public_acls(),
            block.block_public_policy(),
            block.restrict_public_buckets()
        ),
        (Some(true), Some(true), Some(true), Some(true))
    );
    let zips = rt.block_on(keys(&aws, BUCKET, "ferry/zips/"));
    assert_eq!(zips.len(), 8, "5 functions and 3 layers: {zips:?}");
    let manifests = rt.block_on(keys(&aws, BUCKET, "ferry/releases/items/"));
    assert_eq!(manifests.len(), 1, "{manifests:?}");
    for service in ["get-item", "echo"] {
        let out = rt
            .block_on(
                aws.lambda
                    .get_function_configuration()
                    .function_name(format!("items-test-{service}"))
                    .send(),
            )
            .unwrap();
        assert_eq!(out.code_sha256(), Some(built_code(&ws, service).as_str()));
    }

    // 5. Nothing changed: nothing written, S3 included.
    let again = run_json(ferry(&ws, &endpoint).args(["deploy", "--stage", "test"]));
    assert_eq!(again["noop"], true, "{again}");
    assert_eq!(stage_writes(&proxy.take()), Vec::<String>::new());

    // 6. Another machine: no local archive of the release. promote fetches
    //    the manifest and zips from test's bucket and deploys prod (another
    //    region, its own bucket) with no build.
    std::fs::remove_dir_all(ws.join("target/ferry/releases")).unwrap();
    let prod_bucket = format!("artifact-bucket = {{ name = \"{PROD_BUCKET}\", create = true }}");
    set_bucket(
        &ws,
        &base,
        &[("test", &test_bucket), ("prod", &prod_bucket)],
    );
    let promoted =
        run(ferry(&ws, &endpoint).args(["promote", "--from", "test", "--to", "prod", "--yes"]));
    let text = stderr(&promoted);
    assert!(promoted.status.success(), "{text}");
    assert!(text.contains("fetched release manifest"), "{text}");
    assert_eq!(rt.block_on(layer_code(&eu, "items-bulk")), bulk);
    assert_eq!(rt.block_on(keys(&eu, PROD_BUCKET, "ferry/zips/")).len(), 8);
}
