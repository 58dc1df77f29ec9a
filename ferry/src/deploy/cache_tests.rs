//! Caching in the planner: cache behaviors on a new and an existing
//! distribution, one TTL changed, a converged stage planning nothing, and
//! the invalidation that follows a changed function behind a cached route.

use std::collections::BTreeMap;

use super::front_tests::with_door;
use super::plan::Action;
use super::render;
use super::stage_cache::StageCacheState;
use super::tests::{converged, desired_for, kinds, workspace};
use super::*;
use crate::model::cache::{behaviors, ApiCache, CacheSettings, FrontCache, KeyNames};

fn cached(ttl_list: u64, ttl_get: u64) -> FrontCache {
    let settings = |ttl| CacheSettings {
        min_ttl: 0,
        default_ttl: ttl,
        max_ttl: 3600,
        query: KeyNames::None,
        headers: Default::default(),
        cookies: KeyNames::None,
    };
    let routes = BTreeMap::from([
        ("GET /items".to_owned(), settings(ttl_list)),
        ("GET /items/{id}".to_owned(), settings(ttl_get)),
    ]);
    let (_f, ws) = workspace(false);
    let behaviors = behaviors(&ws.routes, &routes, &BTreeMap::new()).unwrap();
    FrontCache { routes, behaviors }
}

fn desired_with_cache(cache: FrontCache) -> (crate::model::fixture::Fixture, Desired) {
    let (f, ws) = workspace(false);
    let mut desired = desired_for(&ws, &[]);
    with_door(&mut desired, false);
    desired.front.as_mut().unwrap().door.cache = cache;
    (f, desired)
}

#[test]
fn cached_routes_become_behaviors_and_a_converged_stage_plans_nothing() {
    let (_d, desired) = desired_with_cache(cached(30, 60));
    let mut live = converged(&desired);
    assert!(plan(&desired, &live, false).is_empty());
    let d = live.front.as_mut().unwrap().distribution.as_mut().unwrap();
    d.behaviors.clear();
    let plan = plan(&desired, &live, false);
    assert_eq!(kinds(&plan), ["update_cache_behaviors"]);
    let text = render::text(&plan);
    assert!(
        text.contains("cache behaviors of origin `ferry-api`:\n      + /items/*  ttl 60 s (0..3600), key: path only\n      + /items    ttl 30 s (0..3600), key: path only"),
        "{text}"
    );
}

#[test]
fn one_ttl_changed_updates_exactly_that_behavior() {
    let (_d, before) = desired_with_cache(cached(30, 60));
    let live = converged(&before);
    let (_e, after) = desired_with_cache(cached(30, 120));
    let plan = plan(&after, &live, false);
    assert_eq!(kinds(&plan), ["update_cache_behaviors"]);
    let text = render::text(&plan);
    assert!(
        text.contains(
            "~ /items/*  ttl 60 s (0..3600), key: path only -> ttl 120 s (0..3600), key: path only"
        ),
        "{text}"
    );
    assert!(!text.contains("/items  "), "{text}");
}

#[test]
fn a_code_change_behind_a_cached_route_invalidates_only_its_paths() {
    let (_d, desired) = desired_with_cache(cached(30, 60));
    let mut live = converged(&desired);
    let get = desired
        .functions
        .keys()
        .find(|f| f.ends_with("-get"))
        .unwrap()
        .clone();
    live.functions.get_mut(&get).unwrap().code_sha256 = "old".into();
    let plan = plan(&desired, &live, false);
    assert_eq!(
        kinds(&plan),
        [
            "update_function_code",
            "publish_version",
            "point_alias",
            "create_invalidation",
            "record_release"
        ]
    );
    assert!(
        matches!(&plan.actions[3], Action::CreateInvalidation { paths, .. } if paths == &["/items/*"]),
        "{:?}",
        plan.actions[3]
    );
}

