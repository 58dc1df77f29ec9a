//! The executor: applies a plan's actions, and nothing else, in dependency
//! order. One exhaustive `match` turns each action into its AWS calls; the
//! order and grouping of actions is decided by [`phase`].

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Instant;

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::Architecture;
use ferry::deploy::plan::layer_version_arn;
use ferry::deploy::state::{DesiredFunction, DesiredLayerRef};
use ferry::deploy::{Action, Desired, Live, Plan};
use ferry::model::Arch;
use futures::stream::{self, StreamExt};
use serde::Serialize;

use crate::clients::Clients;
use crate::fail::AwsError;
use crate::wait;

/// The managed role's only permissions: writing its function's logs.
pub(crate) const BASIC_EXECUTION_POLICY: &str =
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole";
/// How many functions are written at once: well inside Lambda's control-plane
/// rate (15 writes per second) with every write followed by waiting reads.
const PARALLEL_FUNCTIONS: usize = 4;

/// What the deploy did, for the report and `--json`.
#[derive(Debug, Default, Serialize)]
pub struct Outcome {
    /// In plan order (functions run in parallel, reported in order).
    pub applied: Vec<Applied>,
    pub api_id: Option<String>,
    pub deployment_id: Option<String>,
    /// The stage's CloudFront distribution (id, domain name), if it has one.
    pub distribution: Option<(String, String)>,
    /// Layer version ARNs the functions use, by layer name and architecture.
    pub layer_versions: BTreeMap<String, String>,
    pub uploaded_bytes: u64,
    /// The other deploy of the stage this one waited for, if any.
    pub waited_for: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Applied {
    #[serde(flatten)]
    pub action: Action,
    pub seconds: f64,
    /// The new resource's id or ARN, where the action made one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
}

pub(crate) struct Ctx<'a> {
    pub c: &'a Clients,
    pub desired: &'a Desired,
    pub account: String,
    pub layer_arns: Mutex<BTreeMap<(String, Arch), String>>,
    pub revisions: Mutex<HashMap<String, String>>,
    pub api_id: Mutex<Option<String>>,
    /// The stage's distribution (id, domain name): live, or created now.
    pub distribution: Mutex<Option<(String, String)>>,
    pub uploaded: Mutex<u64>,
}

/// When an action runs: phases run in order, actions of one phase in plan
/// order, except that phase 2 runs different functions' actions in parallel.
fn phase(action: &Action) -> (u8, Option<&str>) {
    match action {
        Action::CreateRole { .. }
        | Action::PublishLayerVersion { .. }
        | Action::CreateRestApi { .. } => (1, None),
        Action::CreateLogGroup { name, .. } | Action::PutRetentionPolicy { name, .. } => {
            (2, Some(name.trim_start_matches("/aws/lambda/")))
        }
        Action::CreateFunction { function, .. }
        | Action::UpdateFunctionCode { function, .. }
        | Action::UpdateFunctionConfiguration { function, .. }
        | Action::TagFunction { function, .. }
        | Action::AddInvokePermission { function, .. } => (2, Some(function.as_str())),
        // The API moves only after every function it routes to is updated.
        Action::PutRestApi { .. } | Action::CreateDeployment { .. } => (3, None),
        // CloudFront points at the stage once it serves the new deployment.
        Action::CreateDistribution { .. }
        | Action::UpdateDistributionOrigin { .. }
        | Action::UpsertAliasRecords { .. }
        | Action::CreateInvalidation { .. } => (4, None),
        // A pruned function goes only when no deployment routes to it.
        Action::DeleteFunction { .. } => (5, None),
    }
}

