//! The authorizer checks across crates and stages: every name a route's
//! `auth` gives is an authorizer crate or a Cognito authorizer of the
//! stages; a stage declares the Cognito authorizers its routes use, stays
//! within API Gateway's authorizer quota, and with `require-authorizer`
//! refuses routes that say nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use toml::Spanned;

use crate::model::auth::{check_cognito, is_name, CognitoAuthorizer, MAX_AUTHORIZERS};
use crate::model::diag::{Diagnostics, SourceFile};
use crate::model::raw::RawStage;
use crate::model::Service;

/// One service's `auth` names, where they are written, for the check.
pub(crate) struct AuthUse<'a> {
    pub service: &'a Service,
    pub file: &'a SourceFile,
    pub span: Range<usize>,
}

/// The names deploy.toml declares under any stage's `authorizers`.
pub(crate) fn cognito_names(
    stages: &BTreeMap<Spanned<String>, Spanned<RawStage>>,
) -> BTreeSet<String> {
    stages
        .values()
        .flat_map(|s| s.get_ref().authorizers.keys().map(|k| k.get_ref().clone()))
        .collect()
}

/// Checks that each name a service's `auth` gives is an authorizer crate or
/// declared by some stage (each stage's own list is checked with it).
pub(crate) fn check_names(
    uses: &[AuthUse<'_>],
    services: &BTreeMap<&str, &Service>,
    cognito: &BTreeSet<String>,
    key: &str,
    diags: &mut Diagnostics,
) {
    for usage in uses {
        let names: BTreeSet<&str> = usage
            .service
            .auth
            .values()
            .filter_map(|a| a.authorizer())
            .collect();
        for name in names {
            match services.get(name) {
                Some(target) if target.authorizer.is_some() => {}
                // Its authorizer table has errors of its own, already reported.
                Some(target) if failed_authorizer(diags, target) => {}
                Some(_) => diags.error(
                    usage.file,
                    usage.span.clone(),
                    key,
                    format!("`{name}` is a service, not an authorizer"),
                    Some(format!("add `[package.metadata.ferry.authorizer]` to {name}'s Cargo.toml (and remove its routes), or name an authorizer")),
                ),
                None if cognito.contains(name) => {}
                None => {
                    let crates: Vec<&str> = services
                        .values()
                        .filter(|s| s.authorizer.is_some())
                        .map(|s| s.name.as_str())
                        .collect();
                    let mut known: Vec<&str> = crates.into_iter().chain(cognito.iter().map(String::as_str)).collect();
                    known.sort_unstable();
                    let listed = if known.is_empty() { "none yet".to_owned() } else { known.join(", ") };
                    diags.error(
                        usage.file,
                        usage.span.clone(),
                        key,
                        format!("no authorizer named `{name}`"),
                        Some(format!("name an authorizer crate (a crate with `[package.metadata.ferry.authorizer]`) or a stage's `[stages.NAME.authorizers.{name}]`, or write \"public\"; authorizers: {listed}")),
                    );
                }
            }
        }
    }
}

/// Checks one stage's `authorizers` and its routes' authorizers, returning
/// the Cognito authorizers it declares.
pub(crate) fn stage_authorizers(
    raw: &RawStage,
    stage_key: &Spanned<String>,
    services: &BTreeMap<String, Service>,
    require: Option<&Spanned<bool>>,
    cognito: &BTreeSet<String>,
    file: &SourceFile,
    diags: &mut Diagnostics,
) -> BTreeMap<String, CognitoAuthorizer> {
    let stage = stage_key.get_ref();
    let key = format!("stages.{stage}.authorizers");
    let mut out = BTreeMap::new();
    for (name, table) in &raw.authorizers {
        let here = format!("{key}.{}", name.get_ref());
        if !is_name(name.get_ref()) || name.get_ref() == crate::model::auth::PUBLIC {
            diags.error(file, name.span(), here.clone(), format!("`{}` cannot name an authorizer", name.get_ref()),
                Some("use letters, digits, `-` and `_` (and not `public`, which marks a route anyone may call)".into()));
            continue;
        }
        if services.contains_key(name.get_ref()) {
            diags.error(
                file,
                name.span(),
                here.clone(),
                format!("`{}` is also a crate of the workspace", name.get_ref()),
                Some(
                    "give the Cognito authorizer another name, so that `auth` names one thing"
                        .into(),
                ),
            );
            continue;
        }
        if let Some(cognito) = check_cognito(table.get_ref(), &here, file, diags) {
            out.insert(name.get_ref().clone(), cognito);
        }
    }
    let mut used = BTreeSet::new();
    let mut unguarded = Vec::new();
    for service in services.values() {
        for route in &service.routes {
            let route = route.to_string();
            match service.auth.get(&route) {
                None => unguarded.push(format!("{route} ({})", service.name)),
                Some(auth) => {
                    let Some(name) = auth.authorizer() else {
                        continue;
                    };
                    used.insert(name.to_owned());
                    let declared = out.contains_key(name)
                        || raw.authorizers.keys().any(|k| k.get_ref() == name);
                    // A name no stage declares was refused where `auth` says it.
                    if !services.contains_key(name) && !declared && cognito.contains(name) {
                        diags.error(file, stage_key.span(), format!("stages.{stage}"),
                            format!("route {route} of service {} names the Cognito authorizer `{name}`, which stage `{stage}` does not declare", service.name),
                            Some(format!("add `[stages.{stage}.authorizers.{name}]` with the stage's `user-pools`")));
                    }
                }
            }
        }
    }
    if used.len() > MAX_AUTHORIZERS {
        diags.error(file, stage_key.span(), format!("stages.{stage}"),
            format!("the stage's routes use {} authorizers; API Gateway allows {MAX_AUTHORIZERS} per REST API", used.len()),
            Some("share authorizers between routes, or ask AWS to raise the quota".into()));
    }
    if let Some(flag) = require.filter(|f| *f.get_ref()) {
        if !unguarded.is_empty() {
            diags.error(file, flag.span(), format!("stages.{stage}.api.require-authorizer"),
                format!("stage `{stage}` requires every route to name an authorizer or be public; these say nothing: {}", unguarded.join(", ")),
                Some("in each service's [package.metadata.ferry], set `auth = \"NAME\"` (an authorizer) or `auth = \"public\"`, for all its routes or per route".into()));
        }
    }
    out
}

/// Whether `service`'s `[package.metadata.ferry.authorizer]` was refused.
fn failed_authorizer(diags: &Diagnostics, service: &Service) -> bool {
    let file = service.dir.join("Cargo.toml").display().to_string();
    diags
        .errors
        .iter()
        .any(|e| e.file == file && e.key.starts_with("package.metadata.ferry.authorizer"))
}
