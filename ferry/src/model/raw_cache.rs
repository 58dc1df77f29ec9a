//! The raw TOML schemas of caching, as users write them: a route's cache
//! table (a service's `cache."METHOD /path"`, a stage's `cache.routes`),
//! `[stages.NAME.cloudfront.cache]` and `[stages.NAME.api.cache]`. Spans
//! kept, no defaults applied; `validate/cache*.rs` turns them into the model.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;
use toml::Spanned;

/// A cached route's settings: in a service's Cargo.toml, or over them in a
/// stage's `cache.routes`. A key left out takes the stage's, then ferry's
/// default.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawCache {
    /// `false`: never cache this route. Default: true.
    #[schemars(with = "Option<bool>")]
    pub enabled: Option<Spanned<bool>>,
    /// Seconds a response is cached when it sends no `Cache-Control`, 0 to
    /// 31536000. Default: the stage's `ttl`, else 60.
    #[schemars(with = "Option<i64>", range(min = 0, max = 31_536_000))]
    pub ttl: Option<Spanned<i64>>,
    /// The least seconds a response is cached, whatever it says. Default: 0.
    #[schemars(with = "Option<i64>", range(min = 0, max = 31_536_000))]
    pub min_ttl: Option<Spanned<i64>>,
    /// The most seconds a response is cached, whatever it says. Default:
    /// 31536000.
    #[schemars(with = "Option<i64>", range(min = 0, max = 31_536_000))]
    pub max_ttl: Option<Spanned<i64>>,
    /// Query strings in the cache key: `"none"`, `"all"`, or up to 10 names.
    /// Default: `"none"`.
    #[schemars(with = "Option<KeyNamesSchema>")]
    pub query: Option<Spanned<toml::Value>>,
    /// Request headers in the cache key, up to 10, e.g. `["Accept-Language"]`.
    /// Default: `[]`.
    #[schemars(with = "Option<Vec<String>>")]
    pub headers: Option<Spanned<Vec<Spanned<String>>>>,
    /// Cookies in the cache key: `"none"`, `"all"`, or up to 10 names.
    /// Default: `"none"`.
    #[schemars(with = "Option<KeyNamesSchema>")]
    pub cookies: Option<Spanned<toml::Value>>,
}

/// `[stages.NAME.cloudfront.cache]`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawStageCache {
    /// `false`: nothing is cached on this stage. Default: true.
    #[schemars(with = "Option<bool>")]
    pub enabled: Option<Spanned<bool>>,
    /// The default TTL of the stage's cached routes. Default: 60.
    #[schemars(with = "Option<i64>", range(min = 0, max = 31_536_000))]
    pub ttl: Option<Spanned<i64>>,
    /// The minimum TTL of the stage's cached routes. Default: 0.
    #[schemars(with = "Option<i64>", range(min = 0, max = 31_536_000))]
    pub min_ttl: Option<Spanned<i64>>,
    /// The maximum TTL of the stage's cached routes. Default: 31536000.
    #[schemars(with = "Option<i64>", range(min = 0, max = 31_536_000))]
    pub max_ttl: Option<Spanned<i64>>,
    /// `[stages.NAME.cloudfront.cache.routes."METHOD /path"]`: a route's
    /// settings on this stage, over its service's. Default: none.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, RawCache>")]
    pub routes: BTreeMap<Spanned<String>, Spanned<RawCache>>,
}

/// `"none"`, `"all"`, or a list of names.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum KeyNamesSchema {
    Word(KeyWord),
    Names(Vec<String>),
}

#[derive(JsonSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
enum KeyWord {
    None,
    All,
}

/// `[stages.NAME.api.cache]`: the stage's API Gateway cache cluster, which
/// caches the routes whose services have a `cache` table (their `ttl`,
/// `query` and `headers`; `min-ttl` and `max-ttl` do not apply).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawApiCache {
    /// `false`: the cache cluster is turned off. Default: true.
    #[schemars(with = "Option<bool>")]
    pub enabled: Option<Spanned<bool>>,
    /// The cache cluster's size in GB: `"0.5"`, `"1.6"`, `"6.1"`, `"13.5"`,
    /// `"28.4"`, `"58.2"`, `"118"` or `"237"`. Default: `"0.5"`.
    #[schemars(with = "Option<String>")]
    pub size: Option<Spanned<String>>,
    /// The TTL of cached routes that name none, 0 to 3600. Default: 300.
    #[schemars(with = "Option<i64>", range(min = 0, max = 3600))]
    pub ttl: Option<Spanned<i64>>,
    /// `[stages.NAME.api.cache.routes."METHOD /path"]`: a route's settings
    /// on this stage, over its service's. Default: none.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, RawCache>")]
    pub routes: BTreeMap<Spanned<String>, Spanned<RawCache>>,
}
