//! Caching of API responses at the stage's CloudFront front door: the
//! validated settings of one cached route, the cache behaviors a stage's
//! routes become (one per path pattern, most specific first), and how a
//! request path finds its behavior. Pure; the loader resolves the settings
//! (`validate/cache.rs`), the planner compares behaviors, `serve` explains them.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use super::route::{RouteTable, Segment};
use super::Method;

/// CloudFront's ceiling for a TTL: one year.
pub const MAX_TTL_S: u64 = 31_536_000;
/// The default TTL of a cached route that names none.
pub const DEFAULT_TTL_S: u64 = 60;
/// CloudFront's quota of headers, cookies and query strings per behavior.
pub const MAX_KEY_NAMES: usize = 10;
/// CloudFront's default quota of cache behaviors per distribution.
pub const MAX_BEHAVIORS: usize = 75;

/// Which query strings or cookies go into the cache key (and, with
/// CloudFront's per-behavior settings, reach the function).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyNames {
    #[default]
    None,
    All,
    Named(BTreeSet<String>),
}

impl fmt::Display for KeyNames {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::None => f.write_str("none"),
            Self::All => f.write_str("all"),
            Self::Named(names) => {
                let names: Vec<&str> = names.iter().map(String::as_str).collect();
                f.write_str(&names.join(","))
            }
        }
    }
}

/// A cached route's TTLs and cache key. Header names are lower case
/// (CloudFront compares them without case).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheSettings {
    pub min_ttl: u64,
    pub default_ttl: u64,
    pub max_ttl: u64,
    pub query: KeyNames,
    pub headers: BTreeSet<String>,
    pub cookies: KeyNames,
}

impl fmt::Display for CacheSettings {
    /// `ttl 60 s (0..300), key: query=limit headers=accept-language`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ttl {} s ({}..{})",
            self.default_ttl, self.min_ttl, self.max_ttl
        )?;
        let key = self.key();
        if key.is_empty() {
            f.write_str(", key: path only")
        } else {
            write!(f, ", key: {}", key.join(" "))
        }
    }
}

impl CacheSettings {
    /// What the cache key holds beyond the path: `query=limit`,
    /// `headers=accept-language`, `cookies=all`.
    pub fn key(&self) -> Vec<String> {
        let mut key = Vec::new();
        if self.query != KeyNames::None {
            key.push(format!("query={}", self.query));
        }
        if !self.headers.is_empty() {
            let h: Vec<&str> = self.headers.iter().map(String::as_str).collect();
            key.push(format!("headers={}", h.join(",")));
        }
        if self.cookies != KeyNames::None {
            key.push(format!("cookies={}", self.cookies));
        }
        key
    }
}

/// How a behavior caches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Caching {
    /// AWS's managed `CachingDisabled` policy, every viewer header but Host
    /// forwarded: what ferry gives every path it does not cache.
    Off,
    /// CloudFront's per-behavior TTLs and forwarded values (see the README
    /// for why not cache policies).
    On(CacheSettings),
    /// Another cache policy, set outside ferry (read from AWS only).
    Policy(String),
}

impl fmt::Display for Caching {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Off => f.write_str("not cached"),
            Self::On(s) => s.fmt(f),
            Self::Policy(id) => write!(f, "cache policy {id}"),
        }
    }
}

/// One cache behavior of the API's origin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Behavior {
    /// CloudFront's path pattern, e.g. `/items/*`.
    pub pattern: String,
    pub caching: Caching,
}

/// A route's cache settings as one file declares them: each key optional,
/// the stage's and ferry's defaults applied when the stage is resolved.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CacheDecl {
    pub enabled: Option<bool>,
    pub default_ttl: Option<u64>,
    pub min_ttl: Option<u64>,
    pub max_ttl: Option<u64>,
    pub query: Option<KeyNames>,
    pub headers: Option<BTreeSet<String>>,
    pub cookies: Option<KeyNames>,
    /// Where it was written.
    #[serde(skip)]
    pub at: Option<super::diag::Place>,
}

/// A stage's caching, resolved: each cached route's own settings (by
/// `METHOD /path`) and the behaviors they become, in CloudFront's order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FrontCache {
    pub routes: BTreeMap<String, CacheSettings>,
    pub behaviors: Vec<Behavior>,
}

impl FrontCache {
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty() && self.behaviors.is_empty()
    }
}

