//! `doctor`: the live chain of a stage checked link by link, from the
//! domain's DNS record to the functions' log groups, each link ok or broken
//! with the fix. Pure: the AWS side reads, this judges.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Serialize;

use super::front::{api_domain, same_name, ALIAS_TYPES};
use super::plan::invoke_source_arn;
use super::stage_cache::StageCacheState;
use super::state::{Desired, Live};
use crate::model::cache::Behavior;

/// One link of the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Link {
    pub link: &'static str,
    pub ok: bool,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub app: String,
    pub stage: String,
    pub region: String,
    pub ok: bool,
    pub links: Vec<Link>,
}

/// Judges every link; `states` holds each function's Lambda `State`.
pub fn check(desired: &Desired, live: &Live, states: &BTreeMap<String, String>) -> Report {
    let deploy = format!("run `cargo xtask deploy --stage {}`", desired.stage);
    let mut links = Vec::new();
    let mut link = |name: &'static str, broken: Vec<String>, ok: String| {
        links.push(Link {
            link: name,
            ok: broken.is_empty(),
            detail: if broken.is_empty() {
                ok
            } else {
                broken.join("; ")
            },
            fix: (!broken.is_empty()).then(|| deploy.clone()),
        });
    };
    let api_id = live.api.as_ref().map(|a| a.id.as_str());
    if let Some(front) = &desired.front {
        let dist = live.front.as_ref().and_then(|f| f.distribution.as_ref());
        if let (Some(zone), Some(domain)) = (&front.door.hosted_zone, &front.door.domain) {
            let records = live
                .front
                .as_ref()
                .map(|f| f.alias_records.clone())
                .unwrap_or_default();
            let target = dist
                .map(|d| d.domain_name.as_str())
                .unwrap_or("(no distribution)");
            let broken = ALIAS_TYPES
                .iter()
                .filter_map(|ty| match records.get(*ty) {
                    Some(r) if same_name(r, target) => None,
                    Some(r) => Some(format!("{ty} {domain} points at {r}, not {target}")),
                    None => Some(format!("no {ty} alias record for {domain} in zone {zone}")),
                })
                .collect();
            link("dns", broken, format!("{domain} A/AAAA -> {target}"));
        }
        match dist {
            None => link(
                "distribution",
                vec![format!(
                    "no CloudFront distribution serves {}",
                    front.door.domain.as_deref().unwrap_or("the stage")
                )],
                String::new(),
            ),
            Some(d) => {
                link(
                    "distribution",
                    Vec::new(),
                    format!("{} ({}), {}", d.id, d.domain_name, d.status),
                );
                let wanted = api_id.map(|id| api_domain(id, &desired.region));
                let broken = match &wanted {
                    Some(w) if *w == d.origin.domain => Vec::new(),
                    Some(w) => vec![format!(
                        "origin `{}` is {}, not this API's {w}",
                        d.origin.id, d.origin.domain
                    )],
                    None => vec!["the stage has no REST API to point at".to_owned()],
                };
                link("origin domain", broken, d.origin.domain.clone());
                let broken = if d.origin.path == front.origin_path {
                    Vec::new()
                } else {
                    vec![format!(
                        "origin path is `{}`, not `{}`",
                        d.origin.path, front.origin_path
                    )]
                };
                link("origin path", broken, d.origin.path.clone());
                let wanted = &front.door.cache.behaviors;
                if !wanted.is_empty() || !d.behaviors.is_empty() {
                    let broken = behavior_drift(&d.behaviors, wanted);
                    let ok = wanted
                        .iter()
                        .map(|b| format!("{} {}", b.pattern, b.caching))
                        .collect::<Vec<_>>()
                        .join("; ");
                    link("cache behaviors", broken, ok);
                }
            }
        }
    }
    let (stage_broken, stage_ok) = match &live.api {
        None => (
            vec![format!("no REST API named `{}`", desired.api.name)],
            String::new(),
        ),
        Some(api) => match &api.stage_deployment {
            None => (
                vec![format!("API {} has no stage `{}`", api.id, desired.stage)],
                String::new(),
            ),
            Some((id, hash)) if hash.as_deref() == Some(desired.api.definition_hash.as_str()) => (
                Vec::new(),
                format!(
                    "`{}` serves deployment {id} (definition {})",
                    desired.stage, desired.api.definition_hash
                ),
            ),
            Some((id, hash)) => (
                vec![format!(
                    "`{}` serves deployment {id} of definition {}, the workspace's is {}",
                    desired.stage,
                    hash.as_deref().unwrap_or("(not made by ferry)"),
                    desired.api.definition_hash
                )],
                String::new(),
            ),
        },
    };
    link("stage", stage_broken, stage_ok);
    if let (Some(cache), Some(api)) = (&desired.api.cache, &live.api) {
        let wanted = StageCacheState::wanted(cache);
        let broken = if api.stage_cache == wanted {
            Vec::new()
        } else {
            vec![format!(
                "the stage cache is {}, not {wanted}",
                api.stage_cache
            )]
        };
        link("stage cache", broken, wanted.to_string());
    }
    if let Some((broken, ok)) = super::stage_checks::doctor(desired, live) {
        link("stage settings", broken, ok);
    }
    if let Some(api) = &live.api {
        let prefix = format!("{}-{}-", desired.app, desired.stage);
        let mut broken = Vec::new();
        for (method, path, function) in &desired.api.routes {
            let key = format!("{method} {path}");
            let target = desired.target(function);
            match api.routes.get(&key) {
                None => broken.push(format!("{key} is missing")),
                Some(f) if *f != target => {
                    broken.push(format!("{key} invokes `{f}`, not `{target}`"))
                }
                Some(_) => {}
            }
        }
        // An adopted API keeps methods ferry does not manage; elsewhere a
        // method that invokes a function outside the stage is a mistake.
        let stray = |f: &str| {
            let function = f.split(':').next().unwrap_or(f);
            desired.api.id.is_none()
                && !f.starts_with(&prefix)
                && !desired.functions.contains_key(function)
        };
        for (key, f) in &api.routes {
            if !f.is_empty() && stray(f) {
                broken.push(format!("{key} invokes `{f}`, a function of another stage"));
            }
        }
        let ok = format!(
            "{} routes, each invoking its function",
            desired.api.routes.len()
        );
        link("routes", broken, ok);
        let preflights = super::openapi::preflights(desired);
        if !preflights.is_empty() {
            let broken = preflights
                .iter()
                .filter(|p| !api.routes.contains_key(&format!("OPTIONS {}", p.path)))
                .map(|p| format!("OPTIONS {} is missing: browsers' preflights fail", p.path))
                .collect();
            let ok = format!("{} paths answer CORS preflights", preflights.len());
            link("CORS", broken, ok);
        }
        let broken = desired
            .functions
            .iter()
            .filter_map(|(f, function)| match live.permissions.get(f) {
                Some(s)
                    if *s
                        == invoke_source_arn(
                            &desired.region,
                            &live.account_id,
                            &api.id,
                            function.invoker,
                        ) =>
                {
                    None
                }
                Some(s) => Some(format!("{f} lets {s} invoke it, not this API")),
                None => Some(format!(
                    "{f} has no permission for API Gateway to invoke it"
                )),
            })
            .collect();
        let ok = format!("every function may be invoked by {}", api.id);
        link("permissions", broken, ok);
    }
    let mut broken = Vec::new();
    for (name, f) in &desired.functions {
        match live.functions.get(name) {
            None => broken.push(format!("{name} does not exist")),
            Some(l) => {
                if l.code_sha256 != f.code_sha256 {
                    broken.push(format!(
                        "{name} runs code {}, the manifest has {}",
                        short(&l.code_sha256),
                        short(&f.code_sha256)
                    ));
                }
                match &l.alias {
                    None => broken.push(format!("{name} has no alias `{}`", desired.stage)),
                    Some(a) if crate::deploy::release::recorded_digest(&a.description)
                        != Some(f.digest.as_str()) =>
                    {
                        broken.push(format!(
                            "{name}:{} serves version {}, not what the manifest and deploy.toml make",
                            desired.stage, a.version
                        ))
                    }
                    Some(_) => {}
                }
                if l.reserved_concurrency != f.reserved_concurrency {
                    let show = |n: Option<u32>| n.map_or("none".to_owned(), |n| n.to_string());
                    broken.push(format!(
                        "{name} reserves {} concurrent executions, not {}",
                        show(l.reserved_concurrency),
                        show(f.reserved_concurrency)
                    ));
                }
                if l.vpc != f.vpc {
                    let show = |v: &Option<crate::model::vpc::Vpc>| {
                        v.as_ref()
                            .map_or("no VPC".to_owned(), |v| format!("VPC {v}"))
                    };
                    broken.push(format!(
                        "{name} is in {}, not {}",
                        show(&l.vpc),
                        show(&f.vpc)
                    ));
                }
                match states.get(name).map(String::as_str) {
                    // A VPC function idle for weeks gives back its network
                    // interfaces; its next invocation makes them again.
                    Some("Active" | "Inactive") => {}
                    Some(s) => broken.push(format!("{name} is {s}, not Active")),
                    None => broken.push(format!("{name} reported no state")),
                }
            }
        }
    }
    let in_vpc = desired
        .functions
        .values()
        .filter(|f| f.vpc.is_some())
        .count();
    let ok = format!(
        "{} functions Active, their aliases serving the manifest's code{}",
        desired.functions.len(),
        if in_vpc > 0 {
            format!(", {in_vpc} in a VPC")
        } else {
            String::new()
        }
    );
    link("functions", broken, ok);
    if !desired.service_roles.is_empty() {
        let ok = format!(
            "{} service roles hold their permissions",
            desired.service_roles.len()
        );
        link("roles", super::roles::problems(desired, live), ok);
    }
    let broken = desired
        .functions
        .keys()
        .filter_map(|f| {
            let group = format!("/aws/lambda/{f}");
            match live.log_groups.get(&group) {
                Some(Some(d)) if *d == desired.log_retention_days => None,
                Some(Some(d)) => Some(format!(
                    "{group} keeps logs {d} days, not {}",
                    desired.log_retention_days
                )),
                Some(None) => Some(format!("{group} has no retention (logs never expire)")),
                None => Some(format!("{group} does not exist")),
            }
        })
        .collect();
    let ok = format!("retention {} days", desired.log_retention_days);
    link("log groups", broken, ok);
    if let Some(archive) = &desired.log_archive {
        let ok = format!(
            "{} log groups -> {} -> s3://{}/{}",
            archive.groups.len(),
            archive.stream,
            archive.bucket,
            archive.prefix
        );
        link(
            "log archive",
            super::log_archive_report::problems(desired, live),
            ok,
        );
    }
    Report {
        app: desired.app.clone(),
        stage: desired.stage.clone(),
        region: desired.region.clone(),
        ok: links.iter().all(|l| l.ok),
        links,
    }
}

