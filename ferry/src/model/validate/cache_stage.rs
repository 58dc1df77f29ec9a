//! A stage's caching, resolved: each cached route's settings (the stage's
//! override, then the service's table, then the stage's defaults, then
//! ferry's), checked against the layer that caches it: CloudFront (the
//! cache behaviors they become) or API Gateway's stage cache.

use std::collections::BTreeMap;

use toml::Spanned;

use super::cache::{decl, not_cacheable, ttl};
use crate::model::cache::{
    behaviors, cacheable, ApiCache, CacheDecl, CacheSettings, FrontCache, KeyNames, CLUSTER_SIZES,
    DEFAULT_API_TTL_S, DEFAULT_TTL_S, MAX_API_TTL_S, MAX_TTL_S,
};
use crate::model::diag::{Diagnostics, Place, SourceFile};
use crate::model::raw::{RawApiCache, RawCache, RawStageCache};
use crate::model::route::{Route, RouteTable};
use crate::model::Service;

/// Which cache a stage's routes go into.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Layer {
    CloudFront,
    ApiGateway,
}

/// The stage-wide part of a cache table.
struct StageLevel<'a> {
    enabled: bool,
    ttl: Option<u64>,
    min_ttl: Option<u64>,
    max_ttl: Option<u64>,
    routes: &'a BTreeMap<Spanned<String>, Spanned<RawCache>>,
}

/// A stage's CloudFront caching: each cached route's settings and the
/// behaviors they become.
pub(crate) fn stage_cache(
    raw: Option<&Spanned<RawStageCache>>,
    services: &BTreeMap<String, Service>,
    file: &SourceFile,
    key: &str,
    diags: &mut Diagnostics,
) -> FrontCache {
    let empty = RawStageCache::default();
    let stage = raw.map_or(&empty, Spanned::get_ref);
    let level = StageLevel {
        enabled: stage.enabled.as_ref().is_none_or(|e| *e.get_ref()),
        ttl: ttl(&stage.ttl, file, &format!("{key}.ttl"), diags),
        min_ttl: ttl(&stage.min_ttl, file, &format!("{key}.min-ttl"), diags),
        max_ttl: ttl(&stage.max_ttl, file, &format!("{key}.max-ttl"), diags),
        routes: &stage.routes,
    };
    let (routes, places) = resolve(&level, Layer::CloudFront, services, file, key, diags);
    let table = RouteTable::new(
        services
            .values()
            .flat_map(|s| s.routes.iter().map(|r| (r.clone(), s.name.to_string()))),
    );
    let auth: BTreeMap<String, String> = services
        .iter()
        .filter_map(|(n, s)| Some((n.clone(), s.auth_header.clone()?)))
        .collect();
    match behaviors(&table, &routes, &auth) {
        Ok(behaviors) => FrontCache { routes, behaviors },
        Err(why) => {
            if let Some(at) = places.first() {
                diags.error_at(
                    at,
                    why,
                    "give the routes under one path pattern the same cache settings, or turn caching off (`enabled = false`) for one of them",
                );
            }
            FrontCache::default()
        }
    }
}

/// A stage's API Gateway cache, when `[stages.S.api.cache]` asks for one.
pub(crate) fn api_cache(
    raw: Option<&Spanned<RawApiCache>>,
    services: &BTreeMap<String, Service>,
    file: &SourceFile,
    key: &str,
    diags: &mut Diagnostics,
) -> Option<ApiCache> {
    let table = raw?.get_ref();
    let size = match &table.size {
        None => "0.5".to_owned(),
        Some(s) if CLUSTER_SIZES.contains(&s.get_ref().as_str()) => s.get_ref().clone(),
        Some(s) => {
            diags.error(
                file,
                s.span(),
                format!("{key}.size"),
                format!("`{}` is not a cache cluster size", s.get_ref()),
                Some(format!("use one of (GB): {}", CLUSTER_SIZES.join(", "))),
            );
            "0.5".to_owned()
        }
    };
    let enabled = table.enabled.as_ref().is_none_or(|e| *e.get_ref());
    let level = StageLevel {
        enabled,
        ttl: ttl(&table.ttl, file, &format!("{key}.ttl"), diags),
        min_ttl: None,
        max_ttl: None,
        routes: &table.routes,
    };
    let (routes, _) = resolve(&level, Layer::ApiGateway, services, file, key, diags);
    Some(ApiCache {
        enabled,
        size,
        routes,
    })
}

