//! The plan as text for people and as JSON for CI, from the same `Plan`.

use std::fmt::Write;

use super::plan::{Action, Plan};
use crate::model::cache::Behavior;

/// Counts of the plan's actions by kind of change.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    pub create: usize,
    pub update: usize,
    pub publish: usize,
    pub delete: usize,
    pub unchanged: usize,
}

pub fn summary(plan: &Plan) -> Summary {
    let mut s = Summary {
        unchanged: plan.unchanged.len(),
        ..Summary::default()
    };
    for action in &plan.actions {
        match action {
            Action::PublishLayerVersion { .. } | Action::PublishVersion { .. } => s.publish += 1,
            Action::CreateRole { .. }
            | Action::CreateFunction { .. }
            | Action::CreateLogGroup { .. }
            | Action::AddInvokePermission { .. }
            | Action::CreateRestApi { .. }
            | Action::CreateDeployment { .. }
            | Action::CreateDistribution { .. }
            | Action::CreateInvalidation { .. }
            | Action::StartCanary { .. }
            | Action::RecordRelease { .. }
            | Action::CreateArtifactBucket { .. }
            | Action::UploadArtifact { .. }
            | Action::UploadManifest { .. }
            | Action::CreateLogBucket { .. }
            | Action::CreateDeliveryStream { .. }
            | Action::PutSubscriptionFilter { .. } => s.create += 1,
            Action::UpdateFunctionCode { .. }
            | Action::UpdateFunctionConfiguration { .. }
            | Action::AttachRolePolicies { .. }
            | Action::PutRolePolicy { .. }
            | Action::PutRetentionPolicy { .. }
            | Action::TagFunction { .. }
            | Action::PutRestApi { .. }
            | Action::UpdateDistributionOrigin { .. }
            | Action::UpdateCacheBehaviors { .. }
            | Action::UpdateStageCache { .. }
            | Action::UpdateStageSettings { .. }
            | Action::SetApiGatewayAccountRole { .. }
            | Action::SetReservedConcurrency { .. }
            | Action::FlushStageCache { .. }
            | Action::UpsertAliasRecords { .. }
            | Action::PointAlias { .. }
            | Action::SetStageDeployment { .. }
            | Action::UpdateDeliveryStream { .. } => s.update += 1,
            Action::DisableDistribution { .. } => s.update += 1,
            Action::DeleteFunction { .. }
            | Action::DeleteFunctionVersion { .. }
            | Action::DeleteAliasRecords { .. }
            | Action::DeleteDistribution { .. }
            | Action::DeleteRestApi { .. }
            | Action::DeleteApiStage { .. }
            | Action::DeleteLayerVersion { .. }
            | Action::DeleteRole { .. }
            | Action::DeleteLogGroup { .. }
            | Action::EndCanary { .. }
            | Action::DeleteParameters { .. }
            | Action::DeleteSubscriptionFilter { .. }
            | Action::DeleteDeliveryStream { .. } => s.delete += 1,
        }
    }
    s
}

fn short(hash: &str) -> &str {
    &hash[..hash.len().min(12)]
}

/// Where a code write takes its zip from, when not from the request.
fn from_s3(s3: &Option<super::action::S3Object>) -> String {
    s3.as_ref()
        .map(|o| format!(" from s3://{}", o.bucket))
        .unwrap_or_default()
}

/// One line per action, the unchanged resources, then a summary line.
pub fn text(plan: &Plan) -> String {
    let mut out = format!(
        "Plan for stage `{}` of `{}` in {}:\n",
        plan.stage, plan.app, plan.region
    );
    for action in &plan.actions {
        let _ = writeln!(out, "{}", line(action));
    }
    if !plan.unchanged.is_empty() {
        let _ = writeln!(out, "  = unchanged: {}", plan.unchanged.join(", "));
    }
    let s = summary(plan);
    let _ = writeln!(
        out,
        "Plan: {} to publish, {} to create, {} to update, {} to delete, {} unchanged.",
        s.publish, s.create, s.update, s.delete, s.unchanged
    );
    out
}

