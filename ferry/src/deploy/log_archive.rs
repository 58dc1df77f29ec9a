//! A stage's log archive in a plan: one Firehose delivery stream that
//! writes to the archive bucket (gzipped log lines under the prefix,
//! partitioned by UTC date and hour), two roles (Firehose's, to write the
//! bucket; CloudWatch Logs', to feed the stream), and a subscription filter
//! on each of the stage's log groups. Planned like every resource: created,
//! repaired when it drifts, left alone when in place, removed when
//! deploy.toml drops the archive. Pure: the live side comes in
//! [`LiveArchive`].

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::action::Action;
use super::roles::{
    capped_name, inline_policy, policy_update, role_path, LiveRole, Statement, PERMISSIONS_POLICY,
};
use super::state::{Desired, Live};
use crate::model::store::StoreOrigin;
use crate::model::Stage;

/// The name of ferry's subscription filter on each archived log group.
pub const FILTER_NAME: &str = "ferry-log-archive";

/// What the archive of a stage is made of.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DesiredArchive {
    pub bucket: String,
    /// Create the bucket when it does not exist.
    pub create: bool,
    pub origin: StoreOrigin,
    pub stream: String,
    pub prefix: String,
    pub error_prefix: String,
    /// The role Firehose writes the bucket with.
    pub delivery_role: String,
    /// The role CloudWatch Logs puts records into the stream with.
    pub subscribe_role: String,
    pub role_path: String,
    /// The log groups subscribed: each function's and the access log's.
    pub groups: BTreeSet<String>,
}

/// Where the stream delivers, as ferry sends it and reads it back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamDestination {
    pub bucket_arn: String,
    pub role_arn: String,
    pub prefix: String,
    pub error_prefix: String,
    /// The objects' compression (ferry: `GZIP`).
    pub compression: String,
    /// Firehose unpacks CloudWatch Logs' gzipped envelopes and keeps the
    /// log messages, one a line, before compressing them again.
    pub extract_messages: bool,
}

/// The stream as it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveStream {
    pub status: String,
    /// UpdateDestination's concurrency token and the destination's id.
    pub version_id: String,
    pub destination_id: String,
    /// `None`: it delivers somewhere other than S3.
    pub destination: Option<StreamDestination>,
}

/// ferry's subscription filter on one log group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveFilter {
    pub destination_arn: String,
    pub role_arn: Option<String>,
    pub pattern: String,
}

/// What AWS holds of a stage's archive, read when deploy.toml declares one
/// or the stream exists.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LiveArchive {
    pub bucket_exists: bool,
    pub stream: Option<LiveStream>,
    /// Log group -> ferry's filter on it (groups with one only).
    pub filters: BTreeMap<String, LiveFilter>,
    /// The archive's roles that exist, by name.
    pub roles: BTreeMap<String, LiveRole>,
}

/// Firehose's states of a stream ferry acts on.
pub const DELETING: &str = "DELETING";
pub const CREATING_FAILED: &str = "CREATING_FAILED";

/// The groups whose ferry filter sends to `stream_arn`: a filter of the
/// same name on a group of another stage (whose name this stage's prefix
/// may match, `prod` and `prod-eu`) is that stage's.
fn ours<'a>(current: &'a LiveArchive, stream_arn: &'a str) -> impl Iterator<Item = &'a String> {
    current
        .filters
        .iter()
        .filter(move |(_, f)| f.destination_arn == stream_arn)
        .map(|(g, _)| g)
}

/// The delivery stream of a stage's archive (Firehose: 64 characters).
pub fn stream_name(app: &str, stage: &str) -> String {
    capped_name(format!("{app}-{stage}-logs"), 64)
}

/// The ARN of the delivery stream `name`.
pub fn stream_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:firehose:{region}:{account}:deliverystream/{name}")
}

/// The archive's two roles: Firehose's, then CloudWatch Logs'.
pub fn role_names(app: &str, stage: &str) -> (String, String) {
    (
        capped_name(format!("{app}-{stage}-logs-firehose"), 64),
        capped_name(format!("{app}-{stage}-logs-subscribe"), 64),
    )
}

