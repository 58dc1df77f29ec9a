//! The writes a deploy makes, as data: each action names its resource and
//! carries everything its AWS calls send, so the executor derives nothing and
//! a plan saved as JSON (`plan --out`) is exactly what `deploy --plan`
//! applies. Secret environment values travel as their source, never their
//! value; the executor resolves them when it applies.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::stage_cache::{StageCacheState, StagePatch};
use super::stage_settings::StageSettingsState;
use crate::model::cache::Behavior;
use crate::model::vpc::Vpc;
use crate::model::{Arch, EndpointType, EnvValue, Runtime, Tracing};

/// One write the deploy makes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    /// A managed execution role (the stage's, or a service's own), with
    /// the managed policies it holds and its own statements.
    CreateRole {
        name: String,
        description: String,
        trust_policy: String,
        policies: Vec<String>,
        /// The IAM path (a service role's: `/ferry/APP/STAGE/`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        path: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        inline: Option<InlinePolicy>,
    },
    /// Attaches managed policies a role ferry keeps lacks.
    AttachRolePolicies {
        role: String,
        policies: Vec<String>,
    },
    /// Replaces a role's inline policy; `changes` shows it statement by
    /// statement (`+ …`, `- …`).
    PutRolePolicy {
        role: String,
        policy: String,
        document: String,
        changes: Vec<String>,
    },
    /// The stage's artifact bucket, made private: default encryption,
    /// public access blocked, objects owned by the bucket's account.
    CreateArtifactBucket {
        bucket: String,
        region: String,
        tags: BTreeMap<String, String>,
    },
    /// The stage's log archive bucket, made private like the artifact
    /// bucket.
    CreateLogBucket {
        bucket: String,
        region: String,
        tags: BTreeMap<String, String>,
    },
    /// The archive's Firehose delivery stream; the executor waits until it
    /// is ACTIVE, as CloudWatch Logs subscribes only to an active stream.
    CreateDeliveryStream {
        name: String,
        destination: super::log_archive::StreamDestination,
        tags: BTreeMap<String, String>,
    },
    /// Points the stream's S3 destination at `to` (Firehose's
    /// UpdateDestination, with the version read by the plan).
    UpdateDeliveryStream {
        name: String,
        version_id: String,
        destination_id: String,
        from: Option<super::log_archive::StreamDestination>,
        to: super::log_archive::StreamDestination,
    },
    /// Subscribes a log group to the archive's stream (or repairs the
    /// subscription): every event, with CloudWatch Logs' role.
    PutSubscriptionFilter {
        log_group: String,
        filter: String,
        destination_arn: String,
        role_arn: String,
    },
    DeleteSubscriptionFilter {
        log_group: String,
        filter: String,
    },
    /// Deletes the archive's stream; what it delivered stays in S3.
    DeleteDeliveryStream {
        name: String,
    },
    /// One zip into the artifact bucket under its content hash; S3 checks
    /// the bytes against `code_sha256` (its `ChecksumSHA256`).
    UploadArtifact {
        bucket: String,
        key: String,
        zip: String,
        code_sha256: String,
        bytes: u64,
    },
    /// The build manifest of the release this deploy records, beside its
    /// zips, so that `promote` finds the release on any machine.
    UploadManifest {
        bucket: String,
        key: String,
        /// The manifest file and its hex SHA-256, checked before the upload.
        manifest: String,
        sha256: String,
        /// The commit it was built from, kept as the object's metadata.
        commit: Option<String>,
    },
    PublishLayerVersion {
        layer: String,
        arch: Arch,
        code_sha256: String,
        zip: String,
        /// Carries the zip's hash, so a rerun finds the version it published.
        description: String,
        compatible_runtimes: Vec<Runtime>,
        /// Where Lambda takes the zip from, when the stage keeps an
        /// artifact bucket (else the zip travels in the request).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        s3: Option<S3Object>,
    },
    CreateFunction {
        function: String,
        arch: Arch,
        code_sha256: String,
        zip: String,
        settings: FunctionSettings,
        tags: BTreeMap<String, String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        s3: Option<S3Object>,
    },
    UpdateFunctionCode {
        function: String,
        arch: Arch,
        from: String,
        to: String,
        zip: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        s3: Option<S3Object>,
    },
    /// `changes` is what the plan shows; `settings` is the whole
    /// configuration sent.
    UpdateFunctionConfiguration {
        function: String,
        changes: Vec<Change>,
        settings: FunctionSettings,
    },
    CreateLogGroup {
        name: String,
        retention_days: u32,
        tags: BTreeMap<String, String>,
    },
    PutRetentionPolicy {
        name: String,
        from: Option<u32>,
        to: u32,
    },
    /// Tags to set (new or changed values) and keys to remove.
    TagFunction {
        function: String,
        arn: String,
        set: BTreeMap<String, String>,
        remove: Vec<String>,
    },
    AddInvokePermission {
        function: String,
        /// A statement with ferry's id exists but names another API.
        replace: bool,
        /// The REST API allowed to invoke; `None`: the one this deploy creates.
        api_id: Option<String>,
        /// The alias the statement is on (`None`: the unqualified function).
        #[serde(default)]
        qualifier: Option<String>,
        /// Whether the API invokes it for routes or as an authorizer.
        #[serde(default)]
        invoker: super::authorizers::Invoker,
    },
    CreateRestApi {
        name: String,
        description: String,
        endpoint: EndpointType,
        binary_media_types: Vec<String>,
        tags: BTreeMap<String, String>,
    },
    /// Replaces the API's whole definition (`PutRestApi`, mode overwrite),
    /// or, for an API the stage adopts, merges it in (mode merge), which
    /// keeps the methods ferry does not manage.
    PutRestApi {
        api: String,
        /// `None`: the API this deploy creates.
        api_id: Option<String>,
        routes: usize,
        /// The stage adopts the API (deploy.toml's `api.id`): merge.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        adopted: bool,
        /// The adopted API's methods ferry does not manage, which the merge
        /// leaves as they are (`METHOD /path`).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        kept: Vec<String>,
        /// What the definition allows browsers, for the plan: e.g. "CORS on
        /// 3 paths for https://app.example.com".
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cors: Option<String>,
        /// Which authorizer guards which routes, for the plan: e.g.
        /// "authorizer jwt (lambda request, 300 s cache) on POST /items".
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        authorizers: Vec<String>,
        definition_hash: String,
        definition: serde_json::Value,
        /// The CORS preflights written after the definition (which removes
        /// them) and before the deployment that serves them.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        preflights: Vec<Preflight>,
    },
    CreateDeployment {
        api: String,
        api_id: Option<String>,
        stage: String,
        definition_hash: String,
        /// Records the definition hash, so the next deploy reads what the stage serves.
        description: String,
    },
    DeleteFunction {
        function: String,
    },
    /// Deletes one published version of a function (`prune`).
    DeleteFunctionVersion {
        function: String,
        version: String,
    },
    /// Publishes the function's `$LATEST` as a version (Lambda answers with
    /// the newest version instead when nothing changed since it).
    PublishVersion {
        function: String,
        /// Lambda publishes only if `$LATEST` still holds this code.
        code_sha256: String,
        /// Records the code hash and configuration digest it holds.
        description: String,
    },
    /// Moves the stage's alias of the function (creating it when `from` is
    /// `None`); API Gateway and the invoke permission name the alias.
    PointAlias {
        function: String,
        alias: String,
        from: Option<String>,
        to: VersionRef,
        description: String,
        /// A canary: the alias keeps serving `from` and sends this percent
        /// of its traffic to `to` (its routing configuration); `None`
        /// moves all of it and clears any routing.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        canary: Option<u8>,
    },
    /// Remembers the canary in progress (written before any alias shifts),
    /// so a later deploy completes it and `rollback` reverts it.
    StartCanary {
        parameter: String,
        record: super::canary::CanaryRecord,
    },
    /// The canary is over (completed or reverted): forgets it.
    EndCanary {
        parameter: String,
    },
    /// Points the API stage at an earlier deployment (a rollback).
    SetStageDeployment {
        api: String,
        api_id: String,
        stage: String,
        from: Option<String>,
        to: String,
    },
    /// Keeps the release this plan makes in AWS (two SSM parameters: the
    /// release's own and the stage's current one), written last.
    RecordRelease {
        parameter: String,
        current: String,
        release: super::record::ReleaseDraft,
    },
    /// The stage's cache cluster and method caching, as `UpdateStage` patch
    /// operations (the stage exists: it follows the deployment).
    UpdateStageCache {
        api: String,
        /// `None`: the API this deploy creates.
        api_id: Option<String>,
        stage: String,
        from: StageCacheState,
        to: StageCacheState,
        patch: Vec<StagePatch>,
    },
    /// The stage's tracing, throttles and access log, as `UpdateStage`
    /// patch operations (after the stage-cache update).
    UpdateStageSettings {
        api: String,
        /// `None`: the API this deploy creates.
        api_id: Option<String>,
        stage: String,
        from: StageSettingsState,
        to: StageSettingsState,
        patch: Vec<StagePatch>,
    },
    /// Sets the role API Gateway writes CloudWatch logs with: an account
    /// setting of the region, needed before a stage's access logs.
    SetApiGatewayAccountRole {
        from: Option<String>,
        to: String,
        /// `to` is the role this plan creates: API Gateway may refuse it
        /// until IAM propagates it.
        #[serde(default)]
        new_role: bool,
    },
    /// Reserves concurrent executions for a function (`to`), or releases
    /// them (`None`).
    SetReservedConcurrency {
        function: String,
        from: Option<u32>,
        to: Option<u32>,
    },
    /// Drops every cached response of the stage: a function behind a cached
    /// route changed.
    FlushStageCache {
        api: String,
        api_id: Option<String>,
        stage: String,
    },
    /// A distribution for the stage's domain, its origin the API stage.
    CreateDistribution {
        domain: String,
        certificate: String,
        /// `None`: the API this deploy creates.
        origin_domain: Option<String>,
        origin_path: String,
        /// CloudFront's idempotency key: a rerun after a lost answer finds
        /// the distribution instead of making a second one.
        caller_reference: String,
        comment: String,
        /// Cache behaviors of the API origin, in CloudFront's order.
        #[serde(default)]
        behaviors: Vec<Behavior>,
    },
    /// Replaces the cache behaviors whose target is `origin` (the others
    /// are kept, before them), reading the whole configuration and sending
    /// it back with `IfMatch`.
    UpdateCacheBehaviors {
        distribution: String,
        origin: String,
        from: Vec<Behavior>,
        to: Vec<Behavior>,
    },
    /// Points one origin of a distribution at the API stage, keeping the
    /// rest of its configuration (sent back with `IfMatch`).
    UpdateDistributionOrigin {
        distribution: String,
        origin: String,
        from_domain: String,
        from_path: String,
        /// `None`: the API this deploy creates.
        to_domain: Option<String>,
        to_path: String,
    },
    /// A and AAAA alias records for the domain, to the distribution.
    UpsertAliasRecords {
        zone: String,
        domain: String,
        /// The distribution's domain; `None`: the one this deploy creates.
        target: Option<String>,
    },
    /// Deletes the domain's alias records of `types` that point at the
    /// distribution (`destroy`); Route 53 deletes a record only as it is.
    DeleteAliasRecords {
        zone: String,
        domain: String,
        target: String,
        types: Vec<String>,
    },
    /// Turns a distribution off (`destroy`): CloudFront deletes only a
    /// disabled distribution whose change has deployed.
    DisableDistribution {
        distribution: String,
    },
    /// Deletes a disabled distribution, once its last change has deployed.
    DeleteDistribution {
        distribution: String,
    },
    /// Deletes the stage's REST API with its stages and deployments.
    DeleteRestApi {
        api: String,
        api_id: String,
    },
    /// Deletes one stage of a REST API that other stages share.
    DeleteApiStage {
        api: String,
        api_id: String,
        stage: String,
    },
    DeleteLayerVersion {
        layer: String,
        version: u64,
    },
    /// Detaches `attached`, deletes the `inline` policies, then the role.
    DeleteRole {
        name: String,
        attached: Vec<String>,
        inline: Vec<String>,
    },
    DeleteLogGroup {
        name: String,
    },
    /// Deletes SSM parameters (a stage's release records), ten per call.
    DeleteParameters {
        parameters: Vec<String>,
    },
    CreateInvalidation {
        distribution: String,
        paths: Vec<String>,
        /// The caller reference's prefix; the time of the call completes it,
        /// as CloudFront takes each reference once.
        reference: String,
    },
}

