//! The two sides the planner compares, as plain data: the desired state of a
//! stage (from the model, the stage and a build manifest) and the live state
//! (as read from AWS by the deploy side, or written by hand in tests).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::front::{DesiredFront, LiveFront};
use crate::manifest::{ArtifactKind, Manifest};
use crate::model::{
    Arch, EndpointType, EnvValue, LayerRef, Method, Runtime, Secrets, Stage, Workspace,
    MAX_ENV_BYTES,
};

/// What a stage should look like.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Desired {
    pub app: String,
    pub stage: String,
    pub region: String,
    /// Layer versions keyed by (AWS layer name, architecture).
    pub layers: BTreeMap<(String, Arch), DesiredLayer>,
    /// Functions keyed by their AWS name.
    pub functions: BTreeMap<String, DesiredFunction>,
    pub api: DesiredApi,
    pub log_retention_days: u32,
    pub role: DesiredRole,
    /// The stage's tags and ferry's own, for every resource ferry creates.
    pub tags: BTreeMap<String, String>,
    /// The CloudFront distribution and DNS records in front of the API.
    pub front: Option<DesiredFront>,
}

/// The execution role every function of the stage runs with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum DesiredRole {
    /// A role the user manages, by ARN.
    Arn(String),
    /// A basic execution role ferry creates and keeps, by name.
    Managed(String),
}

impl DesiredRole {
    /// The role's ARN in `account` (IAM ARNs are predictable from the name).
    pub fn arn(&self, account: &str) -> String {
        match self {
            DesiredRole::Arn(arn) => arn.clone(),
            DesiredRole::Managed(name) => format!("arn:aws:iam::{account}:role/{name}"),
        }
    }
}

/// The tags ferry puts on every function, so that `--prune` only ever
/// deletes functions this app and stage created.
pub const TAG_APP: &str = "ferry:app";
pub const TAG_STAGE: &str = "ferry:stage";

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DesiredLayer {
    pub name: String,
    pub arch: Arch,
    /// CodeSha256 of the zip; ferry records it in the version's description.
    pub code_sha256: String,
    pub zip: String,
    pub description: String,
    pub compatible_runtimes: Vec<Runtime>,
}

/// A layer a function references: one of the stage's own, or a fixed ARN.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DesiredLayerRef {
    Own { name: String, arch: Arch },
    Arn(String),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DesiredFunction {
    pub name: String,
    pub service: String,
    pub arch: Arch,
    pub runtime: Runtime,
    pub code_sha256: String,
    pub zip: String,
    pub memory_mb: u32,
    pub timeout_s: u32,
    /// Resolved values, compared with the live ones; never rendered.
    #[serde(skip)]
    pub env: BTreeMap<String, String>,
    /// Values as declared (a secret as its source): what a plan carries.
    pub env_declared: BTreeMap<String, EnvValue>,
    pub layers: Vec<DesiredLayerRef>,
    /// The stage's tags and ferry's own ([`TAG_APP`], [`TAG_STAGE`]).
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DesiredApi {
    pub name: String,
    pub endpoint: EndpointType,
    pub binary_media_types: Vec<String>,
    /// (method, path, function name), in route-table order.
    pub routes: Vec<(Method, String, String)>,
    /// Hash of everything that goes into the API definition: a new API
    /// deployment is needed exactly when it changes.
    pub definition_hash: String,
    /// The stage's API Gateway cache, when deploy.toml asks for one.
    pub cache: Option<crate::model::cache::ApiCache>,
}

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
    pub front: Option<LiveFront>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveFunction {
    pub code_sha256: String,
    pub arch: Arch,
    pub runtime: Option<Runtime>,
    pub memory_mb: u32,
    pub timeout_s: u32,
    pub env: BTreeMap<String, String>,
    /// Layer version ARNs, in order.
    pub layers: Vec<String>,
    pub role: String,
    pub tags: BTreeMap<String, String>,
    pub revision_id: String,
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
}

/// How a layer version's description carries its content hash.
pub const LAYER_HASH_MARK: &str = " (ferry sha256 ";

/// Why a manifest cannot be deployed to a stage.
#[derive(Debug, thiserror::Error, miette::Diagnostic, PartialEq, Eq)]
pub enum DesiredError {
    #[error("the manifest has no {kind} `{name}` for {arch}; run `cargo xtask build` (or build with --arch {arch})")]
    #[diagnostic(help("build for the stage's architectures, or pass the matching --manifest"))]
    MissingArtifact {
        kind: &'static str,
        name: String,
        arch: Arch,
    },
    #[error("the manifest was built for app `{found}`, not `{expected}`")]
    #[diagnostic(help("pass the manifest of this workspace's build"))]
    OtherApp { expected: String, found: String },
    #[error(
        "`{key}` of {function} takes its value from the {source_name}, which was not resolved"
    )]
    #[diagnostic(help("this is a bug in ferry: secrets are resolved before planning"))]
    Unresolved {
        function: String,
        key: String,
        source_name: String,
    },
    #[error("the environment of {function} takes {bytes} bytes once its secrets are resolved; Lambda allows {MAX_ENV_BYTES}")]
    #[diagnostic(help("keep large values in a layer's files, or have the function read the SSM parameter itself at start-up"))]
    EnvTooLarge { function: String, bytes: usize },
}

