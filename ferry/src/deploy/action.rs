//! The writes a deploy makes, as data: each action names its resource and
//! what changes, so the plan renders and serialises without AWS types.

use serde::Serialize;

use crate::model::Arch;

/// One write the deploy makes.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    CreateRole {
        name: String,
    },
    PublishLayerVersion {
        layer: String,
        arch: Arch,
        code_sha256: String,
        zip: String,
    },
    CreateFunction {
        function: String,
        arch: Arch,
        code_sha256: String,
        zip: String,
    },
    UpdateFunctionCode {
        function: String,
        arch: Arch,
        from: String,
        to: String,
        zip: String,
    },
    UpdateFunctionConfiguration {
        function: String,
        changes: Vec<Change>,
    },
    CreateLogGroup {
        name: String,
        retention_days: u32,
    },
    PutRetentionPolicy {
        name: String,
        from: Option<u32>,
        to: u32,
    },
    /// Tag keys to set (new or changed) and to remove.
    TagFunction {
        function: String,
        set: Vec<String>,
        remove: Vec<String>,
    },
    AddInvokePermission {
        function: String,
        /// A statement with ferry's id exists but names another API.
        replace: bool,
    },
    CreateRestApi {
        name: String,
    },
    PutRestApi {
        api: String,
        routes: usize,
        definition_hash: String,
    },
    CreateDeployment {
        api: String,
        stage: String,
        definition_hash: String,
    },
    DeleteFunction {
        function: String,
    },
    /// A distribution for the stage's domain, its origin the API stage.
    CreateDistribution {
        domain: String,
        certificate: String,
        /// `None`: the API this deploy creates.
        origin_domain: Option<String>,
        origin_path: String,
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
    CreateInvalidation {
        distribution: String,
        paths: Vec<String>,
    },
}

/// One configuration field that differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub field: &'static str,
    pub from: String,
    pub to: String,
}