/// The functions whose code or configuration these actions change: a cache
/// in front of them holds responses the old one made.
pub fn changed_functions(actions: &[Action]) -> std::collections::BTreeSet<&str> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::UpdateFunctionCode { function, .. }
            | Action::UpdateFunctionConfiguration { function, .. }
            | Action::PointAlias { function, .. } => Some(function.as_str()),
            _ => None,
        })
        .collect()
}

/// A zip in the stage's artifact bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3Object {
    pub bucket: String,
    pub key: String,
}

/// One configuration field that differs, as the plan shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Change {
    pub field: String,
    pub from: String,
    pub to: String,
}

/// A function's whole configuration, as `CreateFunction` and
/// `UpdateFunctionConfiguration` send it (the handler is always `bootstrap`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FunctionSettings {
    pub runtime: Runtime,
    /// The execution role's ARN.
    pub role: String,
    pub memory_mb: u32,
    pub timeout_s: u32,
    /// (Defaults: what a plan saved before these settings existed meant.)
    #[serde(default)]
    pub tracing: Tracing,
    #[serde(default = "default_ephemeral")]
    pub ephemeral_mb: u32,
    #[serde(default)]
    pub vpc: Option<Vpc>,
    /// Values as declared: a secret is its source, resolved when applied.
    pub env: BTreeMap<String, EnvValue>,
    pub layers: Vec<LayerArn>,
}

