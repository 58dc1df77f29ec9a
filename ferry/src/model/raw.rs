//! The raw TOML schemas exactly as users write them: serde types with
//! `deny_unknown_fields` and spans, and no defaults applied. `load` turns them
//! into the validated model.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;
use toml::Spanned;

use super::names::{Arch, Runtime, Tracing};
pub use super::raw_cache::{RawApiCache, RawCache, RawStageCache};
pub use super::raw_cors::{RawCors, RawCorsPath};
pub use super::raw_stage_api::{RawAccessLog, RawQuotas, RawRouteThrottle, RawThrottle};
use super::{
    EPHEMERAL_MB, LOG_RETENTION_DAYS, MAX_LAYERS, MEMORY_MB, RESERVED_CONCURRENCY, TIMEOUT_S,
};

/// The parts of a crate's Cargo.toml that ferry reads. Other keys belong to
/// cargo and other tools, so this level accepts anything else.
#[derive(Debug, Deserialize)]
pub struct RawCargoToml {
    pub package: Option<RawPackage>,
    #[serde(default)]
    pub bin: Vec<RawBin>,
}

#[derive(Debug, Deserialize)]
pub struct RawPackage {
    pub name: Spanned<String>,
    #[serde(default)]
    pub metadata: Option<RawPackageMetadata>,
}

