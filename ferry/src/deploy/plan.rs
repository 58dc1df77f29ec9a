//! The plan: desired state against live state, in a pure function with no
//! I/O. `plan`, `deploy --dry-run` and `deploy` all go through [`plan`]; the
//! executor applies its actions in the order given, which is dependency order.

use serde::{Deserialize, Serialize};

pub use super::action::{Action, Change, FunctionSettings, LayerArn};

use super::action::LAMBDA_TRUST_POLICY;
use super::authorizers::Invoker;
use super::openapi;
use super::state::{
    Desired, DesiredFunction, DesiredLayerRef, DesiredRole, Live, LiveFunction, TAG_ADOPTED,
    TAG_APP, TAG_STAGE,
};
use crate::model::Arch;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    pub app: String,
    pub stage: String,
    pub region: String,
    /// The AWS account the plan was made against.
    pub account: String,
    pub actions: Vec<Action>,
    /// Resources that are already as desired.
    pub unchanged: Vec<String>,
}

impl Plan {
    /// The plan of `actions` for a stage, `(app, stage, region)`, in `account`.
    pub fn new(
        (app, stage, region): (&str, &str, &str),
        account: &str,
        actions: Vec<Action>,
        unchanged: Vec<String>,
    ) -> Plan {
        Plan {
            app: app.to_owned(),
            stage: stage.to_owned(),
            region: region.to_owned(),
            account: account.to_owned(),
            actions,
            unchanged,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }

    /// The commit and manifest hash the plan's release records, if it
    /// records one.
    pub fn provenance(&self) -> Option<(Option<String>, Option<String>)> {
        self.actions.iter().find_map(|a| match a {
            Action::RecordRelease { release, .. } => {
                Some((release.commit.clone(), release.manifest_sha256.clone()))
            }
            _ => None,
        })
    }
}

/// Compares `desired` with `live`. Functions removed from the workspace are
/// deleted only with `prune`; their routes leave the API either way.
pub fn plan(desired: &Desired, live: &Live, prune: bool) -> Plan {
    let mut actions = Vec::new();
    let mut unchanged = Vec::new();
    if let DesiredRole::Managed(name) = &desired.role {
        if live.managed_role_exists {
            unchanged.push(format!("role {name}"));
        } else {
            actions.push(Action::CreateRole {
                name: name.clone(),
                description: format!(
                    "Lambda execution role of {} stage {}, managed by ferry",
                    desired.app, desired.stage
                ),
                trust_policy: LAMBDA_TRUST_POLICY.to_owned(),
                policies: super::action::managed_policies(shared_role_functions(desired)),
                path: None,
                inline: None,
            });
        }
    }
    super::roles::actions(desired, live, &mut actions, &mut unchanged);
    for ((name, arch), layer) in &desired.layers {
        if layer_version_arn(live, name, *arch, &layer.code_sha256).is_some() {
            unchanged.push(format!("layer {name} ({arch})"));
        } else {
            actions.push(Action::PublishLayerVersion {
                layer: name.clone(),
                arch: *arch,
                code_sha256: layer.code_sha256.clone(),
                zip: layer.zip.clone(),
                description: layer.description.clone(),
                compatible_runtimes: layer.compatible_runtimes.clone(),
                s3: None,
            });
        }
    }
    // The API exists (empty) before the functions, so that their invoke
    // permissions can name it; it serves nothing until its first deployment.
    // An adopted API is found by id or the read stops the run: never created.
    if live.api.is_none() && desired.api.id.is_none() {
        actions.push(Action::CreateRestApi {
            name: desired.api.name.clone(),
            description: format!(
                "{} stage `{}`, deployed by ferry",
                desired.app, desired.stage
            ),
            endpoint: desired.api.endpoint,
            binary_media_types: desired.api.binary_media_types.clone(),
            tags: desired.tags.clone(),
        });
    }
    for function in desired.functions.values() {
        let before = actions.len();
        let group = format!("/aws/lambda/{}", function.name);
        // The log group comes first: it must exist, with its retention,
        // before the function's first invocation creates it without one.
        actions.extend(log_group(desired, live, group));
        let written = actions.len();
        function_actions(desired, live, function, &mut actions);
        let writes_function = actions[written..].iter().any(|a| {
            matches!(
                a,
                Action::CreateFunction { .. }
                    | Action::UpdateFunctionCode { .. }
                    | Action::UpdateFunctionConfiguration { .. }
            )
        });
        super::release::actions(desired, live, function, writes_function, &mut actions);
        let qualifier = Some(super::release::alias_name(&desired.stage));
        if let Some(api) = &live.api {
            let wanted =
                invoke_source_arn(&desired.region, &live.account_id, &api.id, function.invoker);
            match live.permissions.get(&function.name) {
                Some(source) if *source == wanted => {}
                other => actions.push(Action::AddInvokePermission {
                    function: function.name.clone(),
                    replace: other.is_some(),
                    api_id: Some(api.id.clone()),
                    qualifier,
                    invoker: function.invoker,
                }),
            }
        } else {
            // A new API: any statement of ferry's names an API that is gone.
            actions.push(Action::AddInvokePermission {
                function: function.name.clone(),
                replace: live.permissions.contains_key(&function.name),
                api_id: None,
                qualifier,
                invoker: function.invoker,
            });
        }
        if actions.len() == before {
            unchanged.push(format!("function {}", function.name));
        }
    }
    let api = &desired.api;
    let deployed_hash = live
        .api
        .as_ref()
        .and_then(|a| a.stage_deployment.as_ref())
        .and_then(|(_, hash)| hash.clone());
    let definition_changed = deployed_hash.as_deref() != Some(api.definition_hash.as_str());
    if definition_changed {
        let hash = api.definition_hash.clone();
        let api_id = live.api.as_ref().map(|a| a.id.clone());
        actions.push(Action::PutRestApi {
            api: api.name.clone(),
            api_id: api_id.clone(),
            routes: api.routes.len(),
            adopted: api.id.is_some(),
            kept: kept_methods(desired, live),
            cors: api.cors.as_ref().map(|c| c.summary(&api.routes)),
            authorizers: super::authorizers::summary(&api.authorizers, &api.security),
            definition_hash: hash.clone(),
            definition: openapi::definition(desired, &live.account_id),
            preflights: openapi::preflights(desired),
        });
        actions.push(Action::CreateDeployment {
            api: api.name.clone(),
            api_id,
            stage: desired.stage.clone(),
            description: openapi::deployment_description(&hash),
            definition_hash: hash,
        });
    } else {
        unchanged.push(format!("api {} ({} routes)", api.name, api.routes.len()));
    }
    super::stage_cache::actions(desired, live, &mut actions, &mut unchanged);
    super::stage_settings::actions(desired, live, &mut actions, &mut unchanged);
    // After every log group it subscribes exists.
    super::log_archive::actions(desired, live, &mut actions, &mut unchanged);
    super::front::actions(
        desired,
        live,
        definition_changed,
        &mut actions,
        &mut unchanged,
    );
    if prune {
        let ours = |f: &LiveFunction| {
            f.tags.get(TAG_APP) == Some(&desired.app)
                && f.tags.get(TAG_STAGE) == Some(&desired.stage)
                && !f.tags.contains_key(TAG_ADOPTED)
        };
        for (name, _) in live
            .functions
            .iter()
            .filter(|(n, f)| ours(f) && !desired.functions.contains_key(*n))
        {
            actions.push(Action::DeleteFunction {
                function: name.clone(),
            });
        }
    }
    actions.extend(super::record::deploy_record(desired, live, &actions));
    // A canary left by an interrupted deploy ends here: this plan moves
    // its aliases all the way (and records the release first).
    if live.canary.is_some() {
        actions.push(Action::EndCanary {
            parameter: super::canary::parameter(&desired.app, &desired.stage),
        });
    }
    if let (Some(store), Some(true)) = (&desired.store, live.store.as_ref().map(|s| s.exists)) {
        unchanged.push(format!("artifact bucket {}", store.bucket));
    }
    let at = (
        desired.app.as_str(),
        desired.stage.as_str(),
        desired.region.as_str(),
    );
    super::store::route(desired, live.store.as_ref(), &mut actions);
    Plan::new(at, &live.account_id, actions, unchanged)
}

/// The write that makes log group `name` exist with the stage's retention
/// and tags, if it needs one.
pub(super) fn log_group(desired: &Desired, live: &Live, name: String) -> Option<Action> {
    match live.log_groups.get(&name) {
        None => Some(Action::CreateLogGroup {
            name,
            retention_days: desired.log_retention_days,
            tags: desired.tags.clone(),
        }),
        Some(days) if *days != Some(desired.log_retention_days) => {
            Some(Action::PutRetentionPolicy {
                name,
                from: *days,
                to: desired.log_retention_days,
            })
        }
        Some(_) => None,
    }
}

/// The source ARN ferry's invoke permission names: any stage, method and
/// path of one REST API, or for an authorizer any authorizer of it. One
/// statement per function keeps the function's policy far below Lambda's
/// 20 KB limit however many routes it serves.
pub fn invoke_source_arn(region: &str, account: &str, api_id: &str, invoker: Invoker) -> String {
    match invoker {
        Invoker::Routes => format!("arn:aws:execute-api:{region}:{account}:{api_id}/*/*/*"),
        Invoker::Authorizer => {
            format!("arn:aws:execute-api:{region}:{account}:{api_id}/authorizers/*")
        }
    }
}

/// The statement id of ferry's invoke permission on every function.
pub const INVOKE_STATEMENT_ID: &str = "ferry-apigateway-invoke";

/// The ARN of an existing version of `layer` for `arch` that carries `sha256`.
pub fn layer_version_arn<'a>(
    live: &'a Live,
    layer: &str,
    arch: Arch,
    sha256: &str,
) -> Option<&'a str> {
    live.layer_versions
        .get(layer)?
        .iter()
        .rev()
        .find(|v| {
            v.recorded_sha256() == Some(sha256)
                && (v.compatible_architectures.is_empty()
                    || v.compatible_architectures.contains(&arch))
        })
        .map(|v| v.arn.as_str())
}