/// API Gateway's cache cluster sizes, in GB.
pub const CLUSTER_SIZES: [&str; 8] = ["0.5", "1.6", "6.1", "13.5", "28.4", "58.2", "118", "237"];
/// API Gateway's ceiling for a method's cache TTL.
pub const MAX_API_TTL_S: u64 = 3600;
/// API Gateway's default TTL, ferry's for a stage cache route naming none.
pub const DEFAULT_API_TTL_S: u64 = 300;

/// A stage's API Gateway cache: the cluster and each cached route's TTL and
/// key (`min_ttl` and `max_ttl` do not apply there).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiCache {
    /// `false`: the cluster is turned off (and every method's caching).
    pub enabled: bool,
    /// The cluster size in GB, one of [`CLUSTER_SIZES`].
    pub size: String,
    pub routes: BTreeMap<String, CacheSettings>,
}

impl ApiCache {
    /// The stage method settings' key of a route: its resource path with
    /// `/` written `~1`, then the method (`~1items~1{id}/GET`).
    pub fn method_key(route: &str) -> String {
        let (method, path) = route.split_once(' ').unwrap_or(("", route));
        format!("{}/{method}", path.replace('/', "~1"))
    }

    /// The request parameters a route's cache key names, as API Gateway
    /// writes them (`method.request.querystring.limit`).
    pub fn key_parameters(settings: &CacheSettings) -> Vec<String> {
        let mut out = Vec::new();
        if let KeyNames::Named(names) = &settings.query {
            out.extend(
                names
                    .iter()
                    .map(|n| format!("method.request.querystring.{n}")),
            );
        }
        out.extend(
            settings
                .headers
                .iter()
                .map(|h| format!("method.request.header.{h}")),
        );
        out
    }
}

/// The CloudFront path pattern of a route path: each parameter a `*`.
pub fn pattern_of(segments: &[Segment]) -> String {
    if segments.is_empty() {
        return "/".to_owned();
    }
    let mut out = String::new();
    for seg in segments {
        out.push('/');
        match seg {
            Segment::Literal(l) => out.push_str(l),
            Segment::Param(_) | Segment::Greedy(_) => out.push('*'),
        }
    }
    out
}

/// Whether CloudFront's path pattern (`*` any run, `?` one character)
/// matches `path`.
pub fn pattern_matches(pattern: &str, path: &str) -> bool {
    super::glob::segment_matches(pattern, path)
}

/// A path the pattern stands for: each `*` a parameter value.
fn sample(pattern: &str) -> String {
    pattern.replace('*', "x0")
}

/// Whether a route of this method shares in a behavior's cache.
pub fn cacheable(method: Method) -> bool {
    matches!(method, Method::Get | Method::Head | Method::Any)
}

/// The routes under one path pattern: the caching of its cacheable routes
/// (with the route that set it), and the auth headers of its services.
#[derive(Default)]
struct Group(Option<(String, Option<CacheSettings>)>, BTreeSet<String>);

