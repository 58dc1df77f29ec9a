//! `cargo xtask import`: from a stage someone built in the console to a
//! ferry stage that adopts it. The AWS side reads the stage into [`Found`];
//! [`plan`] (pure) maps its functions to the workspace's services and
//! decides what to write (the stage into deploy.toml, each mapped service's
//! routes into its Cargo.toml) and what to report: what ferry cannot
//! represent, which it leaves untouched, and the functions without a crate.

mod edit;
mod report;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::model::stage_api::Throttle;
use crate::model::{Arch, EndpointType, Workspace};

pub use report::{Finding, Report};

/// What `import` read of an existing API Gateway stage and what it invokes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Found {
    pub region: String,
    pub api_id: String,
    pub api_name: String,
    pub endpoint: Option<EndpointType>,
    pub binary_media_types: Vec<String>,
    /// The API Gateway stage, which becomes the ferry stage of that name.
    pub stage: String,
    pub tracing: bool,
    /// The throttle of every method, when the stage sets one.
    pub throttle: Option<Throttle>,
    /// Methods with settings of their own (`~1items/GET`).
    pub method_settings: Vec<String>,
    pub stage_variables: Vec<String>,
    /// The access log's destination, when the stage writes one.
    pub access_log: Option<String>,
    pub methods: Vec<FoundMethod>,
    /// The functions the proxy integrations and the Lambda authorizers
    /// invoke, by name.
    pub functions: BTreeMap<String, FoundFunction>,
    /// The authorizers of the API: (name, type). A Lambda authorizer's
    /// function is among `functions`, so a service can adopt it.
    pub authorizers: Vec<(String, String)>,
    /// The usage plans that name this stage.
    pub usage_plans: Vec<String>,
    pub distribution: Option<FoundDistribution>,
}

/// One method of the API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FoundMethod {
    pub method: String,
    pub path: String,
    /// `NONE`, `AWS_IAM`, `CUSTOM` or `COGNITO_USER_POOLS`.
    pub authorization: String,
    pub api_key_required: bool,
    pub integration: Integration,
}

/// What a method's integration does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Integration {
    /// `AWS_PROXY` to a Lambda function (its name, qualifier dropped).
    LambdaProxy { function: String },
    /// Anything else: its type and, when it has one, its URI.
    Other { kind: String, uri: Option<String> },
    /// The method has no integration.
    Missing,
}

/// A function a proxy integration invokes, as Lambda describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FoundFunction {
    pub runtime: String,
    pub arch: Arch,
    pub memory_mb: u32,
    pub timeout_s: u32,
    pub role: String,
    /// The names of its environment variables (the values stay in AWS).
    pub env: Vec<String>,
    pub layers: Vec<String>,
    /// Its log group's retention: `None` never expires, and a group that
    /// does not exist is `None` too.
    pub retention_days: Option<u32>,
    /// Its subnets and security groups, when it runs in a VPC.
    pub vpc: Option<(Vec<String>, Vec<String>)>,
}

/// The CloudFront distribution in front of the stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FoundDistribution {
    pub id: String,
    /// The origin that points at the API, if one does.
    pub origin: Option<FoundOrigin>,
    /// The default cache behaviour's origin id.
    pub default_origin: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FoundOrigin {
    pub id: String,
    pub path: String,
}

/// The edits `import` makes, and what it reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Import {
    /// deploy.toml's new text.
    pub deploy_toml: String,
    /// Each mapped service's Cargo.toml (path from the workspace root) and
    /// its new text, for those whose routes change.
    pub manifests: BTreeMap<PathBuf, String>,
    pub report: Report,
}

/// Why `import` writes nothing.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ImportError {
    #[error("deploy.toml already has a stage `{0}`")]
    #[diagnostic(help("import writes a new stage: pick another API Gateway stage, or remove `[stages.{0}]` from deploy.toml and import again"))]
    StageExists(String),
    #[error("`--map {0}`: {1}")]
    #[diagnostic(help("write `--map FUNCTION=SERVICE` with a function the API invokes and a service crate of the workspace (`cargo xtask routes` lists them)"))]
    Map(String, String),
    #[error("{file} cannot be edited: {why}")]
    #[diagnostic(help(
        "fix the file's TOML (`cargo xtask check` points at the line), then import again"
    ))]
    Edit { file: String, why: String },
}

