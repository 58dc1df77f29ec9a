//! Validation of a stage API's own settings (`tracing`, `[api.throttle]`,
//! `[api.access-log]`, `[api.quotas]`) into the model's, and of the
//! resources-per-API quota against the workspace's routes.

use toml::Spanned;

use crate::model::diag::{Diagnostics, SourceFile};
use crate::model::raw::{RawAccessLog, RawApi, RawQuotas, RawThrottle};
use crate::model::route::{Route, RouteTable};
use crate::model::stage_api::{
    resource_count, AccessLog, ApiQuotas, CloudWatchRole, StageThrottle, Throttle, CLF_FORMAT,
    JSON_FORMAT, MANAGED_CLOUDWATCH_ROLE, THROTTLE,
};
use crate::model::ApiSettings;

/// Sets `api`'s tracing, throttle, access log and quotas from `raw` (the
/// stage's `[api]` table, `key` its dotted key), recording each error.
pub(crate) fn stage_api(
    api: &mut ApiSettings,
    raw: Option<&Spanned<RawApi>>,
    routes: &RouteTable,
    file: &SourceFile,
    key: &str,
    diags: &mut Diagnostics,
) {
    let Some(raw) = raw else {
        quota_check(api, routes, None, file, key, diags);
        return;
    };
    let table = raw.get_ref();
    api.tracing = table.tracing.as_ref().is_some_and(|t| *t.get_ref());
    if let Some(throttle) = &table.throttle {
        api.throttle = stage_throttle(throttle, routes, file, &format!("{key}.throttle"), diags);
    }
    api.access_log = table
        .access_log
        .as_ref()
        .and_then(|a| access_log(a.get_ref(), file, &format!("{key}.access-log"), diags));
    if let (Some(_), Some(name)) = (&api.access_log, &table.name) {
        let allowed = |c: char| c.is_ascii_alphanumeric() || "._/#-".contains(c);
        if !name.get_ref().chars().all(allowed) {
            diags.error(
                file,
                name.span(),
                format!("{key}.name"),
                format!("`{}` cannot be part of a log group name, which the access log's is (`/aws/apigateway/<api>/<stage>/access`)", name.get_ref()),
                Some("name the API with letters, digits and `. _ / # -` only, or remove [access-log]".into()),
            );
        }
    }
    if let Some(quotas) = &table.quotas {
        api.quotas = api_quotas(quotas.get_ref(), file, &format!("{key}.quotas"), diags);
    }
    quota_check(api, routes, Some(raw), file, key, diags);
}

fn stage_throttle(
    raw: &Spanned<RawThrottle>,
    routes: &RouteTable,
    file: &SourceFile,
    key: &str,
    diags: &mut Diagnostics,
) -> StageThrottle {
    let table = raw.get_ref();
    let mut out = StageThrottle::default();
    if table.rate.is_some() || table.burst.is_some() || table.routes.is_empty() {
        let at = (raw.span(), key);
        out.stage = throttle(&table.rate, &table.burst, at, file, diags);
    }
    for (text, route_table) in &table.routes {
        let route_key = format!("{key}.routes.\"{}\"", text.get_ref());
        let declared = Route::parse(text.get_ref()).ok().filter(|r| {
            routes
                .entries
                .iter()
                .any(|e| e.method == r.method && e.path == r.path)
        });
        let Some(route) = declared else {
            diags.error(
                file,
                text.span(),
                route_key,
                format!("no service declares the route `{}`", text.get_ref()),
                Some("name a route as a service's `routes` writes it, e.g. \"POST /items\"".into()),
            );
            continue;
        };
        let t = route_table.get_ref();
        let at = (route_table.span(), route_key.as_str());
        if let Some(t) = throttle(&t.rate, &t.burst, at, file, diags) {
            out.routes.insert(route.to_string(), t);
        }
    }
    out
}

/// A `rate` and `burst` pair: both given, each in range, and a burst that
/// lets a request through when the rate does.
fn throttle(
    rate: &Option<Spanned<i64>>,
    burst: &Option<Spanned<i64>>,
    (span, key): (std::ops::Range<usize>, &str),
    file: &SourceFile,
    diags: &mut Diagnostics,
) -> Option<Throttle> {
    let (Some(rate), Some(burst)) = (rate, burst) else {
        let missing = if rate.is_none() { "rate" } else { "burst" };
        diags.error(
            file,
            span,
            key.to_owned(),
            format!("`{missing}` is missing: a throttle needs both `rate` and `burst`"),
            Some("set both, e.g. `{ rate = 100, burst = 200 }` (requests per second, and how many may arrive at once)".into()),
        );
        return None;
    };
    let mut in_range = |v: &Spanned<i64>, name: &str| {
        if THROTTLE.contains(v.get_ref()) {
            return Some(*v.get_ref() as u32);
        }
        diags.error(
            file,
            v.span(),
            format!("{key}.{name}"),
            format!("{} is out of range", v.get_ref()),
            Some(format!(
                "set `{name}` to a whole number from {} to {}",
                THROTTLE.start(),
                THROTTLE.end()
            )),
        );
        None
    };
    let (r, b) = (in_range(rate, "rate")?, in_range(burst, "burst")?);
    if r > 0 && b == 0 {
        diags.error(
            file,
            burst.span(),
            format!("{key}.burst"),
            "a burst of 0 lets no request through, whatever the rate",
            Some("set `burst` to at least 1 (commonly twice the rate), or `rate = 0` to refuse every request on purpose".into()),
        );
        return None;
    }
    Some(Throttle { rate: r, burst: b })
}

