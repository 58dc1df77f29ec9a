//! Matches a request against the route table the way API Gateway REST APIs
//! do: a literal segment beats `{param}`, which beats a greedy `{proxy+}`; an
//! exact method beats `ANY`. Pure and unit-tested.

use std::collections::BTreeMap;

use crate::model::{Method, RouteEntry, RoutePath, RouteTable, Segment};

/// A matched route: its table entry and the path parameters it binds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matched<'a> {
    pub entry: &'a RouteEntry,
    pub params: BTreeMap<String, String>,
}

/// Finds the route for `method` and the (decoded) `path`, or `None` (API
/// Gateway answers 403 Missing Authentication Token then).
pub fn find<'a>(table: &'a RouteTable, method: &str, path: &str) -> Option<Matched<'a>> {
    best(table, Some(method), path)
}

/// The route path (API Gateway's resource) a request path reaches, whatever
/// its method: where a CORS preflight is answered.
pub fn resource<'a>(table: &'a RouteTable, path: &str) -> Option<&'a RoutePath> {
    best(table, None, path).map(|m| &m.entry.path)
}

fn best<'a>(table: &'a RouteTable, method: Option<&str>, path: &str) -> Option<Matched<'a>> {
    let parts: Vec<&str> = path
        .trim_start_matches('/')
        .split('/')
        .filter(|p| !p.is_empty())
        .collect();
    let mut best: Option<(Vec<u8>, Matched<'a>)> = None;
    for entry in &table.entries {
        let method_rank = match (entry.method, method) {
            (_, None) => 0,
            (Method::Any, _) => 1,
            (m, Some(wanted)) if m.as_str().eq_ignore_ascii_case(wanted) => 0,
            _ => continue,
        };
        let Some((mut rank, params)) = bind(&entry.path.segments, &parts) else {
            continue;
        };
        rank.push(method_rank);
        if best.as_ref().is_none_or(|(r, _)| rank < *r) {
            best = Some((rank, Matched { entry, params }));
        }
    }
    best.map(|(_, matched)| matched)
}

/// Binds path parts to segments; the rank orders matches (lower is more
/// specific): per segment 0 literal, 1 parameter, 2 greedy.
fn bind(segments: &[Segment], parts: &[&str]) -> Option<(Vec<u8>, BTreeMap<String, String>)> {
    let mut rank = Vec::with_capacity(segments.len());
    let mut params = BTreeMap::new();
    for (i, segment) in segments.iter().enumerate() {
        match segment {
            Segment::Literal(l) => {
                if parts.get(i) != Some(&l.as_str()) {
                    return None;
                }
                rank.push(0);
            }
            Segment::Param(name) => {
                params.insert(name.clone(), (*parts.get(i)?).to_owned());
                rank.push(1);
            }
            Segment::Greedy(name) => {
                let rest = parts.get(i..).filter(|r| !r.is_empty())?;
                params.insert(name.clone(), rest.join("/"));
                rank.push(2);
                return Some((rank, params));
            }
        }
    }
    (segments.len() == parts.len()).then_some((rank, params))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Route;

    fn table(routes: &[(&str, &str)]) -> RouteTable {
        RouteTable::new(
            routes
                .iter()
                .map(|(r, s)| (Route::parse(r).unwrap(), (*s).to_owned())),
        )
    }

    fn service<'a>(t: &'a RouteTable, method: &str, path: &str) -> Option<&'a str> {
        find(t, method, path).map(|m| m.entry.service.as_str())
    }

    #[test]
    fn precedence_is_literal_then_param_then_greedy_then_any() {
        let t = table(&[
            ("GET /items", "list"),
            ("GET /items/{id}", "get"),
            ("GET /items/special", "special"),
            ("ANY /items/{id}", "any-item"),
            ("ANY /{proxy+}", "fallback"),
        ]);
        assert_eq!(service(&t, "GET", "/items"), Some("list"));
        assert_eq!(service(&t, "GET", "/items/7"), Some("get"));
        assert_eq!(service(&t, "GET", "/items/special"), Some("special"));
        assert_eq!(service(&t, "DELETE", "/items/7"), Some("any-item"));
        assert_eq!(service(&t, "GET", "/other/a/b"), Some("fallback"));
        assert_eq!(
            service(&t, "GET", "/"),
            None,
            "a greedy segment needs at least one part"
        );
        assert_eq!(find(&t, "GET", "/items/7").unwrap().params["id"], "7");
        assert_eq!(find(&t, "GET", "/x/y/z").unwrap().params["proxy"], "x/y/z");
    }

    #[test]
    fn unmatched_method_or_path_is_none() {
        let t = table(&[("GET /items", "list")]);
        assert_eq!(service(&t, "POST", "/items"), None);
        assert_eq!(service(&t, "GET", "/items/1"), None);
        assert_eq!(service(&t, "GET", "/item"), None);
        assert_eq!(service(&t, "get", "/items/"), Some("list"));
    }

    #[test]
    fn a_resource_is_found_whatever_the_method() {
        let t = table(&[("POST /items", "create"), ("GET /items/{id}", "get")]);
        let path = |p| resource(&t, p).map(|r| r.to_string());
        assert_eq!(path("/items").as_deref(), Some("/items"));
        assert_eq!(path("/items/7").as_deref(), Some("/items/{id}"));
        assert_eq!(path("/nothing"), None);
    }
}