/// One action as a line of the plan.
pub fn line(action: &Action) -> String {
    {
        match action {
            a @ (Action::CreateRole { .. }
            | Action::AttachRolePolicies { .. }
            | Action::PutRolePolicy { .. }) => super::roles::line(a),
            a @ (Action::CreateLogBucket { .. }
            | Action::CreateDeliveryStream { .. }
            | Action::UpdateDeliveryStream { .. }
            | Action::PutSubscriptionFilter { .. }
            | Action::DeleteSubscriptionFilter { .. }
            | Action::DeleteDeliveryStream { .. }) => super::log_archive_report::line(a),
            Action::TagFunction {
                function,
                set,
                remove,
                ..
            } => {
                let mut parts = Vec::new();
                if !set.is_empty() {
                    let keys: Vec<&str> = set.keys().map(String::as_str).collect();
                    parts.push(format!("set {}", keys.join(",")));
                }
                if !remove.is_empty() {
                    parts.push(format!("remove {}", remove.join(",")));
                }
                format!(
                    "  ~ update   function {function} tags: {}",
                    parts.join("; ")
                )
            }
            Action::CreateArtifactBucket { bucket, region, .. } => format!(
                "  + create   artifact bucket {bucket} in {region} (encrypted, public access blocked)"
            ),
            Action::UploadArtifact {
                bucket,
                key,
                bytes,
                ..
            } => format!(
                "  + upload   s3://{bucket}/{key} ({})",
                crate::build::human_bytes(*bytes)
            ),
            Action::UploadManifest {
                bucket, key, sha256, ..
            } => format!(
                "  + upload   s3://{bucket}/{key} (the release's build manifest {})",
                short(sha256)
            ),
            Action::PublishLayerVersion {
                layer,
                arch,
                code_sha256,
                s3,
                ..
            } => format!(
                "  + publish  layer {layer} ({arch}) sha256 {}{}",
                short(code_sha256),
                from_s3(s3)
            ),
            Action::CreateFunction {
                function,
                arch,
                code_sha256,
                s3,
                ..
            } => format!(
                "  + create   function {function} ({arch}) sha256 {}{}",
                short(code_sha256),
                from_s3(s3)
            ),
            Action::UpdateFunctionCode {
                function,
                arch,
                from,
                to,
                s3,
                ..
            } => {
                format!(
                    "  ~ update   function {function} code ({arch}) {} -> {}{}",
                    short(from),
                    short(to),
                    from_s3(s3)
                )
            }
            Action::UpdateFunctionConfiguration {
                function, changes, ..
            } => {
                let changes: Vec<String> = changes
                    .iter()
                    .map(|c| format!("{}: {} -> {}", c.field, c.from, c.to))
                    .collect();
                format!(
                    "  ~ update   function {function} config: {}",
                    changes.join("; ")
                )
            }
            Action::CreateLogGroup {
                name,
                retention_days,
                ..
            } => format!("  + create   log group {name} (retention {retention_days} days)"),
            Action::PutRetentionPolicy { name, from, to } => {
                format!(
                    "  ~ update   log group {name} retention {} -> {to} days",
                    from.map_or("never expire".into(), |d| d.to_string())
                )
            }
            Action::AddInvokePermission {
                function,
                replace,
                qualifier,
                invoker,
                ..
            } => {
                let verb = if *replace { "~ replace " } else { "+ create  " };
                let target = match qualifier {
                    Some(q) => format!("{function}:{q}"),
                    None => function.clone(),
                };
                let role = match invoker {
                    super::authorizers::Invoker::Routes => "",
                    super::authorizers::Invoker::Authorizer => " as an authorizer",
                };
                format!("  {verb} permission for API Gateway to invoke {target}{role}")
            }
            Action::CreateRestApi { name, .. } => format!("  + create   REST API {name}"),
            Action::PutRestApi {
                api,
                adopted,
                kept,
                routes,
                cors,
                authorizers,
                definition_hash,
                ..
            } => format!(
                "  ~ update   REST API {api}: {routes} routes{}{} (definition {definition_hash})",
                cors.as_ref().map(|c| format!(", {c}")).unwrap_or_default(),
                authorizers
                    .iter()
                    .map(|a| format!(", {a}"))
                    .collect::<String>()
            ) + &adopted_note(*adopted, kept),
            Action::CreateDeployment { api, stage, .. } => {
                format!("  + create   deployment of {api}, then stage `{stage}` serves it")
            }
            Action::UpdateStageCache {
                stage, from, to, ..
            } => format!("  ~ update   stage `{stage}` cache: {from} -> {to}"),
            a @ (Action::UpdateStageSettings { .. }
            | Action::SetApiGatewayAccountRole { .. }
            | Action::SetReservedConcurrency { .. }) => super::stage_settings::line(a),
            Action::FlushStageCache { api, stage, .. } => {
                format!("  ~ flush    cache of stage `{stage}` of {api} (a cached route's function changed)")
            }
            Action::DeleteFunction { function } => {
                format!("  - delete   function {function} (its versions, aliases and permissions too)")
            }
            a @ (Action::DeleteAliasRecords { .. }
            | Action::DisableDistribution { .. }
            | Action::DeleteDistribution { .. }
            | Action::DeleteRestApi { .. }
            | Action::DeleteApiStage { .. }
            | Action::DeleteLayerVersion { .. }
            | Action::DeleteRole { .. }
            | Action::DeleteLogGroup { .. }
            | Action::DeleteParameters { .. }) => super::destroy::line(a),
            Action::DeleteFunctionVersion { function, version } => {
                format!("  - delete   version {version} of {function}")
            }
            Action::PublishVersion {
                function,
                code_sha256,
                ..
            } => format!(
                "  + publish  version of {function} (sha256 {})",
                short(code_sha256)
            ),
            Action::PointAlias {
                function,
                alias,
                from,
                to,
                canary,
                ..
            } => {
                let to = match to {
                    super::action::VersionRef::Published => "the new version".to_owned(),
                    super::action::VersionRef::Version(v) => format!("version {v}"),
                };
                match (from, canary) {
                    (Some(from), Some(pct)) => format!(
                        "  ~ shift    alias {function}:{alias} {pct}% -> {to} (version {from} keeps {}%)",
                        100u32.saturating_sub(u32::from(*pct))
                    ),
                    (Some(from), None) if to == format!("version {from}") => format!(
                        "  ~ reset    alias {function}:{alias} to {to} alone (no weighted version)"
                    ),
                    (Some(from), None) => format!("  ~ move     alias {function}:{alias} version {from} -> {to}"),
                    (None, _) => format!("  + create   alias {function}:{alias} -> {to}"),
                }
            }
            Action::StartCanary { parameter, record } => format!(
                "  + record   canary of {} function(s) at {}% for {} s in {parameter}",
                record.functions.len(),
                record.percent,
                record.bake_s
            ),
            Action::EndCanary { parameter } => format!("  - forget   the canary in {parameter}"),
            Action::SetStageDeployment {
                api,
                stage,
                from,
                to,
                ..
            } => format!(
                "  ~ move     stage `{stage}` of {api} deployment {} -> {to}",
                from.as_deref().unwrap_or("-")
            ),
            Action::RecordRelease { release, .. } => {
                let what = match &release.kind {
                    super::record::ReleaseKind::Deploy => String::new(),
                    super::record::ReleaseKind::Rollback { to } => {
                        format!(", a rollback to release {to}")
                    }
                };
                format!(
                    "  + record   release {} of the stage{what} (SSM)",
                    release.number
                )
            }
            Action::CreateDistribution {
                domain,
                origin_domain,
                origin_path,
                behaviors,
                ..
            } => {
                let mut out = format!(
                    "  + create   CloudFront distribution for {domain}, origin {}{origin_path} (HTTPS only",
                    origin(origin_domain)
                );
                if behaviors.is_empty() {
                    out.push_str(", no caching)");
                } else {
                    out.push_str(", caching per path:)");
                    out.push_str(&behavior_lines(&[], behaviors));
                }
                out
            }
            Action::UpdateCacheBehaviors {
                distribution,
                origin: id,
                from,
                to,
            } => format!(
                "  ~ update   CloudFront distribution {distribution} cache behaviors of origin `{id}`:{}",
                behavior_lines(from, to)
            ),
            Action::UpdateDistributionOrigin {
                distribution,
                origin: id,
                from_domain,
                from_path,
                to_domain,
                to_path,
            } => {
                let what = if from_domain.as_str() == origin(to_domain) {
                    format!("origin path {} -> {to_path}", or_none(from_path))
                } else {
                    format!(
                        "origin {from_domain}{from_path} -> {}{to_path}",
                        origin(to_domain)
                    )
                };
                format!("  ~ update   CloudFront distribution {distribution} origin `{id}`: {what}")
            }
            Action::UpsertAliasRecords {
                zone,
                domain,
                target,
            } => format!(
                "  ~ upsert   DNS A/AAAA alias {domain} -> {} (zone {zone})",
                target.as_deref().unwrap_or("<new distribution>")
            ),
            Action::CreateInvalidation {
                distribution,
                paths,
                ..
            } => format!(
                "  + create   invalidation of {} on CloudFront distribution {distribution}",
                paths.join(" ")
            ),
        }
    }
}

