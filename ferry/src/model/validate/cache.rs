//! Validation of caching declarations: a route's cache table (in its
//! service's Cargo.toml, or over it in a stage's `cache.routes`) value by
//! value, and a service's `auth-header`. `cache_stage.rs` resolves them for
//! a stage.

use std::collections::{BTreeMap, BTreeSet};

use toml::Spanned;

use crate::model::cache::{cacheable, CacheDecl, KeyNames, MAX_KEY_NAMES, MAX_TTL_S};
use crate::model::diag::{Diagnostics, Place, SourceFile};
use crate::model::raw::{RawCache, RawFerry};
use crate::model::route::Route;

/// Headers that never reach API Gateway as the viewer sent them, or that
/// CloudFront keeps to itself.
const NOT_KEYABLE: &[(&str, &str)] = &[
    (
        "host",
        "API Gateway routes on its own host name, so CloudFront must not forward the viewer's",
    ),
    ("connection", "it is a hop-by-hop header"),
    ("keep-alive", "it is a hop-by-hop header"),
    ("proxy-authenticate", "it is a hop-by-hop header"),
    ("proxy-authorization", "it is a hop-by-hop header"),
    ("proxy-connection", "it is a hop-by-hop header"),
    ("te", "it is a hop-by-hop header"),
    ("trailer", "it is a hop-by-hop header"),
    ("transfer-encoding", "it is a hop-by-hop header"),
    ("upgrade", "it is a hop-by-hop header"),
    ("expect", "CloudFront does not forward it"),
    ("via", "CloudFront sets it"),
];

/// A header name as CloudFront keys it (lower case), or why it cannot be.
pub(crate) fn header_name(text: &str) -> Result<String, String> {
    let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if text.is_empty() || !text.chars().all(token) {
        return Err(format!("`{text}` is not an HTTP header name"));
    }
    let lower = text.to_ascii_lowercase();
    if let Some((_, why)) = NOT_KEYABLE.iter().find(|(h, _)| *h == lower) {
        return Err(format!("`{text}` cannot be in a cache key: {why}"));
    }
    if lower.starts_with("x-amz-cf-") || lower.starts_with("x-edge-") {
        return Err(format!("`{text}` is CloudFront's own header"));
    }
    Ok(lower)
}

/// One route's cache table, its values checked one by one.
pub(crate) fn decl(
    raw: &Spanned<RawCache>,
    file: &SourceFile,
    key: &str,
    diags: &mut Diagnostics,
) -> CacheDecl {
    let table = raw.get_ref();
    let headers = table.headers.as_ref().map(|list| {
        let mut out = BTreeSet::new();
        for h in list.get_ref() {
            match header_name(h.get_ref()) {
                Ok(name) => {
                    out.insert(name);
                }
                Err(why) => diags.error(
                    file,
                    h.span(),
                    format!("{key}.headers"),
                    why,
                    Some("name a request header the function reads, e.g. `Accept-Language`".into()),
                ),
            }
        }
        if out.len() > MAX_KEY_NAMES {
            diags.error(
                file,
                list.span(),
                format!("{key}.headers"),
                format!(
                    "{} headers; CloudFront keys on at most {MAX_KEY_NAMES}",
                    out.len()
                ),
                Some("keep the headers the response really varies on".into()),
            );
        }
        out
    });
    CacheDecl {
        enabled: table.enabled.as_ref().map(|v| *v.get_ref()),
        default_ttl: ttl(&table.ttl, file, &format!("{key}.ttl"), diags),
        min_ttl: ttl(&table.min_ttl, file, &format!("{key}.min-ttl"), diags),
        max_ttl: ttl(&table.max_ttl, file, &format!("{key}.max-ttl"), diags),
        query: key_names(&table.query, file, &format!("{key}.query"), diags),
        headers,
        cookies: key_names(&table.cookies, file, &format!("{key}.cookies"), diags),
        at: Some(Place {
            file: file.clone(),
            span: raw.span(),
            key: key.to_owned(),
        }),
    }
}

