//! The front door of a stage, planned: the CloudFront distribution whose
//! origin is the stage's REST API (domain and `/<stage>` path), the Route 53
//! alias records for its domain, and invalidations. Pure, like the planner.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::plan::Action;
use super::state::{Desired, Live};
use crate::model::cache::{Behavior, KeyNames};
use crate::model::FrontDoor;

/// The hosted zone id every CloudFront alias target uses.
pub const CLOUDFRONT_ZONE_ID: &str = "Z2FDTNDATAQYW2";
/// The id ferry gives the API origin of a distribution it creates.
pub const FERRY_ORIGIN_ID: &str = "ferry-api";
/// More wildcard paths than this in one deploy become a single `/*`
/// (CloudFront allows 15 wildcard paths in progress at once).
const MAX_INVALIDATION_PATHS: usize = 15;
/// AWS's managed cache policy "CachingDisabled": what every path ferry does
/// not cache uses.
pub const CACHING_DISABLED: &str = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad";
/// AWS's managed origin request policy "AllViewerExceptHostHeader": headers,
/// cookies and query strings reach API Gateway, the Host header does not
/// (API Gateway routes on its own host name).
pub const ALL_VIEWER_EXCEPT_HOST: &str = "b689b0a8-53d0-40ab-baf2-68738e2966ac";
/// The record types ferry keeps for a domain: IPv4 and IPv6 aliases.
pub const ALIAS_TYPES: [&str; 2] = ["A", "AAAA"];

/// What the stage's front door should be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DesiredFront {
    #[serde(flatten)]
    pub door: FrontDoor,
    /// `/<stage>`: CloudFront prefixes every request path with it.
    pub origin_path: String,
}

