//! `destroy`: the plan that removes everything ferry made for one stage, in
//! the order that stops serving first — the domain's alias records, the
//! distribution ferry created (disabled, then deleted), the API (or only
//! its stage when the API is not the stage's own), the functions with their
//! versions, aliases and permissions, the app's layer versions that nothing
//! else uses, the log archive's filters and stream, the managed role, the log groups when asked, and the release
//! records. Pure: the AWS side reads [`DestroyLive`], which holds only what
//! still exists, so a destroy that was cut short plans the rest and a
//! finished one plans nothing.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::action::Action;
use super::front::same_name;
use super::plan::Plan;

/// What `destroy` reads of a stage.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DestroyLive {
    pub account: String,
    pub front: Option<FrontToDestroy>,
    pub api: Option<ApiToDestroy>,
    /// The stage's functions, tagged with its app and stage.
    pub functions: Vec<String>,
    /// Functions with the stage's name prefix but not its tags: kept.
    pub foreign_functions: Vec<String>,
    /// Functions deploy.toml adopts (`function-name`): kept.
    pub adopted_functions: Vec<String>,
    /// Versions of the app's layers (name, version) that no other function
    /// and no other stage's release uses.
    pub unused_layer_versions: Vec<(String, u64)>,
    /// Layer versions kept because something else uses them: layer -> count.
    pub shared_layer_versions: BTreeMap<String, usize>,
    /// The stage's managed role and the policies attached to it.
    pub role: Option<RoleToDestroy>,
    /// The roles of its services (all under the stage's IAM path, a
    /// removed service's too).
    pub service_roles: Vec<RoleToDestroy>,
    /// The log groups that carry the log archive's subscription filter,
    /// and the archive's delivery stream, if it exists.
    pub archive_filters: Vec<String>,
    pub archive_stream: Option<String>,
    /// The stage's functions' log groups (with or without their functions).
    pub log_groups: Vec<String>,
    /// The SSM parameters of the stage's release records.
    pub records: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrontToDestroy {
    pub id: String,
    /// `d111111abcdef8.cloudfront.net`.
    pub domain_name: String,
    pub enabled: bool,
    /// Whether ferry created it for this stage (its caller reference says so).
    pub ours: bool,
    /// The hosted zone and domain whose alias records point at it, with the
    /// records: type -> target.
    pub records: Option<(String, String, BTreeMap<String, String>)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToDestroy {
    pub name: String,
    pub id: String,
    /// Tagged with this app and stage: the stage's own API.
    pub ours: bool,
    /// The API's stages other than this one.
    pub other_stages: Vec<String>,
    /// Whether this stage exists on it.
    pub has_stage: bool,
    /// deploy.toml adopts it (`api.id`): kept whole, with its stages.
    pub adopted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleToDestroy {
    pub name: String,
    /// Functions outside the stage that run with it (another app's whose
    /// name cut to 64 characters is the same): then it is kept.
    pub used_by: Vec<String>,
    pub attached: Vec<String>,
    pub inline: Vec<String>,
}

/// The deletions, in the order they run.
pub fn plan((app, stage, region): (&str, &str, &str), logs: bool, live: &DestroyLive) -> Plan {
    let mut actions = Vec::new();
    let mut unchanged = Vec::new();
    if let Some(front) = &live.front {
        front_actions(front, &mut actions, &mut unchanged);
    }
    if let Some(api) = live.api.as_ref().filter(|a| a.adopted) {
        unchanged.push(format!(
            "REST API {} ({}) kept with its stage `{stage}`: deploy.toml adopts it (`api.id`)",
            api.name, api.id
        ));
    } else if let Some(api) = &live.api {
        if api.ours && api.other_stages.is_empty() {
            actions.push(Action::DeleteRestApi {
                api: api.name.clone(),
                api_id: api.id.clone(),
            });
        } else {
            if api.has_stage {
                actions.push(Action::DeleteApiStage {
                    api: api.name.clone(),
                    api_id: api.id.clone(),
                    stage: stage.to_owned(),
                });
            }
            let why = if api.ours {
                format!("it also serves {}", api.other_stages.join(", "))
            } else {
                "ferry did not create it for this stage".to_owned()
            };
            unchanged.push(format!("REST API {} ({}) kept: {why}", api.name, api.id));
        }
    }
    for function in &live.functions {
        actions.push(Action::DeleteFunction {
            function: function.clone(),
        });
    }
    for function in &live.adopted_functions {
        unchanged.push(format!(
            "function {function} kept: deploy.toml adopts it (`function-name`)"
        ));
    }
    for function in &live.foreign_functions {
        unchanged.push(format!(
            "function {function} kept: it is not tagged {}={app}, {}={stage}",
            super::state::TAG_APP,
            super::state::TAG_STAGE
        ));
    }
    for (layer, version) in &live.unused_layer_versions {
        actions.push(Action::DeleteLayerVersion {
            layer: layer.clone(),
            version: *version,
        });
    }
    for (layer, count) in &live.shared_layer_versions {
        unchanged.push(format!(
            "layer {layer}: {count} versions kept, other stages or functions use them"
        ));
    }
    // The filters name the stream, and the stream writes with a role of
    // the stage's path: both go before the roles. Archived logs stay.
    for group in &live.archive_filters {
        actions.push(Action::DeleteSubscriptionFilter {
            log_group: group.clone(),
            filter: super::log_archive::FILTER_NAME.to_owned(),
        });
    }
    if let Some(name) = &live.archive_stream {
        actions.push(Action::DeleteDeliveryStream { name: name.clone() });
    }
    if let Some(role) = live.role.as_ref().filter(|r| !r.used_by.is_empty()) {
        unchanged.push(format!(
            "role {} kept: {} use it",
            role.name,
            role.used_by.join(", ")
        ));
    } else if let Some(role) = &live.role {
        actions.push(Action::DeleteRole {
            name: role.name.clone(),
            attached: role.attached.clone(),
            inline: role.inline.clone(),
        });
    }
    for role in &live.service_roles {
        if !role.used_by.is_empty() {
            unchanged.push(format!(
                "role {} kept: {} use it",
                role.name,
                role.used_by.join(", ")
            ));
            continue;
        }
        actions.push(Action::DeleteRole {
            name: role.name.clone(),
            attached: role.attached.clone(),
            inline: role.inline.clone(),
        });
    }
    if logs {
        for name in &live.log_groups {
            actions.push(Action::DeleteLogGroup { name: name.clone() });
        }
    } else if !live.log_groups.is_empty() {
        unchanged.push(format!(
            "{} log groups kept (`--logs` deletes them)",
            live.log_groups.len()
        ));
    }
    if !live.records.is_empty() {
        actions.push(Action::DeleteParameters {
            parameters: live.records.clone(),
        });
    }
    Plan::new((app, stage, region), &live.account, actions, unchanged)
}

fn front_actions(front: &FrontToDestroy, actions: &mut Vec<Action>, unchanged: &mut Vec<String>) {
    if !front.ours {
        unchanged.push(format!(
            "distribution {} kept: ferry did not create it; point its origin away from this stage's API",
            front.id
        ));
        return;
    }
    if let Some((zone, domain, records)) = &front.records {
        let types: Vec<String> = records
            .iter()
            .filter(|(_, target)| same_name(target, &front.domain_name))
            .map(|(ty, _)| ty.clone())
            .collect();
        if !types.is_empty() {
            actions.push(Action::DeleteAliasRecords {
                zone: zone.clone(),
                domain: domain.clone(),
                target: front.domain_name.clone(),
                types,
            });
        }
    }
    if front.enabled {
        actions.push(Action::DisableDistribution {
            distribution: front.id.clone(),
        });
    }
    actions.push(Action::DeleteDistribution {
        distribution: front.id.clone(),
    });
}

/// How the plan shows one of destroy's own actions.
pub(super) fn line(action: &Action) -> String {
    match action {
        Action::DeleteAliasRecords {
            zone,
            domain,
            target,
            types,
        } => format!(
            "  - delete   DNS {} alias {domain} -> {target} (zone {zone})",
            types.join("/")
        ),
        Action::DisableDistribution { distribution } => {
            format!("  ~ disable  CloudFront distribution {distribution} (it must be off to be deleted)")
        }
        Action::DeleteDistribution { distribution } => {
            format!(
                "  - delete   CloudFront distribution {distribution} (once disabled and deployed)"
            )
        }
        Action::DeleteRestApi { api, api_id } => {
            format!("  - delete   REST API {api} ({api_id}), its stages and deployments")
        }
        Action::DeleteApiStage { api, api_id, stage } => {
            format!("  - delete   stage `{stage}` of REST API {api} ({api_id})")
        }
        Action::DeleteLayerVersion { layer, version } => {
            format!("  - delete   layer version {layer}:{version}")
        }
        Action::DeleteRole {
            name,
            attached,
            inline,
        } => format!(
            "  - delete   role {name} ({} attached, {} inline policies)",
            attached.len(),
            inline.len()
        ),
        Action::DeleteLogGroup { name } => format!("  - delete   log group {name}"),
        Action::DeleteParameters { parameters } => format!(
            "  - delete   {} release records (SSM parameters)",
            parameters.len()
        ),
        other => format!("  {other:?}"),
    }
}