/// The behaviors of a stage whose routes `cached` cache: one per cached
/// pattern, and an uncached one for each other pattern a cached one would
/// swallow, most specific first. Every header a service behind a pattern
/// authenticates with joins that pattern's key, whatever its method, since
/// CloudFront forwards only what the key holds. `Err` says why the routes
/// cannot be expressed as CloudFront behaviors.
pub fn behaviors(
    routes: &RouteTable,
    cached: &BTreeMap<String, CacheSettings>,
    auth_headers: &BTreeMap<String, String>,
) -> Result<Vec<Behavior>, String> {
    if cached.is_empty() {
        return Ok(Vec::new());
    }
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    for entry in &routes.entries {
        let route = format!("{} {}", entry.method, entry.path);
        let pattern = pattern_of(&entry.path.segments);
        let group = groups.entry(pattern.clone()).or_default();
        if let Some(header) = auth_headers.get(&entry.service) {
            group.1.insert(header.clone());
        }
        if !cacheable(entry.method) {
            continue;
        }
        let mine = cached.get(&route).cloned();
        match &group.0 {
            None => group.0 = Some((route, mine)),
            Some((other, theirs)) if *theirs != mine => {
                return Err(format!(
                    "`{other}` and `{route}` share CloudFront's path pattern `{pattern}` but are cached differently"
                ));
            }
            Some(_) => {}
        }
    }
    let mut wanted: Vec<Behavior> = Vec::new();
    for (pattern, Group(caching, headers)) in &groups {
        if let Some((route, Some(settings))) = caching {
            let mut settings = settings.clone();
            settings.headers.extend(headers.iter().cloned());
            if settings.headers.len() > MAX_KEY_NAMES {
                return Err(format!(
                    "the path pattern `{pattern}` of `{route}` would key on {} headers (the routes' own and the services' `auth-header`s); CloudFront allows {MAX_KEY_NAMES}",
                    settings.headers.len()
                ));
            }
            wanted.push(Behavior {
                pattern: pattern.clone(),
                caching: Caching::On(settings),
            });
        }
    }
    for pattern in groups.keys() {
        let cached_here = wanted.iter().any(|b| &b.pattern == pattern);
        let swallowed = wanted
            .iter()
            .any(|b| b.pattern != *pattern && pattern_matches(&b.pattern, &sample(pattern)));
        if !cached_here && swallowed {
            wanted.push(Behavior {
                pattern: pattern.clone(),
                caching: Caching::Off,
            });
        }
    }
    wanted.sort_by_key(|b| std::cmp::Reverse(specificity(&b.pattern)));
    if wanted.len() > MAX_BEHAVIORS {
        return Err(format!(
            "caching needs {} cache behaviors; a distribution holds {MAX_BEHAVIORS} unless AWS raises the quota",
            wanted.len()
        ));
    }
    for pattern in groups.keys() {
        let first = behavior_for(&wanted, &sample(pattern));
        let cached_here = wanted
            .iter()
            .any(|b| &b.pattern == pattern && b.caching != Caching::Off);
        let right = match first {
            Some(b) => &b.pattern == pattern || (b.caching == Caching::Off && !cached_here),
            None => !cached_here,
        };
        if !right {
            let first = first.map(|b| b.pattern.as_str()).unwrap_or_default();
            return Err(format!(
                "requests for `{pattern}` would meet the cached behavior `{first}` first"
            ));
        }
    }
    Ok(wanted)
}

/// More literal characters first, then longer, then by text: CloudFront
/// takes the first behavior whose pattern matches.
fn specificity(pattern: &str) -> (usize, usize, std::cmp::Reverse<String>) {
    let literal = pattern.chars().filter(|c| *c != '*' && *c != '?').count();
    (
        literal,
        pattern.len(),
        std::cmp::Reverse(pattern.to_owned()),
    )
}

/// The behavior CloudFront picks for a request path (`None`: the default
/// behavior, never cached).
pub fn behavior_for<'a>(behaviors: &'a [Behavior], path: &str) -> Option<&'a Behavior> {
    behaviors.iter().find(|b| pattern_matches(&b.pattern, path))
}

/// What the stage's API Gateway cache would do with a request to `route`
/// (`METHOD /path` as declared), as `serve` prints it.
pub fn api_decision(cache: &ApiCache, route: &str, method: &str) -> String {
    match cache.routes.get(route) {
        Some(s) if cache.enabled && matches!(method, "GET" | "HEAD") => {
            let mut key = vec!["path".to_owned()];
            key.extend(s.key());
            format!(
                "cache: hit-able {} s (API Gateway), key: {}",
                s.default_ttl,
                key.join(" ")
            )
        }
        _ => "cache: no".to_owned(),
    }
}

/// What the deployed stage's CloudFront would do with a request, as `serve`
/// prints it: `cache: hit-able 60 s, key: path query=limit`, or why not.
/// `None` when the stage caches nothing.
pub fn decision(behaviors: &[Behavior], method: &str, path: &str) -> Option<String> {
    if behaviors.is_empty() {
        return None;
    }
    let Some(b) = behavior_for(behaviors, path) else {
        return Some("cache: no (default behavior)".to_owned());
    };
    let settings = match &b.caching {
        Caching::On(s) => s,
        Caching::Off | Caching::Policy(_) => {
            return Some(format!("cache: no ({} not cached)", b.pattern));
        }
    };
    if !matches!(method, "GET" | "HEAD") {
        return Some(format!("cache: no ({method} is never cached)"));
    }
    let mut key = vec!["path".to_owned()];
    key.extend(settings.key());
    Some(format!(
        "cache: hit-able {} s ({}), key: {}",
        settings.default_ttl,
        b.pattern,
        key.join(" ")
    ))
}

#[cfg(test)]
#[path = "cache_tests.rs"]
mod tests;
