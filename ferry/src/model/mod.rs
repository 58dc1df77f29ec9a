//! The validated workspace model: services, layers, routes, the app and its
//! stages, with every default applied. Everything after loading (build, plan,
//! deploy, serve) reads this model and nothing else of the user's files.

pub mod adopt;
pub mod archive;
pub mod auth;
pub mod cache;
pub mod cors;
pub mod diag;
mod discover;
mod env_value;
pub mod glob;
mod load;
mod load_deploy;
pub mod names;
pub mod permissions;
pub mod raw;
pub mod raw_archive;
pub mod raw_auth;
mod raw_cache;
mod raw_cors;
pub mod raw_permissions;
mod raw_stage_api;
pub mod raw_store;
pub mod raw_vpc;
pub mod route;
pub mod stage_api;
pub mod store;
mod validate;
pub mod vpc;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use diag::{ConfigError, ConfigErrors};
pub use discover::{globs_in, DEFAULT_LAYER_GLOBS, DEFAULT_SERVICE_GLOBS};
pub use env_value::{secret_sources, EnvValue, SecretSource, Secrets};
pub use load::CrateKind;
pub use load::{
    bin_targets, implicit_bins, load_workspace, load_workspace_from, BinTarget, WorkspaceFiles,
};
pub use names::{Arch, GlibcVersion, LambdaName, Method, Runtime, Tracing};
pub use route::{Route, RouteEntry, RoutePath, RouteTable, Segment};

/// Lambda's memory range in MB.
pub const MEMORY_MB: std::ops::RangeInclusive<i64> = 128..=10240;
/// Lambda's `/tmp` size in MB, and its default.
pub const EPHEMERAL_MB: std::ops::RangeInclusive<i64> = 512..=10240;
pub const DEFAULT_EPHEMERAL_MB: u32 = 512;
/// Reserved concurrency ferry accepts: Lambda's minimum is 0 (every request
/// throttled), its maximum the account's limit less the 100 it keeps
/// unreserved; the bound here only catches typos.
pub const RESERVED_CONCURRENCY: std::ops::RangeInclusive<i64> = 0..=1_000_000;
/// Lambda's timeout range in seconds.
pub const TIMEOUT_S: std::ops::RangeInclusive<i64> = 1..=900;
/// Lambda allows at most five layers per function.
pub const MAX_LAYERS: usize = 5;
/// Lambda allows at most 4 KB of environment variables per function.
pub const MAX_ENV_BYTES: usize = 4096;
/// The retention periods CloudWatch Logs accepts, in days.
pub const LOG_RETENTION_DAYS: &[i64] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

pub const DEFAULT_MEMORY_MB: u32 = 128;
pub const DEFAULT_TIMEOUT_S: u32 = 3;
pub const DEFAULT_ARCH: Arch = Arch::Arm64;
pub const DEFAULT_RUNTIME: Runtime = Runtime::ProvidedAl2023;
pub const DEFAULT_LOG_RETENTION_DAYS: u32 = 30;

/// The whole workspace as ferry sees it.
#[derive(Debug, Clone)]
pub struct Workspace {
    pub root: PathBuf,
    pub app: App,
    pub stages: BTreeMap<String, Stage>,
    pub services: BTreeMap<String, Service>,
    pub layers: BTreeMap<String, Layer>,
    pub routes: RouteTable,
    /// Things that are accepted but worth saying (e.g. ignored cargo-lambda keys).
    pub warnings: Vec<String>,
}

/// `[app]` of deploy.toml, defaults applied.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct App {
    pub name: LambdaName,
    pub architecture: Arch,
    pub runtime: Runtime,
    /// The globs of the service crate folders (`app.services`, default `services/*`).
    pub services: Vec<String>,
    /// The globs of the layer crate folders (`app.layers`, default `layers/*`).
    pub layers: Vec<String>,
    /// The artifact bucket of every stage without its own.
    pub artifacts: Option<store::ArtifactStore>,
}

/// One Lambda function: a crate matched by `app.services`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Service {
    pub name: LambdaName,
    /// The crate directory, relative to the workspace root.
    pub dir: PathBuf,
    /// The binary target that becomes `bootstrap`.
    pub bin: String,
    pub routes: Vec<Route>,
    pub memory_mb: u32,
    pub timeout_s: u32,
    /// X-Ray tracing (default pass-through, Lambda's).
    pub tracing: Tracing,
    /// `/tmp` in MB (default 512, Lambda's).
    pub ephemeral_mb: u32,
    /// Concurrent executions reserved for the function (`None`: it draws
    /// on the account's unreserved pool).
    pub reserved_concurrency: Option<u32>,
    /// Its own VPC, from `[package.metadata.ferry.vpc]` (or cargo-lambda's
    /// keys); a stage's `vpc` wins over it.
    pub vpc: Option<vpc::Vpc>,
    /// The IAM statements of its own role (none: the stage's role).
    pub permissions: Vec<permissions::Permission>,
    pub env: BTreeMap<String, EnvValue>,
    pub layers: Vec<LayerRef>,
    pub architecture: Arch,
    pub runtime: Runtime,
    /// The header callers authenticate with (lower case), if declared.
    pub auth_header: Option<String>,
    /// CloudFront caching its routes declare, by `METHOD /path`.
    pub cache: BTreeMap<String, cache::CacheDecl>,
    /// Set when the crate is a Lambda authorizer (it then has no routes).
    pub authorizer: Option<auth::LambdaAuthorizer>,
    /// Who may call each route, by `METHOD /path`; a route not here names
    /// no authorizer.
    pub auth: BTreeMap<String, auth::RouteAuth>,
}

