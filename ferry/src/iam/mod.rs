//! `cargo xtask iam --stage S`: the least-privilege IAM policies for the
//! identity that runs ferry against a stage, computed from the workspace and
//! deploy.toml alone (no AWS call): one for the commands that only read
//! (`plan`, `doctor`, `releases`, `logs`, `deploy --dry-run`, `destroy
//! --dry-run`), one for those that write (`deploy`, `rollback`, `promote`,
//! `prune`, `destroy`), which includes the first. Each names the exact
//! actions ferry calls, scoped to the stage's resource names where AWS lets
//! a statement name them.

mod archive;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::deploy::roles::{document, role_path, Statement};
use crate::deploy::state::managed_role_name;
use crate::model::stage_api::{AccessLog, CloudWatchRole, MANAGED_CLOUDWATCH_ROLE};
use crate::model::{EnvValue, LayerRef, SecretSource, Stage, Workspace};

pub fn run(root: &Path, args: &crate::cli::IamArgs) -> miette::Result<()> {
    let workspace = crate::check::load(root)?;
    let stage = crate::deploy::find_stage(&workspace, &args.stage)?;
    let pinned = stage.account.as_ref().map(|a| a.id.as_str());
    let account = match args.account.as_deref().or(pinned) {
        Some(account) => account,
        None => {
            eprintln!(
                "ferry: no account pinned for stage `{}`: the ARNs say `*` (pass --account 123456789012, or pin `account` in deploy.toml)",
                stage.name
            );
            "*"
        }
    };
    let policies = policies(&workspace, stage, account);
    println!("{}", render(&policies, args.only.as_deref()));
    Ok(())
}

/// The two policies, as statements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policies {
    pub read: Vec<Statement>,
    pub deploy: Vec<Statement>,
}

/// Collects statements, joining the actions of those with equal resources.
#[derive(Default)]
pub(super) struct Builder(BTreeMap<BTreeSet<String>, BTreeSet<String>>);

impl Builder {
    pub(super) fn allow(&mut self, actions: &[&str], resources: impl IntoIterator<Item = String>) {
        let resources: BTreeSet<String> = resources.into_iter().collect();
        if resources.is_empty() {
            return;
        }
        let entry = self.0.entry(resources).or_default();
        entry.extend(actions.iter().map(|a| (*a).to_owned()));
    }
    fn statements(self) -> Vec<Statement> {
        self.0
            .into_iter()
            .map(|(resources, actions)| Statement {
                effect: "Allow".into(),
                actions,
                resources,
            })
            .collect()
    }
}

const LAMBDA_READS: &[&str] = &[
    "lambda:GetAlias",
    "lambda:GetFunction",
    "lambda:GetFunctionConcurrency",
    "lambda:GetFunctionConfiguration",
    "lambda:GetPolicy",
    "lambda:ListTags",
    "lambda:ListVersionsByFunction",
];
const LAMBDA_WRITES: &[&str] = &[
    "lambda:AddPermission",
    "lambda:CreateAlias",
    "lambda:CreateFunction",
    "lambda:DeleteFunction",
    "lambda:DeleteFunctionConcurrency",
    "lambda:PublishVersion",
    "lambda:PutFunctionConcurrency",
    "lambda:RemovePermission",
    "lambda:TagResource",
    "lambda:UntagResource",
    "lambda:UpdateAlias",
    "lambda:UpdateFunctionCode",
    "lambda:UpdateFunctionConfiguration",
];
const IAM_READS: &[&str] = &[
    "iam:GetRole",
    "iam:GetRolePolicy",
    "iam:ListAttachedRolePolicies",
    "iam:ListRolePolicies",
];
/// Creating a bucket private: ownership, public access, encryption, tags.
const BUCKET_CREATE: &[&str] = &[
    "s3:CreateBucket",
    "s3:PutBucketOwnershipControls",
    "s3:PutBucketPublicAccessBlock",
    "s3:PutBucketTagging",
    "s3:PutEncryptionConfiguration",
];
const IAM_WRITES: &[&str] = &[
    "iam:AttachRolePolicy",
    "iam:CreateRole",
    "iam:DeleteRole",
    "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy",
    "iam:PassRole",
    "iam:PutRolePolicy",
];