/// What CloudFront and Route 53 hold for it now.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveFront {
    /// The distribution found by id, or by the domain among aliases.
    pub distribution: Option<LiveDistribution>,
    /// The domain's alias records: record type -> target DNS name.
    pub alias_records: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveDistribution {
    pub id: String,
    /// `d111111abcdef8.cloudfront.net`.
    pub domain_name: String,
    /// `InProgress` while a change propagates, then `Deployed`.
    pub status: String,
    pub aliases: Vec<String>,
    /// The origin that should point at the API.
    pub origin: LiveOrigin,
    /// The cache behaviors whose target is that origin, in order.
    #[serde(default)]
    pub behaviors: Vec<Behavior>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveOrigin {
    pub id: String,
    pub domain: String,
    pub path: String,
}

/// The regional domain of a REST API, CloudFront's origin for it.
pub fn api_domain(api_id: &str, region: &str) -> String {
    format!("{api_id}.execute-api.{region}.amazonaws.com")
}

/// The front-door actions, after the API's deployment: CloudFront only ever
/// points at a stage that already serves the new definition.
pub(super) fn actions(
    desired: &Desired,
    live: &Live,
    definition_changed: bool,
    actions: &mut Vec<Action>,
    unchanged: &mut Vec<String>,
) {
    let Some(front) = &desired.front else { return };
    let api_domain = live
        .api
        .as_ref()
        .map(|a| api_domain(&a.id, &desired.region));
    let current = live.front.as_ref().and_then(|f| f.distribution.as_ref());
    let label = front.door.domain.clone().unwrap_or_default();
    let mut origin_moved = false;
    match current {
        None => {
            // The reader refuses a front door it can neither find nor create,
            // so a missing distribution here always has a domain and certificate.
            if let (Some(domain), Some(certificate)) = (&front.door.domain, &front.door.certificate)
            {
                actions.push(Action::CreateDistribution {
                    domain: domain.clone(),
                    certificate: certificate.clone(),
                    origin_domain: api_domain.clone(),
                    origin_path: front.origin_path.clone(),
                    caller_reference: format!("ferry {} {} {domain}", desired.app, desired.stage),
                    comment: format!("ferry: {} {}", desired.app, desired.stage),
                    behaviors: front.door.cache.behaviors.clone(),
                });
            }
        }
        Some(d) => {
            let wanted_domain = api_domain.as_deref().unwrap_or("");
            if d.origin.domain != wanted_domain || d.origin.path != front.origin_path {
                origin_moved = true;
                actions.push(Action::UpdateDistributionOrigin {
                    distribution: d.id.clone(),
                    origin: d.origin.id.clone(),
                    from_domain: d.origin.domain.clone(),
                    from_path: d.origin.path.clone(),
                    to_domain: api_domain.clone(),
                    to_path: front.origin_path.clone(),
                });
            } else {
                unchanged.push(
                    format!("distribution {} {label}", d.id)
                        .trim_end()
                        .to_owned(),
                );
            }
            if d.behaviors != front.door.cache.behaviors {
                actions.push(Action::UpdateCacheBehaviors {
                    distribution: d.id.clone(),
                    origin: d.origin.id.clone(),
                    from: d.behaviors.clone(),
                    to: front.door.cache.behaviors.clone(),
                });
            } else if !d.behaviors.is_empty() {
                unchanged.push(format!(
                    "{} cache behaviors of distribution {}",
                    d.behaviors.len(),
                    d.id
                ));
            }
        }
    }
    if let (Some(zone), Some(domain)) = (&front.door.hosted_zone, &front.door.domain) {
        let target = current.map(|d| d.domain_name.clone());
        let records = live
            .front
            .as_ref()
            .map(|f| &f.alias_records)
            .cloned()
            .unwrap_or_default();
        let right = target.as_ref().is_some_and(|t| {
            ALIAS_TYPES
                .iter()
                .all(|ty| records.get(*ty).is_some_and(|r| same_name(r, t)))
        });
        if right {
            unchanged.push(format!("alias records {domain}"));
        } else {
            actions.push(Action::UpsertAliasRecords {
                zone: zone.clone(),
                domain: domain.clone(),
                target,
            });
        }
    }
    let Some(d) = current else { return };
    let mut paths = BTreeSet::new();
    if front.door.invalidate {
        if origin_moved {
            paths.insert("/*".to_owned());
        } else if definition_changed {
            paths.extend(changed_paths(desired, live));
        }
    }
    paths.extend(cached_paths_of_changed_functions(desired, actions));
    let paths: Vec<String> = if paths.len() > MAX_INVALIDATION_PATHS || paths.contains("/*") {
        vec!["/*".to_owned()]
    } else {
        paths.into_iter().collect()
    };
    if !paths.is_empty() {
        actions.push(Action::CreateInvalidation {
            distribution: d.id.clone(),
            paths,
            reference: format!("ferry {}", desired.api.definition_hash),
        });
    }
}

/// The invalidation paths of the cached routes whose function this plan
/// changes (code or configuration): a cached response was made by the old
/// one. A route without parameters whose key holds no query string is one
/// path; otherwise its path up to the first parameter, with a `*`.
fn cached_paths_of_changed_functions(desired: &Desired, actions: &[Action]) -> BTreeSet<String> {
    let Some(front) = &desired.front else {
        return BTreeSet::new();
    };
    let changed = super::action::changed_functions(actions);
    let mut paths = BTreeSet::new();
    for (method, path, function) in &desired.api.routes {
        let Some(settings) = front.door.cache.routes.get(&format!("{method} {path}")) else {
            continue;
        };
        if !changed.contains(function.as_str()) {
            continue;
        }
        let prefix = path.split('{').next().unwrap_or(path);
        if prefix == path && settings.query == KeyNames::None {
            paths.insert(path.clone());
        } else {
            paths.insert(format!("{prefix}*"));
        }
    }
    paths
}

/// One path of `invalidate`, as CloudFront takes it: from the root, a `*`
/// only as the last character, no spaces.
pub fn invalidation_path(path: &str) -> Result<String, String> {
    if !path.starts_with('/') {
        return Err(format!("`{path}` must start with `/`, e.g. `/items/*`"));
    }
    if path.contains(char::is_whitespace) {
        return Err(format!(
            "`{path}` contains a space; write it URL-encoded (%20)"
        ));
    }
    if path.trim_end_matches('*').contains('*') || path.ends_with("**") {
        return Err(format!(
            "`{path}` has a `*` before its end; CloudFront takes one `*`, last"
        ));
    }
    if path.len() > 4096 {
        return Err("a path is at most 4096 characters".into());
    }
    Ok(path.to_owned())
}

/// DNS names compare without case and without the root's trailing dot.
pub fn same_name(a: &str, b: &str) -> bool {
    a.trim_end_matches('.')
        .eq_ignore_ascii_case(b.trim_end_matches('.'))
}

/// The invalidation paths of the routes that differ between the desired
/// definition and the API's live resources: each route's path up to its
/// first parameter, with a trailing `*` (which also covers query strings).
fn changed_paths(desired: &Desired, live: &Live) -> Vec<String> {
    let wanted: BTreeMap<String, String> = desired
        .api
        .routes
        .iter()
        .map(|(m, p, f)| (format!("{m} {p}"), desired.target(f)))
        .collect();
    let current: BTreeMap<String, String> = live
        .api
        .as_ref()
        .map(|a| a.routes.clone())
        .unwrap_or_default();
    let keys: BTreeSet<&String> = wanted.keys().chain(current.keys()).collect();
    let mut paths = BTreeSet::new();
    for key in keys {
        let function_of = |m: &BTreeMap<String, String>| m.get(key).cloned();
        if function_of(&wanted) != function_of(&current) {
            let path = key.split_once(' ').map_or(key.as_str(), |(_, p)| p);
            let prefix = path.split('{').next().unwrap_or(path);
            paths.insert(format!("{prefix}*"));
        }
    }
    paths.into_iter().collect()
}
