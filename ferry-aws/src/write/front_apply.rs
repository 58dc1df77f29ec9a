//! Writes a stage's front door: creating its distribution, pointing an
//! origin at the API stage and replacing the API origin's cache behaviors
//! (read the whole configuration with its ETag, change that part only, send
//! it back with `IfMatch`, and on 412 read again), turning it off, and
//! invalidations. The domain's records are [`super::dns`]'s.

use aws_sdk_cloudfront::types::{DistributionConfig, InvalidationBatch, Paths};
use ferry::model::cache::Behavior;

use crate::read::front_live::behaviors_of;
use crate::sdk::clients::Clients;
use crate::sdk::fail::{self, AwsError};
use crate::write::front_config::{built, cache_behavior, new_config};

/// Reads and retries of an update that keeps meeting a concurrent change.
const MAX_IF_MATCH_ATTEMPTS: u32 = 5;

/// What a distribution ferry creates for a stage is made of.
pub struct NewDistribution<'a> {
    pub caller_reference: &'a str,
    pub comment: &'a str,
    pub domain: &'a str,
    pub certificate: &'a str,
    /// The API's regional domain and the stage's path.
    pub origin_domain: &'a str,
    pub origin_path: &'a str,
    pub behaviors: &'a [Behavior],
}

/// Creates the stage's distribution; returns (id, domain name).
pub async fn create_distribution(
    c: &Clients,
    new: &NewDistribution<'_>,
) -> Result<(String, String), AwsError> {
    let config = new_config(
        new.caller_reference,
        new.comment,
        new.domain,
        new.certificate,
        new.origin_domain,
        new.origin_path,
        new.behaviors,
    )?;
    create(c, config, new.domain).await
}

/// Creates the distribution, or finds the one an interrupted earlier run
/// created with the same caller reference. Returns (id, domain name).
pub async fn create(
    c: &Clients,
    config: DistributionConfig,
    domain: &str,
) -> Result<(String, String), AwsError> {
    let out = c
        .cloudfront
        .create_distribution()
        .distribution_config(config)
        .send()
        .await;
    match out {
        Ok(out) => {
            let d = out.distribution();
            Ok((
                d.map(|d| d.id().to_owned()).unwrap_or_default(),
                d.map(|d| d.domain_name().to_owned()).unwrap_or_default(),
            ))
        }
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_distribution_already_exists()) =>
        {
            let door = ferry::deploy::front::DesiredFront {
                door: ferry::model::FrontDoor {
                    domain: Some(domain.to_owned()),
                    certificate: Some(String::new()),
                    hosted_zone: None,
                    distribution: None,
                    origin: None,
                    invalidate: false,
                    cache: Default::default(),
                },
                origin_path: String::new(),
            };
            let live = crate::read::front_live::read(c, &door).await?;
            let d = live.distribution.ok_or_else(|| AwsError::Front {
                message: format!("CloudFront reports a distribution for {domain} exists, but none has that alias"),
                help: "look for a distribution with the comment `ferry: …` in the CloudFront console, add the alias, and run again".into(),
            })?;
            Ok((d.id, d.domain_name))
        }
        Err(e) => Err(fail::call(
            "cloudfront:CreateDistribution",
            e.into_service_error(),
        )),
    }
}

/// Where a distribution's configuration is read and written: CloudFront, or
/// a test double that answers 412 on purpose.
pub trait ConfigStore {
    async fn get(&self, id: &str) -> Result<(DistributionConfig, String), AwsError>;
    /// `Ok(false)`: the ETag no longer matches (HTTP 412).
    async fn put(&self, id: &str, config: DistributionConfig, etag: &str)
        -> Result<bool, AwsError>;
}

impl ConfigStore for aws_sdk_cloudfront::Client {
    async fn get(&self, id: &str) -> Result<(DistributionConfig, String), AwsError> {
        let out = self
            .get_distribution_config()
            .id(id)
            .send()
            .await
            .map_err(|e| fail::call("cloudfront:GetDistributionConfig", e.into_service_error()))?;
        let etag = out.e_tag().unwrap_or_default().to_owned();
        let config = out.distribution_config.ok_or_else(|| AwsError::Front {
            message: format!("GetDistributionConfig returned no configuration for {id}"),
            help: "run again".into(),
        })?;
        Ok((config, etag))
    }

    async fn put(
        &self,
        id: &str,
        config: DistributionConfig,
        etag: &str,
    ) -> Result<bool, AwsError> {
        let out = self
            .update_distribution()
            .id(id)
            .if_match(etag)
            .distribution_config(config)
            .send()
            .await;
        match out {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_precondition_failed()) =>
            {
                Ok(false)
            }
            Err(e) => Err(fail::call(
                "cloudfront:UpdateDistribution",
                e.into_service_error(),
            )),
        }
    }
}

/// `config` with origin `origin` pointing at `domain` + `path`, or `None`
/// when it already does. Every other setting is kept as it was read.
pub fn with_origin(
    mut config: DistributionConfig,
    origin: &str,
    domain: &str,
    path: &str,
) -> Option<DistributionConfig> {
    let found = config
        .origins
        .as_mut()?
        .items
        .iter_mut()
        .find(|o| o.id == origin)?;
    if found.domain_name == domain && found.origin_path.as_deref().unwrap_or("") == path {
        return None;
    }
    found.domain_name = domain.to_owned();
    found.origin_path = Some(path.to_owned());
    Some(config)
}

