//! The two sides the planner compares, as plain data: the desired state of a
//! stage (from the model, the stage and a build manifest) and the live state
//! (as read from AWS by the deploy side, or written by hand in tests).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::front::DesiredFront;
pub use super::live::*;
use super::roles::{ServiceRole, MAX_INLINE_CHARS};
use crate::manifest::{ArtifactKind, Manifest};
use crate::model::permissions::Scope;
use crate::model::vpc::Vpc;
use crate::model::{
    Arch, EndpointType, EnvValue, LayerRef, Method, Runtime, Secrets, Stage, Tracing, Workspace,
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
    /// The roles of services that declare `permissions`, by role name.
    pub service_roles: BTreeMap<String, super::roles::ServiceRole>,
    /// The stage's tags and ferry's own, for every resource ferry creates.
    pub tags: BTreeMap<String, String>,
    /// The CloudFront distribution and DNS records in front of the API.
    pub front: Option<DesiredFront>,
    /// The source commit being deployed, when known (the deploy side reads
    /// it): recorded in version descriptions and the release.
    pub commit: Option<String>,
    /// The hex SHA-256 of the build manifest deployed, for the release.
    pub manifest_sha256: Option<String>,
    /// That manifest's file, which a stage with an artifact bucket keeps
    /// there for each release.
    pub manifest_file: Option<String>,
    /// The S3 bucket the stage's zips go through, if it keeps one.
    pub store: Option<super::store::DesiredStore>,
    /// The stage's log archive, if deploy.toml declares one.
    pub log_archive: Option<super::log_archive::DesiredArchive>,
}

impl Desired {
    /// What API Gateway invokes for `function`: the stage's alias of it.
    pub fn target(&self, function: &str) -> String {
        format!("{function}:{}", super::release::alias_name(&self.stage))
    }
}

/// The execution role every function of the stage runs with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum DesiredRole {
    /// A role the user manages, by ARN.
    Arn(String),
    /// A basic execution role ferry creates and keeps, by name.
    Managed(String),
    /// A service's own role ferry keeps, by name and IAM path.
    Service { name: String, path: String },
}

impl DesiredRole {
    /// The role's ARN in `account` (IAM ARNs are predictable from the name).
    pub fn arn(&self, account: &str) -> String {
        match self {
            DesiredRole::Arn(arn) => arn.clone(),
            DesiredRole::Managed(name) => format!("arn:aws:iam::{account}:role/{name}"),
            DesiredRole::Service { name, path } => {
                format!("arn:aws:iam::{account}:role{path}{name}")
            }
        }
    }
}

/// The tags ferry puts on every function, so that `--prune` only ever
/// deletes functions this app and stage created.
pub const TAG_APP: &str = "ferry:app";
pub const TAG_STAGE: &str = "ferry:stage";
/// On a function the stage adopts (`function-name`): prune and destroy
/// never delete it, even once deploy.toml no longer names it, and ferry
/// removes none of its other tags.
pub const TAG_ADOPTED: &str = "ferry:adopted";

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
    pub tracing: Tracing,
    pub ephemeral_mb: u32,
    pub reserved_concurrency: Option<u32>,
    pub vpc: Option<Vpc>,
    /// The role it runs with: the stage's, or its service's own.
    pub role: DesiredRole,
    /// What invokes it through the API: routes, or API Gateway as an
    /// authorizer.
    pub invoker: super::authorizers::Invoker,
    /// Resolved values, compared with the live ones; never rendered.
    #[serde(skip)]
    pub env: BTreeMap<String, String>,
    /// Values as declared (a secret as its source): what a plan carries.
    pub env_declared: BTreeMap<String, EnvValue>,
    pub layers: Vec<DesiredLayerRef>,
    /// The stage's tags and ferry's own ([`TAG_APP`], [`TAG_STAGE`]).
    pub tags: BTreeMap<String, String>,
    /// What a version of this function holds (code hash and configuration
    /// digest), as its description records it; see [`super::release`].
    pub digest: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DesiredApi {
    pub name: String,
    /// The existing REST API the stage adopts (deploy.toml's `api.id`):
    /// found by id, its definition merged, never created or deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub endpoint: EndpointType,
    pub binary_media_types: Vec<String>,
    /// (method, path, function name), in route-table order.
    pub routes: Vec<(Method, String, String)>,
    /// Hash of everything that goes into the API definition: a new API
    /// deployment is needed exactly when it changes.
    pub definition_hash: String,
    /// The stage's API Gateway cache, when deploy.toml asks for one.
    pub cache: Option<crate::model::cache::ApiCache>,
    /// The stage's CORS, when deploy.toml asks for it.
    pub cors: Option<crate::model::cors::StageCors>,
    /// X-Ray tracing of the API stage.
    pub tracing: bool,
    pub throttle: crate::model::stage_api::StageThrottle,
    pub access_log: Option<crate::model::stage_api::AccessLog>,
    pub quotas: crate::model::stage_api::ApiQuotas,
    /// The authorizers some route names, by name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub authorizers: BTreeMap<String, super::authorizers::DesiredAuthorizer>,
    /// The authorizer of each guarded route (`METHOD /path`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub security: BTreeMap<String, String>,
}