/// The archive of `stage`, subscribing `groups`.
pub fn desired(stage: &Stage, app: &str, groups: BTreeSet<String>) -> Option<DesiredArchive> {
    let archive = stage.log_archive.as_ref()?;
    let (delivery_role, subscribe_role) = role_names(app, &stage.name);
    Some(DesiredArchive {
        bucket: archive.bucket.bucket.clone(),
        create: archive.bucket.create,
        origin: archive.bucket.origin.clone(),
        stream: stream_name(app, &stage.name),
        error_prefix: format!("{}-failed/", archive.prefix.trim_end_matches('/')),
        prefix: archive.prefix.clone(),
        delivery_role,
        subscribe_role,
        role_path: role_path(app, &stage.name),
        groups,
    })
}

impl DesiredArchive {
    fn role_arn(&self, account: &str, name: &str) -> String {
        format!("arn:aws:iam::{account}:role{}{name}", self.role_path)
    }

    pub fn stream_arn(&self, region: &str, account: &str) -> String {
        stream_arn(region, account, &self.stream)
    }

    /// Where the stream should deliver.
    pub fn destination(&self, account: &str) -> StreamDestination {
        StreamDestination {
            bucket_arn: format!("arn:aws:s3:::{}", self.bucket),
            role_arn: self.role_arn(account, &self.delivery_role),
            prefix: self.prefix.clone(),
            error_prefix: self.error_prefix.clone(),
            compression: "GZIP".into(),
            extract_messages: true,
        }
    }

    /// Firehose's statements: the bucket, and objects under the prefixes.
    pub fn delivery_statements(&self) -> Vec<Statement> {
        let bucket = format!("arn:aws:s3:::{}", self.bucket);
        let set = |items: &[&str]| items.iter().map(|s| s.to_string()).collect();
        let mut out = vec![
            Statement {
                effect: "Allow".into(),
                actions: set(&[
                    "s3:GetBucketLocation",
                    "s3:ListBucket",
                    "s3:ListBucketMultipartUploads",
                ]),
                resources: set(&[&bucket]),
            },
            Statement {
                effect: "Allow".into(),
                actions: set(&["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"]),
                resources: set(&[
                    &format!("{bucket}/{}*", self.prefix),
                    &format!("{bucket}/{}*", self.error_prefix),
                ]),
            },
        ];
        out.sort();
        out
    }

    /// CloudWatch Logs' statement: records into the stream.
    pub fn subscribe_statements(&self, region: &str, account: &str) -> Vec<Statement> {
        vec![Statement {
            effect: "Allow".into(),
            actions: ["firehose:PutRecord", "firehose:PutRecordBatch"]
                .map(String::from)
                .into(),
            resources: BTreeSet::from([self.stream_arn(region, account)]),
        }]
    }
}

/// Firehose may assume its role only for this account's streams.
fn delivery_trust(account: &str) -> String {
    serde_json::json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow",
        "Principal": {"Service": "firehose.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"sts:ExternalId": account}}
    }]})
    .to_string()
}

/// CloudWatch Logs may assume its role only for this account's log groups
/// in the region.
fn subscribe_trust(region: &str, account: &str) -> String {
    serde_json::json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow",
        "Principal": {"Service": "logs.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": {"StringLike": {"aws:SourceArn": format!("arn:aws:logs:{region}:{account}:*")}}
    }]})
    .to_string()
}