/// Which service each function becomes: `--map F=S` first, then a function
/// whose name is a service's or ends with `-<service>` (longest wins).
pub fn mapping(
    workspace: &Workspace,
    found: &Found,
    maps: &[String],
) -> Result<BTreeMap<String, String>, ImportError> {
    let mut out = BTreeMap::new();
    for map in maps {
        let (function, service) = map
            .split_once('=')
            .ok_or_else(|| ImportError::Map(map.clone(), "no `=`".into()))?;
        if !found.functions.contains_key(function) {
            let known: Vec<&str> = found.functions.keys().map(String::as_str).collect();
            let why = format!(
                "the stage's integrations invoke no function `{function}` (they invoke: {})",
                known.join(", ")
            );
            return Err(ImportError::Map(map.clone(), why));
        }
        if !workspace.services.contains_key(service) {
            let why = format!("the workspace has no service `{service}`");
            return Err(ImportError::Map(map.clone(), why));
        }
        if let Some((other, _)) = out.iter().find(|(_, s)| *s == service) {
            let why =
                format!("`{other}` is mapped to `{service}` already: one crate is one function");
            return Err(ImportError::Map(map.clone(), why));
        }
        out.insert(function.to_owned(), service.to_owned());
    }
    let explicit: Vec<String> = out.keys().cloned().collect();
    for function in found.functions.keys().filter(|f| !explicit.contains(*f)) {
        let service = workspace
            .services
            .keys()
            .filter(|s| !out.values().any(|v| v == *s))
            .filter(|s| function == *s || function.ends_with(&format!("-{s}")))
            .max_by_key(|s| s.len());
        if let Some(service) = service {
            out.insert(function.clone(), service.clone());
        }
    }
    Ok(out)
}

/// Loads the workspace at `root` as it would be with `import`'s texts, so
/// that nothing is written that `check` refuses.
pub fn check_written(
    root: &std::path::Path,
    import: &Import,
) -> miette::Result<crate::model::Workspace> {
    use miette::IntoDiagnostic;
    let mut files = crate::model::WorkspaceFiles::read(root).into_diagnostic()?;
    files.deploy_toml = Some(import.deploy_toml.clone());
    for krate in &mut files.crates {
        if let Some(text) = import.manifests.get(&krate.dir.join("Cargo.toml")) {
            krate.manifest = text.clone();
        }
    }
    crate::model::load_workspace_from(&files).map_err(|errors| {
        miette::Report::new(errors).wrap_err(
            "what import would write does not pass `check`; nothing was written (the errors point at the texts it would write)",
        )
    })
}

/// What importing `found` into `workspace` writes and reports.
pub fn plan(
    workspace: &Workspace,
    deploy_toml: &str,
    manifests: &BTreeMap<PathBuf, String>,
    found: &Found,
    maps: &[String],
) -> Result<Import, ImportError> {
    if workspace.stages.contains_key(&found.stage) {
        return Err(ImportError::StageExists(found.stage.clone()));
    }
    let mapping = mapping(workspace, found, maps)?;
    let mut report = Report::new(found, &mapping);
    report.unmapped_services(workspace.services.keys());
    // Routes per mapped service, from the proxy methods any caller may call.
    let mut routes: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for m in &found.methods {
        let Integration::LambdaProxy { function } = &m.integration else {
            continue;
        };
        if !report.represented(m) {
            continue;
        }
        if let Some(service) = mapping.get(function) {
            routes
                .entry(service)
                .or_default()
                .push(format!("{} {}", m.method, m.path));
        }
    }
    let deploy_toml =
        edit::stage(deploy_toml, workspace, found, &mapping, &mut report).map_err(|why| {
            ImportError::Edit {
                file: "deploy.toml".into(),
                why,
            }
        })?;
    let mut edited = BTreeMap::new();
    for (service, routes) in routes {
        let dir = &workspace.services[service].dir;
        let path = dir.join("Cargo.toml");
        let Some(text) = manifests.get(&path) else {
            continue;
        };
        let own: Vec<String> = workspace.services[service]
            .routes
            .iter()
            .map(|r| format!("{} {}", r.method, r.path))
            .collect();
        let added: Vec<String> = routes
            .iter()
            .filter(|r| !own.contains(r))
            .cloned()
            .collect();
        let elsewhere: Vec<&String> = own.iter().filter(|r| !routes.contains(r)).collect();
        if !elsewhere.is_empty() {
            let list: Vec<&str> = elsewhere.iter().map(|r| r.as_str()).collect();
            report.notes.push(Finding {
                what: format!("`{service}` has routes the stage does not serve: {}", list.join(", ")),
                todo: "kept (a crate's routes apply on every stage): the first deploy adds them to the adopted API".into(),
            });
        }
        let new = edit::add_routes(text, &added).map_err(|why| ImportError::Edit {
            file: path.display().to_string(),
            why,
        })?;
        if let Some(new) = new {
            report.changed_routes(service, &added);
            edited.insert(path, new);
        }
    }
    Ok(Import {
        deploy_toml,
        manifests: edited,
        report,
    })
}
