//! Routes (`METHOD /path` with `{param}` and greedy `{proxy+}` segments) and the
//! workspace route table that `routes`, `deploy` and `serve` all read.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Serialize, Serializer};

use super::names::Method;

/// One segment of a route path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Segment {
    Literal(String),
    /// `{name}`: exactly one path segment.
    Param(String),
    /// `{name+}`: the rest of the path, one or more segments; only last.
    Greedy(String),
}

/// A route path as API Gateway models it: `/`, or `/`-separated segments.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RoutePath {
    pub segments: Vec<Segment>,
}

impl RoutePath {
    /// Parses a path; the error says what is wrong and how API Gateway wants it.
    pub fn parse(path: &str) -> Result<Self, String> {
        let Some(rest) = path.strip_prefix('/') else {
            return Err(format!("the path `{path}` must start with `/`"));
        };
        if rest.is_empty() {
            return Ok(Self {
                segments: Vec::new(),
            });
        }
        let parts: Vec<&str> = rest.split('/').collect();
        let mut segments = Vec::with_capacity(parts.len());
        for (index, part) in parts.iter().enumerate() {
            let last = index + 1 == parts.len();
            segments.push(parse_segment(part, last, path)?);
        }
        let mut seen = std::collections::BTreeSet::new();
        for seg in &segments {
            if let Segment::Param(name) | Segment::Greedy(name) = seg {
                if !seen.insert(name) {
                    return Err(format!(
                        "the parameter `{{{name}}}` appears twice in `{path}`"
                    ));
                }
            }
        }
        Ok(Self { segments })
    }

    /// The shape of the path with parameter names erased: two routes with the
    /// same shape are the same API Gateway resource.
    pub fn shape(&self) -> Vec<Segment> {
        self.segments
            .iter()
            .map(|s| match s {
                Segment::Literal(l) => Segment::Literal(l.clone()),
                Segment::Param(_) => Segment::Param(String::new()),
                Segment::Greedy(_) => Segment::Greedy(String::new()),
            })
            .collect()
    }
}

fn parse_segment(part: &str, last: bool, path: &str) -> Result<Segment, String> {
    if part.is_empty() {
        return Err(format!(
            "the path `{path}` has an empty segment (`//` or a trailing `/`)"
        ));
    }
    if let Some(inner) = part.strip_prefix('{') {
        let Some(inner) = inner.strip_suffix('}') else {
            return Err(format!(
                "the segment `{part}` in `{path}` opens `{{` but does not end with `}}`"
            ));
        };
        let (name, greedy) = match inner.strip_suffix('+') {
            Some(name) => (name, true),
            None => (inner, false),
        };
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!(
                "the parameter `{part}` in `{path}` needs a name of letters, digits and `_`"
            ));
        }
        if greedy && !last {
            return Err(format!(
                "the greedy parameter `{part}` must be the last segment of `{path}`"
            ));
        }
        return Ok(if greedy {
            Segment::Greedy(name.to_owned())
        } else {
            Segment::Param(name.to_owned())
        });
    }
    if let Some(bad) = part
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "-._~:@".contains(*c)))
    {
        return Err(format!(
            "the segment `{part}` in `{path}` contains `{bad}`; API Gateway path parts allow letters, digits and `-._~:@`"
        ));
    }
    Ok(Segment::Literal(part.to_owned()))
}

impl fmt::Display for RoutePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.segments.is_empty() {
            return f.write_str("/");
        }
        for seg in &self.segments {
            match seg {
                Segment::Literal(l) => write!(f, "/{l}")?,
                Segment::Param(p) => write!(f, "/{{{p}}}")?,
                Segment::Greedy(p) => write!(f, "/{{{p}+}}")?,
            }
        }
        Ok(())
    }
}