/// The writes that bring the archive to what `desired` declares, or take
/// away what ferry made for one deploy.toml no longer declares.
pub fn actions(
    desired: &Desired,
    live: &Live,
    actions: &mut Vec<Action>,
    unchanged: &mut Vec<String>,
) {
    let current = live.log_archive.clone().unwrap_or_default();
    let Some(archive) = &desired.log_archive else {
        removal(desired, live, &current, actions);
        return;
    };
    let (region, account) = (desired.region.as_str(), live.account_id.as_str());
    let before = actions.len();
    // `store::route` creates the artifact bucket (first, later in planning).
    let artifact_bucket_created = desired
        .store
        .as_ref()
        .is_some_and(|s| s.bucket == archive.bucket && s.create)
        && !live.store.as_ref().is_some_and(|l| l.exists);
    if !current.bucket_exists && archive.create && !artifact_bucket_created {
        actions.push(Action::CreateLogBucket {
            bucket: archive.bucket.clone(),
            region: region.to_owned(),
            tags: desired.tags.clone(),
        });
    }
    let roles = [
        (
            &archive.delivery_role,
            delivery_trust(account),
            archive.delivery_statements(),
            "Firehose's role to write",
        ),
        (
            &archive.subscribe_role,
            subscribe_trust(region, account),
            archive.subscribe_statements(region, account),
            "CloudWatch Logs' role to feed",
        ),
    ];
    for (name, trust, wanted, what) in roles {
        role(
            archive,
            (name, trust, wanted, what),
            desired,
            &current,
            actions,
        );
    }
    let destination = archive.destination(account);
    let create = Action::CreateDeliveryStream {
        name: archive.stream.clone(),
        destination: destination.clone(),
        tags: desired.tags.clone(),
    };
    match &current.stream {
        // A stream still being deleted, or one that failed to create
        // (Firehose keeps it until it is deleted): the create deletes the
        // failed one and waits until the name is free.
        None => actions.push(create),
        Some(stream) if [DELETING, CREATING_FAILED].contains(&stream.status.as_str()) => {
            actions.push(create)
        }
        Some(stream) if stream.destination.as_ref() != Some(&destination) => {
            actions.push(Action::UpdateDeliveryStream {
                name: archive.stream.clone(),
                version_id: stream.version_id.clone(),
                destination_id: stream.destination_id.clone(),
                from: stream.destination.clone(),
                to: destination,
            })
        }
        Some(_) => {}
    }
    let stream_arn = archive.stream_arn(region, account);
    let role_arn = archive.role_arn(account, &archive.subscribe_role);
    for group in &archive.groups {
        let wanted = LiveFilter {
            destination_arn: stream_arn.clone(),
            role_arn: Some(role_arn.clone()),
            pattern: String::new(),
        };
        if current.filters.get(group) != Some(&wanted) {
            actions.push(Action::PutSubscriptionFilter {
                log_group: group.clone(),
                filter: FILTER_NAME.to_owned(),
                destination_arn: stream_arn.clone(),
                role_arn: role_arn.clone(),
            });
        }
    }
    for group in ours(&current, &stream_arn).filter(|g| !archive.groups.contains(*g)) {
        actions.push(Action::DeleteSubscriptionFilter {
            log_group: group.clone(),
            filter: FILTER_NAME.to_owned(),
        });
    }
    if actions.len() == before {
        unchanged.push(format!(
            "log archive {} -> s3://{}/{} ({} log groups)",
            archive.stream,
            archive.bucket,
            archive.prefix,
            archive.groups.len()
        ));
    }
}

/// One of the archive's roles: created with its statements, or its policy
/// put back when it differs.
fn role(
    archive: &DesiredArchive,
    (name, trust, wanted, what): (&String, String, Vec<Statement>, &str),
    desired: &Desired,
    current: &LiveArchive,
    actions: &mut Vec<Action>,
) {
    let Some(live) = current.roles.get(name) else {
        actions.push(Action::CreateRole {
            name: name.clone(),
            description: format!(
                "{what} the log archive of {} stage {}, managed by ferry",
                desired.app, desired.stage
            ),
            trust_policy: trust,
            policies: Vec::new(),
            path: Some(archive.role_path.clone()),
            inline: Some(inline_policy(&wanted)),
        });
        return;
    };
    actions.extend(policy_update(name, live, &wanted));
}

/// What ferry made for an archive deploy.toml dropped: the filters first
/// (they name the stream), then the roles, then the stream, whose being
/// there is what makes the next deploy read the rest: a removal cut short
/// is finished by the next one. The bucket and the logs in it stay.
fn removal(desired: &Desired, live: &Live, current: &LiveArchive, actions: &mut Vec<Action>) {
    let (app, stage) = (desired.app.as_str(), desired.stage.as_str());
    let stream_arn = stream_arn(&desired.region, &live.account_id, &stream_name(app, stage));
    for group in ours(current, &stream_arn) {
        actions.push(Action::DeleteSubscriptionFilter {
            log_group: group.clone(),
            filter: FILTER_NAME.to_owned(),
        });
    }
    for (name, role) in &current.roles {
        actions.push(Action::DeleteRole {
            name: name.clone(),
            attached: role.attached.clone(),
            inline: role
                .permissions
                .as_ref()
                .map(|_| vec![PERMISSIONS_POLICY.to_owned()])
                .unwrap_or_default(),
        });
    }
    if current
        .stream
        .as_ref()
        .is_some_and(|s| s.status != DELETING)
    {
        actions.push(Action::DeleteDeliveryStream {
            name: stream_name(app, stage),
        });
    }
}
