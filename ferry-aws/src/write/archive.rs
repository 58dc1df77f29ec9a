//! Writes of the log archive: the Firehose delivery stream (created and
//! waited for until ACTIVE, its S3 destination updated, deleted) and the
//! subscription filters that feed it. Each is safe to repeat: a create
//! meets its own stream, a filter put is an upsert by name, and deleting
//! what is gone is done.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_firehose::types::{
    CompressionFormat, DeliveryStreamStatus, DeliveryStreamType,
    ExtendedS3DestinationConfiguration, ExtendedS3DestinationUpdate, ProcessingConfiguration,
    Processor, ProcessorParameter, ProcessorParameterName, ProcessorType, Tag,
};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use ferry::deploy::log_archive::StreamDestination;

use crate::read::archive::describe;
use crate::sdk::clients::Clients;
use crate::sdk::fail::{self, AwsError};

/// Attempts while a role made a moment ago propagates to Firehose or
/// CloudWatch Logs, or the stream finishes creating (3 s apart).
const ROLE_TRIES: u32 = 10;
const FILTER_TRIES: u32 = 40;

/// Polls, 2 s apart, for a new stream to become ACTIVE (AWS takes seconds
/// to a minute or two).
const ACTIVE_POLLS: u32 = 150;

/// Creates the stream and returns once it is ACTIVE.
pub async fn create_stream(
    c: &Clients,
    name: &str,
    destination: &StreamDestination,
    tags: &BTreeMap<String, String>,
) -> Result<(), AwsError> {
    let config = ExtendedS3DestinationConfiguration::builder()
        .role_arn(&destination.role_arn)
        .bucket_arn(&destination.bucket_arn)
        .prefix(&destination.prefix)
        .error_output_prefix(&destination.error_prefix)
        .compression_format(CompressionFormat::from(destination.compression.as_str()))
        .processing_configuration(processing(destination)?)
        .build()
        .map_err(|e| fail::unbuilt("firehose:CreateDeliveryStream", e))?;
    let tags: Vec<Tag> = tags
        .iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect::<Result<_, _>>()
        .map_err(|e| fail::unbuilt("firehose:CreateDeliveryStream", e))?;
    let mut attempt = 1;
    loop {
        let sent = c
            .firehose
            .create_delivery_stream()
            .delivery_stream_name(name)
            .delivery_stream_type(DeliveryStreamType::DirectPut)
            .extended_s3_destination_configuration(config.clone())
            .set_tags((!tags.is_empty()).then(|| tags.clone()))
            .send()
            .await;
        let err = match sent {
            Ok(_) => break,
            Err(e) => e.into_service_error(),
        };
        // A retry whose first attempt landed; or a stream still being
        // deleted, or one that failed to create (deleted here): wait until
        // it is gone, then create it.
        if err.is_resource_in_use_exception() {
            if !clear_way(c, name).await? {
                break;
            }
            continue;
        }
        let role_not_ready = err.code() == Some("InvalidArgumentException")
            && err.message().is_some_and(|m| m.contains("role"));
        if !role_not_ready || attempt == ROLE_TRIES {
            return Err(fail::call("firehose:CreateDeliveryStream", err));
        }
        tokio::time::sleep(Duration::from_secs(3)).await;
        attempt += 1;
    }
    wait_active(c, name).await
}