#[derive(Debug, Deserialize)]
pub struct RawBin {
    pub name: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct RawPackageMetadata {
    pub ferry: Option<Spanned<RawFerry>>,
    /// cargo-lambda's table, read so that its users adopt ferry without edits.
    pub lambda: Option<Spanned<RawCargoLambda>>,
}

/// `[package.metadata.ferry]`: a service's settings, or a `layer` table.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
#[schemars(title = "[package.metadata.ferry]")]
pub struct RawFerry {
    /// The routes the service answers, each `"METHOD /path"`: methods `GET POST
    /// PUT PATCH DELETE HEAD OPTIONS ANY`; path segments are literals
    /// (`a-z A-Z 0-9 - . _ ~ : @`), `{param}`, or a last greedy `{proxy+}`.
    /// Default: `[]`.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub routes: Vec<Spanned<String>>,
    /// Memory in MB, 128 to 10240. Default: 128.
    #[schemars(
        with = "Option<i64>",
        range(min = *MEMORY_MB.start(), max = *MEMORY_MB.end())
    )]
    pub memory: Option<Spanned<i64>>,
    /// Timeout in seconds, 1 to 900. Default: 3.
    #[schemars(
        with = "Option<i64>",
        range(min = *TIMEOUT_S.start(), max = *TIMEOUT_S.end())
    )]
    pub timeout: Option<Spanned<i64>>,
    /// X-Ray tracing: `"active"` (Lambda samples and traces requests; the
    /// role needs X-Ray's write permissions) or `"pass-through"`. Default:
    /// `"pass-through"`, Lambda's.
    #[schemars(with = "Option<Tracing>")]
    pub tracing: Option<Spanned<Tracing>>,
    /// The size of `/tmp` in MB, 512 to 10240. Default: 512.
    #[schemars(
        with = "Option<i64>",
        range(min = *EPHEMERAL_MB.start(), max = *EPHEMERAL_MB.end())
    )]
    pub ephemeral_storage: Option<Spanned<i64>>,
    /// Concurrent executions reserved for the function: it never runs more
    /// at once, and others cannot take them; `0` throttles every request.
    /// Default: none reserved (removed if set outside ferry).
    #[schemars(
        with = "Option<i64>",
        range(min = *RESERVED_CONCURRENCY.start(), max = *RESERVED_CONCURRENCY.end())
    )]
    pub reserved_concurrency: Option<Spanned<i64>>,
    /// `[package.metadata.ferry.vpc]`: the subnets and security groups of
    /// the function on every stage whose deploy.toml gives none (subnet ids
    /// differ per account: prefer the stage's `vpc`). Default: none.
    #[schemars(with = "Option<super::raw_vpc::RawVpc>")]
    pub vpc: Option<Spanned<super::raw_vpc::RawVpc>>,
    /// `[[package.metadata.ferry.permissions]]`: the AWS actions the
    /// function may call and on what, one table per statement. A service
    /// that declares any runs with a role of its own holding exactly these
    /// (and what Lambda needs for logs, tracing and a VPC); a stage's
    /// `role` still wins. Default: none, the stage's shared role.
    #[serde(default)]
    #[schemars(with = "Vec<super::raw_permissions::RawPermission>")]
    pub permissions: Vec<Spanned<super::raw_permissions::RawPermission>>,
    /// Environment variables: names `[A-Za-z][A-Za-z0-9_]*`, not reserved by
    /// Lambda (`AWS_REGION`, `AWS_LAMBDA_*`, ...); each value a string or a
    /// secret (`{ ssm = "/name" }`, `{ from-env = "VAR" }`); 4 KB in all.
    /// Default: `{}`.
    #[schemars(with = "Option<EnvTable>")]
    pub env: Option<Spanned<BTreeMap<String, Spanned<toml::Value>>>>,
    /// At most 5 layers, each a layer crate's name (see deploy.toml's
    /// `app.layers`) or a layer version ARN
    /// `arn:aws:lambda:REGION:ACCOUNT:layer:NAME:VERSION`. Default: `[]`.
    #[schemars(with = "Option<Vec<String>>", length(max = MAX_LAYERS))]
    pub layers: Option<Spanned<Vec<Spanned<String>>>>,
    /// A per-service override of deploy.toml's `app.architecture`.
    #[schemars(with = "Option<Arch>")]
    pub architecture: Option<Spanned<Arch>>,
    /// A per-service override of deploy.toml's `app.runtime`; sets the glibc
    /// floor (2.26 for `provided.al2`, 2.34 for `provided.al2023`).
    #[schemars(with = "Option<Runtime>")]
    pub runtime: Option<Spanned<Runtime>>,
    /// The binary target that becomes `bootstrap` when the crate has several.
    /// Default: the only binary.
    #[schemars(with = "Option<String>")]
    pub bin: Option<Spanned<String>>,
    /// The request header this service authenticates callers with, e.g.
    /// `"Authorization"`: a cached route of the service must key on it, and
    /// every cached path pattern the service shares forwards it.
    #[schemars(with = "Option<String>")]
    pub auth_header: Option<Spanned<String>>,
    /// `[package.metadata.ferry.cache."METHOD /path"]`: CloudFront caching of
    /// one of the service's `GET`/`HEAD`/`ANY` routes. Default: not cached.
    #[schemars(with = "Option<BTreeMap<String, RawCache>>")]
    pub cache: Option<Spanned<BTreeMap<Spanned<String>, Spanned<RawCache>>>>,
    /// `[package.metadata.ferry.authorizer]`: this crate is a Lambda
    /// authorizer of the API (it then has no `routes`). Default: a service.
    #[schemars(with = "Option<super::raw_auth::RawAuthorizer>")]
    pub authorizer: Option<Spanned<super::raw_auth::RawAuthorizer>>,
    /// Who may call the service's routes: an authorizer's name (an
    /// authorizer crate, or a stage's `authorizers` entry) or `"public"`,
    /// for every route; or a table of them by `"METHOD /path"`. Default:
    /// no authorizer (refused by a stage with `require-authorizer`).
    #[schemars(with = "Option<super::raw_auth::RawRouteAuth>")]
    pub auth: Option<Spanned<super::raw_auth::RawRouteAuth>>,
    /// The settings of a layer crate (one matched by deploy.toml's
    /// `app.layers`); service keys are then an error.
    #[schemars(with = "Option<RawLayer>")]
    pub layer: Option<Spanned<RawLayer>>,
}

/// `[package.metadata.ferry.layer]`: a layer crate's settings. Every binary
/// target is packed as `extensions/<bin>`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawLayer {
    /// The layer version's description. Default: `"<name> (ferry layer)"`.
    #[schemars(with = "Option<String>")]
    pub description: Option<Spanned<String>>,
    /// Destination under `/opt` = source path relative to the crate: the
    /// destination is a directory, the source a file or a directory (whose
    /// contents are copied under the destination). Default: `{}`.
    #[schemars(with = "Option<BTreeMap<String, String>>")]
    pub files: Option<Spanned<BTreeMap<String, Spanned<String>>>>,
    /// The runtimes the layer is compatible with. Default: both.
    #[schemars(with = "Option<Vec<Runtime>>")]
    pub compatible_runtimes: Option<Spanned<Vec<Runtime>>>,
    /// The architectures the layer is compatible with. Default: both.
    #[schemars(with = "Option<Vec<Arch>>")]
    pub compatible_architectures: Option<Spanned<Vec<Arch>>>,
}

