//! Validation of `[stages.NAME.api.cors]` and its per-path overrides into
//! the model's `StageCors`: origins a browser sends, header names, methods,
//! the preflight's max-age, paths that exist, and no path whose own
//! `OPTIONS` route would collide with the preflight ferry adds.

use std::collections::{BTreeMap, BTreeSet};

use toml::Spanned;

use crate::model::cors::{
    path_methods, CorsPolicy, StageCors, DEFAULT_ALLOW_HEADERS, DEFAULT_MAX_AGE_S, MAX_AGE_S,
};
use crate::model::diag::{Diagnostics, SourceFile};
use crate::model::raw::{RawCors, RawCorsPath};
use crate::model::route::RouteTable;
use crate::model::Method;

type List = Option<Spanned<Vec<Spanned<String>>>>;

/// The keys a stage table and a path table share.
struct Fields<'a> {
    origins: &'a List,
    methods: &'a List,
    headers: &'a List,
    expose: &'a List,
    credentials: &'a Option<Spanned<bool>>,
    max_age: &'a Option<Spanned<i64>>,
}

impl<'a> From<&'a RawCors> for Fields<'a> {
    fn from(t: &'a RawCors) -> Self {
        Fields {
            origins: &t.allow_origins,
            methods: &t.allow_methods,
            headers: &t.allow_headers,
            expose: &t.expose_headers,
            credentials: &t.allow_credentials,
            max_age: &t.max_age,
        }
    }
}

impl<'a> From<&'a RawCorsPath> for Fields<'a> {
    fn from(t: &'a RawCorsPath) -> Self {
        Fields {
            origins: &t.allow_origins,
            methods: &t.allow_methods,
            headers: &t.allow_headers,
            expose: &t.expose_headers,
            credentials: &t.allow_credentials,
            max_age: &t.max_age,
        }
    }
}

/// The stage's CORS, or `None` without a table (or with errors, recorded).
pub(crate) fn stage_cors(
    raw: Option<&Spanned<RawCors>>,
    routes: &RouteTable,
    file: &SourceFile,
    key: &str,
    diags: &mut Diagnostics,
) -> Option<StageCors> {
    let raw = raw?;
    let table = raw.get_ref();
    let before = diags.errors.len();
    if table.allow_origins.is_none() {
        diags.error(
            file,
            raw.span(),
            key.to_owned(),
            "a CORS table needs `allow-origins`",
            Some("list the origins your web app is served from, e.g. `allow-origins = [\"https://app.example.com\"]` (or `[\"*\"]` for any)".into()),
        );
    }
    let base = CorsPolicy {
        origins: Vec::new(),
        allow_methods: None,
        allow_headers: DEFAULT_ALLOW_HEADERS
            .iter()
            .map(|h| h.to_string())
            .collect(),
        expose_headers: Vec::new(),
        credentials: false,
        max_age_s: DEFAULT_MAX_AGE_S,
    };
    let default = apply(&base, &Fields::from(table), file, key, diags);
    let methods = path_methods(routes);
    let mut paths = BTreeMap::new();
    for (path, over) in &table.paths {
        let path_key = format!("{key}.paths.\"{}\"", path.get_ref());
        if !methods.contains_key(path.get_ref()) {
            let known: Vec<&str> = methods.keys().map(String::as_str).collect();
            let help = if path.get_ref().contains(' ') {
                "CORS is set per path, since a preflight is one OPTIONS per path: write the path alone, e.g. `\"/items/{id}\"`".to_owned()
            } else {
                format!("use a path of the workspace's routes: {}", known.join(", "))
            };
            diags.error(
                file,
                path.span(),
                path_key,
                format!("no route has the path `{}`", path.get_ref()),
                Some(help),
            );
            continue;
        }
        let over_table = over.get_ref();
        let policy = match &over_table.enabled {
            Some(e) if !*e.get_ref() => {
                let fields = Fields::from(over_table);
                let set = fields.origins.is_some()
                    || fields.methods.is_some()
                    || fields.headers.is_some()
                    || fields.expose.is_some()
                    || fields.credentials.is_some()
                    || fields.max_age.is_some();
                if set {
                    diags.error(
                        file,
                        over.span(),
                        path_key.clone(),
                        "CORS is off for this path, so its other keys would do nothing",
                        Some("remove `enabled = false` to use them, or remove them".into()),
                    );
                }
                None
            }
            _ => Some(apply(
                &default,
                &Fields::from(over_table),
                file,
                &path_key,
                diags,
            )),
        };
        paths.insert(path.get_ref().clone(), policy);
    }
    let cors = StageCors { default, paths };
    for (path, routes) in &methods {
        if routes.contains(&Method::Options) && cors.for_path(path).is_some() {
            diags.error(
                file,
                raw.span(),
                key.to_owned(),
                format!("the route `OPTIONS {path}` would answer the preflight that CORS adds to `{path}`"),
                Some(format!("remove that route (ferry answers the preflight), or turn CORS off for the path: [{key}.paths.\"{path}\"] enabled = false")),
            );
        }
    }
    (diags.errors.len() == before).then_some(cors)
}

/// Cached routes on paths that reflect listed origins answer each origin
/// differently, so their cache key takes `Origin` (which CloudFront then
/// forwards; without it neither the preflight nor the function would see
/// the origin). Returns whether any route changed.
pub(crate) fn key_on_origin(
    cors: &StageCors,
    cached: &mut BTreeMap<String, crate::model::cache::CacheSettings>,
) -> bool {
    let mut changed = false;
    for (route, settings) in cached.iter_mut() {
        let path = route.split_once(' ').map_or(route.as_str(), |(_, p)| p);
        if cors.for_path(path).is_some_and(|p| !p.any_origin()) {
            changed |= settings.headers.insert("origin".to_owned());
        }
    }
    changed
}

