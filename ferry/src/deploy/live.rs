//! The live side the planner compares against: what AWS holds for a stage
//! now, as read by the deploy side (or written by hand in tests).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::record::Release;
use crate::model::vpc::Vpc;
use crate::model::{Arch, Runtime, Tracing};

/// What AWS holds for the stage now.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Live {
    /// The AWS account the credentials belong to.
    pub account_id: String,
    /// Whether the managed execution role exists (when the stage uses one).
    pub managed_role_exists: bool,
    pub functions: BTreeMap<String, LiveFunction>,
    /// Versions of each of the app's layers, newest last.
    pub layer_versions: BTreeMap<String, Vec<LiveLayerVersion>>,
    pub api: Option<LiveApi>,
    /// Function -> the source ARN of ferry's invoke permission statement.
    pub permissions: BTreeMap<String, String>,
    /// Log group name -> retention in days (`None`: never expire).
    pub log_groups: BTreeMap<String, Option<u32>>,
    /// Read only when the stage has a front door.
    #[serde(default)]
    pub front: Option<super::front::LiveFront>,
    /// The stage's current release, as ferry recorded it.
    #[serde(default)]
    pub release: Option<Release>,
    /// The canary in progress on the stage, if one is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary: Option<super::canary::CanaryRecord>,
    /// API Gateway's account settings in the region, read only when the
    /// stage keeps access logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apigw_account: Option<ApiGatewayAccount>,
    /// The service roles the stage declares that exist, by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub service_roles: BTreeMap<String, super::roles::LiveRole>,
    /// The artifact bucket, read only when the stage keeps one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<super::store::LiveStore>,
    /// The log archive, read when the stage declares one or its stream
    /// exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_archive: Option<super::log_archive::LiveArchive>,
}

/// What access logging needs of API Gateway's account settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiGatewayAccount {
    /// The role API Gateway writes logs with, when one is set.
    pub cloudwatch_role: Option<String>,
    /// Whether ferry's own role for it exists (read only when none is set).
    pub managed_role_exists: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveFunction {
    pub code_sha256: String,
    pub arch: Arch,
    pub runtime: Option<Runtime>,
    /// The runtime when it is not one ferry deploys (an adopted Node.js
    /// function's `nodejs20.x`), for the plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other_runtime: Option<String>,
    pub memory_mb: u32,
    pub timeout_s: u32,
    #[serde(default)]
    pub tracing: Tracing,
    #[serde(default = "default_ephemeral")]
    pub ephemeral_mb: u32,
    pub env: BTreeMap<String, String>,
    /// Layer version ARNs, in order.
    pub layers: Vec<String>,
    pub role: String,
    pub tags: BTreeMap<String, String>,
    pub revision_id: String,
    /// Concurrent executions reserved for the function, if any.
    #[serde(default)]
    pub reserved_concurrency: Option<u32>,
    /// The subnets and security groups it is attached to, if any.
    #[serde(default)]
    pub vpc: Option<Vpc>,
    /// The stage's alias, when the function has one.
    #[serde(default)]
    pub alias: Option<LiveAlias>,
}

fn default_ephemeral() -> u32 {
    crate::model::DEFAULT_EPHEMERAL_MB
}

/// The version a stage's alias serves, with that version's description
/// (copied onto the alias), which records what it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveAlias {
    pub version: String,
    pub description: String,
    /// The version a canary sends part of the traffic to (read only while
    /// the stage records a canary in progress).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary: Option<CanaryVersion>,
}

/// The additional version of a weighted alias, with its description.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CanaryVersion {
    pub version: String,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveLayerVersion {
    pub arn: String,
    pub version: u64,
    pub description: String,
    pub compatible_architectures: Vec<Arch>,
}

impl LiveLayerVersion {
    /// The CodeSha256 ferry recorded in the description, if any.
    pub fn recorded_sha256(&self) -> Option<&str> {
        self.description
            .rsplit_once(LAYER_HASH_MARK)
            .map(|(_, hash)| hash.trim_end_matches(')'))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveApi {
    pub id: String,
    /// The deployment the stage serves, with the definition hash ferry
    /// recorded in that deployment's description.
    pub stage_deployment: Option<(String, Option<String>)>,
    /// The API's methods as they are now: `"GET /items/{id}"` -> the
    /// function its integration calls (empty when it calls none of ours).
    #[serde(default)]
    pub routes: BTreeMap<String, String>,
    /// The stage's cache cluster and the methods it caches.
    #[serde(default)]
    pub stage_cache: super::stage_cache::StageCacheState,
    /// The stage's tracing, throttles and access log.
    #[serde(default)]
    pub stage_settings: super::stage_settings::StageSettingsState,
    /// The names of the API's stages (this one among them once it exists).
    #[serde(default)]
    pub stages: Vec<String>,
}

/// How a layer version's description carries its content hash.
pub const LAYER_HASH_MARK: &str = " (ferry sha256 ";
