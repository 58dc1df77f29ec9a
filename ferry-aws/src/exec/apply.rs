//! The executor: applies a plan's actions, and nothing else, in dependency
//! order. One exhaustive `match` turns each action into its AWS calls; the
//! order and grouping of actions is decided by [`phase`].

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use ferry::deploy::{Action, Live, Plan};
use ferry::model::{Arch, Secrets};
use futures::stream::{self, StreamExt};
use serde::Serialize;

use super::ctx::Ctx;
use crate::sdk::clients::Clients;
use crate::sdk::fail::AwsError;

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

/// When an action runs: phases run in order, actions of one phase in plan
/// order, except that phase 2 runs different functions' actions in parallel.
fn phase(action: &Action) -> (u8, Option<&str>) {
    match action {
        // The zips are in the bucket before anything takes them from it.
        Action::CreateArtifactBucket { .. }
        | Action::UploadArtifact { .. }
        | Action::CreateLogBucket { .. } => (0, None),
        // Kept once the release it describes is recorded.
        Action::UploadManifest { .. } => (6, None),
        // A canary is recorded before any alias shifts.
        Action::StartCanary { .. }
        | Action::CreateRole { .. }
        | Action::AttachRolePolicies { .. }
        | Action::PutRolePolicy { .. }
        | Action::PublishLayerVersion { .. }
        | Action::CreateRestApi { .. }
        // The archive's stream after its roles (plan order).
        | Action::CreateDeliveryStream { .. }
        | Action::UpdateDeliveryStream { .. } => (1, None),
        Action::CreateLogGroup { name, .. } | Action::PutRetentionPolicy { name, .. } => {
            (2, Some(name.trim_start_matches("/aws/lambda/")))
        }
        Action::CreateFunction { function, .. }
        | Action::UpdateFunctionCode { function, .. }
        | Action::UpdateFunctionConfiguration { function, .. }
        | Action::TagFunction { function, .. }
        | Action::SetReservedConcurrency { function, .. }
        | Action::PublishVersion { function, .. }
        | Action::PointAlias { function, .. }
        | Action::AddInvokePermission { function, .. } => (2, Some(function.as_str())),
        // The API moves only after every function it routes to is updated.
        Action::PutRestApi { .. }
        | Action::CreateDeployment { .. }
        | Action::UpdateStageCache { .. }
        | Action::SetApiGatewayAccountRole { .. }
        | Action::UpdateStageSettings { .. }
        | Action::FlushStageCache { .. }
        | Action::SetStageDeployment { .. }
        // Once every log group it subscribes exists (phase 2, and the
        // access log's with the stage settings).
        | Action::PutSubscriptionFilter { .. } => (3, None),
        // CloudFront points at the stage once it serves the new deployment.
        Action::CreateDistribution { .. }
        | Action::UpdateDistributionOrigin { .. }
        | Action::UpdateCacheBehaviors { .. }
        | Action::UpsertAliasRecords { .. }
        | Action::CreateInvalidation { .. }
        // A destroy stops serving first: DNS, then the distribution.
        | Action::DeleteAliasRecords { .. }
        | Action::DisableDistribution { .. }
        | Action::DeleteDistribution { .. } => (4, None),
        // A pruned function goes only when no deployment routes to it; a
        // destroy's deletions run in plan order (API, functions, layers, role).
        Action::DeleteFunction { .. }
        | Action::DeleteFunctionVersion { .. }
        | Action::DeleteRestApi { .. }
        | Action::DeleteApiStage { .. }
        | Action::DeleteLayerVersion { .. }
        | Action::DeleteRole { .. }
        | Action::DeleteLogGroup { .. }
        // Filters, then roles and stream, in plan order.
        | Action::DeleteSubscriptionFilter { .. }
        | Action::DeleteDeliveryStream { .. } => (5, None),
        // What the stage serves now, once all of it is in place; a
        // destroy's release records go last.
        Action::RecordRelease { .. }
        | Action::EndCanary { .. }
        | Action::DeleteParameters { .. } => (6, None),
    }
}