/// The policies for `stage`; `account` fills the ARNs (`*` when unknown).
pub fn policies(workspace: &Workspace, stage: &Stage, account: &str) -> Policies {
    let (app, name, region) = (
        workspace.app.name.as_str(),
        stage.name.as_str(),
        stage.region.as_str(),
    );
    let (mut read, mut write) = (Builder::default(), Builder::default());
    let functions: Vec<String> = workspace
        .services
        .values()
        .map(|s| stage.settings(&workspace.app, s).function_name)
        .collect();
    let function_arns = functions.iter().flat_map(|f| {
        let arn = format!("arn:aws:lambda:{region}:{account}:function:{f}");
        [format!("{arn}:*"), arn]
    });
    let function_arns: Vec<String> = function_arns.collect();
    read.allow(LAMBDA_READS, function_arns.clone());
    write.allow(LAMBDA_WRITES, function_arns);
    read.allow(
        &["lambda:ListFunctions", "lambda:ListLayerVersions"],
        ["*".to_owned()],
    );
    let mut own_layers = BTreeSet::new();
    let mut other_layers = BTreeSet::new();
    for service in workspace.services.values() {
        for layer in &service.layers {
            match layer {
                LayerRef::Workspace(l) => {
                    own_layers.insert(format!("arn:aws:lambda:{region}:{account}:layer:{app}-{l}"))
                }
                LayerRef::Arn(arn) => other_layers.insert(arn.clone()),
            };
        }
    }
    write.allow(&["lambda:PublishLayerVersion"], own_layers.clone());
    write.allow(
        &["lambda:DeleteLayerVersion", "lambda:GetLayerVersion"],
        own_layers.iter().map(|l| format!("{l}:*")),
    );
    write.allow(&["lambda:GetLayerVersion"], other_layers);

    let mut roles = vec![format!(
        "arn:aws:iam::{account}:role{}*",
        role_path(app, name)
    )];
    match &stage.role {
        Some(arn) => write.allow(&["iam:PassRole"], [arn.clone()]),
        None => roles.push(format!(
            "arn:aws:iam::{account}:role/{}",
            managed_role_name(app, name)
        )),
    }
    let access_log = stage.api.access_log.as_ref();
    match access_log.map(|a| &a.cloudwatch_role) {
        Some(CloudWatchRole::Managed) => roles.push(format!(
            "arn:aws:iam::{account}:role/{MANAGED_CLOUDWATCH_ROLE}"
        )),
        Some(CloudWatchRole::Arn(arn)) => write.allow(&["iam:PassRole"], [arn.clone()]),
        _ => {}
    }
    read.allow(IAM_READS, roles.clone());
    write.allow(IAM_WRITES, roles);
    // ListRoles takes no resource; destroy finds a stage's service roles by path.
    read.allow(&["iam:ListRoles"], ["*".to_owned()]);

    let apis = |paths: &[&str]| -> Vec<String> {
        paths
            .iter()
            .map(|p| format!("arn:aws:apigateway:{region}::{p}"))
            .collect()
    };
    // API Gateway's actions are HTTP verbs on paths; the API's id is not
    // known before it exists, so the paths are those of every REST API.
    read.allow(&["apigateway:GET"], apis(&["/restapis", "/restapis/*"]));
    write.allow(
        &[
            "apigateway:DELETE",
            "apigateway:PATCH",
            "apigateway:POST",
            "apigateway:PUT",
        ],
        apis(&["/restapis", "/restapis/*"]),
    );
    write.allow(&["apigateway:PUT"], apis(&["/tags/*"]));
    if access_log.is_some() {
        read.allow(&["apigateway:GET"], apis(&["/account"]));
        write.allow(&["apigateway:PATCH"], apis(&["/account"]));
    }

    // A log group's ARN, bare (tagging) and with `:*` (its streams).
    let group = |g: &str| {
        let arn = format!("arn:aws:logs:{region}:{account}:log-group:{g}");
        [format!("{arn}:*"), arn]
    };
    let mut groups: Vec<String> = functions
        .iter()
        .flat_map(|f| group(&format!("/aws/lambda/{f}")))
        .collect();
    if access_log.is_some() {
        groups.extend(group(&AccessLog::group(&stage.api.name, name)));
    }
    read.allow(
        &["logs:FilterLogEvents", "logs:ListTagsForResource"],
        groups.clone(),
    );
    groups.extend(group(&format!("/ferry/lock/{app}/{name}")));
    write.allow(
        &[
            "logs:CreateLogGroup",
            "logs:DeleteLogGroup",
            "logs:PutRetentionPolicy",
            "logs:TagResource",
        ],
        groups,
    );
    read.allow(
        &["logs:DescribeLogGroups"],
        [format!("arn:aws:logs:{region}:{account}:log-group:*")],
    );

    let parameter = |p: &str| format!("arn:aws:ssm:{region}:{account}:parameter{p}");
    let records = [
        parameter(&format!("/ferry/{app}/{name}")),
        parameter(&format!("/ferry/{app}/{name}/*")),
    ];
    read.allow(
        &[
            "ssm:GetParameter",
            "ssm:GetParameters",
            "ssm:GetParametersByPath",
        ],
        records.clone(),
    );
    write.allow(
        &[
            "ssm:DeleteParameter",
            "ssm:DeleteParameters",
            "ssm:PutParameter",
        ],
        records,
    );
    read.allow(
        &["ssm:GetParameters"],
        secrets(workspace, stage).map(|s| {
            if s.starts_with("arn:") {
                s
            } else {
                parameter(&s)
            }
        }),
    );

    if let Some(front) = &stage.front {
        let distribution = match &front.distribution {
            Some(id) => format!("arn:aws:cloudfront::{account}:distribution/{id}"),
            None => format!("arn:aws:cloudfront::{account}:distribution/*"),
        };
        read.allow(
            &[
                "cloudfront:GetDistribution",
                "cloudfront:GetDistributionConfig",
            ],
            [distribution.clone()],
        );
        read.allow(&["cloudfront:ListDistributions"], ["*".to_owned()]);
        let mut writes = vec![
            "cloudfront:CreateInvalidation",
            "cloudfront:UpdateDistribution",
        ];
        if front.distribution.is_none() {
            writes.extend([
                "cloudfront:CreateDistribution",
                "cloudfront:DeleteDistribution",
            ]);
        }
        write.allow(&writes, [distribution]);
        if let Some(zone) = &front.hosted_zone {
            let zone = format!("arn:aws:route53:::hostedzone/{zone}");
            read.allow(&["route53:ListResourceRecordSets"], [zone.clone()]);
            write.allow(&["route53:ChangeResourceRecordSets"], [zone]);
        }
    }
    let in_vpc = stage.vpc.is_some()
        || workspace
            .services
            .values()
            .any(|s| stage.settings(&workspace.app, s).vpc.is_some());
    if in_vpc {
        // Lambda asks them of the caller too when a function joins a VPC.
        read.allow(
            &[
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeSubnets",
                "ec2:DescribeVpcs",
            ],
            ["*".to_owned()],
        );
    }
    if let Some(store) = &stage.artifacts {
        let bucket = format!("arn:aws:s3:::{}", store.bucket);
        let objects = format!("{bucket}/ferry/*");
        // HeadBucket needs ListBucket; HeadObject, and Lambda taking the
        // code with the caller's rights, GetObject.
        read.allow(&["s3:GetBucketLocation", "s3:ListBucket"], [bucket.clone()]);
        read.allow(&["s3:GetObject"], [objects.clone()]);
        write.allow(&["s3:PutObject"], [objects]);
        if store.create {
            write.allow(BUCKET_CREATE, [bucket]);
        }
    }
    archive::log_archive(stage, (app, region, account), (&mut read, &mut write));
    // A canary's bake reads its alarms' metrics; GetMetricData takes no resource.
    read.allow(&["cloudwatch:GetMetricData"], ["*".to_owned()]);

    let read = read.statements();
    let mut deploy = Builder(write.0);
    for s in &read {
        let actions: Vec<&str> = s.actions.iter().map(String::as_str).collect();
        deploy.allow(&actions, s.resources.iter().cloned());
    }
    Policies {
        read,
        deploy: deploy.statements(),
    }
}