pub async fn apply(
    c: &Clients,
    desired: &Desired,
    live: &Live,
    plan: &Plan,
) -> Result<Outcome, AwsError> {
    let mut layer_arns = BTreeMap::new();
    for ((name, arch), layer) in &desired.layers {
        if let Some(arn) = layer_version_arn(live, name, *arch, &layer.code_sha256) {
            layer_arns.insert((name.clone(), *arch), arn.to_owned());
        }
    }
    let ctx = Ctx {
        c,
        desired,
        account: live.account_id.clone(),
        layer_arns: Mutex::new(layer_arns),
        revisions: Mutex::new(
            live.functions
                .iter()
                .map(|(k, f)| (k.clone(), f.revision_id.clone()))
                .collect(),
        ),
        api_id: Mutex::new(live.api.as_ref().map(|a| a.id.clone())),
        distribution: Mutex::new(
            live.front
                .as_ref()
                .and_then(|f| f.distribution.as_ref())
                .map(|d| (d.id.clone(), d.domain_name.clone())),
        ),
        uploaded: Mutex::new(0),
    };
    let mut outcome = Outcome::default();
    for current in 1..=5u8 {
        let actions: Vec<&Action> = plan
            .actions
            .iter()
            .filter(|a| phase(a).0 == current)
            .collect();
        if current == 2 {
            let mut chains: BTreeMap<&str, Vec<&Action>> = BTreeMap::new();
            for action in actions {
                chains
                    .entry(phase(action).1.unwrap_or_default())
                    .or_default()
                    .push(action);
            }
            let results: Vec<Result<Vec<Applied>, AwsError>> = stream::iter(chains.into_values())
                .map(|chain| run_chain(&ctx, chain))
                .buffered(PARALLEL_FUNCTIONS)
                .collect()
                .await;
            for result in results {
                outcome.applied.extend(result?);
            }
        } else {
            outcome.applied.extend(run_chain(&ctx, actions).await?);
        }
    }
    outcome.api_id = ctx.api_id.lock().unwrap().clone();
    outcome.distribution = ctx.distribution.lock().unwrap().clone();
    outcome.deployment_id = outcome.applied.iter().find_map(|a| match &a.action {
        Action::CreateDeployment { .. } => a.result.clone(),
        _ => None,
    });
    outcome.layer_versions = ctx
        .layer_arns
        .lock()
        .unwrap()
        .iter()
        .map(|((name, arch), arn)| (format!("{name} ({arch})"), arn.clone()))
        .collect();
    outcome.uploaded_bytes = *ctx.uploaded.lock().unwrap();
    Ok(outcome)
}

async fn run_chain(ctx: &Ctx<'_>, chain: Vec<&Action>) -> Result<Vec<Applied>, AwsError> {
    let mut done = Vec::new();
    for action in chain {
        let started = Instant::now();
        eprintln!("ferry: {}", ferry::deploy::render::line(action).trim());
        let result = crate::execute::execute(ctx, action).await?;
        done.push(Applied {
            action: action.clone(),
            seconds: started.elapsed().as_secs_f64(),
            result,
        });
    }
    Ok(done)
}

pub(crate) async fn read_zip(ctx: &Ctx<'_>, path: &str) -> Result<Blob, AwsError> {
    let bytes = tokio::fs::read(path).await.map_err(|e| AwsError::Call {
        call: "reading an artifact",
        message: format!("{path}: {e}"),
        help: "build again (`cargo xtask build`) or pass the --manifest whose zips sit next to it"
            .into(),
    })?;
    *ctx.uploaded.lock().unwrap() += bytes.len() as u64;
    Ok(Blob::new(bytes))
}

pub(crate) fn function<'a>(ctx: &'a Ctx<'_>, name: &str) -> &'a DesiredFunction {
    &ctx.desired.functions[name]
}

pub(crate) fn architecture(arch: Arch) -> Architecture {
    match arch {
        Arch::Arm64 => Architecture::Arm64,
        Arch::X86_64 => Architecture::X8664,
    }
}

pub(crate) fn layer_arns(ctx: &Ctx<'_>, f: &DesiredFunction) -> Vec<String> {
    let known = ctx.layer_arns.lock().unwrap();
    f.layers
        .iter()
        .filter_map(|l| match l {
            DesiredLayerRef::Arn(arn) => Some(arn.clone()),
            DesiredLayerRef::Own { name, arch } => known.get(&(name.clone(), *arch)).cloned(),
        })
        .collect()
}

pub(crate) fn revision(ctx: &Ctx<'_>, function: &str) -> Option<String> {
    ctx.revisions
        .lock()
        .unwrap()
        .get(function)
        .cloned()
        .filter(|r| !r.is_empty())
}

pub(crate) async fn settle(ctx: &Ctx<'_>, function: &str) -> Result<(), AwsError> {
    let revision = wait::function_settled(ctx.c, function).await?;
    ctx.revisions
        .lock()
        .unwrap()
        .insert(function.to_owned(), revision);
    Ok(())
}