/// Applies `plan`, made against `live`. `layers_in_use` are the existing
/// layer versions the stage's functions use, for the report.
pub async fn apply(
    c: &Clients,
    live: &Live,
    plan: &Plan,
    secrets: &Secrets,
    layers_in_use: BTreeMap<(String, Arch), String>,
) -> Result<Outcome, AwsError> {
    let ctx = Ctx {
        c,
        plan,
        secrets,
        layer_arns: Mutex::new(BTreeMap::new()),
        revisions: Mutex::new(
            live.functions
                .iter()
                .map(|(k, f)| (k.clone(), f.revision_id.clone()))
                .collect(),
        ),
        api_id: Mutex::new(live.api.as_ref().map(|a| a.id.clone())),
        versions: Mutex::new(BTreeMap::new()),
        deployment: Mutex::new(None),
        distribution: Mutex::new(
            live.front
                .as_ref()
                .and_then(|f| f.distribution.as_ref())
                .map(|d| (d.id.clone(), d.domain_name.clone())),
        ),
        uploaded: Mutex::new(0),
        failed: AtomicBool::new(false),
    };
    let mut outcome = Outcome::default();
    for current in 0..=6u8 {
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
    let mut layers = layers_in_use;
    layers.extend(ctx.layer_arns.lock().unwrap().clone());
    outcome.layer_versions = layers
        .into_iter()
        .map(|((name, arch), arn)| (format!("{name} ({arch})"), arn))
        .collect();
    outcome.uploaded_bytes = *ctx.uploaded.lock().unwrap();
    Ok(outcome)
}

async fn run_chain(ctx: &Ctx<'_>, chain: Vec<&Action>) -> Result<Vec<Applied>, AwsError> {
    let mut done = Vec::new();
    for action in chain {
        if ctx.failed.load(Ordering::SeqCst) {
            break;
        }
        let started = Instant::now();
        eprintln!("ferry: {}", ferry::deploy::render::line(action).trim());
        let result = super::execute::execute(ctx, action)
            .await
            .inspect_err(|_| ctx.failed.store(true, Ordering::SeqCst))?;
        done.push(Applied {
            action: action.clone(),
            seconds: started.elapsed().as_secs_f64(),
            result,
        });
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_archive_runs_after_what_it_needs() {
        let role = Action::CreateRole {
            name: "r".into(),
            description: String::new(),
            trust_policy: String::new(),
            policies: Vec::new(),
            path: None,
            inline: None,
        };
        let group = Action::CreateLogGroup {
            name: "/aws/apigateway/items-test/test/access".into(),
            retention_days: 7,
            tags: Default::default(),
        };
        let settings = Action::SetApiGatewayAccountRole {
            from: None,
            to: "r".into(),
            new_role: false,
        };
        let stream = Action::DeleteDeliveryStream { name: "s".into() };
        let put = Action::PutSubscriptionFilter {
            log_group: "g".into(),
            filter: "f".into(),
            destination_arn: "d".into(),
            role_arn: "r".into(),
        };
        let delete = Action::DeleteSubscriptionFilter {
            log_group: "g".into(),
            filter: "f".into(),
        };
        let bucket = Action::CreateLogBucket {
            bucket: "b".into(),
            region: "us-east-1".into(),
            tags: Default::default(),
        };
        let create = Action::CreateDeliveryStream {
            name: "s".into(),
            destination: ferry::deploy::log_archive::StreamDestination {
                bucket_arn: "arn:aws:s3:::b".into(),
                role_arn: "r".into(),
                prefix: "p/".into(),
                error_prefix: "p-failed/".into(),
                compression: "GZIP".into(),
                extract_messages: true,
            },
            tags: Default::default(),
        };
        // The bucket, then roles and stream in plan order, then every log
        // group (the access log's with the stage's settings), then filters.
        assert!(phase(&bucket).0 < phase(&create).0);
        assert_eq!(phase(&role).0, phase(&create).0);
        assert!(phase(&create).0 < phase(&group).0);
        assert!(phase(&group).0 < phase(&put).0 && phase(&settings).0 <= phase(&put).0);
        // A removal: filters, roles and stream together, in plan order.
        assert_eq!(phase(&delete).0, phase(&stream).0);
    }
}