/// A layer a service uses: a layer crate of the workspace, or an existing layer version.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LayerRef {
    Workspace(String),
    Arn(String),
}

/// One Lambda layer: a crate matched by `app.layers`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Layer {
    pub name: LambdaName,
    pub dir: PathBuf,
    pub description: String,
    /// Binary targets, packed as `extensions/<name>`.
    pub extensions: Vec<String>,
    /// Destination under `/opt` → source path relative to the crate directory.
    pub files: BTreeMap<String, PathBuf>,
    pub compatible_runtimes: BTreeSet<Runtime>,
    pub compatible_architectures: BTreeSet<Arch>,
}

/// REST API endpoint types ferry can create.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum EndpointType {
    Regional,
    Edge,
}

/// A stage of deploy.toml, defaults applied.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stage {
    pub name: String,
    pub region: String,
    /// An execution role ARN; `None` means ferry manages a basic role.
    pub role: Option<String>,
    pub log_retention_days: u32,
    pub env: BTreeMap<String, EnvValue>,
    pub tags: BTreeMap<String, String>,
    /// The VPC of every function of the stage, unless a service says otherwise.
    pub vpc: Option<vpc::Vpc>,
    pub api: ApiSettings,
    /// The Cognito user pool authorizers routes may name, by name.
    pub authorizers: BTreeMap<String, auth::CognitoAuthorizer>,
    /// The CloudFront distribution (and DNS name) that serves the stage.
    pub front: Option<FrontDoor>,
    pub overrides: BTreeMap<String, ServiceOverride>,
    /// Where deploy.toml marks the stage `protected = true`: `destroy`
    /// refuses it.
    pub protected: Option<Protected>,
    /// The account deploy.toml pins the stage to, if it does.
    pub account: Option<AccountPin>,
    /// The AWS config profile that reaches the stage, if not the default chain.
    pub profile: Option<String>,
    /// The S3 bucket the stage's zips go through (its own, else `[app]`'s).
    pub artifacts: Option<store::ArtifactStore>,
    /// Where the stage's logs are archived, if they are.
    pub log_archive: Option<archive::LogArchive>,
}

/// The account a stage must be in, and where deploy.toml says so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountPin {
    pub id: String,
    pub file: String,
    pub line: usize,
}

/// Where a stage was marked protected, for the refusal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Protected {
    pub file: String,
    pub line: usize,
}

/// A stage's front door: CloudFront in front of the REST API stage, found by
/// `distribution` id or by `domain` among the distributions' aliases, and
/// created when neither finds one and a `certificate` is given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FrontDoor {
    /// The public DNS name, e.g. `api.example.com`.
    pub domain: Option<String>,
    /// An ACM certificate ARN in us-east-1 covering `domain`.
    pub certificate: Option<String>,
    /// The Route 53 hosted zone id that holds `domain`'s alias records.
    pub hosted_zone: Option<String>,
    /// The id of an existing distribution to wire.
    pub distribution: Option<String>,
    /// The origin id of that distribution to point at the API (default:
    /// the default cache behaviour's origin).
    pub origin: Option<String>,
    /// Invalidate the paths whose routes changed on every deploy.
    pub invalidate: bool,
    /// What the stage caches, and the cache behaviors that says.
    #[serde(skip_serializing_if = "cache::FrontCache::is_empty")]
    pub cache: cache::FrontCache,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApiSettings {
    pub name: String,
    /// The existing REST API the stage adopts, found by this id.
    pub id: Option<String>,
    pub endpoint: EndpointType,
    pub binary_media_types: Vec<String>,
    /// API Gateway's stage cache, when the stage asks for it.
    pub cache: Option<cache::ApiCache>,
    /// The browser origins that may call the API, when the stage says.
    pub cors: Option<cors::StageCors>,
    /// X-Ray tracing of the API stage.
    pub tracing: bool,
    pub throttle: stage_api::StageThrottle,
    pub access_log: Option<stage_api::AccessLog>,
    pub quotas: stage_api::ApiQuotas,
    /// Every route must name an authorizer or be public.
    pub require_authorizer: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ServiceOverride {
    /// The existing function the service deploys to on this stage.
    pub function_name: Option<String>,
    pub memory_mb: Option<u32>,
    pub timeout_s: Option<u32>,
    pub reserved_concurrency: Option<u32>,
    pub vpc: Option<vpc::VpcChoice>,
    pub env: BTreeMap<String, EnvValue>,
}

/// A function's settings on one stage: the service's own, then the stage's
/// environment, then the stage's per-service overrides, each winning over the last.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FunctionSettings {
    pub function_name: String,
    pub memory_mb: u32,
    pub timeout_s: u32,
    pub tracing: Tracing,
    pub ephemeral_mb: u32,
    pub reserved_concurrency: Option<u32>,
    pub vpc: Option<vpc::Vpc>,
    pub env: BTreeMap<String, EnvValue>,
}