/// `[package.metadata.lambda]` as cargo-lambda defines it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCargoLambda {
    pub deploy: Option<Spanned<RawCargoLambdaDeploy>>,
    /// cargo-lambda's own build, watch and env settings: accepted, not used.
    pub build: Option<toml::Value>,
    pub watch: Option<toml::Value>,
    pub env: Option<toml::Value>,
}

/// `[package.metadata.lambda.deploy]`, kept as a spanned map: cargo-lambda
/// knows many keys that ferry takes from deploy.toml instead, so the loader
/// picks the ones it uses, warns about the others and rejects the unknown.
pub type RawCargoLambdaDeploy = BTreeMap<Spanned<String>, Spanned<toml::Value>>;

/// The cargo-lambda deploy keys ferry accepts but does not take from Cargo.toml,
/// with where ferry takes that setting from instead.
pub const CARGO_LAMBDA_KEYS_NOT_USED: &[(&str, &str)] = &[
    ("role", "the stage's `role` in deploy.toml"),
    ("iam_role", "the stage's `role` in deploy.toml"),
    (
        "log_retention",
        "the stage's `log-retention-days` in deploy.toml",
    ),
    ("tags", "the stage's `tags` in deploy.toml"),
    ("tag", "the stage's `tags` in deploy.toml"),
    (
        "description",
        "nothing: ferry writes function descriptions itself",
    ),
    (
        "env_file",
        "`[package.metadata.ferry] env` or the stage's `env`",
    ),
    (
        "env_var",
        "`[package.metadata.ferry] env` or the stage's `env`",
    ),
    ("include", "a layer crate's `files`"),
    (
        "enable_function_url",
        "nothing: ferry serves functions through API Gateway",
    ),
    (
        "disable_function_url",
        "nothing: ferry serves functions through API Gateway",
    ),
    ("s3_bucket", "nothing: ferry uploads zips directly"),
    ("s3_key", "nothing: ferry uploads zips directly"),
    (
        "compatible_runtimes",
        "a layer crate's `compatible-runtimes`",
    ),
    ("extension", "a layer crate (see `app.layers`)"),
    ("internal", "a layer crate (see `app.layers`)"),
];

/// deploy.toml: the app and the stages it deploys to.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "deploy.toml")]
pub struct RawDeployToml {
    /// `[app]`: the app's name and the defaults of its services.
    #[schemars(with = "RawApp")]
    pub app: Spanned<RawApp>,
    /// `[stages.NAME]`: the stages, by name. Default: none.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, RawStage>")]
    pub stages: BTreeMap<Spanned<String>, Spanned<RawStage>>,
}

/// `[app]` of deploy.toml.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawApp {
    /// The app's name: function names are `<app>-<stage>-<service>`.
    #[schemars(with = "String")]
    pub name: Spanned<String>,
    /// The architecture of every service without its own. Default: `"arm64"`.
    #[schemars(with = "Option<Arch>")]
    pub architecture: Option<Spanned<Arch>>,
    /// The runtime of every service without its own. Default:
    /// `"provided.al2023"`.
    #[schemars(with = "Option<Runtime>")]
    pub runtime: Option<Spanned<Runtime>>,
    /// Workspace-relative globs of the service crate folders (`*` and `?`
    /// only; each must match a folder with a Cargo.toml); authorizer crates
    /// are service crates too. Default: `["services/*", "authorizers/*"]`.
    #[schemars(with = "Option<Vec<String>>")]
    pub services: Option<Spanned<Vec<Spanned<String>>>>,
    /// Workspace-relative globs of the layer crate folders (`*` and `?`
    /// only; each must match a folder with a Cargo.toml). Default:
    /// `["layers/*"]`.
    #[schemars(with = "Option<Vec<String>>")]
    pub layers: Option<Spanned<Vec<Spanned<String>>>>,
    /// The S3 bucket every stage uploads its zips to and deploys them
    /// from (a stage's own `artifact-bucket` wins): a name, or
    /// `{ name = "…", create = true }`. Required for a zip over 50 MB.
    /// Default: none; zips go to Lambda directly.
    #[schemars(with = "Option<super::raw_store::RawArtifactBucket>")]
    pub artifact_bucket: Option<Spanned<super::raw_store::RawArtifactBucket>>,
}