fn default_ephemeral() -> u32 {
    crate::model::DEFAULT_EPHEMERAL_MB
}

/// A function version an alias or a release names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum VersionRef {
    /// The version this plan's `PublishVersion` of the function makes.
    Published,
    /// A version that exists, by number.
    Version(String),
}

/// A layer version a function uses.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum LayerArn {
    /// A version that exists, by ARN.
    Arn(String),
    /// The version of `layer` for `arch` this deploy publishes.
    Published { layer: String, arch: Arch },
}

/// The trust policy of a role Lambda assumes.
pub const LAMBDA_TRUST_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

/// The managed role's permissions: writing its functions' logs ...
pub const BASIC_EXECUTION_POLICY: &str =
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole";

/// ... and, when a function of the stage traces actively, sending X-Ray
/// its traces (Lambda adds nothing itself outside the console).
pub const XRAY_WRITE_POLICY: &str = "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess";
/// ... and, when a function of the stage joins a VPC, managing the network
/// interfaces Lambda puts there (create, describe, delete).
pub const VPC_ACCESS_POLICY: &str =
    "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole";
/// What API Gateway's CloudWatch role may do (AWS's managed policy).
pub const APIGW_LOGS_POLICY: &str =
    "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs";
/// The trust policy of the role API Gateway logs with.
pub const APIGW_TRUST_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"apigateway.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

