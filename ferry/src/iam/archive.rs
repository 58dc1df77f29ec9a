//! The log archive's part of `cargo xtask iam`: the stream and filter
//! reads every deploy makes (a dropped archive is taken down), and the
//! writes of a declared one.

use super::Builder;
use crate::model::stage_api::AccessLog;
use crate::model::Stage;

/// The log archive: every deploy reads whether its stream exists (and
/// takes down one deploy.toml dropped); a declared one is created and fed.
pub(super) fn log_archive(
    stage: &Stage,
    (app, region, account): (&str, &str, &str),
    (read, write): (&mut Builder, &mut Builder),
) {
    let name = stage.name.as_str();
    let stream = crate::deploy::log_archive::stream_arn(
        region,
        account,
        &crate::deploy::log_archive::stream_name(app, name),
    );
    // A log group's ARN, bare and with `:*`, as in the stage's policies.
    let adopted = stage
        .overrides
        .values()
        .filter_map(|o| o.function_name.as_deref())
        .map(|f| format!("/aws/lambda/{f}"));
    let groups: Vec<String> = [
        format!("/aws/lambda/{app}-{name}-*"),
        AccessLog::group(&stage.api.name, name),
    ]
    .into_iter()
    .chain(adopted)
    .flat_map(|g| {
        let arn = format!("arn:aws:logs:{region}:{account}:log-group:{g}");
        [format!("{arn}:*"), arn]
    })
    .collect();
    read.allow(&["firehose:DescribeDeliveryStream"], [stream.clone()]);
    read.allow(&["logs:DescribeSubscriptionFilters"], groups.clone());
    write.allow(&["firehose:DeleteDeliveryStream"], [stream.clone()]);
    write.allow(&["logs:DeleteSubscriptionFilter"], groups.clone());
    let Some(archive) = &stage.log_archive else {
        return;
    };
    write.allow(
        &[
            "firehose:CreateDeliveryStream",
            "firehose:TagDeliveryStream",
            "firehose:UpdateDestination",
        ],
        [stream],
    );
    write.allow(&["logs:PutSubscriptionFilter"], groups);
    let bucket = format!("arn:aws:s3:::{}", archive.bucket.bucket);
    read.allow(&["s3:GetBucketLocation", "s3:ListBucket"], [bucket.clone()]);
    if archive.bucket.create {
        write.allow(super::BUCKET_CREATE, [bucket]);
    }
}
