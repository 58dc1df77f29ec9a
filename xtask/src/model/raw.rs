//! The raw TOML schemas exactly as users write them: serde types with
//! `deny_unknown_fields` and spans, and no defaults applied. `load` turns them
//! into the validated model.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::names::{Arch, Runtime};

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
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawFerry {
    #[serde(default)]
    pub routes: Vec<Spanned<String>>,
    pub memory: Option<Spanned<i64>>,
    pub timeout: Option<Spanned<i64>>,
    pub env: Option<Spanned<BTreeMap<String, Spanned<toml::Value>>>>,
    pub layers: Option<Spanned<Vec<Spanned<String>>>>,
    pub architecture: Option<Spanned<Arch>>,
    pub runtime: Option<Spanned<Runtime>>,
    /// The binary target to deploy when the crate has several.
    pub bin: Option<Spanned<String>>,
    pub layer: Option<Spanned<RawLayer>>,
}

/// `[package.metadata.ferry.layer]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawLayer {
    pub description: Option<Spanned<String>>,
    /// Destination under `/opt` = source path relative to the crate.
    pub files: Option<Spanned<BTreeMap<String, Spanned<String>>>>,
    pub compatible_runtimes: Option<Spanned<Vec<Runtime>>>,
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
        "tracing",
        "nothing yet: X-Ray tracing is not managed by ferry",
    ),
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
        "subnet_ids",
        "nothing yet: VPC settings are not managed by ferry",
    ),
    (
        "security_group_ids",
        "nothing yet: VPC settings are not managed by ferry",
    ),
    (
        "ipv6_allowed_for_dual_stack",
        "nothing yet: VPC settings are not managed by ferry",
    ),
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
    ("extension", "a crate under layers/"),
    ("internal", "a crate under layers/"),
];

/// deploy.toml.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDeployToml {
    pub app: Spanned<RawApp>,
    #[serde(default)]
    pub stages: BTreeMap<Spanned<String>, Spanned<RawStage>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawApp {
    pub name: Spanned<String>,
    pub architecture: Option<Spanned<Arch>>,
    pub runtime: Option<Spanned<Runtime>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawStage {
    pub region: Spanned<String>,
    pub role: Option<Spanned<String>>,
    pub log_retention_days: Option<Spanned<i64>>,
    pub env: Option<Spanned<BTreeMap<String, Spanned<toml::Value>>>>,
    pub tags: Option<Spanned<BTreeMap<String, Spanned<String>>>>,
    pub api: Option<Spanned<RawApi>>,
    pub cloudfront: Option<Spanned<RawCloudFront>>,
    #[serde(default)]
    pub services: BTreeMap<Spanned<String>, Spanned<RawServiceOverride>>,
}

/// `[stages.NAME.cloudfront]`: the public front door of a stage.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawCloudFront {
    pub domain: Option<Spanned<String>>,
    pub certificate: Option<Spanned<String>>,
    pub hosted_zone: Option<Spanned<String>>,
    pub distribution: Option<Spanned<String>>,
    pub origin: Option<Spanned<String>>,
    pub invalidate: Option<Spanned<bool>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawApi {
    pub name: Option<Spanned<String>>,
    pub endpoint: Option<Spanned<super::EndpointType>>,
    pub binary_media_types: Option<Spanned<Vec<Spanned<String>>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawServiceOverride {
    pub memory: Option<Spanned<i64>>,
    pub timeout: Option<Spanned<i64>>,
    pub env: Option<Spanned<BTreeMap<String, Spanned<toml::Value>>>>,
}