impl Serialize for RoutePath {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A method and a path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Route {
    pub method: Method,
    pub path: RoutePath,
}

impl Route {
    /// Parses `METHOD /path`, e.g. `GET /items/{id}` or `ANY /{proxy+}`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut words = text.split_whitespace();
        let (Some(method), Some(path), None) = (words.next(), words.next(), words.next()) else {
            return Err(format!(
                "`{text}` is not of the form `METHOD /path`, e.g. `GET /items/{{id}}`"
            ));
        };
        let method = Method::parse(method).ok_or_else(|| {
            let all: Vec<_> = Method::ALL.iter().map(|m| m.as_str()).collect();
            format!(
                "`{method}` is not an HTTP method API Gateway knows; use one of {}",
                all.join(", ")
            )
        })?;
        Ok(Self {
            method,
            path: RoutePath::parse(path)?,
        })
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

/// One row of the route table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RouteEntry {
    pub method: Method,
    pub path: RoutePath,
    pub service: String,
    /// Who may call it, as the service's `auth` says (`None`: it says nothing).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth: Option<super::auth::RouteAuth>,
}

/// Every route of the workspace, ordered by path then method, each owned by
/// exactly one service (the loader rejects conflicts before building this).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct RouteTable {
    pub entries: Vec<RouteEntry>,
}

impl RouteTable {
    pub fn new(routes: impl IntoIterator<Item = (Route, String)>) -> Self {
        let sorted: BTreeMap<(String, Method), RouteEntry> = routes
            .into_iter()
            .map(|(route, service)| {
                let key = (route.path.to_string(), route.method);
                (
                    key,
                    RouteEntry {
                        method: route.method,
                        path: route.path,
                        service,
                        auth: None,
                    },
                )
            })
            .collect();
        Self {
            entries: sorted.into_values().collect(),
        }
    }

    /// The route table as aligned text, one route a line.
    pub fn render_text(&self) -> String {
        let width = self
            .entries
            .iter()
            .map(|e| e.path.to_string().len())
            .max()
            .unwrap_or(4)
            .max(4);
        let with_auth = self.entries.iter().any(|e| e.auth.is_some());
        let service_width = self
            .entries
            .iter()
            .map(|e| e.service.len())
            .max()
            .unwrap_or(7)
            .max(7);
        let mut out = format!("{:<7} {:<width$}  SERVICE", "METHOD", "PATH");
        if with_auth {
            out.push_str(&format!("{}  AUTH", " ".repeat(service_width - 7)));
        }
        out.push('\n');
        for e in &self.entries {
            let mut line = format!(
                "{:<7} {:<width$}  {:<service_width$}",
                e.method.as_str(),
                e.path.to_string(),
                e.service
            );
            if with_auth {
                let auth = e.auth.as_ref().map_or("-".to_owned(), |a| a.to_string());
                line.push_str(&format!("  {auth}"));
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_routes() {
        for text in [
            "GET /items",
            "GET /items/{id}",
            "ANY /{proxy+}",
            "POST /",
            "DELETE /a/b.c/{x}/{rest+}",
        ] {
            assert_eq!(Route::parse(text).unwrap().to_string(), text);
        }
    }

    #[test]
    fn rejects_malformed_routes() {
        let cases = [
            ("GET items", "must start with `/`"),
            ("FETCH /items", "not an HTTP method"),
            ("GET /items/", "empty segment"),
            ("GET /a//b", "empty segment"),
            ("GET /{proxy+}/x", "must be the last"),
            ("GET /{id}/{id}", "appears twice"),
            ("GET /{}", "needs a name"),
            ("GET /{id", "does not end with"),
            ("GET /it ems", "not of the form"),
            ("GET /a?b", "contains `?`"),
            ("GET", "not of the form"),
        ];
        for (text, expected) in cases {
            let err = Route::parse(text).unwrap_err();
            assert!(err.contains(expected), "{text}: {err}");
        }
    }

    #[test]
    fn shape_erases_parameter_names() {
        let a = RoutePath::parse("/items/{id}").unwrap();
        let b = RoutePath::parse("/items/{key}").unwrap();
        assert_ne!(a, b);
        assert_eq!(a.shape(), b.shape());
    }

    #[test]
    fn table_is_sorted_by_path_then_method() {
        let table = RouteTable::new([
            (Route::parse("POST /items").unwrap(), "create".to_owned()),
            (Route::parse("GET /items/{id}").unwrap(), "get".to_owned()),
            (Route::parse("GET /items").unwrap(), "list".to_owned()),
        ]);
        let order: Vec<_> = table.entries.iter().map(|e| e.service.as_str()).collect();
        assert_eq!(order, ["list", "create", "get"]);
    }
}
