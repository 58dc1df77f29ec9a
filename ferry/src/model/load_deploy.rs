//! Validation of deploy.toml: the `[app]` table and each `[stages.NAME]`, with
//! their defaults applied once, here.

use std::collections::BTreeMap;

use toml::Spanned;

use super::diag::{Diagnostics, SourceFile};
use super::discover::{self, GlobMatch};
use super::raw::{RawApp, RawDeployToml, RawStage};
use super::validate::{
    api_cache, check_env, front_door, key_on_origin, stage_api, stage_cache, stage_cors,
};
use super::{
    ApiSettings, App, EndpointType, LambdaName, Service, ServiceOverride, Stage, DEFAULT_ARCH,
    DEFAULT_LOG_RETENTION_DAYS, DEFAULT_RUNTIME, LOG_RETENTION_DAYS, MEMORY_MB,
    RESERVED_CONCURRENCY, TIMEOUT_S,
};

pub(crate) fn app(
    file: &SourceFile,
    raw: &Spanned<RawApp>,
    globs: &[GlobMatch],
    diags: &mut Diagnostics,
) -> Option<App> {
    let raw = raw.get_ref();
    let (services, layers) = discover::check(file, raw, globs, diags);
    let name = match LambdaName::new(raw.name.get_ref()) {
        Ok(name) => name,
        Err(why) => {
            let help =
                "use letters, digits, `-` and `_`; function names are `<app>-<stage>-<service>`";
            diags.error(
                file,
                raw.name.span(),
                "app.name",
                format!("not a valid name: {why}"),
                Some(help.into()),
            );
            return None;
        }
    };
    Some(App {
        name,
        architecture: raw
            .architecture
            .as_ref()
            .map_or(DEFAULT_ARCH, |a| *a.get_ref()),
        runtime: raw
            .runtime
            .as_ref()
            .map_or(DEFAULT_RUNTIME, |r| *r.get_ref()),
        services,
        layers,
        artifacts: raw
            .artifact_bucket
            .as_ref()
            .and_then(|b| super::store::check(b, "app.artifact-bucket", file, diags)),
    })
}

pub(crate) fn stages(
    file: &SourceFile,
    raw: &RawDeployToml,
    app: &App,
    services: &BTreeMap<String, Service>,
    diags: &mut Diagnostics,
) -> BTreeMap<String, Stage> {
    let mut out = BTreeMap::new();
    let cognito = super::validate::cognito_names(&raw.stages);
    for (name, stage) in &raw.stages {
        let input = (stage.get_ref(), &cognito);
        if let Some(stage) = self::stage(file, name, input, app, services, diags) {
            out.insert(stage.name.clone(), stage);
        }
    }
    out
}