pub(super) fn ttl(
    v: &Option<Spanned<i64>>,
    file: &SourceFile,
    key: &str,
    diags: &mut Diagnostics,
) -> Option<u64> {
    let v = v.as_ref()?;
    match u64::try_from(*v.get_ref()) {
        Ok(s) if s <= MAX_TTL_S => Some(s),
        _ => {
            diags.error(
                file,
                v.span(),
                key,
                format!("{} seconds is outside CloudFront's TTL range", v.get_ref()),
                Some(format!("use 0 to {MAX_TTL_S} seconds (one year)")),
            );
            None
        }
    }
}

fn key_names(
    v: &Option<Spanned<toml::Value>>,
    file: &SourceFile,
    key: &str,
    diags: &mut Diagnostics,
) -> Option<KeyNames> {
    let v = v.as_ref()?;
    let help = "write `\"none\"`, `\"all\"`, or a list of up to 10 names such as `[\"limit\", \"cursor\"]`";
    let mut bad = |message: String| {
        diags.error(file, v.span(), key, message, Some(help.into()));
        None
    };
    match v.get_ref() {
        toml::Value::String(s) if s == "none" => Some(KeyNames::None),
        toml::Value::String(s) if s == "all" => Some(KeyNames::All),
        toml::Value::Array(items) => {
            let mut names = BTreeSet::new();
            for item in items {
                match item.as_str() {
                    Some(s) if !s.is_empty() && !s.contains(['&', '=', ';', ' ']) => {
                        names.insert(s.to_owned());
                    }
                    _ => return bad(format!("{item} is not a name")),
                }
            }
            if names.len() > MAX_KEY_NAMES {
                return bad(format!(
                    "{} names; CloudFront keys on at most {MAX_KEY_NAMES}",
                    names.len()
                ));
            }
            Some(if names.is_empty() {
                KeyNames::None
            } else {
                KeyNames::Named(names)
            })
        }
        other => bad(format!(
            "{other} is neither \"none\", \"all\" nor a list of names"
        )),
    }
}

/// A service's `auth-header` and its routes' cache tables.
pub(crate) fn service_cache(
    ferry: &RawFerry,
    routes: &[Route],
    file: &SourceFile,
    prefix: &str,
    diags: &mut Diagnostics,
) -> (Option<String>, BTreeMap<String, CacheDecl>) {
    let auth = ferry.auth_header.as_ref().and_then(|h| {
        header_name(h.get_ref())
            .map_err(|why| {
                let help =
                    "name the header the service reads credentials from, e.g. `Authorization`";
                diags.error(
                    file,
                    h.span(),
                    format!("{prefix}.auth-header"),
                    why,
                    Some(help.into()),
                );
            })
            .ok()
    });
    let mut out = BTreeMap::new();
    for (text, table) in ferry.cache.iter().flat_map(|c| c.get_ref()) {
        let key = format!("{prefix}.cache.\"{}\"", text.get_ref());
        let route = Route::parse(text.get_ref()).ok();
        let Some(route) = route.filter(|r| routes.contains(r)) else {
            let mine: Vec<String> = routes.iter().map(|r| format!("\"{r}\"")).collect();
            diags.error(
                file,
                text.span(),
                key,
                format!("`{}` is not one of this service's routes", text.get_ref()),
                Some(format!(
                    "name one of the service's `routes`: {}",
                    mine.join(", ")
                )),
            );
            continue;
        };
        if !cacheable(route.method) {
            not_cacheable(&route, file, text.span(), &key, diags);
            continue;
        }
        out.insert(route.to_string(), decl(table, file, &key, diags));
    }
    (auth, out)
}

pub(super) fn not_cacheable(
    route: &Route,
    file: &SourceFile,
    span: std::ops::Range<usize>,
    key: &str,
    diags: &mut Diagnostics,
) {
    diags.error(
        file,
        span,
        key,
        format!("`{route}` cannot be cached: CloudFront caches only GET and HEAD responses"),
        Some("remove this table; cache the path's GET route instead".into()),
    );
}

#[cfg(test)]
#[path = "cache_tests.rs"]
mod tests;
