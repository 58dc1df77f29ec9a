//! Functions in a VPC, against moto: a VPC, two subnets and a security
//! group made through the SDK; ids that do not exist, of two VPCs, or IPv6
//! on subnets without it stop the deploy before any write and break
//! doctor's "network" link; the test stage joins the VPC (one service
//! kept out with `vpc = false`), each function's `VpcConfig` and the managed
//! role's network-interface policy are read back, a second deploy writes
//! nothing, and leaving the VPC detaches exactly the functions in it.
//!
//! Where moto is lenient (AWS's documented behaviour is what ferry codes to):
//! - Lambda keeps any `VpcConfig` it is given: it checks neither that the
//!   subnets and groups exist nor that they share a VPC (AWS refuses both in
//!   CreateFunction and UpdateFunctionConfiguration, after the deploy's
//!   earlier writes), which is why ferry's preflight asks EC2 first; and it
//!   reports every function's `VpcId` as `vpc-123abc`.
//! - Lambda does not check that the execution role may create network
//!   interfaces (AWS refuses a role without `ec2:CreateNetworkInterface`);
//!   the test reads the managed role's attached policy instead.
//! - No function waits in `Pending` while its interfaces are made.
//! - DescribeSubnets refusing an unknown id names an arbitrary id of the
//!   request, known or not (AWS names the unknown one); ferry asks again
//!   one id at a time to name exactly the unknown ones, which the test asserts.

mod support;

use support::lifecycle::{applied, edit};
use support::stage::attached_policies;
use support::{ferry, run, run_json, Readback};

const SERVICES_IN: [&str; 4] = ["create-item", "list-items", "echo", "jwt"];
const KEPT_OUT: &str = "get-item";

/// A VPC with two subnets and a security group; returns their ids.
async fn network(aws: &Readback, cidr: &str) -> (Vec<String>, String) {
    let vpc = aws.ec2.create_vpc().cidr_block(cidr).send().await.unwrap();
    let vpc_id = vpc.vpc().and_then(|v| v.vpc_id()).unwrap().to_owned();
    let mut subnets = Vec::new();
    for (i, zone) in ["us-east-1a", "us-east-1b"].iter().enumerate() {
        let block = cidr.replace(".0.0/16", &format!(".{i}.0/24"));
        let out = aws
            .ec2
            .create_subnet()
            .vpc_id(&vpc_id)
            .cidr_block(block)
            .availability_zone(*zone)
            .send()
            .await
            .unwrap();
        subnets.push(out.subnet().and_then(|s| s.subnet_id()).unwrap().to_owned());
    }
    let group = aws
        .ec2
        .create_security_group()
        .vpc_id(&vpc_id)
        .group_name(format!("items-lambda-{cidr}"))
        .description("items functions")
        .send()
        .await
        .unwrap();
    (subnets, group.group_id().unwrap().to_owned())
}

