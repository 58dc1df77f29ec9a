//! Who may call a route: Lambda authorizers (workspace crates with an
//! `[package.metadata.ferry.authorizer]` table), Cognito user pool
//! authorizers (a stage's `[stages.NAME.authorizers.NAME]`), and each
//! route's `auth`. Owns the validated types and the checks of one crate's
//! or one stage's raw tables (`raw_auth.rs`); the checks across crates and
//! stages live in `validate/auth.rs`.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::RangeInclusive;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize, Serializer};
use toml::Spanned;

use super::diag::{Diagnostics, SourceFile};
use super::raw_auth::{RawAuthorizer, RawCognito, RawRouteAuth};
use super::route::Route;

/// The result cache TTLs API Gateway accepts, in seconds.
pub const TTL_S: RangeInclusive<i64> = 0..=3600;
/// API Gateway's default result cache TTL.
pub const DEFAULT_TTL_S: u32 = 300;
/// The `auth` value of a route anyone may call.
pub const PUBLIC: &str = "public";
/// API Gateway's default quota of authorizers per REST API.
pub const MAX_AUTHORIZERS: usize = 10;
/// The identity source of an authorizer that names none.
pub const DEFAULT_IDENTITY: &str = "header:Authorization";

/// What a Lambda authorizer is given.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum AuthorizerType {
    /// The request's headers, query, path parameters and stage variables.
    #[default]
    Request,
    /// One header's value, as `authorizationToken`.
    Token,
}

impl AuthorizerType {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthorizerType::Request => "request",
            AuthorizerType::Token => "token",
        }
    }
}

/// Where an authorizer finds the caller's identity.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IdentitySource {
    Header(String),
    Query(String),
    /// A `$context` variable, by its dotted path (`identity.sourceIp`).
    Context(String),
}

impl IdentitySource {
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = || {
            format!("`{text}` is not an identity source (`header:NAME`, `query:NAME` or `context:PATH`)")
        };
        let (kind, name) = text.split_once(':').ok_or_else(bad)?;
        let name_ok = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        if !name_ok {
            return Err(bad());
        }
        let name = name.to_owned();
        match kind {
            "header" => Ok(IdentitySource::Header(name)),
            "query" => Ok(IdentitySource::Query(name)),
            // API Gateway can read stage variables, but ferry sets none: the
            // source would always be missing and every request refused.
            "stage" => Err(format!(
                "`{text}`: ferry deploys no stage variables, so this source would always be missing (`header:NAME`, `query:NAME` or `context:PATH`)"
            )),
            "context" => Ok(IdentitySource::Context(name)),
            _ => Err(bad()),
        }
    }

    /// The expression API Gateway's `identitySource` takes.
    pub fn gateway(&self) -> String {
        match self {
            IdentitySource::Header(n) => format!("method.request.header.{n}"),
            IdentitySource::Query(n) => format!("method.request.querystring.{n}"),
            IdentitySource::Context(n) => format!("context.{n}"),
        }
    }
}

impl fmt::Display for IdentitySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdentitySource::Header(n) => write!(f, "header:{n}"),
            IdentitySource::Query(n) => write!(f, "query:{n}"),
            IdentitySource::Context(n) => write!(f, "context:{n}"),
        }
    }
}

impl Serialize for IdentitySource {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A workspace crate that is a Lambda authorizer, defaults applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LambdaAuthorizer {
    pub kind: AuthorizerType,
    pub identity_sources: Vec<IdentitySource>,
    pub ttl_s: u32,
}

/// A stage's Cognito user pool authorizer, defaults applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CognitoAuthorizer {
    pub user_pools: Vec<String>,
    pub header: String,
    pub ttl_s: u32,
}

/// What a route's `auth` says.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum RouteAuth {
    /// Anyone may call it, and the stage's `require-authorizer` knows it.
    Public,
    /// The authorizer of that name guards it.
    Authorizer(String),
}

impl RouteAuth {
    pub fn authorizer(&self) -> Option<&str> {
        match self {
            RouteAuth::Public => None,
            RouteAuth::Authorizer(name) => Some(name),
        }
    }
}