/// Each cached route's settings on this stage, with where each was set.
fn resolve(
    stage: &StageLevel<'_>,
    layer: Layer,
    services: &BTreeMap<String, Service>,
    file: &SourceFile,
    key: &str,
    diags: &mut Diagnostics,
) -> (BTreeMap<String, CacheSettings>, Vec<Place>) {
    let declared: BTreeMap<String, &Service> = services
        .values()
        .flat_map(|s| s.routes.iter().map(move |r| (r.to_string(), s)))
        .collect();
    let mut overrides = BTreeMap::new();
    for (text, table) in stage.routes {
        let route_key = format!("{key}.routes.\"{}\"", text.get_ref());
        let route = Route::parse(text.get_ref()).ok();
        let Some(route) = route.filter(|r| declared.contains_key(&r.to_string())) else {
            diags.error(
                file,
                text.span(),
                route_key,
                format!("no service declares the route `{}`", text.get_ref()),
                Some(
                    "name a route as a service's `routes` writes it, e.g. \"GET /items/{id}\""
                        .into(),
                ),
            );
            continue;
        };
        if !cacheable(route.method) {
            not_cacheable(&route, file, text.span(), &route_key, diags);
            continue;
        }
        overrides.insert(route.to_string(), decl(table, file, &route_key, diags));
    }
    let mut routes = BTreeMap::new();
    let mut places = Vec::new();
    let none = CacheDecl::default();
    for (text, service) in &declared {
        let (own, over) = (service.cache.get(text), overrides.get(text));
        if own.is_none() && over.is_none() {
            continue;
        }
        let (own, over) = (own.unwrap_or(&none), over.unwrap_or(&none));
        if !over.enabled.or(own.enabled).unwrap_or(true) || !stage.enabled {
            continue;
        }
        let Some(at) = over.at.as_ref().or(own.at.as_ref()) else {
            continue;
        };
        let Some(settings) = settings(text, own, over, stage, layer, at, diags) else {
            continue;
        };
        if let Some(auth) = &service.auth_header {
            if !settings.headers.contains(auth) {
                diags.error_at(
                    at,
                    format!("`{text}` would be cached without its caller's `{auth}` header in the cache key (service `{}` authenticates with it): one caller's response would be served to another", service.name),
                    format!("add \"{auth}\" to this route's `headers` so each caller gets their own cached copy, or set `enabled = false`"),
                );
                continue;
            }
        }
        places.push(at.clone());
        routes.insert(text.clone(), settings);
    }
    (routes, places)
}

/// One route's settings from its override, its own table and the stage's,
/// or `None` after reporting what the layer cannot do.
fn settings(
    route: &str,
    own: &CacheDecl,
    over: &CacheDecl,
    stage: &StageLevel<'_>,
    layer: Layer,
    at: &Place,
    diags: &mut Diagnostics,
) -> Option<CacheSettings> {
    let query = over.query.clone().or(own.query.clone()).unwrap_or_default();
    let cookies = over
        .cookies
        .clone()
        .or(own.cookies.clone())
        .unwrap_or_default();
    let set_ttl = over.default_ttl.or(own.default_ttl).or(stage.ttl);
    if layer == Layer::ApiGateway {
        let ttl = set_ttl.unwrap_or(DEFAULT_API_TTL_S);
        let problem = if ttl > MAX_API_TTL_S {
            Some(format!("`{route}` has ttl {ttl}; API Gateway's stage cache keeps a response at most {MAX_API_TTL_S} s"))
        } else if query == KeyNames::All {
            Some(format!(
                "`{route}` keys on every query string; API Gateway's cache key names each one"
            ))
        } else if cookies != KeyNames::None {
            Some(format!(
                "`{route}` keys on cookies; API Gateway's cache cannot"
            ))
        } else {
            None
        };
        if let Some(problem) = problem {
            diags.error_at(at, problem, "for a stage cached by API Gateway, give this route a `ttl` up to 3600, `query` as a list of names and no `cookies` (in `[stages.S.api.cache.routes.\"ROUTE\"]` to change it for that stage only)");
            return None;
        }
        let headers = over
            .headers
            .clone()
            .or(own.headers.clone())
            .unwrap_or_default();
        return Some(CacheSettings {
            min_ttl: 0,
            default_ttl: ttl,
            max_ttl: MAX_API_TTL_S,
            query,
            headers,
            cookies,
        });
    }
    let min_ttl = over.min_ttl.or(own.min_ttl).or(stage.min_ttl).unwrap_or(0);
    let max_ttl = over
        .max_ttl
        .or(own.max_ttl)
        .or(stage.max_ttl)
        .unwrap_or(MAX_TTL_S);
    let default_ttl = set_ttl.unwrap_or(DEFAULT_TTL_S.clamp(min_ttl, max_ttl.max(min_ttl)));
    if !(min_ttl <= default_ttl && default_ttl <= max_ttl) {
        diags.error_at(
            at,
            format!("`{route}` has min-ttl {min_ttl}, ttl {default_ttl} and max-ttl {max_ttl}; CloudFront needs min-ttl <= ttl <= max-ttl"),
            "change the TTLs (here, in the service's table or in the stage's `cache`) so that min-ttl <= ttl <= max-ttl",
        );
        return None;
    }
    Some(CacheSettings {
        min_ttl,
        default_ttl,
        max_ttl,
        query,
        headers: over
            .headers
            .clone()
            .or(own.headers.clone())
            .unwrap_or_default(),
        cookies,
    })
}