/// `[stages.NAME]` of deploy.toml: one place the app deploys to.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawStage {
    /// The AWS region, e.g. `"eu-west-1"`. Required.
    #[schemars(with = "String")]
    pub region: Spanned<String>,
    /// An execution role ARN for every function of the stage; without it
    /// ferry manages a basic execution role.
    #[schemars(with = "Option<String>")]
    pub role: Option<Spanned<String>>,
    /// How long CloudWatch Logs keeps the functions' logs: one of
    /// CloudWatch's values (1, 3, 5, 7, 14, 30, 60, 90, ...). Default: 30.
    #[schemars(with = "Option<i64>", extend("enum" = LOG_RETENTION_DAYS))]
    pub log_retention_days: Option<Spanned<i64>>,
    /// Environment variables for every function of the stage, over the
    /// services' own; each value a string or a secret (`{ ssm = "/name" }`,
    /// `{ from-env = "VAR" }`). Default: `{}`.
    #[schemars(with = "Option<EnvTable>")]
    pub env: Option<Spanned<BTreeMap<String, Spanned<toml::Value>>>>,
    /// Tags for every function, REST API and log group of the stage (ferry
    /// adds `ferry:app` and `ferry:stage`). Default: `{}`.
    #[schemars(with = "Option<BTreeMap<String, String>>")]
    pub tags: Option<Spanned<BTreeMap<String, Spanned<String>>>>,
    /// `[stages.NAME.vpc]`: the VPC every function of the stage joins
    /// (a service's override can give another, or `false`). Default: none.
    #[schemars(with = "Option<super::raw_vpc::RawVpc>")]
    pub vpc: Option<Spanned<super::raw_vpc::RawVpc>>,
    /// `[stages.NAME.api]`: the stage's REST API.
    #[schemars(with = "Option<RawApi>")]
    pub api: Option<Spanned<RawApi>>,
    /// `[stages.NAME.cloudfront]`: optional, the stage's public front door.
    #[schemars(with = "Option<RawCloudFront>")]
    pub cloudfront: Option<Spanned<RawCloudFront>>,
    /// The AWS account the stage lives in (its 12-digit id): every command
    /// refuses credentials of another account before any other call.
    /// Default: whichever account the credentials reach.
    #[schemars(with = "Option<String>")]
    pub account: Option<Spanned<String>>,
    /// The profile of the AWS config file whose credentials reach this stage
    /// (for example one with a `role_arn` in the stage's account), used
    /// instead of the SDK's default chain. Default: the default chain.
    #[schemars(with = "Option<String>")]
    pub profile: Option<Spanned<String>>,
    /// Refuse `cargo xtask destroy` of this stage (remove the key, or set it
    /// to `false`, to allow it). Default: `false`.
    #[schemars(with = "Option<bool>")]
    pub protected: Option<Spanned<bool>>,
    /// The S3 bucket this stage uploads its zips to and deploys them from,
    /// over `[app]`'s. Default: `[app]`'s `artifact-bucket`.
    #[schemars(with = "Option<super::raw_store::RawArtifactBucket>")]
    pub artifact_bucket: Option<Spanned<super::raw_store::RawArtifactBucket>>,
    /// `[stages.NAME.log-archive]`: copy the stage's logs to S3 through a
    /// Firehose delivery stream, so they outlive their retention.
    /// Default: none.
    #[schemars(with = "Option<super::raw_archive::RawLogArchive>")]
    pub log_archive: Option<Spanned<super::raw_archive::RawLogArchive>>,
    /// `[stages.NAME.authorizers.NAME]`: Cognito user pool authorizers that
    /// routes name in `auth`. Default: none.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, super::raw_auth::RawCognito>")]
    pub authorizers: BTreeMap<Spanned<String>, Spanned<super::raw_auth::RawCognito>>,
    /// `[stages.NAME.services.SERVICE]`: per-service overrides for this stage,
    /// by service name. Default: none.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, RawServiceOverride>")]
    pub services: BTreeMap<Spanned<String>, Spanned<RawServiceOverride>>,
}

