//! `vpc` read from mini workspaces: the stage's, a service's own (ferry's
//! key and cargo-lambda's), a stage's per-service override and `false`,
//! and each mistake's error.

use super::{SecurityGroupId, SubnetId, Vpc};
use crate::model::fixture::{Fixture, DEPLOY};

const A: &str = "subnet-0a1b2c3d4e5f60718";
const B: &str = "subnet-1111aaaa";
const SG: &str = "sg-0123456789abcdef0";

fn shop(stage: &str, create: &str) -> Fixture {
    Fixture::new()
        .file("deploy.toml", &format!("{DEPLOY}\n{stage}"))
        .service("list", "routes = [\"GET /items\"]\n")
        .service("create", &format!("routes = [\"POST /items\"]\n{create}"))
}

fn vpc(subnets: &[&str], groups: &[&str]) -> Vpc {
    Vpc {
        subnets: subnets.iter().filter_map(|s| SubnetId::parse(s)).collect(),
        security_groups: groups
            .iter()
            .filter_map(|g| SecurityGroupId::parse(g))
            .collect(),
        ipv6_dual_stack: false,
    }
}

fn settings(fixture: &Fixture, service: &str) -> Option<Vpc> {
    let ws = fixture.load().unwrap();
    let stage = &ws.stages["test"];
    stage.settings(&ws.app, &ws.services[service]).vpc
}

#[test]
fn the_stage_vpc_reaches_every_function_but_one_that_opts_out() {
    let fixture = shop(
        &format!(
            "[stages.test.vpc]\nsubnets = [\"{A}\", \"{B}\"]\nsecurity-groups = [\"{SG}\"]\n\n\
             [stages.test.services.create]\nvpc = false\n"
        ),
        "",
    );
    assert_eq!(settings(&fixture, "list"), Some(vpc(&[A, B], &[SG])));
    assert_eq!(settings(&fixture, "create"), None);
}

#[test]
fn a_service_vpc_yields_to_the_stage_and_its_override() {
    let own = format!(
        "[package.metadata.ferry.vpc]\nsubnets = [\"{B}\"]\nsecurity-groups = [\"{SG}\"]\n"
    );
    let fixture = shop("", &own);
    assert_eq!(settings(&fixture, "create"), Some(vpc(&[B], &[SG])));
    let fixture = shop(
        &format!("[stages.test.vpc]\nsubnets = [\"{A}\"]\nsecurity-groups = [\"{SG}\"]\n"),
        &own,
    );
    assert_eq!(settings(&fixture, "create"), Some(vpc(&[A], &[SG])));
    let fixture = shop(
        &format!(
            "[stages.test.services.create.vpc]\nsubnets = [\"{A}\", \"{B}\"]\n\
             security-groups = [\"{SG}\"]\nipv6-dual-stack = true\n"
        ),
        &own,
    );
    let mut both = vpc(&[A, B], &[SG]);
    both.ipv6_dual_stack = true;
    assert_eq!(settings(&fixture, "create"), Some(both));
}

#[test]
fn cargo_lambda_vpc_keys_are_taken() {
    let fixture = shop(
        "",
        &format!(
            "[package.metadata.lambda.deploy]\nsubnet_ids = [\"{A}\"]\n\
             security_group_ids = [\"{SG}\"]\n"
        ),
    );
    assert_eq!(settings(&fixture, "create"), Some(vpc(&[A], &[SG])));
    assert!(fixture.load().unwrap().warnings.is_empty());
}

#[test]
fn vpc_mistakes_name_the_key_and_the_fix() {
    let errors = shop(
        &format!(
            "[stages.test.vpc]\nsubnets = [\"subnet-XYZ\", \"{A}\", \"{A}\"]\n\n\
             [stages.test.services.list]\nvpc = true\n\n\
             [stages.test.services.create.vpc]\nsubnets = []\nsecurity-groups = [\"{SG}\"]\n"
        ),
        "[package.metadata.lambda.deploy]\nsecurity_group_ids = [\"sg-1\"]\n",
    )
    .redacted_errors();
    insta::assert_snapshot!("vpc_mistakes", errors);
}

#[test]
fn an_unknown_vpc_key_is_refused_where_it_is() {
    let errors = shop(
        &format!(
            "[stages.test.services.create.vpc]\nsubnets = [\"{A}\"]\n\
             security-groups = [\"{SG}\"]\nzones = 2\n"
        ),
        "",
    )
    .redacted_errors();
    insta::assert_snapshot!("vpc_unknown_key", errors);
}