fn vpc_table(subnets: &[String], group: &str) -> String {
    let list = |ids: &[String]| {
        ids.iter()
            .map(|i| format!("\"{i}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "\n[stages.test.vpc]\nsubnets = [{}]\nsecurity-groups = [\"{group}\"]\n\n\
         [stages.test.services.{KEPT_OUT}]\nvpc = false\n",
        list(subnets)
    )
}

/// doctor's exit code and its report's link named `name`.
fn doctor_link(
    ws: &std::path::Path,
    endpoint: &str,
    name: &str,
) -> (Option<i32>, serde_json::Value) {
    let out = run(ferry(ws, endpoint).args(["doctor", "--stage", "test", "--json"]));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let link = report["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["link"] == name)
        .cloned()
        .unwrap_or_else(|| panic!("no link {name}: {report}"));
    (out.status.code(), link)
}

/// Each function's subnets and security groups, as Lambda reports them.
async fn vpcs(aws: &Readback) -> Vec<(String, Vec<String>, Vec<String>)> {
    let mut out = Vec::new();
    for service in SERVICES_IN.iter().chain([&KEPT_OUT]) {
        let f = aws
            .lambda
            .get_function_configuration()
            .function_name(format!("items-test-{service}"))
            .send()
            .await
            .unwrap();
        let (mut subnets, mut groups) = f
            .vpc_config()
            .map(|v| (v.subnet_ids().to_vec(), v.security_group_ids().to_vec()))
            .unwrap_or_default();
        subnets.sort();
        groups.sort();
        out.push((service.to_string(), subnets, groups));
    }
    out
}

#[test]
fn functions_join_and_leave_a_vpc_checked_before_any_write() {
    let (moto, proxy) = support::moto_and_proxy();
    let (_lock, ws) = support::shared_workspace();
    let endpoint = proxy.url();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let aws = rt.block_on(Readback::new(&moto.url(), "us-east-1"));
    let (subnets, group) = rt.block_on(network(&aws, "10.20.0.0/16"));
    let (_, other_group) = rt.block_on(network(&aws, "10.30.0.0/16"));
    let deploy_toml = ws.join("deploy.toml");
    let plain = std::fs::read_to_string(&deploy_toml).unwrap();

    // Ids EC2 does not know, and a group of another VPC: refused before the
    // build, with reads only.
    let missing = "subnet-0000000000000000f";
    let ipv6 = vpc_table(&subnets, &group)
        .replace("security-groups", "ipv6-dual-stack = true\nsecurity-groups");
    let cases = [
        (
            vpc_table(&[subnets[0].clone(), missing.into()], &group),
            format!("EC2 does not know {missing}"),
        ),
        (
            vpc_table(&subnets, &other_group),
            "one VPC, these are in 2".to_owned(),
        ),
        (ipv6, "needs subnets with an IPv6 block".to_owned()),
    ];
    for (table, says) in cases {
        std::fs::write(&deploy_toml, format!("{plain}{table}")).unwrap();
        let out = run(ferry(&ws, &endpoint).args(["deploy", "--stage", "test"]));
        // The message as words, whatever the width miette wrapped it to.
        let words: Vec<&str> = std::str::from_utf8(&out.stderr)
            .unwrap()
            .split_whitespace()
            .filter(|w| *w != "│")
            .collect();
        let stderr = words.join(" ");
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(&says), "{stderr}");
        assert!(
            stderr.contains("deploy.toml `stages.test.vpc`"),
            "the file and key: {stderr}"
        );
        assert_eq!(support::writes(&proxy.take()), Vec::<String>::new());
        // doctor reports it as a broken link (exit 2), not as its own failure.
        let (code, network) = doctor_link(&ws, &endpoint, "network");
        assert_eq!(code, Some(2));
        assert_eq!(network["ok"], false, "{network}");
        assert!(
            network["detail"].as_str().unwrap().contains(&says),
            "{network}"
        );
        assert_eq!(support::writes(&proxy.take()), Vec::<String>::new());
    }

    // The stage joins the VPC on its first deploy.
    std::fs::write(
        &deploy_toml,
        format!("{plain}{}", vpc_table(&subnets, &group)),
    )
    .unwrap();
    let first = run_json(ferry(&ws, &endpoint).args(["deploy", "--stage", "test"]));
    assert!(first["actions"].as_array().is_some_and(|a| !a.is_empty()));
    let mut sorted = subnets.clone();
    sorted.sort();
    for (service, s, g) in rt.block_on(vpcs(&aws)) {
        if service == KEPT_OUT {
            assert!(
                s.is_empty() && g.is_empty(),
                "{service} stays out: {s:?} {g:?}"
            );
        } else {
            assert_eq!((&s, &g), (&sorted, &vec![group.clone()]), "{service}");
        }
    }
    let arns = rt.block_on(attached_policies(&aws, "items-test-ferry-lambda"));
    assert!(
        arns.iter()
            .any(|a| a == "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"),
        "{arns:?}"
    );
    let (_, functions) = doctor_link(&ws, &endpoint, "functions");
    assert_eq!(functions["ok"], true, "{functions}");
    assert!(functions.to_string().contains("4 in a VPC"), "{functions}");
    let (_, network) = doctor_link(&ws, &endpoint, "network");
    assert_eq!(network["ok"], true, "{network}");
    proxy.take();

    // Nothing changed: nothing written.
    let again = run_json(ferry(&ws, &endpoint).args(["deploy", "--stage", "test"]));
    assert_eq!(applied(&again), Vec::<String>::new());
    assert_eq!(support::stage_writes(&proxy.take()), Vec::<String>::new());

    // Leaving the VPC detaches exactly the functions that were in it.
    edit(&deploy_toml, &vpc_table(&subnets, &group), "");
    let left = run_json(ferry(&ws, &endpoint).args(["deploy", "--stage", "test"]));
    let configured: Vec<String> = applied(&left)
        .into_iter()
        .filter(|a| a.starts_with("update_function_configuration"))
        .collect();
    let mut wanted: Vec<String> = SERVICES_IN
        .iter()
        .map(|s| format!("update_function_configuration items-test-{s}"))
        .collect();
    wanted.sort();
    let mut configured_sorted = configured.clone();
    configured_sorted.sort();
    assert_eq!(configured_sorted, wanted);
    for (service, s, g) in rt.block_on(vpcs(&aws)) {
        assert!(s.is_empty() && g.is_empty(), "{service} left: {s:?} {g:?}");
    }
}
