//! The VPC check: every subnet and security group the stage's functions
//! name must exist, each function's must lie in one VPC, and a function
//! allowed IPv6 needs subnets with IPv6 blocks. Lambda checks the same only
//! inside CreateFunction or UpdateFunctionConfiguration, after earlier
//! writes of the deploy landed, so `plan` and `deploy` run this before the
//! build; `doctor` reports it as its "network" link.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;

use ferry::model::{Stage, Workspace};

use crate::sdk::clients::Clients;
use crate::sdk::fail::{self, AwsError};

/// What EC2 says of one id: its VPC, and (subnets) whether it has an IPv6 block.
#[derive(Debug, Clone)]
struct Home {
    vpc: String,
    ipv6: bool,
}

/// A Describe answer: each id's home, or EC2 refusing an id it does not know.
type Found = Result<BTreeMap<String, Home>, ()>;

/// Before the build: the stage's VPC problems, if any, as one error.
pub async fn preflight(c: &Clients, workspace: &Workspace, stage: &Stage) -> Result<(), AwsError> {
    let problems = problems(c, workspace, stage).await?;
    if problems.is_empty() {
        return Ok(());
    }
    Err(AwsError::Vpc {
        message: format!(
            "the VPC settings of stage `{}` do not match EC2 in {}:\n  - {}",
            stage.name,
            stage.region,
            problems.join("\n  - ")
        ),
        help: format!(
            "fix the ids where each line says (`aws ec2 describe-subnets --region {0}` and `aws ec2 describe-security-groups --region {0}` list them); nothing was written",
            stage.region
        ),
    })
}

/// One line per function whose VPC names an unknown id, ids of two VPCs,
/// or IPv6 on subnets without it; empty when all hold or none has a VPC.
/// Two reads in all, and one per id when EC2 refuses an unknown one.
pub async fn problems(
    c: &Clients,
    workspace: &Workspace,
    stage: &Stage,
) -> Result<Vec<String>, AwsError> {
    let vpcs: Vec<_> = workspace
        .services
        .values()
        .filter_map(|s| stage.vpc_of(s).map(|(vpc, origin)| (s, vpc, origin)))
        .collect();
    if vpcs.is_empty() {
        return Ok(Vec::new());
    }
    let subnets: BTreeSet<&str> = vpcs
        .iter()
        .flat_map(|(_, v, _)| v.subnets.iter().map(|s| s.as_str()))
        .collect();
    let groups: BTreeSet<&str> = vpcs
        .iter()
        .flat_map(|(_, v, _)| v.security_groups.iter().map(|g| g.as_str()))
        .collect();
    let subnet_homes = subnet_homes(c, &subnets).await?;
    let group_homes = group_homes(c, &groups).await?;
    let mut problems = Vec::new();
    for (service, vpc, origin) in vpcs {
        let place = origin.place(&stage.name, service);
        let name = &service.name;
        let ids = vpc
            .subnets
            .iter()
            .map(|s| (s.as_str(), subnet_homes.get(s.as_str())))
            .chain(
                vpc.security_groups
                    .iter()
                    .map(|g| (g.as_str(), group_homes.get(g.as_str()))),
            );
        let (known, unknown): (Vec<_>, Vec<_>) = ids.partition(|(_, home)| home.is_some());
        if !unknown.is_empty() {
            let ids: Vec<&str> = unknown.iter().map(|(id, _)| *id).collect();
            problems.push(format!(
                "`{name}` ({place}): EC2 does not know {}",
                ids.join(", ")
            ));
        }
        let known: Vec<(&str, &Home)> = known
            .into_iter()
            .filter_map(|(id, home)| Some((id, home?)))
            .collect();
        let homes: BTreeSet<&str> = known.iter().map(|(_, h)| h.vpc.as_str()).collect();
        if homes.len() > 1 {
            let listed: Vec<String> = known
                .iter()
                .map(|(id, h)| format!("{id} in {}", h.vpc))
                .collect();
            problems.push(format!(
                "`{name}` ({place}): Lambda attaches a function to one VPC, these are in {}: {}",
                homes.len(),
                listed.join(", ")
            ));
        }
        if vpc.ipv6_dual_stack {
            let without: Vec<&str> = vpc
                .subnets
                .iter()
                .map(|s| s.as_str())
                .filter(|s| subnet_homes.get(*s).is_some_and(|h| !h.ipv6))
                .collect();
            if !without.is_empty() {
                problems.push(format!(
                    "`{name}` ({place}): `ipv6-dual-stack` needs subnets with an IPv6 block; {} has none",
                    without.join(", ")
                ));
            }
        }
    }
    Ok(problems)
}

async fn subnet_homes(
    c: &Clients,
    ids: &BTreeSet<&str>,
) -> Result<BTreeMap<String, Home>, AwsError> {
    let describe = |ids: Vec<String>| async move {
        match c
            .ec2
            .describe_subnets()
            .set_subnet_ids(Some(ids))
            .send()
            .await
        {
            Ok(out) => Ok(Ok(out
                .subnets()
                .iter()
                .filter_map(|s| {
                    let home = Home {
                        vpc: s.vpc_id()?.to_owned(),
                        ipv6: !s.ipv6_cidr_block_association_set().is_empty(),
                    };
                    Some((s.subnet_id()?.to_owned(), home))
                })
                .collect())),
            Err(e) => refused("ec2:DescribeSubnets", e.into_service_error()),
        }
    };
    homes(ids, describe).await
}

async fn group_homes(
    c: &Clients,
    ids: &BTreeSet<&str>,
) -> Result<BTreeMap<String, Home>, AwsError> {
    let describe = |ids: Vec<String>| async move {
        match c
            .ec2
            .describe_security_groups()
            .set_group_ids(Some(ids))
            .send()
            .await
        {
            Ok(out) => Ok(Ok(out
                .security_groups()
                .iter()
                .filter_map(|g| {
                    let home = Home {
                        vpc: g.vpc_id()?.to_owned(),
                        ipv6: false,
                    };
                    Some((g.group_id()?.to_owned(), home))
                })
                .collect())),
            Err(e) => refused("ec2:DescribeSecurityGroups", e.into_service_error()),
        }
    };
    homes(ids, describe).await
}

/// Each known id's home through `describe`: when one read of them all is
/// refused for an unknown id, one read each (EC2 names only one unknown
/// id; moto an arbitrary id of the request), so every unknown one is found.
async fn homes<F, Fut>(
    ids: &BTreeSet<&str>,
    describe: F,
) -> Result<BTreeMap<String, Home>, AwsError>
where
    F: Fn(Vec<String>) -> Fut,
    Fut: Future<Output = Result<Found, AwsError>>,
{
    match describe(ids.iter().map(|s| s.to_string()).collect()).await? {
        Ok(all) => Ok(all),
        Err(()) => {
            let mut found = BTreeMap::new();
            for id in ids {
                found.extend(describe(vec![id.to_string()]).await?.unwrap_or_default());
            }
            Ok(found)
        }
    }
}

/// EC2 refusing a Describe: an id it does not know
/// (`InvalidSubnetID.NotFound`, `InvalidGroup.NotFound`) is an answer,
/// anything else a failed call.
fn refused<E>(call: &'static str, e: E) -> Result<Found, AwsError>
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + 'static,
{
    match e.code() {
        Some(code) if code.ends_with(".NotFound") || code.ends_with(".Malformed") => Ok(Err(())),
        _ => Err(fail::call(call, e)),
    }
}