/// Deletes the stream `name` if it failed to create and waits while it is
/// DELETING: `true` once it is gone, `false` if it is there and usable
/// (CREATING or ACTIVE).
async fn clear_way(c: &Clients, name: &str) -> Result<bool, AwsError> {
    for _ in 0..ACTIVE_POLLS {
        let Some(d) = describe(c, name).await? else {
            return Ok(true);
        };
        let status = Some(d.delivery_stream_status().clone());
        match status {
            Some(DeliveryStreamStatus::Deleting) => {}
            Some(DeliveryStreamStatus::CreatingFailed) => delete_stream(c, name).await?,
            _ => return Ok(false),
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    Err(AwsError::Timeout {
        what: format!("deleting the delivery stream {name}"),
        seconds: u64::from(ACTIVE_POLLS) * 2,
        status: "DELETING".into(),
    })
}

/// CloudWatch Logs subscribes only to an ACTIVE stream.
async fn wait_active(c: &Clients, name: &str) -> Result<(), AwsError> {
    let mut status = String::from("unknown");
    for _ in 0..ACTIVE_POLLS {
        let described = describe(c, name).await?;
        let d = described.as_ref();
        let now = d.map(|d| d.delivery_stream_status().clone());
        match now {
            Some(DeliveryStreamStatus::Active) => return Ok(()),
            Some(DeliveryStreamStatus::CreatingFailed) => {
                let why = d
                    .and_then(|d| d.failure_description())
                    .map(|f| format!("{}: {}", f.r#type().as_str(), f.details()))
                    .unwrap_or_default();
                return Err(AwsError::Call {
                    call: "firehose:CreateDeliveryStream",
                    message: format!("the delivery stream {name} failed to create: {why}"),
                    help: "check that the bucket is in the stage's region and the role may write it, then deploy again: ferry deletes the failed stream and makes it again".into(),
                });
            }
            Some(s) => status = s.as_str().to_owned(),
            // Not readable yet a moment after its create.
            None => status = "not found".into(),
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    Err(AwsError::Timeout {
        what: format!("delivery stream {name}"),
        seconds: u64::from(ACTIVE_POLLS) * 2,
        status,
    })
}

/// Points the stream's destination at `to`; `version_id` is the version
/// the plan read, so a stream changed since is refused, not overwritten.
pub async fn update_stream(
    c: &Clients,
    name: &str,
    (version_id, destination_id): (&str, &str),
    to: &StreamDestination,
) -> Result<(), AwsError> {
    let update = ExtendedS3DestinationUpdate::builder()
        .role_arn(&to.role_arn)
        .bucket_arn(&to.bucket_arn)
        .prefix(&to.prefix)
        .error_output_prefix(&to.error_prefix)
        .compression_format(CompressionFormat::from(to.compression.as_str()))
        .processing_configuration(processing(to)?)
        .build();
    c.firehose
        .update_destination()
        .delivery_stream_name(name)
        .current_delivery_stream_version_id(version_id)
        .destination_id(destination_id)
        .extended_s3_destination_update(update)
        .send()
        .await
        .map_err(|e| fail::call("firehose:UpdateDestination", e.into_service_error()))?;
    Ok(())
}

pub async fn delete_stream(c: &Clients, name: &str) -> Result<(), AwsError> {
    let out = c
        .firehose
        .delete_delivery_stream()
        .delivery_stream_name(name)
        .send()
        .await;
    fail::deleted(
        "firehose:DeleteDeliveryStream",
        out,
        "ResourceNotFoundException",
    )
}

/// Subscribes `group` to the stream: every event, with CloudWatch Logs'
/// role. CloudWatch Logs sends a test record first, which fails while the
/// role propagates or the stream is still CREATING: that answer is retried
/// for up to two minutes.
pub async fn put_filter(
    c: &Clients,
    (group, filter): (&str, &str),
    destination_arn: &str,
    role_arn: &str,
) -> Result<(), AwsError> {
    let mut attempt = 1;
    loop {
        let sent = c
            .logs
            .put_subscription_filter()
            .log_group_name(group)
            .filter_name(filter)
            .filter_pattern("")
            .destination_arn(destination_arn)
            .role_arn(role_arn)
            .send()
            .await;
        let err = match sent {
            Ok(_) => return Ok(()),
            Err(e) => e.into_service_error(),
        };
        let not_ready = err.code() == Some("InvalidParameterException")
            && err
                .message()
                .is_some_and(|m| m.contains("test message") || m.contains("assume"));
        if !not_ready || attempt == FILTER_TRIES {
            return Err(fail::call("logs:PutSubscriptionFilter", err));
        }
        tokio::time::sleep(Duration::from_secs(3)).await;
        attempt += 1;
    }
}

pub async fn delete_filter(c: &Clients, group: &str, filter: &str) -> Result<(), AwsError> {
    let out = c
        .logs
        .delete_subscription_filter()
        .log_group_name(group)
        .filter_name(filter)
        .send()
        .await;
    fail::deleted(
        "logs:DeleteSubscriptionFilter",
        out,
        "ResourceNotFoundException",
    )
}

/// Firehose unpacks CloudWatch Logs' gzipped envelopes and keeps only the
/// log messages, which the destination then compresses again.
fn processing(d: &StreamDestination) -> Result<ProcessingConfiguration, AwsError> {
    let processor = |ty: ProcessorType, name: ProcessorParameterName, value: &str| {
        let param = ProcessorParameter::builder()
            .parameter_name(name)
            .parameter_value(value)
            .build()
            .map_err(|e| fail::unbuilt("firehose:CreateDeliveryStream", e))?;
        Processor::builder()
            .r#type(ty)
            .parameters(param)
            .build()
            .map_err(|e| fail::unbuilt("firehose:CreateDeliveryStream", e))
    };
    let mut config = ProcessingConfiguration::builder().enabled(d.extract_messages);
    if d.extract_messages {
        config = config
            .processors(processor(
                ProcessorType::Decompression,
                ProcessorParameterName::CompressionFormat,
                "GZIP",
            )?)
            .processors(processor(
                ProcessorType::CloudWatchLogProcessing,
                ProcessorParameterName::DataMessageExtraction,
                "true",
            )?);
    }
    Ok(config.build())
}
