//! What `import` tells the user: the functions it mapped to services, the
//! ones without a crate, and every piece of the stage ferry cannot
//! represent, which it leaves untouched (an adopted API is merged, never
//! overwritten), each with what to do. Text for people, JSON for CI.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Serialize;

use super::{Found, FoundMethod, Integration};

/// One thing the user should know, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub what: String,
    pub todo: String,
}

/// The outcome of an import, for review before the first `plan`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub stage: String,
    pub api: String,
    /// Function -> the service it becomes.
    pub mapped: BTreeMap<String, String>,
    /// Functions the API invokes that no service becomes, with their routes.
    pub without_crate: BTreeMap<String, Vec<String>>,
    /// Pieces ferry does not represent: left as they are.
    pub kept: Vec<Finding>,
    /// What the first deploy changes on purpose, and other notes.
    pub notes: Vec<Finding>,
    /// Services whose routes import added to: service -> the added routes.
    pub routes: BTreeMap<String, Vec<String>>,
}

impl Report {
    pub(super) fn new(found: &Found, mapping: &BTreeMap<String, String>) -> Report {
        let mut report = Report {
            stage: found.stage.clone(),
            api: format!("{} ({})", found.api_name, found.api_id),
            mapped: mapping.clone(),
            without_crate: BTreeMap::new(),
            kept: Vec::new(),
            notes: Vec::new(),
            routes: BTreeMap::new(),
        };
        for m in &found.methods {
            report.method(m, mapping);
        }
        let keep = |what: String, todo: &str| Finding {
            what,
            todo: todo.to_owned(),
        };
        for (name, kind) in &found.authorizers {
            report.kept.push(keep(
                format!("authorizer `{name}` ({kind})"),
                "kept on the API; to let ferry manage it, declare it (README: \"Authorizers\") and name it in the routes' `auth`",
            ));
        }
        for plan in &found.usage_plans {
            report.kept.push(keep(
                format!("usage plan `{plan}` names this stage"),
                "kept; ferry does not manage usage plans or API keys",
            ));
        }
        if !found.stage_variables.is_empty() {
            report.kept.push(keep(
                format!("stage variables {}", found.stage_variables.join(", ")),
                "kept on the stage; ferry does not use stage variables (use each service's `env`)",
            ));
        }
        if !found.method_settings.is_empty() {
            report.kept.push(keep(
                format!("method settings of {}", found.method_settings.join(", ")),
                "not imported: ferry's next deploy sets the stage's throttle and logging; declare per-route limits in `[stages.NAME.api.throttle.routes]`",
            ));
        }
        if let Some(log) = &found.access_log {
            report.notes.push(keep(
                format!("the stage writes an access log to {log}"),
                "not imported: add `[stages.NAME.api.access-log]` to keep one (ferry's goes to its own group), or the next deploy turns it off",
            ));
        }
        for (function, f) in &found.functions {
            let Some(service) = mapping.get(function) else {
                continue;
            };
            report.notes.push(keep(
                format!("{function} ({}, {}) becomes service `{service}`", f.runtime, f.arch),
                "the first deploy updates its code, architecture and runtime in place (same function, same name)",
            ));
            for layer in &f.layers {
                report.notes.push(keep(
                    format!("{function} uses layer {layer}"),
                    "not imported (a service's layers apply on every stage): add it to the service's `layers`, or the first deploy detaches it",
                ));
            }
            if f.retention_days.is_none() {
                report.notes.push(keep(
                    format!("/aws/lambda/{function} never expires"),
                    "the first deploy sets the stage's `log-retention-days`",
                ));
            }
        }
        report
    }

    fn method(&mut self, m: &FoundMethod, mapping: &BTreeMap<String, String>) {
        let route = format!("{} {}", m.method, m.path);
        let finding = |what: String, todo: &str| Finding {
            what,
            todo: todo.to_owned(),
        };
        match &m.integration {
            Integration::LambdaProxy { function } if self.represented(m) => {
                if !mapping.contains_key(function) {
                    self.without_crate
                        .entry(function.clone())
                        .or_default()
                        .push(route);
                }
            }
            Integration::LambdaProxy { function } => self.kept.push(finding(
                format!(
                    "{route} -> {function} is guarded ({}{})",
                    m.authorization,
                    if m.api_key_required { ", API key" } else { "" }
                ),
                "kept as it is and not imported as a route; to let ferry manage it, declare its authorizer and add the route with its `auth`",
            )),
            Integration::Other { kind, uri } => self.kept.push(finding(
                format!(
                    "{route}: a {kind} integration{}",
                    uri.as_ref().map(|u| format!(" to {u}")).unwrap_or_default()
                ),
                "kept as it is: ferry deploys Lambda proxy integrations only, and merges its routes around this one",
            )),
            Integration::Missing => self.kept.push(finding(
                format!("{route} has no integration"),
                "kept as it is; API Gateway answers it with an error until it has one",
            )),
        }
    }

    /// A proxy method ferry can deploy as a route: callable by anyone.
    pub(super) fn represented(&self, m: &FoundMethod) -> bool {
        m.authorization == "NONE" && !m.api_key_required
    }

    /// Services of the workspace no function became: the first deploy
    /// creates their functions under ferry's names.
    pub(super) fn unmapped_services<'a>(&mut self, services: impl Iterator<Item = &'a String>) {
        for service in services.filter(|s| !self.mapped.values().any(|m| m == *s)) {
            self.notes.push(Finding {
                what: format!("no function of the stage became service `{service}`"),
                todo: format!("the first deploy creates it as a new function with its routes; map an existing function with `--map FUNCTION={service}` to adopt one instead"),
            });
        }
    }

    pub(super) fn changed_routes(&mut self, service: &str, routes: &[String]) {
        self.routes.insert(service.to_owned(), routes.to_vec());
    }

    /// The report as text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "import of stage `{}` of {}", self.stage, self.api);
        for (function, service) in &self.mapped {
            let _ = writeln!(out, "  = {function} -> service `{service}`");
        }
        for (service, routes) in &self.routes {
            let _ = writeln!(out, "  + routes of `{service}`: {}", routes.join(", "));
        }
        if !self.without_crate.is_empty() {
            let _ = writeln!(out, "\nfunctions without a crate (left as they are; the adopted API keeps their methods):");
            for (function, routes) in &self.without_crate {
                let _ = writeln!(out, "  ? {function}: {}", routes.join(", "));
                let _ = writeln!(out, "      to move it to Rust, add a service crate with these routes and `function-name = \"{function}\"` in `[stages.{}.services.SERVICE]`", self.stage);
            }
        }
        for (title, list) in [
            ("not represented by ferry, left untouched:", &self.kept),
            ("notes:", &self.notes),
        ] {
            if list.is_empty() {
                continue;
            }
            let _ = writeln!(out, "\n{title}");
            for f in list {
                let _ = writeln!(out, "  ! {}\n      {}", f.what, f.todo);
            }
        }
        out
    }
}
