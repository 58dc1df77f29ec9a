//! API Gateway's stage cache, planned: the cache cluster (on, off, size)
//! and each cached method's caching and TTL, set with one `UpdateStage` of
//! patch operations after the stage serves its deployment; and a flush of
//! the stage's cache when a function behind a cached route changed (API
//! Gateway cannot drop one path). Pure, like the planner.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::plan::Action;
use super::state::{Desired, Live};
use crate::model::cache::ApiCache;

/// A stage's cache as ferry compares it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageCacheState {
    pub enabled: bool,
    /// The cluster size in GB, while it is enabled.
    pub size: Option<String>,
    /// Method-settings key (`~1items~1{id}/GET`) -> TTL, for each method
    /// whose caching is on.
    pub methods: BTreeMap<String, u64>,
}

impl StageCacheState {
    pub fn wanted(cache: &ApiCache) -> Self {
        Self {
            enabled: cache.enabled,
            size: cache.enabled.then(|| cache.size.clone()),
            methods: cache
                .routes
                .iter()
                .map(|(route, s)| (ApiCache::method_key(route), s.default_ttl))
                .collect(),
        }
    }
}

impl fmt::Display for StageCacheState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.enabled {
            return f.write_str("off");
        }
        write!(f, "{} GB", self.size.as_deref().unwrap_or("?"))?;
        for (key, ttl) in &self.methods {
            write!(f, ", {} {ttl} s", key.replace("~1", "/"))?;
        }
        Ok(())
    }
}

/// One `UpdateStage` patch operation: a `replace`, or a `remove`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StagePatch {
    pub path: String,
    pub value: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub remove: bool,
}

impl StagePatch {
    pub fn replace(path: &str, value: String) -> Self {
        Self {
            path: path.to_owned(),
            value,
            remove: false,
        }
    }

    pub fn remove(path: &str) -> Self {
        Self {
            path: path.to_owned(),
            value: String::new(),
            remove: true,
        }
    }
}

/// The patch operations that turn `from` into `to`.
pub fn patch(from: &StageCacheState, to: &StageCacheState) -> Vec<StagePatch> {
    let op = |path: String, value: String| StagePatch::replace(&path, value);
    let mut out = Vec::new();
    if from.enabled != to.enabled {
        out.push(op("/cacheClusterEnabled".into(), to.enabled.to_string()));
    }
    if to.enabled && from.size != to.size {
        if let Some(size) = &to.size {
            out.push(op("/cacheClusterSize".into(), size.clone()));
        }
    }
    for (key, ttl) in &to.methods {
        if from.methods.get(key) != Some(ttl) {
            out.push(op(format!("/{key}/caching/enabled"), "true".into()));
            out.push(op(format!("/{key}/caching/ttlInSeconds"), ttl.to_string()));
        }
    }
    for key in from.methods.keys() {
        if !to.methods.contains_key(key) {
            out.push(op(format!("/{key}/caching/enabled"), "false".into()));
        }
    }
    out
}

/// The stage-cache actions, after the API's deployment (the stage exists).
pub(super) fn actions(
    desired: &Desired,
    live: &Live,
    actions: &mut Vec<Action>,
    unchanged: &mut Vec<String>,
) {
    let Some(cache) = &desired.api.cache else {
        return;
    };
    let api_id = live.api.as_ref().map(|a| a.id.clone());
    let from = live
        .api
        .as_ref()
        .map(|a| a.stage_cache.clone())
        .unwrap_or_default();
    let to = StageCacheState::wanted(cache);
    let changes = patch(&from, &to);
    let flush = from.enabled && to.enabled && behind_cache_changed(desired, actions);
    if changes.is_empty() {
        unchanged.push(format!("stage cache of `{}` ({to})", desired.stage));
    } else {
        actions.push(Action::UpdateStageCache {
            api: desired.api.name.clone(),
            api_id: api_id.clone(),
            stage: desired.stage.clone(),
            from,
            to,
            patch: changes,
        });
    }
    if flush {
        actions.push(Action::FlushStageCache {
            api: desired.api.name.clone(),
            api_id,
            stage: desired.stage.clone(),
        });
    }
}

/// Whether this plan changes the code or configuration of a function
/// behind a route the stage cache keeps.
fn behind_cache_changed(desired: &Desired, actions: &[Action]) -> bool {
    let Some(cache) = &desired.api.cache else {
        return false;
    };
    let changed = super::action::changed_functions(actions);
    desired.api.routes.iter().any(|(method, path, function)| {
        cache.routes.contains_key(&format!("{method} {path}"))
            && changed.contains(function.as_str())
    })
}