/// The SSM parameters the stage's environment takes secrets from.
fn secrets<'a>(workspace: &'a Workspace, stage: &'a Stage) -> impl Iterator<Item = String> + 'a {
    let mut names = BTreeSet::new();
    let envs = workspace
        .services
        .values()
        .map(|s| stage.settings(&workspace.app, s).env);
    for env in envs {
        for value in env.values() {
            if let EnvValue::Secret(SecretSource::Ssm(name)) = value {
                names.insert(name.clone());
            }
        }
    }
    names.into_iter()
}

/// The policies as one JSON object (`{"read": …, "deploy": …}`), or one of
/// them alone, each a document IAM takes as it is.
pub fn render(policies: &Policies, only: Option<&str>) -> String {
    let doc = |s: &[Statement]| -> serde_json::Value {
        serde_json::from_str(&document(s)).unwrap_or_default()
    };
    let value = match only {
        Some("read") => doc(&policies.read),
        Some(_) => doc(&policies.deploy),
        None => serde_json::json!({"read": doc(&policies.read), "deploy": doc(&policies.deploy)}),
    };
    serde_json::to_string_pretty(&value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fixture::Fixture;

    #[test]
    fn policies_name_the_stage_resources_and_deploy_includes_read() {
        let fixture = Fixture::new()
            .service("list", "routes = [\"GET /items\"]\nlayers = [\"keys\"]\n")
            .service("get", "routes = [\"GET /items/{id}\"]\n")
            .layer("keys", "files = { \"k\" = \"data\" }\n");
        let ws = fixture.load().unwrap();
        let policies = policies(&ws, &ws.stages["test"], "123456789012");
        for read in &policies.read {
            for action in &read.actions {
                assert!(
                    policies
                        .deploy
                        .iter()
                        .any(|d| d.actions.contains(action)
                            && read.resources.is_subset(&d.resources)),
                    "{action} on {:?}",
                    read.resources
                );
            }
        }
        insta::assert_snapshot!(render(&policies, None));
    }
}