/// A function's environment with every secret replaced by its value, checked
/// against Lambda's 4 KB now that the values are known.
fn resolve_env(
    function: &str,
    env: &BTreeMap<String, EnvValue>,
    secrets: &Secrets,
) -> Result<BTreeMap<String, String>, DesiredError> {
    let mut out = BTreeMap::new();
    for (key, value) in env {
        let value = match value {
            EnvValue::Plain(v) => v.clone(),
            EnvValue::Secret(source) => secrets
                .get(source)
                .ok_or_else(|| DesiredError::Unresolved {
                    function: function.to_owned(),
                    key: key.clone(),
                    source_name: source.to_string(),
                })?
                .to_owned(),
        };
        out.insert(key.clone(), value);
    }
    let bytes = out.iter().map(|(k, v)| k.len() + v.len()).sum();
    if bytes > MAX_ENV_BYTES {
        return Err(DesiredError::EnvTooLarge {
            function: function.to_owned(),
            bytes,
        });
    }
    Ok(out)
}

/// The desired state of `stage` with the artifacts of `manifest` and the
/// stage's resolved `secrets`.
pub fn desired(
    workspace: &Workspace,
    stage: &Stage,
    manifest: &Manifest,
    secrets: &Secrets,
) -> Result<Desired, DesiredError> {
    let app = workspace.app.name.to_string();
    if manifest.app != app {
        return Err(DesiredError::OtherApp {
            expected: app,
            found: manifest.app.clone(),
        });
    }
    let mut layers = BTreeMap::new();
    let mut functions = BTreeMap::new();
    for service in workspace.services.values() {
        let settings = stage.settings(&workspace.app, service);
        let artifact = manifest
            .find(
                ArtifactKind::Function,
                service.name.as_str(),
                service.architecture,
            )
            .ok_or_else(|| DesiredError::MissingArtifact {
                kind: "function",
                name: service.name.to_string(),
                arch: service.architecture,
            })?;
        let mut refs = Vec::new();
        for layer in &service.layers {
            match layer {
                LayerRef::Arn(arn) => refs.push(DesiredLayerRef::Arn(arn.clone())),
                LayerRef::Workspace(name) => {
                    let built = manifest
                        .find(ArtifactKind::Layer, name, service.architecture)
                        .ok_or_else(|| DesiredError::MissingArtifact {
                            kind: "layer",
                            name: name.clone(),
                            arch: service.architecture,
                        })?;
                    let aws_name = format!("{app}-{name}");
                    let description = built
                        .layer
                        .as_ref()
                        .map(|l| l.description.clone())
                        .unwrap_or_default();
                    layers.insert(
                        (aws_name.clone(), service.architecture),
                        DesiredLayer {
                            name: aws_name.clone(),
                            arch: service.architecture,
                            code_sha256: built.code_sha256.clone(),
                            zip: built.path.clone(),
                            description: format!(
                                "{description}{LAYER_HASH_MARK}{})",
                                built.code_sha256
                            ),
                            compatible_runtimes: built
                                .layer
                                .as_ref()
                                .map(|l| l.compatible_runtimes.clone())
                                .unwrap_or_default(),
                        },
                    );
                    refs.push(DesiredLayerRef::Own {
                        name: aws_name,
                        arch: service.architecture,
                    });
                }
            }
        }
        let env = resolve_env(&settings.function_name, &settings.env, secrets)?;
        functions.insert(
            settings.function_name.clone(),
            DesiredFunction {
                name: settings.function_name,
                service: service.name.to_string(),
                arch: service.architecture,
                runtime: service.runtime,
                code_sha256: artifact.code_sha256.clone(),
                zip: artifact.path.clone(),
                memory_mb: settings.memory_mb,
                timeout_s: settings.timeout_s,
                env,
                env_declared: settings.env.clone(),
                layers: refs,
                tags: function_tags(&app, stage),
            },
        );
    }
    let routes: Vec<(Method, String, String)> = workspace
        .routes
        .entries
        .iter()
        .map(|e| {
            (
                e.method,
                e.path.to_string(),
                stage.function_name(&workspace.app, &e.service),
            )
        })
        .collect();
    let api = DesiredApi {
        name: stage.api.name.clone(),
        endpoint: stage.api.endpoint,
        binary_media_types: stage.api.binary_media_types.clone(),
        definition_hash: super::openapi::definition_hash(&routes, stage),
        routes,
        cache: stage.api.cache.clone(),
    };
    let role = match &stage.role {
        Some(arn) => DesiredRole::Arn(arn.clone()),
        None => DesiredRole::Managed(managed_role_name(&app, &stage.name)),
    };
    let front = stage.front.clone().map(|door| DesiredFront {
        door,
        origin_path: format!("/{}", stage.name),
    });
    Ok(Desired {
        front,
        role,
        tags: function_tags(&app, stage),
        app,
        stage: stage.name.clone(),
        region: stage.region.clone(),
        layers,
        functions,
        api,
        log_retention_days: stage.log_retention_days,
    })
}

/// The name of the role ferry manages for a stage without one.
pub fn managed_role_name(app: &str, stage: &str) -> String {
    let name = format!("{app}-{stage}-ferry-lambda");
    // IAM role names are at most 64 characters.
    name[..name.len().min(64)].to_owned()
}

fn function_tags(app: &str, stage: &Stage) -> BTreeMap<String, String> {
    let mut tags = stage.tags.clone();
    tags.insert(TAG_APP.into(), app.into());
    tags.insert(TAG_STAGE.into(), stage.name.clone());
    tags
}
