//! One deploy of a stage at a time. The lock is a CloudWatch Logs log group,
//! `/ferry/lock/<app>/<stage>`: creating it is atomic (a second creator gets
//! `ResourceAlreadyExistsException`), it costs nothing while empty, and the
//! tag it is created with names the holder. A deploy that crashes cannot hold
//! it forever: the next deploy breaks a lock older than [`STALE_AFTER`], or at
//! once one whose holder was a process of this host that no longer runs.
//! Only a deploy with something to write takes it, so a no-op writes nothing.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::sdk::clients::Clients;
use crate::sdk::fail::{self, AwsError};

/// Longer than any deploy (waiting for CloudFront happens after release).
pub const STALE_AFTER: Duration = Duration::from_secs(30 * 60);

/// A held lock; [`Lock::release`] gives it back.
pub struct Lock {
    name: String,
    /// Who held it before us, when this deploy had to wait.
    pub waited_for: Option<String>,
}

const HOLDER_TAG: &str = "ferry:holder";

fn host() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "a host".into())
}

/// Who is deploying: user, host, process and start time (a tag value).
fn holder() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("GITHUB_ACTOR"))
        .unwrap_or_else(|_| "someone".into());
    let host = host();
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let text = format!(
        "{user}@{host} pid {} since unix {since}",
        std::process::id()
    );
    // Tag values allow letters, digits, spaces and `_.:/=+-@`.
    text.chars()
        .map(|c| {
            if c.is_alphanumeric() || " _.:/=+-@".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// Whether `holder` was a process of this host that has exited.
fn holder_is_gone(holder: &str) -> bool {
    let Some((who, rest)) = holder.split_once(" pid ") else {
        return false;
    };
    let on_this_host = who.rsplit_once('@').is_some_and(|(_, h)| h == host());
    let pid = rest.split_whitespace().next().unwrap_or_default();
    on_this_host
        && pid.chars().all(|c| c.is_ascii_digit())
        && !std::path::Path::new("/proc").join(pid).exists()
}

pub fn name(app: &str, stage: &str) -> String {
    format!("/ferry/lock/{app}/{stage}")
}

/// Takes the lock of `app`/`stage`, waiting up to `wait` for another deploy.
pub async fn acquire(
    c: &Clients,
    app: &str,
    stage: &str,
    wait: Duration,
) -> Result<Lock, AwsError> {
    let name = name(app, stage);
    let me = holder();
    let started = Instant::now();
    let mut delay = Duration::from_millis(500);
    let mut waited_for = None;
    loop {
        let created = c
            .logs
            .create_log_group()
            .log_group_name(&name)
            .tags(HOLDER_TAG, &me)
            .send()
            .await;
        match created {
            Ok(_) => return Ok(Lock { name, waited_for }),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_already_exists_exception()) => {}
            Err(e) => return Err(fail::call("logs:CreateLogGroup", e.into_service_error())),
        }
        let (other, age) = current_holder(c, &name).await?;
        // Our own create, retried after its answer was lost, finds the lock
        // it made: it is ours.
        if other == me {
            return Ok(Lock { name, waited_for });
        }
        if holder_is_gone(&other) {
            eprintln!("ferry: breaking the deploy lock of {app}/{stage}: its holder ({other}) no longer runs");
            super::teardown::delete_log_group(c, &name).await?;
            continue;
        }
        if age > STALE_AFTER {
            eprintln!(
                "ferry: breaking a stale deploy lock of {app}/{stage} held by {other} for {} min",
                age.as_secs() / 60
            );
            super::teardown::delete_log_group(c, &name).await?;
            continue;
        }
        if waited_for.is_none() {
            eprintln!("ferry: another deploy of {app}/{stage} is running ({other}); waiting for it to finish");
        }
        waited_for = Some(other.clone());
        if started.elapsed() >= wait {
            return Err(AwsError::Locked {
                stage: format!("{app}/{stage}"),
                holder: other,
                seconds: started.elapsed().as_secs(),
                lock: name,
            });
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}

/// The holder named by the lock's tag, and the lock's age.
async fn current_holder(c: &Clients, name: &str) -> Result<(String, Duration), AwsError> {
    let groups = c
        .logs
        .describe_log_groups()
        .log_group_name_prefix(name)
        .send()
        .await
        .map_err(|e| fail::call("logs:DescribeLogGroups", e.into_service_error()))?;
    let Some(group) = groups
        .log_groups()
        .iter()
        .find(|g| g.log_group_name() == Some(name))
    else {
        // Released between our create and our look: try again at once.
        return Ok(("a deploy that just finished".into(), Duration::ZERO));
    };
    let created = group.creation_time();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let age = created.map_or(Duration::ZERO, |t| {
        Duration::from_millis((now - t).max(0) as u64)
    });
    let arn = group.log_group_arn().unwrap_or_default();
    let tags = c
        .logs
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await;
    let holder = tags
        .ok()
        .and_then(|t| t.tags().and_then(|t| t.get(HOLDER_TAG)).cloned())
        .unwrap_or_else(|| "an unnamed deploy".into());
    Ok((holder, age))
}

impl Lock {
    pub async fn release(self, c: &Clients) -> Result<(), AwsError> {
        super::teardown::delete_log_group(c, &self.name).await
    }
}
