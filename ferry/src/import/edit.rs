//! The files `import` writes, edited with toml_edit so that every comment
//! and layout already there stays: a new `[stages.NAME]` at the end of
//! deploy.toml (region, role, retention, the adopted API and distribution,
//! each adopted function), and a mapped service's `routes`.

use std::collections::{BTreeMap, BTreeSet};

use toml_edit::{value, Array, DocumentMut, InlineTable, Item, Table};

use super::{Finding, Found, Report};
use crate::model::{Workspace, LOG_RETENTION_DAYS};

/// deploy.toml with the imported stage added.
pub(super) fn stage(
    text: &str,
    workspace: &Workspace,
    found: &Found,
    mapping: &BTreeMap<String, String>,
    report: &mut Report,
) -> Result<String, String> {
    let mut doc: DocumentMut = text.parse().map_err(|e| format!("{e}"))?;
    let stages = doc
        .entry("stages")
        .or_insert_with(|| {
            let mut t = Table::new();
            t.set_implicit(true);
            Item::Table(t)
        })
        .as_table_mut()
        .ok_or("`stages` is not a table")?;
    let mut stage = Table::new();
    stage.decor_mut().set_prefix(format!(
        "\n# Imported by `cargo xtask import` from REST API {} ({}) stage `{}`:\n# review, then `cargo xtask plan --stage {}`.\n",
        found.api_name, found.api_id, found.stage, found.stage
    ));
    stage["region"] = value(&found.region);
    let adopted: Vec<_> = mapping
        .iter()
        .filter_map(|(f, s)| Some((f, s, found.functions.get(f)?)))
        .collect();
    let roles: BTreeSet<&str> = adopted.iter().map(|(_, _, f)| f.role.as_str()).collect();
    match roles.iter().collect::<Vec<_>>().as_slice() {
        [] => {}
        [role] => stage["role"] = value(**role),
        _ => report.notes.push(Finding {
            what: format!("the functions run with {} different roles", roles.len()),
            todo: "not imported: the stage's functions share ferry's managed role (or one `role`); give a service its own `permissions` where it needs more".into(),
        }),
    }
    let retention: BTreeSet<Option<u32>> =
        adopted.iter().map(|(_, _, f)| f.retention_days).collect();
    if let [Some(days)] = retention.iter().collect::<Vec<_>>().as_slice() {
        if LOG_RETENTION_DAYS.contains(&i64::from(*days)) {
            stage["log-retention-days"] = value(i64::from(*days));
        }
    }
    let mut api = Table::new();
    api["name"] = value(&found.api_name);
    api["id"] = value(&found.api_id);
    if let Some(endpoint) = found.endpoint {
        let endpoint = match endpoint {
            crate::model::EndpointType::Regional => "REGIONAL",
            crate::model::EndpointType::Edge => "EDGE",
        };
        api["endpoint"] = value(endpoint);
    }
    if !found.binary_media_types.is_empty() {
        api["binary-media-types"] = value(strings(&found.binary_media_types));
    }
    if found.tracing {
        api["tracing"] = value(true);
    }
    if let Some(t) = found.throttle {
        let mut throttle = Table::new();
        throttle["rate"] = value(i64::from(t.rate));
        throttle["burst"] = value(i64::from(t.burst));
        api["throttle"] = Item::Table(throttle);
    }
    stage["api"] = Item::Table(api);
    if let Some(d) = &found.distribution {
        let mut front = Table::new();
        front["distribution"] = value(&d.id);
        match &d.origin {
            Some(o) if o.id != d.default_origin => front["origin"] = value(&o.id),
            Some(_) => {}
            None => report.notes.push(Finding {
                what: format!("distribution {} has no origin at the API", d.id),
                todo: "the first deploy points its default behaviour's origin at the API stage"
                    .into(),
            }),
        }
        if let Some(o) = d
            .origin
            .as_ref()
            .filter(|o| o.path != format!("/{}", found.stage))
        {
            report.notes.push(Finding {
                what: format!("origin {} has path `{}`", o.id, o.path),
                todo: format!("the first deploy sets it to `/{}`, the stage", found.stage),
            });
        }
        stage["cloudfront"] = Item::Table(front);
    }
    let mut services = Table::new();
    services.set_implicit(true);
    let mut env_seen: BTreeMap<&str, usize> = BTreeMap::new();
    for (function, service, f) in &adopted {
        let own = &workspace.services[service.as_str()];
        let mut t = Table::new();
        t["function-name"] = value(function.as_str());
        if f.memory_mb != own.memory_mb {
            t["memory"] = value(i64::from(f.memory_mb));
        }
        if f.timeout_s != own.timeout_s {
            t["timeout"] = value(i64::from(f.timeout_s));
        }
        if let Some((subnets, groups)) = &f.vpc {
            let mut vpc = InlineTable::new();
            vpc.insert("subnets", strings(subnets).into());
            vpc.insert("security-groups", strings(groups).into());
            t["vpc"] = value(vpc);
        }
        if !f.env.is_empty() {
            let mut env = InlineTable::new();
            for name in &f.env {
                let mut from = InlineTable::new();
                from.insert("from-env", name.as_str().into());
                env.insert(name, from.into());
                *env_seen.entry(name).or_default() += 1;
            }
            t["env"] = value(env);
        }
        services[service.as_str()] = Item::Table(t);
    }
    if !env_seen.is_empty() {
        let names: Vec<&str> = env_seen.keys().copied().collect();
        report.notes.push(Finding {
            what: format!("environment variables {} were not copied", names.join(", ")),
            todo: "each reads the deploy's environment (`{ from-env = \"NAME\" }`): set them where you deploy, or write a value or `{ ssm = \"/name\" }` instead".into(),
        });
    }
    for (name, n) in env_seen.iter().filter(|(_, n)| **n > 1) {
        report.notes.push(Finding {
            what: format!("{n} functions read {name}"),
            todo: "they get one value from the deploy's environment: rename the `from-env` of those that differ".into(),
        });
    }
    if !services.is_empty() {
        stage["services"] = Item::Table(services);
    }
    stages.insert(&found.stage, Item::Table(stage));
    Ok(doc.to_string())
}

/// A service's Cargo.toml with `routes` added to its own (which stay, with
/// their comments), or `None` when there is nothing to add.
pub(super) fn add_routes(text: &str, routes: &[String]) -> Result<Option<String>, String> {
    if routes.is_empty() {
        return Ok(None);
    }
    let mut doc: DocumentMut = text.parse().map_err(|e| format!("{e}"))?;
    let ferry = doc
        .entry("package")
        .or_insert_with(|| Item::Table(Table::new()))
        .as_table_mut()
        .ok_or("`package` is not a table")?
        .entry("metadata")
        .or_insert_with(implicit)
        .as_table_mut()
        .ok_or("`package.metadata` is not a table")?
        .entry("ferry")
        .or_insert_with(|| Item::Table(Table::new()))
        .as_table_like_mut()
        .ok_or("`package.metadata.ferry` is not a table")?;
    let own = ferry
        .entry("routes")
        .or_insert_with(|| value(Array::new()))
        .as_array_mut()
        .ok_or("`package.metadata.ferry.routes` is not an array")?;
    for route in routes {
        own.push(route.as_str());
    }
    Ok(Some(doc.to_string()))
}

fn strings(items: &[String]) -> Array {
    items.iter().map(String::as_str).collect()
}

fn implicit() -> Item {
    let mut t = Table::new();
    t.set_implicit(true);
    Item::Table(t)
}