/// How a retarget ended, with the number of reads it took.
#[derive(Debug, PartialEq, Eq)]
pub enum Retargeted {
    Updated { attempts: u32 },
    AlreadyThere { attempts: u32 },
}

/// Points `origin` of distribution `id` at `domain` + `path`. A concurrent
/// change (412) means the configuration is read again and the origin set
/// on the new one: another writer's change is never overwritten blindly.
pub async fn retarget(
    store: &impl ConfigStore,
    id: &str,
    origin: &str,
    domain: &str,
    path: &str,
) -> Result<Retargeted, AwsError> {
    edit(store, id, |config| {
        has_origin(&config, id, origin)?;
        Ok(with_origin(config, origin, domain, path))
    })
    .await
}

/// Makes `to` the cache behaviors of `origin` in distribution `id`, after
/// the behaviors of other origins (kept as they are, in their order).
pub async fn set_behaviors(
    store: &impl ConfigStore,
    id: &str,
    origin: &str,
    to: &[Behavior],
) -> Result<Retargeted, AwsError> {
    edit(store, id, |config| {
        has_origin(&config, id, origin)?;
        with_behaviors(config, origin, to)
    })
    .await
}

fn has_origin(config: &DistributionConfig, id: &str, origin: &str) -> Result<(), AwsError> {
    if config
        .origins()
        .is_some_and(|o| o.items().iter().any(|x| x.id() == origin))
    {
        return Ok(());
    }
    Err(AwsError::Front {
        message: format!("CloudFront distribution {id} no longer has origin `{origin}`"),
        help: "someone changed the distribution during the deploy; run the deploy again".into(),
    })
}

/// `config` with the cache behaviors of `origin` replaced by `to`, or
/// `None` when they already are.
pub fn with_behaviors(
    mut config: DistributionConfig,
    origin: &str,
    to: &[Behavior],
) -> Result<Option<DistributionConfig>, AwsError> {
    if behaviors_of(config.cache_behaviors(), origin) == to {
        return Ok(None);
    }
    let mut items: Vec<_> = config
        .cache_behaviors()
        .map(|b| b.items().to_vec())
        .unwrap_or_default()
        .into_iter()
        .filter(|b| b.target_origin_id() != origin)
        .collect();
    for b in to {
        items.push(cache_behavior(b, origin)?);
    }
    let list = aws_sdk_cloudfront::types::CacheBehaviors::builder()
        .quantity(items.len() as i32)
        .set_items(Some(items))
        .build();
    config.cache_behaviors = Some(built(list)?);
    Ok(Some(config))
}

/// Reads the configuration, lets `change` edit it (`None`: nothing to do)
/// and writes it back with `IfMatch`, reading again after a 412.
async fn edit(
    store: &impl ConfigStore,
    id: &str,
    mut change: impl FnMut(DistributionConfig) -> Result<Option<DistributionConfig>, AwsError>,
) -> Result<Retargeted, AwsError> {
    for attempt in 1..=MAX_IF_MATCH_ATTEMPTS {
        let (config, etag) = store.get(id).await?;
        let Some(changed) = change(config)? else {
            return Ok(Retargeted::AlreadyThere { attempts: attempt });
        };
        if store.put(id, changed, &etag).await? {
            return Ok(Retargeted::Updated { attempts: attempt });
        }
        eprintln!(
            "ferry: distribution {id} changed while ferry updated it (412); reading it again"
        );
    }
    Err(AwsError::Front {
        message: format!(
            "CloudFront distribution {id} changed {MAX_IF_MATCH_ATTEMPTS} times while ferry updated it (412 PreconditionFailed)"
        ),
        help: "another deploy or person is editing the distribution; run the deploy again when they are done".into(),
    })
}

/// Turns distribution `id` off (kept off when it already is).
pub async fn disable(store: &impl ConfigStore, id: &str) -> Result<Retargeted, AwsError> {
    edit(store, id, |mut config| {
        if !config.enabled {
            return Ok(None);
        }
        config.enabled = false;
        Ok(Some(config))
    })
    .await
}

/// Invalidates `paths`; `reference` makes a retried request idempotent.
pub async fn invalidate(
    c: &Clients,
    distribution: &str,
    paths: &[String],
    reference: &str,
) -> Result<String, AwsError> {
    let paths = built(
        Paths::builder()
            .quantity(paths.len() as i32)
            .set_items(Some(paths.to_vec()))
            .build(),
    )?;
    let batch = built(
        InvalidationBatch::builder()
            .paths(paths)
            .caller_reference(reference)
            .build(),
    )?;
    let out = c
        .cloudfront
        .create_invalidation()
        .distribution_id(distribution)
        .invalidation_batch(batch)
        .send()
        .await
        .map_err(|e| fail::call("cloudfront:CreateInvalidation", e.into_service_error()))?;
    Ok(out
        .invalidation()
        .map(|i| i.id().to_owned())
        .unwrap_or_default())
}

#[cfg(test)]
mod tests;
