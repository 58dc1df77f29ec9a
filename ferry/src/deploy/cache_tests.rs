//! Caching in the planner: cache behaviors on a new and an existing
//! distribution, one TTL changed, a converged stage planning nothing, and
//! the invalidation that follows a changed function behind a cached route.

use std::collections::BTreeMap;

use super::front_tests::with_door;
use super::plan::Action;
use super::render;
use super::tests::{converged, desired_for, kinds, workspace};
use super::*;
use crate::model::cache::{behaviors, CacheSettings, FrontCache, KeyNames};

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
        ["update_function_code", "create_invalidation"]
    );
    assert!(
        matches!(&plan.actions[1], Action::CreateInvalidation { paths, .. } if paths == &["/items/*"]),
        "{:?}",
        plan.actions[1]
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