/// `[stages.NAME.cloudfront]`: the public front door of a stage. It needs
/// `domain` or `distribution`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawCloudFront {
    /// The public DNS name, e.g. `"api.example.com"`, found among the
    /// distributions' aliases.
    #[schemars(with = "Option<String>")]
    pub domain: Option<Spanned<String>>,
    /// An ACM certificate ARN in us-east-1 covering `domain`; lets ferry
    /// create the distribution. Needs `domain`.
    #[schemars(with = "Option<String>")]
    pub certificate: Option<Spanned<String>>,
    /// A Route 53 hosted zone id where ferry keeps A/AAAA alias records for
    /// `domain`. Needs `domain`.
    #[schemars(with = "Option<String>")]
    pub hosted_zone: Option<Spanned<String>>,
    /// The id of an existing distribution to wire.
    #[schemars(with = "Option<String>")]
    pub distribution: Option<Spanned<String>>,
    /// The origin id of `distribution` to point at the API. Needs
    /// `distribution`. Default: the default cache behaviour's origin.
    #[schemars(with = "Option<String>")]
    pub origin: Option<Spanned<String>>,
    /// Invalidate the paths whose routes changed on each deploy. Default:
    /// false. (The paths of a cached route whose function changed are
    /// invalidated either way.)
    #[schemars(with = "Option<bool>")]
    pub invalidate: Option<Spanned<bool>>,
    /// `[stages.NAME.cloudfront.cache]`: the stage's caching defaults and
    /// per-route overrides.
    #[schemars(with = "Option<RawStageCache>")]
    pub cache: Option<Spanned<RawStageCache>>,
}

/// `[stages.NAME.api]`: the stage's REST API.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawApi {
    /// The REST API's name. Default: `"<app>-<stage>"`.
    #[schemars(with = "Option<String>")]
    pub name: Option<Spanned<String>>,
    /// The id of an existing REST API this stage adopts (`cargo xtask
    /// import` writes it): ferry merges its routes into that API, keeps the
    /// methods it does not manage, and never deletes it. Default: none; ferry
    /// finds or creates the API by `name`.
    #[schemars(with = "Option<String>", regex(pattern = "^[a-z0-9]{10}$"))]
    pub id: Option<Spanned<String>>,
    /// The endpoint type. Default: `"REGIONAL"`.
    #[schemars(with = "Option<super::EndpointType>")]
    pub endpoint: Option<Spanned<super::EndpointType>>,
    /// Media types the API treats as binary, e.g.
    /// `"application/octet-stream"`. Default: `[]`.
    #[schemars(with = "Option<Vec<String>>")]
    pub binary_media_types: Option<Spanned<Vec<Spanned<String>>>>,
    /// `[stages.NAME.api.cache]`: API Gateway's stage cache, for a stage
    /// without a CloudFront front door.
    #[schemars(with = "Option<RawApiCache>")]
    pub cache: Option<Spanned<RawApiCache>>,
    /// `[stages.NAME.api.cors]`: the browser origins that may call the
    /// API. Default: no CORS.
    #[schemars(with = "Option<RawCors>")]
    pub cors: Option<Spanned<RawCors>>,
    /// X-Ray tracing of the API stage (its requests appear in X-Ray with
    /// the functions' segments). Default: `false`.
    #[schemars(with = "Option<bool>")]
    pub tracing: Option<Spanned<bool>>,
    /// `[stages.NAME.api.throttle]`: request rate limits for the stage and
    /// per route. Default: the account's (10000/s, burst 5000).
    #[schemars(with = "Option<RawThrottle>")]
    pub throttle: Option<Spanned<RawThrottle>>,
    /// `[stages.NAME.api.access-log]`: an access log of the stage's
    /// requests. Default: none.
    #[schemars(with = "Option<RawAccessLog>")]
    pub access_log: Option<Spanned<RawAccessLog>>,
    /// `[stages.NAME.api.quotas]`: API Gateway quotas AWS raised for your
    /// account. Default: AWS's defaults (300 resources, 10 stages).
    #[schemars(with = "Option<RawQuotas>")]
    pub quotas: Option<Spanned<RawQuotas>>,
    /// Every route must say who may call it: name an authorizer or be
    /// `auth = "public"`; `check` refuses the rest. Default: `false`.
    #[schemars(with = "Option<bool>")]
    pub require_authorizer: Option<Spanned<bool>>,
}