impl Stage {
    /// A stage for running locally when deploy.toml's stages are not wanted.
    pub fn local() -> Self {
        Stage {
            name: "local".into(),
            region: "us-east-1".into(),
            role: None,
            log_retention_days: DEFAULT_LOG_RETENTION_DAYS,
            env: BTreeMap::new(),
            tags: BTreeMap::new(),
            vpc: None,
            api: ApiSettings {
                name: "local".into(),
                id: None,
                endpoint: EndpointType::Regional,
                binary_media_types: Vec::new(),
                cache: None,
                cors: None,
                tracing: false,
                throttle: Default::default(),
                access_log: None,
                quotas: Default::default(),
                require_authorizer: false,
            },
            authorizers: BTreeMap::new(),
            front: None,
            overrides: BTreeMap::new(),
            artifacts: None,
            log_archive: None,
            protected: None,
            account: None,
            profile: None,
        }
    }

    /// The deployed function's name: the existing one the stage adopts
    /// (`function-name`), else `<app>-<stage>-<service>`.
    pub fn function_name(&self, app: &App, service: &str) -> String {
        match self.adopted_function(service) {
            Some(name) => name.to_owned(),
            None => function_name(app.name.as_str(), &self.name, service),
        }
    }

    /// The existing function `service` deploys to, when the stage adopts one.
    pub fn adopted_function(&self, service: &str) -> Option<&str> {
        self.overrides.get(service)?.function_name.as_deref()
    }

    pub fn settings(&self, app: &App, service: &Service) -> FunctionSettings {
        let over = self.overrides.get(service.name.as_str());
        let mut env = service.env.clone();
        env.extend(self.env.clone());
        if let Some(over) = over {
            env.extend(over.env.clone());
        }
        let paths: Vec<String> = service.routes.iter().map(|r| r.path.to_string()).collect();
        let cors = self.api.cors.as_ref();
        if let Some(policy) = cors.and_then(|c| c.function_env(paths.iter().map(String::as_str))) {
            env.insert(ferry_cors::ENV.to_owned(), EnvValue::Plain(policy));
        }
        FunctionSettings {
            function_name: self.function_name(app, service.name.as_str()),
            memory_mb: over.and_then(|o| o.memory_mb).unwrap_or(service.memory_mb),
            timeout_s: over.and_then(|o| o.timeout_s).unwrap_or(service.timeout_s),
            tracing: service.tracing,
            ephemeral_mb: service.ephemeral_mb,
            reserved_concurrency: over
                .and_then(|o| o.reserved_concurrency)
                .or(service.reserved_concurrency),
            vpc: self.vpc_of(service).map(|(vpc, _)| vpc.clone()),
            env,
        }
    }
}

impl Stage {
    /// `service`'s VPC on this stage and where it was set: the stage's
    /// per-service `vpc` (which `false` empties), else the stage's, else
    /// the service's own.
    pub fn vpc_of<'a>(&'a self, service: &'a Service) -> Option<(&'a vpc::Vpc, vpc::VpcOrigin)> {
        let over = self.overrides.get(service.name.as_str());
        match over.and_then(|o| o.vpc.as_ref()) {
            Some(vpc::VpcChoice::Inside(vpc)) => Some((vpc, vpc::VpcOrigin::Override)),
            Some(vpc::VpcChoice::Outside) => None,
            None => match (&self.vpc, &service.vpc) {
                (Some(vpc), _) => Some((vpc, vpc::VpcOrigin::Stage)),
                (None, Some(vpc)) => Some((vpc, vpc::VpcOrigin::Service)),
                (None, None) => None,
            },
        }
    }
}

/// The deployed name of `service`'s function in `stage` of `app`.
pub fn function_name(app: &str, stage: &str, service: &str) -> String {
    format!("{app}-{stage}-{service}")
}

impl Workspace {
    /// The architectures any service of the workspace runs on.
    pub fn service_architectures(&self) -> BTreeSet<Arch> {
        self.services.values().map(|s| s.architecture).collect()
    }
}

#[cfg(test)]
mod auth_tests;
#[cfg(test)]
pub(crate) mod fixture;
#[cfg(test)]
mod tests;