/// Why a manifest cannot be deployed to a stage.
#[derive(Debug, thiserror::Error, miette::Diagnostic, PartialEq, Eq)]
pub enum DesiredError {
    #[error("{name} ({arch}) is {size} zipped; Lambda takes at most 50 MB in a request, and stage `{stage}` has no artifact bucket")]
    #[diagnostic(help("give the stage an S3 bucket: `artifact-bucket = {{ name = \"…\", create = true }}` under [stages.{stage}] (or [app]) in deploy.toml; zips up to 250 MB unzipped then deploy through it"))]
    NeedsArtifactBucket {
        name: String,
        arch: Arch,
        size: String,
        stage: String,
    },
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
    #[error("the permissions of service `{service}` make a policy of {chars} characters; IAM allows {MAX_INLINE_CHARS} in a role's inline policies")]
    #[diagnostic(help("merge statements that share resources, use wildcards such as `dynamodb:Get*`, or give the stage a `role` you manage"))]
    PolicyTooLarge { service: String, chars: usize },
    #[error("the environment of {function} takes {bytes} bytes once its secrets are resolved; Lambda allows {MAX_ENV_BYTES}")]
    #[diagnostic(help("keep large values in a layer's files, or have the function read the SSM parameter itself at start-up"))]
    EnvTooLarge { function: String, bytes: usize },
    #[error(
        "a release of stage `{stage}` would take up to {bytes} bytes; an SSM parameter holds {max}"
    )]
    #[diagnostic(help("ferry records each release in one SSM parameter; split the stage's services across two apps"))]
    ReleaseTooLarge {
        stage: String,
        bytes: usize,
        max: usize,
    },
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
    let mut service_roles = BTreeMap::new();
    let mut used = Vec::new();
    let role = match &stage.role {
        Some(arn) => DesiredRole::Arn(arn.clone()),
        None => DesiredRole::Managed(managed_role_name(&app, &stage.name)),
    };
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
                    used.push(built);
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
        used.push(artifact);
        let env = resolve_env(&settings.function_name, &settings.env, secrets)?;
        let function_role = match &role {
            DesiredRole::Managed(_) if !service.permissions.is_empty() => {
                let scope = Scope {
                    app: &app,
                    stage: &stage.name,
                    region: &stage.region,
                    account: None,
                };
                let own = ServiceRole::new(
                    &settings.function_name,
                    service.name.as_str(),
                    &service.permissions,
                    &scope,
                );
                let chars = own.document_chars();
                if chars > MAX_INLINE_CHARS {
                    return Err(DesiredError::PolicyTooLarge {
                        service: service.name.to_string(),
                        chars,
                    });
                }
                let r = DesiredRole::Service {
                    name: own.name.clone(),
                    path: own.path.clone(),
                };
                service_roles.insert(own.name.clone(), own);
                r
            }
            shared => shared.clone(),
        };
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
                tracing: settings.tracing,
                ephemeral_mb: settings.ephemeral_mb,
                reserved_concurrency: settings.reserved_concurrency,
                vpc: settings.vpc.clone(),
                role: function_role,
                invoker: if service.authorizer.is_some() {
                    super::authorizers::Invoker::Authorizer
                } else {
                    super::authorizers::Invoker::Routes
                },
                env,
                env_declared: settings.env.clone(),
                layers: refs,
                tags: {
                    let mut tags = function_tags(&app, stage);
                    if stage.adopted_function(service.name.as_str()).is_some() {
                        tags.insert(TAG_ADOPTED.into(), "true".into());
                    }
                    tags
                },
                digest: String::new(),
            },
        );
    }
    let api = desired_api(workspace, stage);
    let front = stage.front.clone().map(|door| DesiredFront {
        door,
        origin_path: format!("/{}", stage.name),
    });
    super::release::fill_digests(&mut functions, &layers);
    super::record::check_size(&app, &stage.name, &functions)?;
    let mut groups: std::collections::BTreeSet<String> = functions
        .keys()
        .map(|f| format!("/aws/lambda/{f}"))
        .collect();
    if api.access_log.is_some() {
        groups.insert(crate::model::stage_api::AccessLog::group(
            &api.name,
            &stage.name,
        ));
    }
    Ok(Desired {
        log_archive: super::log_archive::desired(stage, &app, groups),
        store: super::store::desired(stage, &used)?,
        manifest_file: None,
        commit: None,
        manifest_sha256: None,
        front,
        role,
        service_roles,
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

/// The stage's REST API as ferry deploys it: routes to each function's
/// alias, settings and the definition hash. Needs no build.
pub fn desired_api(workspace: &Workspace, stage: &Stage) -> DesiredApi {
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
    let (authorizers, security) = super::authorizers::desired(workspace, stage);
    let auth = super::authorizers::hash_input(&authorizers, &security);
    DesiredApi {
        name: stage.api.name.clone(),
        id: stage.api.id.clone(),
        endpoint: stage.api.endpoint,
        binary_media_types: stage.api.binary_media_types.clone(),
        definition_hash: super::openapi::definition_hash(&routes, stage, auth.as_deref()),
        routes,
        cache: stage.api.cache.clone(),
        cors: stage.api.cors.clone(),
        tracing: stage.api.tracing,
        throttle: stage.api.throttle.clone(),
        access_log: stage.api.access_log.clone(),
        quotas: stage.api.quotas,
        authorizers,
        security,
    }
}
