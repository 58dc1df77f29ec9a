//! The configuration of a distribution ferry creates for an API stage:
//! HTTPS only, no caching, every method, the API's regional domain as origin.

use aws_sdk_cloudfront::types::{
    Aliases, AllowedMethods, CachedMethods, CustomOriginConfig, DefaultCacheBehavior,
    DistributionConfig, HttpVersion, Method, MinimumProtocolVersion, Origin, OriginProtocolPolicy,
    OriginSslProtocols, Origins, SslProtocol, SslSupportMethod, ViewerCertificate,
    ViewerProtocolPolicy,
};
use ferry::deploy::front::FERRY_ORIGIN_ID;

use crate::sdk::fail::AwsError;

/// AWS's managed cache policy "CachingDisabled": an API's responses are
/// not cached unless the user configures caching on purpose.
pub(crate) const CACHING_DISABLED: &str = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad";
/// AWS's managed origin request policy "AllViewerExceptHostHeader": headers,
/// cookies and query strings reach API Gateway, the Host header does not
/// (API Gateway routes on its own host name).
pub(crate) const ALL_VIEWER_EXCEPT_HOST: &str = "b689b0a8-53d0-40ab-baf2-68738e2966ac";
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
    let methods = built(
        AllowedMethods::builder()
            .quantity(all.len() as i32)
            .set_items(Some(all.to_vec()))
            .cached_methods(cached)
            .build(),
    )?;
    let behaviour = built(
        DefaultCacheBehavior::builder()
            .target_origin_id(FERRY_ORIGIN_ID)
            .viewer_protocol_policy(ViewerProtocolPolicy::HttpsOnly)
            .allowed_methods(methods)
            .cache_policy_id(CACHING_DISABLED)
            .origin_request_policy_id(ALL_VIEWER_EXCEPT_HOST)
            .compress(true)
            .build(),
    )?;
    built(
        DistributionConfig::builder()
            .caller_reference(reference)
            .comment(comment)
            .enabled(true)
            .aliases(built(Aliases::builder().quantity(1).items(domain).build())?)
            .origins(built(Origins::builder().quantity(1).items(origin).build())?)
            .default_cache_behavior(behaviour)
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