fn short(hash: &str) -> &str {
    &hash[..hash.len().min(12)]
}

/// The report for people: one line per link, the fix under a broken one.
pub fn text(report: &Report) -> String {
    let mut out = format!(
        "Doctor for stage `{}` of `{}` in {}:\n",
        report.stage, report.app, report.region
    );
    for l in &report.links {
        let mark = if l.ok { "ok    " } else { "BROKEN" };
        let _ = writeln!(out, "  {mark}  {:<13} {}", l.link, l.detail);
        if let Some(fix) = &l.fix {
            let _ = writeln!(out, "          {:<13} fix: {fix}", "");
        }
    }
    let broken = report.links.iter().filter(|l| !l.ok).count();
    let _ = if broken == 0 {
        writeln!(out, "All {} links hold.", report.links.len())
    } else {
        writeln!(out, "{broken} of {} links broken.", report.links.len())
    };
    out
}

/// What differs between the live behaviors of the API origin and the
/// wanted ones, a line per path pattern (a hand edit shows up here).
fn behavior_drift(live: &[Behavior], wanted: &[Behavior]) -> Vec<String> {
    let mut out = Vec::new();
    for w in wanted {
        match live.iter().find(|l| l.pattern == w.pattern) {
            None => out.push(format!("no cache behavior for {}", w.pattern)),
            Some(l) if l.caching != w.caching => {
                out.push(format!("{} is {}, not {}", w.pattern, l.caching, w.caching))
            }
            Some(_) => {}
        }
    }
    for l in live {
        if !wanted.iter().any(|w| w.pattern == l.pattern) {
            out.push(format!("{} ({}) is not ferry's", l.pattern, l.caching));
        }
    }
    let order = |b: &[Behavior]| b.iter().map(|x| x.pattern.clone()).collect::<Vec<_>>();
    if out.is_empty() && order(live) != order(wanted) {
        out.push(format!("the order is {}", order(live).join(", ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deploy::front::DesiredFront;
    use crate::deploy::tests::{converged, desired_for, workspace};
    use crate::model::FrontDoor;

    fn broken(report: &Report) -> Vec<&'static str> {
        report
            .links
            .iter()
            .filter(|l| !l.ok)
            .map(|l| l.link)
            .collect()
    }

    #[test]
    fn each_broken_link_is_reported_with_its_fix() {
        let (_f, ws) = workspace(false);
        let mut desired = desired_for(&ws, &[]);
        desired.front = Some(DesiredFront {
            door: FrontDoor {
                domain: Some("api.shop.example".into()),
                certificate: None,
                hosted_zone: Some("Z0SHOP".into()),
                distribution: None,
                origin: None,
                invalidate: false,
                ..Default::default()
            },
            origin_path: "/test".into(),
        });
        let live = converged(&desired);
        let states: BTreeMap<String, String> = desired
            .functions
            .keys()
            .map(|f| (f.clone(), "Active".to_owned()))
            .collect();
        let report = check(&desired, &live, &states);
        assert!(report.ok, "{}", text(&report));
        assert_eq!(report.links.len(), 9);

        let mut bad = live.clone();
        let front = bad.front.as_mut().unwrap();
        front.distribution.as_mut().unwrap().origin.path = "/prod".into();
        front.alias_records.remove("AAAA");
        bad.permissions.remove("shop-test-get");
        bad.api.as_mut().unwrap().stage_deployment = Some(("old".into(), Some("0ld".into())));
        bad.log_groups
            .insert("/aws/lambda/shop-test-list".into(), None);
        let mut states = states.clone();
        states.insert("shop-test-list".into(), "Failed".into());
        let report = check(&desired, &bad, &states);
        assert_eq!(
            broken(&report),
            [
                "dns",
                "origin path",
                "stage",
                "permissions",
                "functions",
                "log groups"
            ]
        );
        let rendered = text(&report);
        assert!(
            rendered.contains("origin path is `/prod`, not `/test`"),
            "{rendered}"
        );
        assert!(rendered.contains("fix: run `cargo xtask deploy --stage test`"));
        assert!(rendered.contains("6 of 9 links broken."));
    }
}