/// `base` with the keys `fields` sets, each checked.
fn apply(
    base: &CorsPolicy,
    fields: &Fields<'_>,
    file: &SourceFile,
    key: &str,
    diags: &mut Diagnostics,
) -> CorsPolicy {
    let mut policy = base.clone();
    if let Some(list) = fields.origins {
        policy.origins = origins(list, file, &format!("{key}.allow-origins"), diags);
    }
    if let Some(list) = fields.methods {
        let mut set = BTreeSet::new();
        for m in list.get_ref() {
            match Method::parse(m.get_ref()).filter(|m| *m != Method::Any) {
                Some(method) => {
                    set.insert(method);
                }
                None => diags.error(
                    file,
                    m.span(),
                    format!("{key}.allow-methods"),
                    format!("`{}` is not an HTTP method", m.get_ref()),
                    Some(
                        "use GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS, in upper case".into(),
                    ),
                ),
            }
        }
        policy.allow_methods = Some(set);
    }
    if let Some(list) = fields.headers {
        policy.allow_headers = header_names(list, file, &format!("{key}.allow-headers"), diags);
    }
    if let Some(list) = fields.expose {
        policy.expose_headers = header_names(list, file, &format!("{key}.expose-headers"), diags);
    }
    if let Some(c) = fields.credentials {
        policy.credentials = *c.get_ref();
    }
    if let Some(age) = fields.max_age {
        match u32::try_from(*age.get_ref()) {
            Ok(s) if s <= MAX_AGE_S => policy.max_age_s = s,
            _ => diags.error(
                file,
                age.span(),
                format!("{key}.max-age"),
                format!("{} is not a preflight max-age", age.get_ref()),
                Some(format!(
                    "use 0 to {MAX_AGE_S} seconds (Chromium keeps at most 7200)"
                )),
            ),
        }
    }
    // A table that sets neither key inherits the combination, which the
    // table that set it reports.
    let at = fields
        .credentials
        .as_ref()
        .map(Spanned::span)
        .or_else(|| fields.origins.as_ref().map(Spanned::span));
    if let (true, Some(at)) = (policy.credentials && policy.any_origin(), at) {
        diags.error(
            file,
            at,
            format!("{key}.allow-credentials"),
            "browsers refuse credentials with the origin `*`",
            Some("list the origins that may send credentials in `allow-origins`, or set `allow-credentials = false`".into()),
        );
    }
    policy
}

fn origins(
    list: &Spanned<Vec<Spanned<String>>>,
    file: &SourceFile,
    key: &str,
    diags: &mut Diagnostics,
) -> Vec<String> {
    if list.get_ref().is_empty() {
        diags.error(
            file,
            list.span(),
            key.to_owned(),
            "no origin is allowed",
            Some("list at least one origin, or remove the CORS table".into()),
        );
    }
    let mut out = BTreeSet::new();
    for origin in list.get_ref() {
        let text = origin.get_ref();
        let problem = if text == "*" {
            (list.get_ref().len() > 1).then(|| {
                (
                    "`*` allows every origin, so it stands alone".to_owned(),
                    "write `[\"*\"]` alone, or list the origins without it",
                )
            })
        } else {
            origin_problem(text).map(|why| {
                (why, "write the origin as a browser sends it: `https://host` or `http://host:port`, lower case, with no path")
            })
        };
        match problem {
            Some((why, help)) => {
                diags.error(file, origin.span(), key.to_owned(), why, Some(help.into()))
            }
            None => {
                out.insert(text.clone());
            }
        }
    }
    out.into_iter().collect()
}

/// Why `text` is not an origin a browser sends, if it is not.
fn origin_problem(text: &str) -> Option<String> {
    let rest = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"));
    let Some(rest) = rest else {
        return Some(format!(
            "`{text}` is not an origin: it needs `https://` or `http://`"
        ));
    };
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (rest, None),
    };
    if rest.contains('/') || rest.contains('?') || rest.contains('#') {
        return Some(format!(
            "`{text}` has a path: an origin is only scheme, host and port"
        ));
    }
    let host_ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-');
    if !host_ok {
        return Some(format!(
            "`{text}` is not an origin: its host must be lower-case letters, digits, `.` and `-`"
        ));
    }
    if let Some(port) = port {
        if port.parse::<u16>().map_or(true, |p| p == 0) || port.starts_with('0') {
            return Some(format!("`{text}` is not an origin: `{port}` is not a port"));
        }
        let default = if text.starts_with("https://") {
            "443"
        } else {
            "80"
        };
        if port == default {
            return Some(format!("`{text}` never matches: browsers leave the scheme's default port out of an origin (write it without `:{port}`)"));
        }
    }
    None
}

fn header_names(
    list: &Spanned<Vec<Spanned<String>>>,
    file: &SourceFile,
    key: &str,
    diags: &mut Diagnostics,
) -> Vec<String> {
    let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&*+-.^_`|~".contains(c);
    let mut out = Vec::new();
    for name in list.get_ref() {
        let text = name.get_ref();
        if text.is_empty() || !text.chars().all(token) {
            diags.error(
                file,
                name.span(),
                key.to_owned(),
                format!("`{text}` is not an HTTP header name"),
                Some("write one header name per string, e.g. `\"Content-Type\"`".into()),
            );
        } else if !out.iter().any(|o: &String| o.eq_ignore_ascii_case(text)) {
            out.push(text.clone());
        }
    }
    out
}

#[cfg(test)]
#[path = "cors_tests.rs"]
mod tests;