/// The policies the stage's managed role holds for `functions`.
pub fn managed_policies<'a>(
    functions: impl IntoIterator<Item = &'a super::state::DesiredFunction>,
) -> Vec<String> {
    let mut policies = vec![BASIC_EXECUTION_POLICY.to_owned()];
    let functions: Vec<_> = functions.into_iter().collect();
    if functions.iter().any(|f| f.tracing == Tracing::Active) {
        policies.push(XRAY_WRITE_POLICY.to_owned());
    }
    if functions.iter().any(|f| f.vpc.is_some()) {
        policies.push(VPC_ACCESS_POLICY.to_owned());
    }
    policies
}

/// An inline policy a role is created with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InlinePolicy {
    pub name: String,
    pub document: String,
    /// Its statements as the plan shows them.
    pub statements: Vec<String>,
}

/// One path's CORS preflight: an `OPTIONS` method whose mock integration
/// answers 200 with these headers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preflight {
    pub path: String,
    /// The headers the method response declares.
    pub headers: Vec<String>,
    /// `method.response.header.NAME` = `'literal'`, as the integration
    /// response sets them.
    pub response_parameters: BTreeMap<String, String>,
    /// The integration response's `application/json` template: it picks
    /// the allowed origin, which a literal cannot.
    pub template: String,
}
