//! The stage's log archive, read: its delivery stream (status, version and
//! S3 destination), ferry's subscription filter on each of the stage's log
//! groups, the archive's two roles, and whether its bucket exists (checked
//! like the artifact bucket: the account's, in the stage's region). Read
//! when deploy.toml declares an archive or its stream exists, so that one
//! dropped from deploy.toml is taken down; otherwise one read.

use std::collections::BTreeMap;

use aws_sdk_firehose::types::{DeliveryStreamDescription, ProcessorParameterName, ProcessorType};
use ferry::deploy::log_archive::{
    role_names, stream_name, LiveArchive, LiveFilter, LiveStream, StreamDestination, FILTER_NAME,
};
use ferry::deploy::roles::role_path;
use ferry::deploy::state::Desired;
use ferry::model::stage_api::AccessLog;
use futures::{stream as tasks, StreamExt};

use crate::sdk::clients::Clients;
use crate::sdk::fail::{self, AwsError};

/// DescribeSubscriptionFilters calls in flight at once (CloudWatch Logs
/// allows 5 a second of it).
const READS_AT_ONCE: usize = 4;

/// The archive of `desired`'s stage, reading filters on `groups` (the
/// stage's log groups as they are) and the ones it subscribes.
pub async fn read(
    c: &Clients,
    desired: &Desired,
    groups: impl IntoIterator<Item = String>,
    account: &str,
) -> Result<Option<LiveArchive>, AwsError> {
    let name = stream_name(&desired.app, &desired.stage);
    let stream = stream(c, &name).await?;
    if desired.log_archive.is_none() && stream.is_none() {
        return Ok(None);
    }
    let bucket_exists = match &desired.log_archive {
        Some(a) => {
            let store = ferry::model::store::ArtifactStore {
                bucket: a.bucket.clone(),
                create: a.create,
                origin: a.origin.clone(),
            };
            crate::read::store::check(c, &store, &desired.region, account).await?
        }
        None => false,
    };
    let mut all: Vec<String> = groups.into_iter().collect();
    // The access log's group, whether or not the stage keeps one now: a
    // filter left from when it did is taken down.
    all.push(AccessLog::group(&desired.api.name, &desired.stage));
    if let Some(a) = &desired.log_archive {
        all.extend(a.groups.iter().cloned());
    }
    all.sort();
    all.dedup();
    let (filters, full) = filters(c, &all).await?;
    if let Some(a) = &desired.log_archive {
        if let Some((group, others)) = full.iter().find(|(g, _)| a.groups.contains(*g)) {
            return Err(AwsError::Call {
                call: "logs:PutSubscriptionFilter",
                message: format!(
                    "log group {group} has two subscription filters already ({}); CloudWatch Logs allows two, so the log archive cannot subscribe it",
                    others.join(", ")
                ),
                help: format!("delete one (`aws logs delete-subscription-filter --log-group-name {group} --filter-name NAME`), or drop `log-archive` from the stage"),
            });
        }
    }
    let mut roles = BTreeMap::new();
    let (delivery, subscribe) = role_names(&desired.app, &desired.stage);
    let path = role_path(&desired.app, &desired.stage);
    for role in [delivery, subscribe] {
        if let Some(live) = crate::read::iam::service_role(c, &role, &path).await? {
            roles.insert(role, live);
        }
    }
    Ok(Some(LiveArchive {
        bucket_exists,
        stream,
        filters,
        roles,
    }))
}

/// Firehose's description of the stream `name`, if it exists.
pub async fn describe(
    c: &Clients,
    name: &str,
) -> Result<Option<DeliveryStreamDescription>, AwsError> {
    let out = c
        .firehose
        .describe_delivery_stream()
        .delivery_stream_name(name)
        .send()
        .await;
    match out {
        Ok(out) => Ok(out.delivery_stream_description().cloned()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception()) =>
        {
            Ok(None)
        }
        Err(e) => Err(fail::call(
            "firehose:DescribeDeliveryStream",
            e.into_service_error(),
        )),
    }
}