fn function_actions(
    desired: &Desired,
    live: &Live,
    function: &DesiredFunction,
    actions: &mut Vec<Action>,
) {
    let Some(current) = live.functions.get(&function.name) else {
        actions.push(Action::CreateFunction {
            function: function.name.clone(),
            arch: function.arch,
            code_sha256: function.code_sha256.clone(),
            zip: function.zip.clone(),
            settings: settings(desired, live, function),
            tags: function.tags.clone(),
            s3: None,
        });
        actions.extend(super::changes::concurrency(function, None));
        return;
    };
    // Lambda takes the architecture only with the code, so a change of
    // architecture is a code update even when the hash is the same.
    if current.code_sha256 != function.code_sha256 || current.arch != function.arch {
        actions.push(Action::UpdateFunctionCode {
            function: function.name.clone(),
            arch: function.arch,
            from: current.code_sha256.clone(),
            to: function.code_sha256.clone(),
            zip: function.zip.clone(),
            s3: None,
        });
    }
    let changes = super::changes::config_changes(desired, live, function, current);
    if !changes.is_empty() {
        actions.push(Action::UpdateFunctionConfiguration {
            function: function.name.clone(),
            changes,
            settings: settings(desired, live, function),
        });
    }
    actions.extend(super::changes::concurrency(
        function,
        current.reserved_concurrency,
    ));
    let set: std::collections::BTreeMap<String, String> = function
        .tags
        .iter()
        .filter(|(k, v)| current.tags.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    // AWS's own `aws:` tags cannot be removed, and an adopted function's
    // other tags are its owners': ferry removes only its own there.
    let adopted = function.tags.contains_key(TAG_ADOPTED);
    let remove: Vec<String> = current
        .tags
        .keys()
        .filter(|k| !function.tags.contains_key(*k) && !k.starts_with("aws:"))
        .filter(|k| !adopted || k.starts_with("ferry:"))
        .cloned()
        .collect();
    if !set.is_empty() || !remove.is_empty() {
        actions.push(Action::TagFunction {
            function: function.name.clone(),
            arn: openapi::function_arn(&desired.region, &live.account_id, &function.name),
            set,
            remove,
        });
    }
}

/// The methods of an adopted API that ferry does not manage (not one of
/// its routes, nor a CORS preflight it writes): a merge keeps them.
fn kept_methods(desired: &Desired, live: &Live) -> Vec<String> {
    let (Some(_), Some(api)) = (&desired.api.id, &live.api) else {
        return Vec::new();
    };
    let ours: std::collections::BTreeSet<String> = desired
        .api
        .routes
        .iter()
        .map(|(method, path, _)| format!("{method} {path}"))
        .collect();
    let preflights = desired.api.cors.is_some();
    api.routes
        .keys()
        .filter(|k| !(ours.contains(*k) || preflights && k.starts_with("OPTIONS ")))
        .cloned()
        .collect()
}

/// The whole configuration a create or a configuration update sends.
fn settings(desired: &Desired, live: &Live, function: &DesiredFunction) -> FunctionSettings {
    FunctionSettings {
        runtime: function.runtime,
        role: function.role.arn(&live.account_id),
        memory_mb: function.memory_mb,
        timeout_s: function.timeout_s,
        tracing: function.tracing,
        ephemeral_mb: function.ephemeral_mb,
        vpc: function.vpc.clone(),
        env: function.env_declared.clone(),
        layers: layer_arns(desired, live, function),
    }
}

/// The layer versions `function` uses: existing ones by ARN, the others as
/// published by this plan.
pub(super) fn layer_arns(
    desired: &Desired,
    live: &Live,
    function: &DesiredFunction,
) -> Vec<LayerArn> {
    function
        .layers
        .iter()
        .map(|l| match l {
            DesiredLayerRef::Arn(arn) => LayerArn::Arn(arn.clone()),
            DesiredLayerRef::Own { name, arch } => {
                match own_layer_arn(desired, live, name, *arch) {
                    Some(arn) => LayerArn::Arn(arn.to_owned()),
                    None => LayerArn::Published {
                        layer: name.clone(),
                        arch: *arch,
                    },
                }
            }
        })
        .collect()
}

/// The live version of one of the stage's own layers that carries the zip
/// the desired state wants, if it was published already.
pub(super) fn own_layer_arn<'a>(
    desired: &Desired,
    live: &'a Live,
    name: &str,
    arch: Arch,
) -> Option<&'a str> {
    let sha = desired
        .layers
        .get(&(name.to_owned(), arch))
        .map(|l| l.code_sha256.as_str())
        .unwrap_or_default();
    layer_version_arn(live, name, arch, sha)
}

/// The functions that run with the stage's shared role.
pub fn shared_role_functions(desired: &Desired) -> impl Iterator<Item = &DesiredFunction> {
    desired
        .functions
        .values()
        .filter(|f| f.role == desired.role)
}
