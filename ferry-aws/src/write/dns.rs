//! The domain's alias records in Route 53: upserted to the stage's
//! distribution by a deploy, deleted by `destroy`.

use aws_sdk_route53::types::{
    AliasTarget, Change, ChangeAction, ChangeBatch, ResourceRecordSet, RrType,
};
use ferry::deploy::front::{ALIAS_TYPES, CLOUDFRONT_ZONE_ID};

use crate::sdk::clients::Clients;
use crate::sdk::fail::{self, AwsError};
use crate::write::front_config::built;

/// UPSERTs the domain's A and AAAA alias records to `target`.
pub async fn upsert_alias(
    c: &Clients,
    zone: &str,
    domain: &str,
    target: &str,
) -> Result<(), AwsError> {
    change_alias(
        c,
        (zone, domain, target),
        ChangeAction::Upsert,
        &ALIAS_TYPES,
    )
    .await
}

/// DELETEs the domain's alias records of `types` to `target`; a record
/// that is already gone (a retry after a lost answer) is not an error.
pub async fn delete_alias(
    c: &Clients,
    zone: &str,
    domain: &str,
    target: &str,
    types: &[&str],
) -> Result<(), AwsError> {
    change_alias(c, (zone, domain, target), ChangeAction::Delete, types).await
}

async fn change_alias(
    c: &Clients,
    (zone, domain, target): (&str, &str, &str),
    action: ChangeAction,
    types: &[&str],
) -> Result<(), AwsError> {
    let mut batch = ChangeBatch::builder().comment("ferry: alias to CloudFront");
    for ty in types {
        let alias = built(
            AliasTarget::builder()
                .hosted_zone_id(CLOUDFRONT_ZONE_ID)
                .dns_name(target)
                .evaluate_target_health(false)
                .build(),
        )?;
        let record = built(
            ResourceRecordSet::builder()
                .name(domain)
                .r#type(RrType::from(*ty))
                .alias_target(alias)
                .build(),
        )?;
        let change = built(
            Change::builder()
                .action(action.clone())
                .resource_record_set(record)
                .build(),
        )?;
        batch = batch.changes(change);
    }
    let batch = built(batch.build())?;
    let out = c
        .route53
        .change_resource_record_sets()
        .hosted_zone_id(zone)
        .change_batch(batch)
        .send()
        .await;
    match out {
        Ok(_) => Ok(()),
        Err(e)
            if action == ChangeAction::Delete
                && e.as_service_error().is_some_and(|e| {
                    e.is_invalid_change_batch() && e.to_string().contains("not found")
                }) =>
        {
            Ok(())
        }
        Err(e) => Err(fail::call(
            "route53:ChangeResourceRecordSets",
            e.into_service_error(),
        )),
    }
}