/// The delivery stream `name`, if it exists.
pub async fn stream(c: &Clients, name: &str) -> Result<Option<LiveStream>, AwsError> {
    let Some(d) = describe(c, name).await? else {
        return Ok(None);
    };
    let first = d.destinations().first();
    let destination = first
        .and_then(|f| f.extended_s3_destination_description())
        .map(|s3| {
            let processing = s3.processing_configuration();
            let enabled = processing.and_then(|p| p.enabled()).unwrap_or(false);
            let has = |ty: ProcessorType, param: ProcessorParameterName, value: &str| {
                processing.is_some_and(|p| {
                    p.processors().iter().any(|proc| {
                        proc.r#type() == &ty
                            && proc.parameters().iter().any(|x| {
                                x.parameter_name() == &param && x.parameter_value() == value
                            })
                    })
                })
            };
            StreamDestination {
                bucket_arn: s3.bucket_arn().to_owned(),
                role_arn: s3.role_arn().to_owned(),
                prefix: s3.prefix().unwrap_or_default().to_owned(),
                error_prefix: s3.error_output_prefix().unwrap_or_default().to_owned(),
                compression: s3.compression_format().as_str().to_owned(),
                extract_messages: enabled
                    && has(
                        ProcessorType::Decompression,
                        ProcessorParameterName::CompressionFormat,
                        "GZIP",
                    )
                    && has(
                        ProcessorType::CloudWatchLogProcessing,
                        ProcessorParameterName::DataMessageExtraction,
                        "true",
                    ),
            }
        });
    Ok(Some(LiveStream {
        status: d.delivery_stream_status().as_str().to_owned(),
        version_id: d.version_id().to_owned(),
        destination_id: first
            .map(|f| f.destination_id().to_owned())
            .unwrap_or_default(),
        destination,
    }))
}

/// The groups of `groups` that have a subscription filter of ferry's name
/// (a group that does not exist has none), and those that have no room for
/// it: two other filters, CloudWatch Logs' limit.
type Filters = (BTreeMap<String, LiveFilter>, BTreeMap<String, Vec<String>>);

pub async fn filters(c: &Clients, groups: &[String]) -> Result<Filters, AwsError> {
    let found: Vec<Result<GroupFilters, AwsError>> = tasks::iter(groups)
        .map(|g| filter(c, g))
        .buffer_unordered(READS_AT_ONCE)
        .collect()
        .await;
    let (mut ours, mut full) = (BTreeMap::new(), BTreeMap::new());
    for f in found {
        let (group, filter, others) = f?;
        match filter {
            Some(filter) => {
                ours.insert(group, filter);
            }
            None if others.len() >= 2 => {
                full.insert(group, others);
            }
            None => {}
        }
    }
    Ok((ours, full))
}

/// The groups of `groups` whose ferry filter sends to `stream_arn`, the
/// stage's stream (for `destroy`; another stage's filters stay).
pub async fn filtered_groups(
    c: &Clients,
    groups: &[String],
    stream_arn: &str,
) -> Result<Vec<String>, AwsError> {
    let (ours, _) = filters(c, groups).await?;
    Ok(ours
        .into_iter()
        .filter(|(_, f)| f.destination_arn == stream_arn)
        .map(|(g, _)| g)
        .collect())
}

/// One group: ferry's filter on it, and the names of the others.
type GroupFilters = (String, Option<LiveFilter>, Vec<String>);

async fn filter(c: &Clients, group: &str) -> Result<GroupFilters, AwsError> {
    // At most two filters a group: one page.
    let out = c
        .logs
        .describe_subscription_filters()
        .log_group_name(group)
        .send()
        .await;
    let out = match out {
        Ok(out) => out,
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception()) =>
        {
            return Ok((group.to_owned(), None, Vec::new()))
        }
        Err(e) => {
            return Err(fail::call(
                "logs:DescribeSubscriptionFilters",
                e.into_service_error(),
            ))
        }
    };
    let filters = out.subscription_filters();
    let ours = filters
        .iter()
        .find(|f| f.filter_name() == Some(FILTER_NAME))
        .map(|f| LiveFilter {
            destination_arn: f.destination_arn().unwrap_or_default().to_owned(),
            role_arn: f.role_arn().map(str::to_owned),
            pattern: f.filter_pattern().unwrap_or_default().to_owned(),
        });
    let others = filters
        .iter()
        .filter_map(|f| f.filter_name())
        .filter(|n| *n != FILTER_NAME)
        .map(str::to_owned)
        .collect();
    Ok((group.to_owned(), ours, others))
}
