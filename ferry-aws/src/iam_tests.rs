//! `cargo xtask iam` against what this crate really calls: every AWS action
//! named in its sources (the names its errors report) is in the `deploy`
//! policy of some stage of the example, every read among them in the
//! `read` policy, and the policies grant nothing it never calls but the
//! permissions AWS checks behind a call. A new call without its permission
//! fails here, before a user's CI role refuses it.

use std::collections::BTreeSet;
use std::path::Path;

use ferry::model::vpc::{SecurityGroupId, SubnetId, Vpc};
use ferry::model::FrontDoor;

/// Named in the sources, but not calls that need a permission.
const NOT_CALLS: &[&str] = &[
    // The action of the statement AddPermission writes.
    "lambda:InvokeFunction",
];

/// Granted though never called by name: AWS checks them behind a call.
const BEHIND_CALLS: &[(&str, &str)] = &[
    ("iam:PassRole", "CreateFunction and UpdateFunctionConfiguration pass the execution role; UpdateAccount the CloudWatch role"),
    ("lambda:GetLayerVersion", "CreateFunction and UpdateFunctionConfiguration read each layer version"),
    ("logs:TagResource", "CreateLogGroup with tags"),
    ("ec2:DescribeVpcs", "Lambda asks it of the caller when a function joins a VPC"),
    ("firehose:TagDeliveryStream", "CreateDeliveryStream with tags"),
];

fn sources(dir: &Path, out: &mut String) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("iam_tests.rs") {
            out.push_str(&std::fs::read_to_string(&path).unwrap());
        }
    }
}

/// Every `"service:Action"` string in the crate's sources.
fn called() -> BTreeSet<String> {
    let mut text = String::new();
    sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut text,
    );
    let services = [
        "lambda",
        "apigateway",
        "iam",
        "logs",
        "cloudfront",
        "route53",
        "ssm",
        "sts",
        "cloudwatch",
        "ec2",
        "s3",
        "firehose",
    ];
    let mut out = BTreeSet::new();
    for quoted in text.split('"').skip(1).step_by(2) {
        let Some((service, action)) = quoted.split_once(':') else {
            continue;
        };
        let action_like = action
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_uppercase())
            && action.chars().all(|c| c.is_ascii_alphanumeric());
        if services.contains(&service) && action_like && !NOT_CALLS.contains(&quoted) {
            out.insert(quoted.to_owned());
        }
    }
    out
}

/// The IAM action a call needs: API Gateway's are HTTP verbs.
fn permission(call: &str) -> Option<String> {
    let (service, action) = call.split_once(':')?;
    if service == "sts" {
        return None; // GetCallerIdentity needs no permission.
    }
    if service == "s3" {
        let permission = match action {
            "HeadBucket" => "ListBucket",
            "HeadObject" => "GetObject",
            "PutBucketEncryption" => "PutEncryptionConfiguration",
            "PutPublicAccessBlock" => "PutBucketPublicAccessBlock",
            other => other,
        };
        return Some(format!("s3:{permission}"));
    }
    if service != "apigateway" {
        return Some(call.to_owned());
    }
    let verb = match action {
        a if a.starts_with("Get") => "GET",
        a if a.starts_with("Create") => "POST",
        a if a.starts_with("Put") => "PUT",
        a if a.starts_with("Update") => "PATCH",
        a if a.starts_with("Delete") || a == "FlushStageCache" => "DELETE",
        other => panic!("no verb for apigateway:{other}"),
    };
    Some(format!("apigateway:{verb}"))
}

fn is_read(action: &str) -> bool {
    let name = action.split_once(':').map_or(action, |(_, a)| a);
    ["Get", "List", "Describe", "Filter", "GET"]
        .iter()
        .any(|p| name.starts_with(p))
}

#[test]
fn the_policies_grant_exactly_what_ferry_calls() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let ws = ferry::check::load(root).unwrap();
    let mut stages: Vec<_> = ws.stages.values().cloned().collect();
    // A stage with what the example's stages lack: a front door, a VPC and
    // an artifact bucket and a log archive ferry creates.
    let mut full = ws.stages["test"].clone();
    full.front = Some(FrontDoor {
        domain: Some("api.items.example.com".into()),
        certificate: Some("arn:aws:acm:us-east-1:123456789012:certificate/c".into()),
        hosted_zone: Some("Z0123456789ABCDEFGHIJ".into()),
        ..FrontDoor::default()
    });
    full.vpc = Some(Vpc {
        subnets: SubnetId::parse("subnet-0123abcd").into_iter().collect(),
        security_groups: SecurityGroupId::parse("sg-0123abcd").into_iter().collect(),
        ipv6_dual_stack: false,
    });
    full.artifacts = Some(ferry::model::store::ArtifactStore {
        bucket: "items-artifacts-123456789012".into(),
        create: true,
        origin: ferry::model::store::StoreOrigin {
            file: "deploy.toml".into(),
            line: 1,
            key: "app.artifact-bucket".into(),
        },
    });
    full.log_archive = Some(ferry::model::archive::LogArchive {
        bucket: ferry::model::store::ArtifactStore {
            bucket: "items-logs-123456789012".into(),
            create: true,
            origin: ferry::model::store::StoreOrigin {
                file: "deploy.toml".into(),
                line: 1,
                key: "stages.test.log-archive.bucket".into(),
            },
        },
        prefix: "logs/items/test/".into(),
    });
    stages.push(full);
    let (mut read, mut deploy) = (BTreeSet::new(), BTreeSet::new());
    for stage in &stages {
        let policies = ferry::iam::policies(&ws, stage, "123456789012");
        read.extend(policies.read.iter().flat_map(|s| s.actions.iter().cloned()));
        deploy.extend(
            policies
                .deploy
                .iter()
                .flat_map(|s| s.actions.iter().cloned()),
        );
    }
    assert!(read.is_subset(&deploy), "deploy includes read");
    let needed: BTreeSet<String> = called().iter().filter_map(|c| permission(c)).collect();
    assert!(needed.len() > 60, "the scan found {} calls", needed.len());
    let missing: Vec<_> = needed.difference(&deploy).collect();
    assert!(
        missing.is_empty(),
        "called but not in the deploy policy: {missing:?}"
    );
    let reads_missing: Vec<_> = needed
        .iter()
        .filter(|a| is_read(a) && !read.contains(*a))
        .collect();
    assert!(
        reads_missing.is_empty(),
        "reads not in the read policy: {reads_missing:?}"
    );
    let behind: BTreeSet<&str> = BEHIND_CALLS.iter().map(|(a, _)| *a).collect();
    let excess: Vec<_> = deploy
        .iter()
        .filter(|a| !needed.contains(*a) && !behind.contains(a.as_str()))
        .collect();
    assert!(excess.is_empty(), "granted but never called: {excess:?}");
}
