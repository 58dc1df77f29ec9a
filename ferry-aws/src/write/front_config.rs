//! The configuration of a distribution ferry creates for an API stage
//! (HTTPS only, every method, the API's regional domain as origin, nothing
//! cached by default) and of the cache behaviors of its cached paths.

use aws_sdk_cloudfront::types::{
    Aliases, AllowedMethods, CacheBehavior, CacheBehaviors, CachedMethods, CookieNames,
    CookiePreference, CustomOriginConfig, DefaultCacheBehavior, DistributionConfig,
    ForwardedValues, Headers, HttpVersion, ItemSelection, Method, MinimumProtocolVersion, Origin,
    OriginProtocolPolicy, OriginSslProtocols, Origins, QueryStringCacheKeys, SslProtocol,
    SslSupportMethod, ViewerCertificate, ViewerProtocolPolicy,
};
use ferry::deploy::front::{ALL_VIEWER_EXCEPT_HOST, CACHING_DISABLED, FERRY_ORIGIN_ID};
use ferry::model::cache::{Behavior, Caching, KeyNames};

use crate::sdk::fail::AwsError;

pub fn built<T>(
    r: Result<T, aws_smithy_types::error::operation::BuildError>,
) -> Result<T, AwsError> {
    r.map_err(|e| AwsError::Call {
        call: "building a CloudFront request",
        message: e.to_string(),
        help: "this is a bug in ferry; please report it".into(),
    })
}

/// The configuration of a distribution ferry creates for an API stage.
pub fn new_config(
    reference: &str,
    comment: &str,
    domain: &str,
    certificate: &str,
    origin_domain: &str,
    origin_path: &str,
    behaviors: &[Behavior],
) -> Result<DistributionConfig, AwsError> {
    let origin_config = built(
        CustomOriginConfig::builder()
            .http_port(80)
            .https_port(443)
            .origin_protocol_policy(OriginProtocolPolicy::HttpsOnly)
            .origin_ssl_protocols(built(
                OriginSslProtocols::builder()
                    .quantity(1)
                    .items(SslProtocol::TlSv12)
                    .build(),
            )?)
            .build(),
    )?;
    let origin = built(
        Origin::builder()
            .id(FERRY_ORIGIN_ID)
            .domain_name(origin_domain)
            .origin_path(origin_path)
            .custom_origin_config(origin_config)
            .build(),
    )?;
    let behaviour = built(
        DefaultCacheBehavior::builder()
            .target_origin_id(FERRY_ORIGIN_ID)
            .viewer_protocol_policy(ViewerProtocolPolicy::HttpsOnly)
            .allowed_methods(every_method()?)
            .cache_policy_id(CACHING_DISABLED)
            .origin_request_policy_id(ALL_VIEWER_EXCEPT_HOST)
            .compress(true)
            .build(),
    )?;
    let mut list = CacheBehaviors::builder().quantity(behaviors.len() as i32);
    for b in behaviors {
        list = list.items(cache_behavior(b, FERRY_ORIGIN_ID)?);
    }
    built(
        DistributionConfig::builder()
            .caller_reference(reference)
            .comment(comment)
            .enabled(true)
            .aliases(built(Aliases::builder().quantity(1).items(domain).build())?)
            .origins(built(Origins::builder().quantity(1).items(origin).build())?)
            .default_cache_behavior(behaviour)
            .cache_behaviors(built(list.build())?)
            .viewer_certificate(
                ViewerCertificate::builder()
                    .acm_certificate_arn(certificate)
                    .ssl_support_method(SslSupportMethod::SniOnly)
                    .minimum_protocol_version(MinimumProtocolVersion::TlSv122021)
                    .cloud_front_default_certificate(false)
                    .build(),
            )
            .http_version(HttpVersion::Http2and3)
            .is_ipv6_enabled(true)
            .build(),
    )
}

/// Every method reaches the API; GET and HEAD answers may be cached.
fn every_method() -> Result<AllowedMethods, AwsError> {
    let all = [
        Method::Get,
        Method::Head,
        Method::Options,
        Method::Put,
        Method::Patch,
        Method::Post,
        Method::Delete,
    ];
    let cached = built(
        CachedMethods::builder()
            .quantity(2)
            .items(Method::Get)
            .items(Method::Head)
            .build(),
    )?;
    built(
        AllowedMethods::builder()
            .quantity(all.len() as i32)
            .set_items(Some(all.to_vec()))
            .cached_methods(cached)
            .build(),
    )
}

/// One cache behavior of the API origin. A cached path uses CloudFront's
/// per-behavior settings: its TTLs, and forwarded values that are both what
/// reaches the function and the cache key.
#[allow(deprecated)]
pub fn cache_behavior(b: &Behavior, origin: &str) -> Result<CacheBehavior, AwsError> {
    let base = CacheBehavior::builder()
        .path_pattern(&b.pattern)
        .target_origin_id(origin)
        .viewer_protocol_policy(ViewerProtocolPolicy::HttpsOnly)
        .allowed_methods(every_method()?)
        .compress(true);
    let s = match &b.caching {
        Caching::Off => {
            return built(
                base.cache_policy_id(CACHING_DISABLED)
                    .origin_request_policy_id(ALL_VIEWER_EXCEPT_HOST)
                    .build(),
            )
        }
        Caching::Policy(id) => return built(base.cache_policy_id(id).build()),
        Caching::On(s) => s,
    };
    let mut headers = Headers::builder().quantity(s.headers.len() as i32);
    for h in &s.headers {
        headers = headers.items(h);
    }
    let mut keys = QueryStringCacheKeys::builder();
    let mut count = 0;
    if let KeyNames::Named(names) = &s.query {
        for n in names {
            keys = keys.items(n);
        }
        count = names.len();
    }
    let keys = built(keys.quantity(count as i32).build())?;
    let cookies = match &s.cookies {
        KeyNames::None => CookiePreference::builder().forward(ItemSelection::None),
        KeyNames::All => CookiePreference::builder().forward(ItemSelection::All),
        KeyNames::Named(names) => {
            let mut list = CookieNames::builder().quantity(names.len() as i32);
            for n in names {
                list = list.items(n);
            }
            CookiePreference::builder()
                .forward(ItemSelection::Whitelist)
                .whitelisted_names(built(list.build())?)
        }
    };
    let forwarded = built(
        ForwardedValues::builder()
            .query_string(s.query != KeyNames::None)
            .query_string_cache_keys(keys)
            .headers(built(headers.build())?)
            .cookies(built(cookies.build())?)
            .build(),
    )?;
    built(
        base.forwarded_values(forwarded)
            .min_ttl(s.min_ttl as i64)
            .default_ttl(s.default_ttl as i64)
            .max_ttl(s.max_ttl as i64)
            .build(),
    )
}