fn access_log(
    raw: &RawAccessLog,
    file: &SourceFile,
    key: &str,
    diags: &mut Diagnostics,
) -> Option<AccessLog> {
    let format = match raw.format.as_ref() {
        None => JSON_FORMAT.to_owned(),
        Some(f) if f.get_ref() == "json" => JSON_FORMAT.to_owned(),
        Some(f) if f.get_ref() == "clf" => CLF_FORMAT.to_owned(),
        Some(f) => {
            let text = f.get_ref();
            let why = if text.contains('\n') || text.contains('\r') {
                Some("an access-log format is one line: API Gateway writes one line a request")
            } else if !text.contains("$context.requestId")
                && !text.contains("$context.extendedRequestId")
            {
                Some("API Gateway requires the format to include `$context.requestId` or `$context.extendedRequestId`")
            } else {
                None
            };
            if let Some(why) = why {
                diags.error(
                    file,
                    f.span(),
                    format!("{key}.format"),
                    why,
                    Some("use `\"json\"` or `\"clf\"`, or one line of `$context` variables that includes `$context.requestId`".into()),
                );
                return None;
            }
            text.clone()
        }
    };
    let cloudwatch_role = match raw.cloudwatch_role.as_ref() {
        None => CloudWatchRole::Required,
        Some(r) if r.get_ref() == "managed" => CloudWatchRole::Managed,
        Some(r) if is_role_arn(r.get_ref()) => CloudWatchRole::Arn(r.get_ref().clone()),
        Some(r) => {
            diags.error(
                file,
                r.span(),
                format!("{key}.cloudwatch-role"),
                format!("`{}` is neither `\"managed\"` nor an IAM role ARN", r.get_ref()),
                Some(format!("write `\"managed\"` to let ferry create `{MANAGED_CLOUDWATCH_ROLE}` when the account has no role set, or `\"arn:aws:iam::123456789012:role/NAME\"`")),
            );
            return None;
        }
    };
    Some(AccessLog {
        format,
        cloudwatch_role,
    })
}

fn is_role_arn(text: &str) -> bool {
    let Some(rest) = text.strip_prefix("arn:aws:iam::") else {
        return false;
    };
    let (account, role) = rest.split_once(":role/").unwrap_or(("", ""));
    account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()) && !role.is_empty()
}

fn api_quotas(raw: &RawQuotas, file: &SourceFile, key: &str, diags: &mut Diagnostics) -> ApiQuotas {
    let mut quotas = ApiQuotas::default();
    let mut read = |v: &Option<Spanned<i64>>, name: &str, default: u32| {
        let Some(v) = v else { return default };
        match u32::try_from(*v.get_ref()) {
            Ok(n) if n >= 1 => n,
            _ => {
                diags.error(
                    file,
                    v.span(),
                    format!("{key}.{name}"),
                    format!("{} is not a quota", v.get_ref()),
                    Some(format!("set `{name}` to your account's quota (AWS's default is {default}), or remove it")),
                );
                default
            }
        }
    };
    quotas.resources = read(&raw.resources, "resources", quotas.resources);
    quotas.stages = read(&raw.stages, "stages", quotas.stages);
    quotas
}

/// API Gateway refuses a definition with more resources than the quota:
/// found here, before any AWS call.
fn quota_check(
    api: &ApiSettings,
    routes: &RouteTable,
    raw: Option<&Spanned<RawApi>>,
    file: &SourceFile,
    key: &str,
    diags: &mut Diagnostics,
) {
    let paths: Vec<String> = routes.entries.iter().map(|e| e.path.to_string()).collect();
    let count = resource_count(paths.iter().map(String::as_str));
    if count <= api.quotas.resources as usize {
        return;
    }
    diags.error(
        file,
        raw.map(Spanned::span).unwrap_or_default(),
        key.to_owned(),
        format!(
            "the routes make {count} API Gateway resources (one per path prefix, the root included); the quota is {} per REST API",
            api.quotas.resources
        ),
        Some(format!("serve a subtree from one `ANY /prefix/{{proxy+}}` route, split the app into several APIs, or, if AWS raised your quota, set `[{key}.quotas] resources = N`")),
    );
}

#[cfg(test)]
#[path = "stage_api_tests.rs"]
mod tests;