impl fmt::Display for RouteAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.authorizer().unwrap_or(PUBLIC))
    }
}

impl Serialize for RouteAuth {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Checks a crate's `[package.metadata.ferry.authorizer]`.
pub fn check_authorizer(
    raw: &RawAuthorizer,
    prefix: &str,
    file: &SourceFile,
    diags: &mut Diagnostics,
) -> Option<LambdaAuthorizer> {
    let kind = raw.kind.as_ref().map(|k| *k.get_ref()).unwrap_or_default();
    // Every problem of the table is reported, not only the first.
    let checked_ttl = ttl(raw.ttl.as_ref(), &format!("{prefix}.ttl"), file, diags);
    let ttl_s = checked_ttl.unwrap_or(DEFAULT_TTL_S);
    let key = format!("{prefix}.identity-sources");
    let mut sources = Vec::new();
    let mut ok = checked_ttl.is_some();
    match &raw.identity_sources {
        None => sources.push(IdentitySource::parse(DEFAULT_IDENTITY).ok()?),
        Some(list) => {
            for text in list.get_ref() {
                match IdentitySource::parse(text.get_ref()) {
                    Ok(source) if !sources.contains(&source) => sources.push(source),
                    Ok(_) => {}
                    Err(why) => {
                        let help = "write `header:Authorization`, `query:token` or `context:identity.sourceIp`";
                        diags.error(file, text.span(), key.clone(), why, Some(help.into()));
                        ok = false;
                    }
                }
            }
            let token_shape = matches!(sources.as_slice(), [IdentitySource::Header(_)]);
            if ok && kind == AuthorizerType::Token && !token_shape {
                let help = "a `token` authorizer reads one header: give exactly one `header:NAME`, or make it `type = \"request\"`";
                let message = "a token authorizer takes exactly one identity source, a header";
                diags.error(file, list.span(), key.clone(), message, Some(help.into()));
                ok = false;
            }
            if ok && sources.is_empty() && ttl_s > 0 {
                let help = "name where the caller's identity is (`header:Authorization`), or set `ttl = 0`: API Gateway caches by the identity sources";
                let message =
                    "an authorizer with a result cache needs at least one identity source";
                diags.error(file, list.span(), key, message, Some(help.into()));
                ok = false;
            }
        }
    }
    ok.then_some(LambdaAuthorizer {
        kind,
        identity_sources: sources,
        ttl_s,
    })
}

/// Checks a service's `auth` against its `routes`: one value for all of
/// them, or one per route. Names are checked across the workspace later.
pub fn check_route_auth(
    raw: &Spanned<RawRouteAuth>,
    routes: &[Route],
    key: &str,
    file: &SourceFile,
    diags: &mut Diagnostics,
) -> BTreeMap<String, RouteAuth> {
    let mut out = BTreeMap::new();
    let mut put = |route: String, value: &str, diags: &mut Diagnostics| {
        if !is_name(value) {
            let help = format!("name an authorizer crate or a stage's `authorizers` entry (letters, digits, `-`, `_`), or write \"{PUBLIC}\"");
            diags.error(
                file,
                raw.span(),
                key,
                format!("`{value}` is not an authorizer name"),
                Some(help),
            );
            return;
        }
        let auth = if value == PUBLIC {
            RouteAuth::Public
        } else {
            RouteAuth::Authorizer(value.to_owned())
        };
        out.insert(route, auth);
    };
    match raw.get_ref() {
        RawRouteAuth::All(value) => {
            for route in routes {
                put(route.to_string(), value, diags);
            }
        }
        RawRouteAuth::PerRoute(table) => {
            for (text, value) in table {
                let found = Route::parse(text)
                    .ok()
                    .filter(|r| routes.contains(r))
                    .map(|r| r.to_string());
                match found {
                    Some(route) => put(route, value, diags),
                    None => {
                        let known: Vec<String> = routes.iter().map(Route::to_string).collect();
                        let help =
                            format!("key `auth` by this service's routes: {}", known.join(", "));
                        diags.error(
                            file,
                            raw.span(),
                            key,
                            format!("`{text}` is not one of this service's routes"),
                            Some(help),
                        );
                    }
                }
            }
        }
    }
    out
}

/// Checks one `[stages.NAME.authorizers.NAME]` table.
pub fn check_cognito(
    raw: &RawCognito,
    key: &str,
    file: &SourceFile,
    diags: &mut Diagnostics,
) -> Option<CognitoAuthorizer> {
    let mut ok = true;
    let pools: Vec<String> = raw
        .user_pools
        .get_ref()
        .iter()
        .map(|p| p.get_ref().clone())
        .collect();
    for pool in raw.user_pools.get_ref() {
        if !is_user_pool_arn(pool.get_ref()) {
            let help =
                "give a user pool ARN: arn:aws:cognito-idp:REGION:ACCOUNT:userpool/REGION_ID";
            let message = format!("`{}` is not a Cognito user pool ARN", pool.get_ref());
            diags.error(
                file,
                pool.span(),
                format!("{key}.user-pools"),
                message,
                Some(help.into()),
            );
            ok = false;
        }
    }
    if pools.is_empty() {
        let help = "list the user pools whose tokens the API accepts";
        diags.error(
            file,
            raw.user_pools.span(),
            format!("{key}.user-pools"),
            "no user pool given",
            Some(help.into()),
        );
        ok = false;
    }
    let header = match &raw.header {
        None => "Authorization".to_owned(),
        Some(h) => match IdentitySource::parse(&format!("header:{}", h.get_ref())) {
            Ok(IdentitySource::Header(name)) => name,
            _ => {
                let help = "name an HTTP header, e.g. `Authorization`";
                let message = format!("`{}` is not a header name", h.get_ref());
                diags.error(
                    file,
                    h.span(),
                    format!("{key}.header"),
                    message,
                    Some(help.into()),
                );
                ok = false;
                String::new()
            }
        },
    };
    let ttl_s = ttl(raw.ttl.as_ref(), &format!("{key}.ttl"), file, diags);
    Some(CognitoAuthorizer {
        user_pools: pools,
        header,
        ttl_s: ttl_s?,
    })
    .filter(|_| ok)
}

/// An authorizer name API Gateway and `auth` take.
pub fn is_name(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 64
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn is_user_pool_arn(text: &str) -> bool {
    let parts: Vec<&str> = text.splitn(6, ':').collect();
    matches!(parts.as_slice(), ["arn", partition, "cognito-idp", region, account, resource]
        if partition.starts_with("aws")
            && !region.is_empty()
            && account.len() == 12
            && account.chars().all(|c| c.is_ascii_digit())
            && resource.strip_prefix("userpool/").is_some_and(|id| id.contains('_')))
}

fn ttl(
    raw: Option<&Spanned<i64>>,
    key: &str,
    file: &SourceFile,
    diags: &mut Diagnostics,
) -> Option<u32> {
    match raw {
        None => Some(DEFAULT_TTL_S),
        Some(t) if TTL_S.contains(t.get_ref()) => Some(*t.get_ref() as u32),
        Some(t) => {
            let help = "set `ttl` from 0 (ask the authorizer on every request) to 3600 seconds";
            let message = format!(
                "{} is not a result cache TTL API Gateway accepts",
                t.get_ref()
            );
            diags.error(file, t.span(), key, message, Some(help.into()));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_sources_map_to_gateway_expressions() {
        let cases = [
            (
                "header:Authorization",
                "method.request.header.Authorization",
            ),
            ("query:token", "method.request.querystring.token"),
            ("context:identity.sourceIp", "context.identity.sourceIp"),
        ];
        for (text, gateway) in cases {
            let source = IdentitySource::parse(text).unwrap();
            assert_eq!(source.gateway(), gateway);
            assert_eq!(source.to_string(), text);
        }
        for bad in [
            "Authorization",
            "cookie:x",
            "header:",
            "header:a b",
            "stage:audience",
        ] {
            assert!(IdentitySource::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn user_pool_arns() {
        assert!(is_user_pool_arn(
            "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_AbC123"
        ));
        assert!(!is_user_pool_arn(
            "arn:aws:cognito-idp:eu-west-1:123:userpool/x_1"
        ));
        assert!(!is_user_pool_arn("eu-west-1_AbC123"));
    }
}