/// One line per path pattern that is added, changed or removed; the
/// order is CloudFront's.
fn behavior_lines(from: &[Behavior], to: &[Behavior]) -> String {
    let mut out = String::new();
    let width = from
        .iter()
        .chain(to)
        .map(|b| b.pattern.len())
        .max()
        .unwrap_or(0);
    for b in to {
        match from.iter().find(|f| f.pattern == b.pattern) {
            None => {
                let _ = write!(out, "\n      + {:<width$}  {}", b.pattern, b.caching);
            }
            Some(f) if f.caching != b.caching => {
                let _ = write!(
                    out,
                    "\n      ~ {:<width$}  {} -> {}",
                    b.pattern, f.caching, b.caching
                );
            }
            Some(_) => {}
        }
    }
    for f in from {
        if !to.iter().any(|b| b.pattern == f.pattern) {
            let _ = write!(out, "\n      - {:<width$}  {}", f.pattern, f.caching);
        }
    }
    let same: Vec<&str> = to.iter().map(|b| b.pattern.as_str()).collect();
    let was: Vec<&str> = from.iter().map(|b| b.pattern.as_str()).collect();
    if out.is_empty() && same != was {
        let _ = write!(out, "\n      order: {}", same.join(", "));
    }
    out
}

fn origin(domain: &Option<String>) -> &str {
    domain.as_deref().unwrap_or("<new api>")
}

fn or_none(path: &str) -> &str {
    if path.is_empty() {
        "(none)"
    } else {
        path
    }
}

/// The plan and its summary as JSON.
pub fn json(plan: &Plan) -> serde_json::Value {
    serde_json::json!({ "plan": plan, "summary": summary(plan), "empty": plan.is_empty() })
}

/// How an adopted API's definition goes in: merged, keeping what ferry
/// does not manage, named so that nobody expects it gone.
fn adopted_note(adopted: bool, kept: &[String]) -> String {
    match (adopted, kept) {
        (false, _) => String::new(),
        (true, []) => "\n             merged into the adopted API".to_owned(),
        (true, kept) => format!(
            "\n             merged into the adopted API, which keeps {} method(s) ferry does not manage: {}",
            kept.len(),
            kept.join(", ")
        ),
    }
}