fn stage(
    file: &SourceFile,
    name: &Spanned<String>,
    (raw, cognito): (&RawStage, &std::collections::BTreeSet<String>),
    app: &App,
    services: &BTreeMap<String, Service>,
    diags: &mut Diagnostics,
) -> Option<Stage> {
    let stage_name = name.get_ref();
    let key = |k: &str| format!("stages.{stage_name}.{k}");
    let valid_name = !stage_name.is_empty()
        && stage_name.len() <= 64
        && stage_name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if valid_name && stage_name.chars().all(|c| c.is_ascii_digit()) {
        diags.error(
            file,
            name.span(),
            format!("stages.{stage_name}"),
            format!("`{stage_name}` is all digits, which Lambda takes for a version, not an alias"),
            Some("ferry serves each stage through a Lambda alias named after it; add a letter (`v1`)".into()),
        );
    }
    if !valid_name {
        let help =
            "API Gateway stage names use letters, digits, `-` and `_`, at most 64 characters";
        diags.error(
            file,
            name.span(),
            format!("stages.{stage_name}"),
            format!("`{stage_name}` is not a valid stage name"),
            Some(help.into()),
        );
    }
    for service in services.keys() {
        let function = format!("{}-{stage_name}-{service}", app.name);
        if function.len() > LambdaName::MAX_LEN {
            let help = "shorten the app, stage or service name";
            let message = format!(
                "the function name `{function}` would be {} characters; Lambda allows 64",
                function.len()
            );
            diags.error(
                file,
                name.span(),
                format!("stages.{stage_name}"),
                message,
                Some(help.into()),
            );
        }
    }
    if !is_region(raw.region.get_ref()) {
        let help = "use an AWS region code such as `eu-west-1` or `us-east-1`";
        diags.error(
            file,
            raw.region.span(),
            key("region"),
            format!("`{}` is not an AWS region", raw.region.get_ref()),
            Some(help.into()),
        );
    }
    if let Some(role) = &raw.role {
        if !is_role_arn(role.get_ref()) {
            let help = "give an IAM role ARN (arn:aws:iam::123456789012:role/NAME), or remove `role` and ferry manages one";
            diags.error(
                file,
                role.span(),
                key("role"),
                format!("`{}` is not an IAM role ARN", role.get_ref()),
                Some(help.into()),
            );
        }
    }
    let retention = match &raw.log_retention_days {
        None => DEFAULT_LOG_RETENTION_DAYS,
        Some(days) if LOG_RETENTION_DAYS.contains(days.get_ref()) => *days.get_ref() as u32,
        Some(days) => {
            let allowed: Vec<String> = LOG_RETENTION_DAYS.iter().map(i64::to_string).collect();
            let help = format!("CloudWatch Logs accepts {}", allowed.join(", "));
            diags.error(
                file,
                days.span(),
                key("log-retention-days"),
                format!(
                    "{} is not a retention CloudWatch Logs accepts",
                    days.get_ref()
                ),
                Some(help),
            );
            DEFAULT_LOG_RETENTION_DAYS
        }
    };
    let env = raw
        .env
        .as_ref()
        .map(|e| check_env(e, &key("env"), file, diags))
        .unwrap_or_default();
    let tags = raw
        .tags
        .as_ref()
        .map(|t| {
            t.get_ref()
                .iter()
                .map(|(k, v)| (k.clone(), v.get_ref().clone()))
                .collect()
        })
        .unwrap_or_default();
    let api = raw.api.as_ref().map(Spanned::get_ref);
    let api = ApiSettings {
        name: api.and_then(|a| a.name.as_ref()).map_or_else(
            || format!("{}-{stage_name}", app.name),
            |n| n.get_ref().clone(),
        ),
        id: api.and_then(|a| {
            let id = a.id.as_ref()?;
            super::adopt::check_api_id(id, (a.name.is_some(), &key("api.id")), file, diags)
        }),
        endpoint: api
            .and_then(|a| a.endpoint.as_ref())
            .map_or(EndpointType::Regional, |e| *e.get_ref()),
        binary_media_types: api
            .and_then(|a| a.binary_media_types.as_ref())
            .map(|t| t.get_ref().iter().map(|m| m.get_ref().clone()).collect())
            .unwrap_or_default(),
        cache: None,
        cors: None,
        tracing: false,
        throttle: Default::default(),
        access_log: None,
        quotas: Default::default(),
        require_authorizer: api
            .and_then(|a| a.require_authorizer.as_ref())
            .is_some_and(|r| *r.get_ref()),
    };
    let authorizers = super::validate::stage_authorizers(
        raw,
        name,
        services,
        raw.api
            .as_ref()
            .and_then(|a| a.get_ref().require_authorizer.as_ref()),
        cognito,
        file,
        diags,
    );
    let mut api = api;
    let raw_api_cache = raw.api.as_ref().and_then(|a| a.get_ref().cache.as_ref());
    api.cache = api_cache(raw_api_cache, services, file, &key("api.cache"), diags);
    let raw_cors = raw.api.as_ref().and_then(|a| a.get_ref().cors.as_ref());
    let routes = super::RouteTable::new(
        services
            .values()
            .flat_map(|s| s.routes.iter().map(|r| (r.clone(), s.name.to_string()))),
    );
    api.cors = stage_cors(raw_cors, &routes, file, &key("api.cors"), diags);
    stage_api(
        &mut api,
        raw.api.as_ref(),
        &routes,
        file,
        &key("api"),
        diags,
    );
    let front = raw
        .cloudfront
        .as_ref()
        .and_then(|f| front_door(file, f, &key("cloudfront"), diags))
        .map(|mut door| {
            let cache = raw
                .cloudfront
                .as_ref()
                .and_then(|f| f.get_ref().cache.as_ref());
            door.cache = stage_cache(cache, services, file, &key("cloudfront.cache"), diags);
            door
        });
    let mut front = front;
    if let Some(cors) = &api.cors {
        if let Some(cache) = api.cache.as_mut() {
            key_on_origin(cors, &mut cache.routes);
        }
        if let Some(door) = front.as_mut() {
            if key_on_origin(cors, &mut door.cache.routes) {
                let auth: BTreeMap<String, String> = services
                    .iter()
                    .filter_map(|(n, s)| Some((n.clone(), s.auth_header.clone()?)))
                    .collect();
                match super::cache::behaviors(&routes, &door.cache.routes, &auth) {
                    Ok(behaviors) => door.cache.behaviors = behaviors,
                    Err(why) => diags.error(
                        file,
                        raw_cors.map(Spanned::span).unwrap_or_default(),
                        key("api.cors"),
                        format!("cached routes key on `Origin` where CORS lists origins: {why}"),
                        Some("allow any origin (`[\"*\"]`) on those paths, or cache them on fewer headers".into()),
                    ),
                }
            }
        }
    }
    let both = front.as_ref().is_some_and(|f| !f.cache.routes.is_empty())
        && api
            .cache
            .as_ref()
            .is_some_and(|c| c.enabled && !c.routes.is_empty());
    if let (true, Some(table)) = (both, raw_api_cache) {
        diags.error(
            file,
            table.span(),
            key("api.cache"),
            "the stage caches its routes at CloudFront already; a second cache behind it would keep stale copies twice as long",
            Some(format!("remove [stages.{stage_name}.api.cache], or set `enabled = false` in [stages.{stage_name}.cloudfront.cache] to cache at API Gateway instead")),
        );
    }
    let account = raw.account.as_ref().and_then(|a| {
        let id = a.get_ref();
        if id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()) {
            return Some(super::AccountPin {
                id: id.clone(),
                file: file.display.clone(),
                line: file.line_of(a.span().start),
            });
        }
        diags.error(
            file,
            a.span(),
            key("account"),
            format!("`{id}` is not an AWS account id"),
            Some("write the account's 12 digits as a string, e.g. `account = \"123456789012\"` (`aws sts get-caller-identity` prints it)".into()),
        );
        None
    });
    let profile = raw.profile.as_ref().and_then(|p| {
        let name = p.get_ref();
        if !name.is_empty() && !name.chars().any(|c| c.is_whitespace() || c == ']') {
            return Some(name.clone());
        }
        diags.error(
            file,
            p.span(),
            key("profile"),
            format!("`{name}` is not a profile name"),
            Some("name a profile of your AWS config file (`aws configure list-profiles`), or remove `profile` to use the default credential chain".into()),
        );
        None
    });
    let mut overrides = BTreeMap::new();
    for (service, over) in &raw.services {
        if !services.contains_key(service.get_ref()) {
            let known: Vec<&str> = services.keys().map(String::as_str).collect();
            let help = format!("name a service crate: {}", known.join(", "));
            diags.error(
                file,
                service.span(),
                key(&format!("services.{}", service.get_ref())),
                format!("no service named `{}`", service.get_ref()),
                Some(help),
            );
            continue;
        }
        let over = over.get_ref();
        let base = key(&format!("services.{}", service.get_ref()));
        let mut range = |v: &Option<Spanned<i64>>, r: std::ops::RangeInclusive<i64>, k: &str| {
            let v = v.as_ref()?;
            if r.contains(v.get_ref()) {
                return Some(*v.get_ref() as u32);
            }
            let help = format!("set `{k}` to a value from {} to {}", r.start(), r.end());
            diags.error(
                file,
                v.span(),
                format!("{base}.{k}"),
                format!("{} is out of range", v.get_ref()),
                Some(help),
            );
            None
        };
        let memory_mb = range(&over.memory, MEMORY_MB, "memory");
        let timeout_s = range(&over.timeout, TIMEOUT_S, "timeout");
        let reserved_concurrency = range(
            &over.reserved_concurrency,
            RESERVED_CONCURRENCY,
            "reserved-concurrency",
        );
        let vpc = over
            .vpc
            .as_ref()
            .and_then(|v| super::vpc::check_override(v, &format!("{base}.vpc"), file, diags));
        let env = over
            .env
            .as_ref()
            .map(|e| check_env(e, &format!("{base}.env"), file, diags))
            .unwrap_or_default();
        let function_name = over.function_name.as_ref().and_then(|n| {
            super::adopt::check_function_name(n, &format!("{base}.function-name"), file, diags)
        });
        overrides.insert(
            service.get_ref().clone(),
            ServiceOverride {
                function_name,
                memory_mb,
                timeout_s,
                reserved_concurrency,
                vpc,
                env,
            },
        );
    }
    super::adopt::check_distinct(
        (&raw.services, services.keys()),
        |s| super::function_name(app.name.as_str(), stage_name, s),
        |s| key(&format!("services.{s}.function-name")),
        (file, diags),
    );
    Some(Stage {
        name: stage_name.clone(),
        region: raw.region.get_ref().clone(),
        role: raw.role.as_ref().map(|r| r.get_ref().clone()),
        log_retention_days: retention,
        env,
        tags,
        vpc: raw
            .vpc
            .as_ref()
            .and_then(|v| super::vpc::check(v, &key("vpc"), file, diags)),
        api,
        authorizers,
        front,
        overrides,
        protected: raw
            .protected
            .as_ref()
            .filter(|p| *p.get_ref())
            .map(|p| super::Protected {
                file: file.display.clone(),
                line: file.line_of(p.span().start),
            }),
        account,
        profile,
        artifacts: match &raw.artifact_bucket {
            Some(b) => super::store::check(b, &key("artifact-bucket"), file, diags),
            None => app.artifacts.clone(),
        },
        log_archive: raw.log_archive.as_ref().and_then(|a| {
            let names = (app.name.as_str(), stage_name.as_str());
            super::archive::check(a, names, &key("log-archive"), file, diags)
        }),
    })
}

/// `xx-name-N` or `xx-gov-name-N` style region codes.
fn is_region(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    (3..=4).contains(&parts.len())
        && parts[0].len() == 2
        && parts
            .iter()
            .take(parts.len() - 1)
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
        && parts
            .last()
            .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
}

fn is_role_arn(text: &str) -> bool {
    let parts: Vec<&str> = text.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "iam"
        && parts[4].len() == 12
        && parts[4].chars().all(|c| c.is_ascii_digit())
        && parts[5]
            .strip_prefix("role/")
            .is_some_and(|n| !n.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_and_roles() {
        assert!(
            is_region("eu-west-1")
                && is_region("us-gov-west-1")
                && !is_region("europe")
                && !is_region("EU-west-1")
        );
        assert!(is_role_arn("arn:aws:iam::123456789012:role/x"));
        assert!(!is_role_arn("arn:aws:iam::123:role/x") && !is_role_arn("role/x"));
    }
}
