//! Reads a stage's front door: the CloudFront distribution (by id, or by the
//! domain among the distributions' aliases), the origin that should point at
//! the API, and the domain's alias records in Route 53. A front door that can
//! be neither found nor created stops the run here, before any write.

use std::collections::BTreeMap;

use aws_sdk_cloudfront::types::{
    CacheBehavior, CacheBehaviors, DistributionConfig, DistributionSummary, ItemSelection,
};
use aws_sdk_route53::types::RrType;
use ferry::deploy::front::{
    same_name, DesiredFront, LiveDistribution, LiveFront, LiveOrigin, CACHING_DISABLED,
};
use ferry::model::cache::{Behavior, CacheSettings, Caching, KeyNames, MAX_TTL_S};

use crate::sdk::clients::Clients;
use crate::sdk::fail::{self, AwsError};

pub async fn read(c: &Clients, front: &DesiredFront) -> Result<LiveFront, AwsError> {
    let door = &front.door;
    let distribution = match (&door.distribution, &door.domain) {
        (Some(id), _) => Some(by_id(c, id, door.origin.as_deref()).await?),
        (None, Some(domain)) => by_alias(c, domain).await?,
        (None, None) => None,
    };
    if distribution.is_none() && door.certificate.is_none() {
        let domain = door.domain.as_deref().unwrap_or_default();
        return Err(AwsError::Front {
            message: format!("no CloudFront distribution has the alias {domain}, and ferry cannot create one without a certificate"),
            help: "add `certificate` (an ACM ARN in us-east-1 covering the domain) to the stage's [cloudfront], or give the `distribution` id to wire".into(),
        });
    }
    let alias_records = match (&door.hosted_zone, &door.domain) {
        (Some(zone), Some(domain)) => alias_records(c, zone, domain).await?,
        _ => BTreeMap::new(),
    };
    Ok(LiveFront {
        distribution,
        alias_records,
    })
}

async fn by_id(c: &Clients, id: &str, origin: Option<&str>) -> Result<LiveDistribution, AwsError> {
    let out = c.cloudfront.get_distribution().id(id).send().await;
    let out = match out {
        Ok(out) => out,
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_no_such_distribution()) =>
        {
            return Err(AwsError::Front {
                message: format!("CloudFront distribution {id} does not exist"),
                help: "check `distribution` in the stage's [cloudfront]: the id is on the CloudFront console (E…)".into(),
            })
        }
        Err(e) => return Err(fail::call("cloudfront:GetDistribution", e.into_service_error())),
    };
    let Some(d) = out.distribution() else {
        return Err(AwsError::Front {
            message: format!("GetDistribution returned nothing for {id}"),
            help: "run again".into(),
        });
    };
    let config = d.distribution_config();
    let aliases = config
        .and_then(|c| c.aliases())
        .map(|a| a.items().to_vec())
        .unwrap_or_default();
    let origin = config_origin(id, config, origin)?;
    Ok(LiveDistribution {
        id: d.id().to_owned(),
        domain_name: d.domain_name().to_owned(),
        status: d.status().to_owned(),
        aliases,
        behaviors: behaviors_of(config.and_then(|c| c.cache_behaviors()), &origin.id),
        origin,
    })
}

/// The origin ferry manages in `config`: the one named, else the default
/// cache behaviour's.
pub(crate) fn config_origin(
    id: &str,
    config: Option<&DistributionConfig>,
    named: Option<&str>,
) -> Result<LiveOrigin, AwsError> {
    let origins = config
        .and_then(|c| c.origins())
        .map(|o| o.items())
        .unwrap_or_default();
    let wanted = named.or_else(|| {
        config
            .and_then(|c| c.default_cache_behavior())
            .map(|b| b.target_origin_id())
    });
    let found = origins.iter().find(|o| Some(o.id()) == wanted);
    match found {
        Some(o) => Ok(LiveOrigin {
            id: o.id().to_owned(),
            domain: o.domain_name().to_owned(),
            path: o.origin_path().unwrap_or_default().to_owned(),
        }),
        None => {
            let ids: Vec<&str> = origins.iter().map(|o| o.id()).collect();
            Err(AwsError::Front {
                message: format!(
                    "CloudFront distribution {id} has no origin `{}`",
                    wanted.unwrap_or_default()
                ),
                help: format!(
                    "set `origin` in the stage's [cloudfront] to one of: {}",
                    ids.join(", ")
                ),
            })
        }
    }
}