#[test]
fn a_new_distribution_carries_its_behaviors() {
    let (_d, desired) = desired_with_cache(cached(30, 60));
    let mut live = converged(&desired);
    live.front = None;
    let plan = plan(&desired, &live, false);
    let create = plan
        .actions
        .iter()
        .find_map(|a| match a {
            Action::CreateDistribution { behaviors, .. } => Some(behaviors),
            _ => None,
        })
        .unwrap();
    let patterns: Vec<&str> = create.iter().map(|b| b.pattern.as_str()).collect();
    assert_eq!(patterns, ["/items/*", "/items"]);
}

fn regional(ttl_list: u64, ttl_get: u64) -> (crate::model::fixture::Fixture, Desired) {
    let (f, ws) = workspace(false);
    let mut desired = desired_for(&ws, &[]);
    let mut routes = cached(ttl_list, ttl_get).routes;
    routes.get_mut("GET /items").unwrap().query = KeyNames::Named(["limit".to_owned()].into());
    desired.api.cache = Some(ApiCache {
        enabled: true,
        size: "0.5".into(),
        routes,
    });
    (f, desired)
}

#[test]
fn a_stage_cache_is_one_update_stage_and_a_converged_one_plans_nothing() {
    let (_d, desired) = regional(30, 60);
    let live = converged(&desired);
    assert!(plan(&desired, &live, false).is_empty());
    let mut off = live.clone();
    off.api.as_mut().unwrap().stage_cache = StageCacheState::default();
    let plan = plan(&desired, &off, false);
    assert_eq!(kinds(&plan), ["update_stage_cache"]);
    let Action::UpdateStageCache { patch, .. } = &plan.actions[0] else {
        unreachable!()
    };
    let ops: Vec<(&str, &str)> = patch
        .iter()
        .map(|p| (p.path.as_str(), p.value.as_str()))
        .collect();
    assert_eq!(
        ops,
        [
            ("/cacheClusterEnabled", "true"),
            ("/cacheClusterSize", "0.5"),
            ("/~1items/GET/caching/enabled", "true"),
            ("/~1items/GET/caching/ttlInSeconds", "30"),
            ("/~1items~1{id}/GET/caching/enabled", "true"),
            ("/~1items~1{id}/GET/caching/ttlInSeconds", "60"),
        ]
    );
    assert!(render::text(&plan).contains(
        "~ update   stage `test` cache: off -> 0.5 GB, /items/GET 30 s, /items/{id}/GET 60 s"
    ));
}

#[test]
fn a_stage_cache_ttl_change_patches_that_method_and_a_code_change_flushes() {
    let (_d, before) = regional(30, 60);
    let live = converged(&before);
    let (_e, after) = regional(30, 90);
    let plan = plan(&after, &live, false);
    let Action::UpdateStageCache { patch, .. } = &plan.actions[0] else {
        panic!("{:?}", plan.actions)
    };
    assert_eq!(patch.len(), 2);
    assert_eq!(patch[1].path, "/~1items~1{id}/GET/caching/ttlInSeconds");
    let mut changed = converged(&before);
    let get = before
        .functions
        .keys()
        .find(|f| f.ends_with("-get"))
        .unwrap();
    changed.functions.get_mut(get).unwrap().code_sha256 = "old".into();
    let plan = super::plan(&before, &changed, false);
    assert_eq!(
        kinds(&plan),
        [
            "update_function_code",
            "publish_version",
            "point_alias",
            "flush_stage_cache",
            "record_release"
        ]
    );
}

#[test]
fn the_definition_names_each_cached_route_s_key_parameters() {
    let (_d, desired) = regional(30, 60);
    let definition = super::openapi::definition(&desired, "123456789012");
    let get = &definition["paths"]["/items"]["get"];
    assert_eq!(
        get["x-amazon-apigateway-integration"]["cacheKeyParameters"],
        serde_json::json!(["method.request.querystring.limit"])
    );
    assert_eq!(get["parameters"][0]["in"], "query");
    // The key parameters are in the hash (a new deployment carries them);
    // a stage without a stage cache hashes as before.
    let (_f, mut ws) = workspace(false);
    let plain = desired_for(&ws, &[]).api.definition_hash;
    ws.stages.get_mut("test").unwrap().api.cache = desired.api.cache.clone();
    assert_ne!(desired_for(&ws, &[]).api.definition_hash, plain);
}