/// `[stages.NAME.services.SERVICE]`: a service's settings on this stage,
/// over its own.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawServiceOverride {
    /// The existing Lambda function this service deploys to on this stage
    /// (`cargo xtask import` writes it): ferry updates it in place and never
    /// deletes it. Default: `"<app>-<stage>-<service>"`, which ferry creates.
    #[schemars(with = "Option<String>", regex(pattern = r"^[A-Za-z0-9_-]{1,64}$"))]
    pub function_name: Option<Spanned<String>>,
    /// Memory in MB on this stage, 128 to 10240. Default: the service's.
    #[schemars(
        with = "Option<i64>",
        range(min = *MEMORY_MB.start(), max = *MEMORY_MB.end())
    )]
    pub memory: Option<Spanned<i64>>,
    /// Timeout in seconds on this stage, 1 to 900. Default: the service's.
    #[schemars(
        with = "Option<i64>",
        range(min = *TIMEOUT_S.start(), max = *TIMEOUT_S.end())
    )]
    pub timeout: Option<Spanned<i64>>,
    /// Reserved concurrency on this stage. Default: the service's.
    #[schemars(
        with = "Option<i64>",
        range(min = *RESERVED_CONCURRENCY.start(), max = *RESERVED_CONCURRENCY.end())
    )]
    pub reserved_concurrency: Option<Spanned<i64>>,
    /// This service's VPC on this stage: a table with `subnets` and
    /// `security-groups`, or `false` for none. Default: the stage's `vpc`.
    #[schemars(with = "Option<super::raw_vpc::RawVpcOverride>")]
    pub vpc: Option<Spanned<super::raw_vpc::RawVpcOverride>>,
    /// Environment variables on this stage, over the stage's and the
    /// service's; each value a string or a secret (`{ ssm = "/name" }`,
    /// `{ from-env = "VAR" }`). Default: `{}`.
    #[schemars(with = "Option<EnvTable>")]
    pub env: Option<Spanned<BTreeMap<String, Spanned<toml::Value>>>>,
}

// The schema of an `env` table, for `crate::schema` only: the loader reads
// these tables as TOML values and `super::env_value` checks each one, so
// these types are never built.

/// Environment variables: names `[A-Za-z][A-Za-z0-9_]*`, each value a string
/// or a secret.
#[derive(JsonSchema)]
#[serde(transparent)]
#[schemars(extend("propertyNames" = { "pattern": "^[A-Za-z][A-Za-z0-9_]*$" }))]
#[allow(dead_code)]
struct EnvTable(BTreeMap<String, EnvValue>);

/// An environment value: a string, or a secret that ferry resolves when it
/// deploys and never prints.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum EnvValue {
    /// A plain value.
    Plain(String),
    Ssm(SsmSecret),
    FromEnv(FromEnvSecret),
}

/// A secret from an SSM parameter (a SecureString is decrypted).
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct SsmSecret {
    /// The parameter's name (letters, digits and `_.-/`) or ARN.
    #[schemars(regex(pattern = r"^(arn:.*:ssm:.*:parameter/.*|[A-Za-z0-9_./-]{1,2048})$"))]
    ssm: String,
}

/// A secret from a variable of the process that deploys (a CI secret).
#[derive(JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
#[allow(dead_code)]
struct FromEnvSecret {
    /// The variable's name.
    #[schemars(regex(pattern = r"^[A-Za-z_][A-Za-z0-9_]*$"))]
    from_env: String,
}