pub(crate) async fn by_alias(
    c: &Clients,
    domain: &str,
) -> Result<Option<LiveDistribution>, AwsError> {
    let all: Vec<DistributionSummary> = c
        .cloudfront
        .list_distributions()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| fail::call("cloudfront:ListDistributions", e.into_service_error()))?;
    let serving: Vec<&DistributionSummary> = all
        .iter()
        .filter(|d| {
            d.aliases()
                .is_some_and(|a| a.items().iter().any(|x| same_name(x, domain)))
        })
        .collect();
    let d = match serving.as_slice() {
        [] => return Ok(None),
        [one] => *one,
        many => {
            return Err(AwsError::Ambiguous(format!(
                "{} CloudFront distributions have the alias {domain}",
                many.len()
            )))
        }
    };
    // The summary lacks the origin's full settings but has what ferry
    // compares; the update reads the whole configuration with its ETag.
    let origins = d.origins().map(|o| o.items()).unwrap_or_default();
    let target = d.default_cache_behavior().map(|b| b.target_origin_id());
    let origin = origins
        .iter()
        .find(|o| Some(o.id()) == target)
        .map(|o| LiveOrigin {
            id: o.id().to_owned(),
            domain: o.domain_name().to_owned(),
            path: o.origin_path().unwrap_or_default().to_owned(),
        })
        .ok_or_else(|| AwsError::Front {
            message: format!("CloudFront distribution {} has no default origin", d.id()),
            help: "give `distribution` and `origin` in the stage's [cloudfront]".into(),
        })?;
    Ok(Some(LiveDistribution {
        id: d.id().to_owned(),
        domain_name: d.domain_name().to_owned(),
        status: d.status().to_owned(),
        aliases: d.aliases().map(|a| a.items().to_vec()).unwrap_or_default(),
        behaviors: behaviors_of(d.cache_behaviors(), &origin.id),
        origin,
    }))
}

/// The cache behaviors whose target is `origin`, in CloudFront's order.
pub(crate) fn behaviors_of(list: Option<&CacheBehaviors>, origin: &str) -> Vec<Behavior> {
    list.map(|l| l.items())
        .unwrap_or_default()
        .iter()
        .filter(|b| b.target_origin_id() == origin)
        .map(|b| Behavior {
            pattern: b.path_pattern().to_owned(),
            caching: caching_of(b),
        })
        .collect()
}

// CloudFront's per-behavior settings are what ferry writes on purpose (see
// the README: cache policies); the SDK marks them deprecated.
#[allow(deprecated)]
fn caching_of(b: &CacheBehavior) -> Caching {
    match b.cache_policy_id().filter(|id| !id.is_empty()) {
        Some(CACHING_DISABLED) => return Caching::Off,
        Some(id) => return Caching::Policy(id.to_owned()),
        None => {}
    }
    let Some(f) = b.forwarded_values() else {
        return Caching::Policy(String::new());
    };
    let names = |items: &[String]| items.iter().cloned().collect();
    let query = match f.query_string_cache_keys().map(|k| k.items()) {
        _ if !f.query_string() => KeyNames::None,
        Some(keys) if !keys.is_empty() => KeyNames::Named(names(keys)),
        _ => KeyNames::All,
    };
    let cookies = match f.cookies() {
        Some(c) if *c.forward() == ItemSelection::All => KeyNames::All,
        Some(c) if *c.forward() == ItemSelection::Whitelist => KeyNames::Named(names(
            c.whitelisted_names().map(|n| n.items()).unwrap_or_default(),
        )),
        _ => KeyNames::None,
    };
    let ttl = |v: Option<i64>, default: u64| v.map_or(default, |v| v.max(0) as u64);
    Caching::On(CacheSettings {
        min_ttl: ttl(b.min_ttl(), 0),
        default_ttl: ttl(b.default_ttl(), 86_400),
        max_ttl: ttl(b.max_ttl(), MAX_TTL_S),
        query,
        headers: f
            .headers()
            .map(|h| h.items())
            .unwrap_or_default()
            .iter()
            .map(|h| h.to_ascii_lowercase())
            .collect(),
        cookies,
    })
}

/// The domain's A and AAAA alias targets in `zone`.
pub(crate) async fn alias_records(
    c: &Clients,
    zone: &str,
    domain: &str,
) -> Result<BTreeMap<String, String>, AwsError> {
    let out = c
        .route53
        .list_resource_record_sets()
        .hosted_zone_id(zone)
        .start_record_name(domain)
        .start_record_type(RrType::A)
        .max_items(4)
        .send()
        .await;
    let out = match out {
        Ok(out) => out,
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_no_such_hosted_zone()) =>
        {
            return Err(AwsError::Front {
                message: format!("Route 53 hosted zone {zone} does not exist"),
                help: "check `hosted-zone` in the stage's [cloudfront]: the zone id is on the Route 53 console (Z…)".into(),
            })
        }
        Err(e) => {
            return Err(fail::call(
                "route53:ListResourceRecordSets",
                e.into_service_error(),
            ))
        }
    };
    Ok(out
        .resource_record_sets()
        .iter()
        .filter(|r| same_name(r.name(), domain))
        .filter(|r| matches!(r.r#type(), RrType::A | RrType::Aaaa))
        .filter_map(|r| {
            let target = r.alias_target()?.dns_name();
            Some((r.r#type().as_str().to_owned(), target.to_owned()))
        })
        .collect())
}
