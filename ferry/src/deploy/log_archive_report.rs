//! The log archive as people see it: its actions as lines of the plan, and
//! what `doctor` finds wrong with it. Pure.

use super::action::Action;
use super::log_archive::FILTER_NAME;
use super::roles::policy_problem;
use super::state::{Desired, Live};

/// What `doctor` finds wrong with the archive (empty: it holds).
pub fn problems(desired: &Desired, live: &Live) -> Vec<String> {
    let Some(archive) = &desired.log_archive else {
        return Vec::new();
    };
    let current = live.log_archive.clone().unwrap_or_default();
    let mut out = Vec::new();
    if !current.bucket_exists {
        out.push(format!(
            "bucket {} does not exist ({})",
            archive.bucket,
            archive.origin.place()
        ));
    }
    let wanted = archive.destination(&live.account_id);
    match &current.stream {
        None => out.push(format!("delivery stream {} does not exist", archive.stream)),
        Some(s) if s.status != "ACTIVE" => out.push(format!(
            "delivery stream {} is {}, not ACTIVE",
            archive.stream, s.status
        )),
        Some(s) if s.destination.as_ref() != Some(&wanted) => out.push(format!(
            "delivery stream {} delivers to {}, not s3://{}/{}",
            archive.stream,
            s.destination
                .as_ref()
                .map(|d| format!("{}/{}", d.bucket_arn, d.prefix))
                .unwrap_or_else(|| "a destination other than S3".into()),
            archive.bucket,
            archive.prefix
        )),
        Some(_) => {}
    }
    let (region, account) = (desired.region.as_str(), live.account_id.as_str());
    let roles = [
        (&archive.delivery_role, archive.delivery_statements()),
        (
            &archive.subscribe_role,
            archive.subscribe_statements(region, account),
        ),
    ];
    for (name, wanted) in roles {
        match current.roles.get(name) {
            None => out.push(format!("role {name} does not exist")),
            Some(role) => out.extend(policy_problem(name, role, &wanted)),
        }
    }
    let stream_arn = archive.stream_arn(&desired.region, &live.account_id);
    for group in &archive.groups {
        match current.filters.get(group) {
            None => out.push(format!("log group {group} has no {FILTER_NAME} filter")),
            Some(f) if f.destination_arn != stream_arn => out.push(format!(
                "log group {group} is subscribed to {}, not the archive's stream",
                f.destination_arn
            )),
            Some(_) => {}
        }
    }
    out
}

/// An archive action as a line of the plan.
pub fn line(action: &Action) -> String {
    match action {
        Action::CreateLogBucket { bucket, region, .. } => format!(
            "  + create   log bucket {bucket} in {region} (encrypted, public access blocked)"
        ),
        Action::CreateDeliveryStream {
            name, destination, ..
        } => format!(
            "  + create   delivery stream {name} -> {}/{} (gzip, by UTC date and hour)",
            s3_url(&destination.bucket_arn),
            destination.prefix
        ),
        Action::UpdateDeliveryStream { name, from, to, .. } => {
            let from = from
                .as_ref()
                .map(|d| format!("{}/{}", s3_url(&d.bucket_arn), d.prefix))
                .unwrap_or_else(|| "another destination".into());
            format!(
                "  ~ update   delivery stream {name}: {from} -> {}/{}",
                s3_url(&to.bucket_arn),
                to.prefix
            )
        }
        Action::PutSubscriptionFilter {
            log_group,
            destination_arn,
            ..
        } => format!(
            "  + put      subscription filter {FILTER_NAME} on {log_group} -> {}",
            destination_arn
                .rsplit('/')
                .next()
                .unwrap_or(destination_arn)
        ),
        Action::DeleteSubscriptionFilter { log_group, filter } => {
            format!("  - delete   subscription filter {filter} on {log_group}")
        }
        Action::DeleteDeliveryStream { name } => {
            format!("  - delete   delivery stream {name} (the archived logs stay)")
        }
        _ => String::new(),
    }
}

fn s3_url(bucket_arn: &str) -> String {
    format!("s3://{}", bucket_arn.trim_start_matches("arn:aws:s3:::"))
}
