//! `deploy --canary PCT --bake DURATION`, after the canary's plan is
//! applied: bakes outside the stage's lock (so a long bake never makes the
//! lock look stale), reading CloudWatch through [`ferry::deploy::watch`],
//! then completes or reverts under the lock again. Completing is the
//! ordinary plan made anew, refused unless it only finishes this canary;
//! reverting is `rollback`'s plan to the release the stage still records.

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime};

use ferry::cli::ApplyArgs;
use ferry::deploy::canary::{self, CanarySettings};
use ferry::deploy::watch::{self, Clock, Verdict, WatchSettings};
use ferry::deploy::{self, render, rollback, Action, Desired, Plan};
use ferry::model::Secrets;
use miette::WrapErr;
use serde::Serialize;

use crate::exec::apply::{self, Outcome};
use crate::maintain::{self, Confirmed};
use crate::read::metrics::{CloudWatch, Shifted};
use crate::read::{front_live, live, live_api, releases};
use crate::sdk::clients::Clients;
use crate::write::lock;

/// How the canary ended, for the report and `--json`.
#[derive(Debug, Serialize)]
pub struct CanaryResult {
    pub percent: u8,
    pub bake_s: u64,
    pub max_errors: u32,
    /// Function -> the version the canary sent traffic to.
    pub versions: BTreeMap<String, String>,
    #[serde(flatten)]
    pub verdict: Verdict,
    /// What completing or reverting wrote.
    pub then: Vec<Action>,
}

impl CanaryResult {
    pub fn reverted(&self) -> bool {
        matches!(self.verdict, Verdict::Revert { .. })
    }
}

struct Tokio(Instant);

impl Clock for Tokio {
    fn elapsed(&self) -> Duration {
        self.0.elapsed()
    }
    async fn sleep(&mut self, d: Duration) {
        tokio::time::sleep(d).await;
    }
}

/// How often the bake reads the metrics: ten times per bake, at least
/// every minute (CloudWatch's resolution) and at most every 5 seconds.
fn poll(bake: Duration) -> Duration {
    (bake / 10).clamp(Duration::from_secs(5), Duration::from_secs(60))
}

/// What the bake needs besides the clients.
pub struct Baking<'a> {
    pub desired: &'a Desired,
    pub account: &'a str,
    pub secrets: &'a Secrets,
    pub settings: CanarySettings,
    pub lock_wait: u64,
    pub json: bool,
}

/// Bakes the canary `outcome` applied, then completes or reverts it.
pub async fn bake(c: &Clients, b: &Baking<'_>, outcome: &Outcome) -> miette::Result<CanaryResult> {
    let versions: BTreeMap<String, String> = outcome
        .applied
        .iter()
        .filter_map(|a| match (&a.action, &a.result) {
            (
                Action::PointAlias {
                    function,
                    canary: Some(_),
                    ..
                },
                Some(v),
            ) => Some((function.clone(), v.clone())),
            _ => None,
        })
        .collect();
    let (desired, s) = (b.desired, b.settings);
    let bake = Duration::from_secs(s.bake_s);
    eprintln!(
        "ferry: canary: {}% of the traffic of {} on the new version(s); baking {} s, reverting on more than {} error(s). A Ctrl-C leaves the canary in place: `cargo xtask deploy --stage {stage}` completes it, `cargo xtask rollback --stage {stage}` reverts it.",
        s.percent,
        versions.keys().cloned().collect::<Vec<_>>().join(", "),
        s.bake_s,
        s.max_errors,
        stage = desired.stage
    );
    if s.bake_s < 180 {
        eprintln!(
            "ferry: note: Lambda's and API Gateway's metrics reach CloudWatch about a minute late; a bake of {} s judges little of it (bake for several minutes on AWS)",
            s.bake_s
        );
    }
    let mut source = CloudWatch {
        c,
        since: SystemTime::now(),
        alias: deploy::release::alias_name(&desired.stage),
        functions: versions
            .iter()
            .map(|(f, v)| Shifted {
                function: f.clone(),
                version: v.clone(),
            })
            .collect(),
        api: (desired.api.name.clone(), desired.stage.clone()),
    };
    let settings = WatchSettings {
        bake,
        poll: poll(bake),
        max_errors: s.max_errors,
    };
    let progress = |at: Duration, o: &watch::Observed| {
        let calls: f64 = o.invocations.values().sum();
        let errors: f64 = o.errors.values().sum();
        eprintln!(
            "ferry: canary {}/{} s: {calls} invocation(s) of the new version(s), {errors} error(s), {} 5XX",
            at.as_secs(),
            s.bake_s,
            o.stage_5xx
        );
    };
    let verdict = watch::watch(&mut source, &mut Tokio(Instant::now()), settings, progress).await;
    let shifted = versions.keys().cloned().collect();
    let stage = &desired.stage;
    let then = match &verdict {
        Verdict::Complete { .. } => complete(c, b, &shifted).await.wrap_err(format!(
            "the canary baked without errors but was not completed: its aliases still weigh the new versions; `cargo xtask deploy --stage {stage}` completes it, `cargo xtask rollback --stage {stage}` reverts it"
        ))?,
        Verdict::Revert { reason, .. } => {
            eprintln!("ferry: reverting the canary: {reason}");
            revert(c, b).await.wrap_err(format!(
                "the canary failed ({reason}) and was not reverted: its aliases still send part of the traffic to the new versions; run `cargo xtask rollback --stage {stage}` now"
            ))?
        }
    };
    Ok(CanaryResult {
        percent: s.percent,
        bake_s: s.bake_s,
        max_errors: s.max_errors,
        versions,
        verdict,
        then,
    })
}

/// The ordinary plan, under the lock: it moves the weighted aliases the
/// rest of the way, records the release and forgets the canary.
async fn complete(
    c: &Clients,
    b: &Baking<'_>,
    shifted: &std::collections::BTreeSet<String>,
) -> miette::Result<Vec<Action>> {
    let desired = b.desired;
    let wait = Duration::from_secs(b.lock_wait);
    let held = lock::acquire(c, &desired.app, &desired.stage, wait).await?;
    let result = async {
        let live = live::read(c, desired, b.account, false).await?;
        let plan = deploy::plan(desired, &live, false);
        canary::check_completion(&plan, shifted)?;
        eprint!("{}", render::text(&plan));
        apply::apply(c, &live, &plan, b.secrets, BTreeMap::new()).await?;
        Ok::<Plan, miette::Report>(plan)
    }
    .await;
    if let Err(e) = held.release(c).await {
        eprintln!("ferry: the deploy lock was not released ({e}); it expires in 30 minutes");
    }
    Ok(result?.actions)
}

/// `rollback`'s plan to the release the stage still records as current.
async fn revert(c: &Clients, b: &Baking<'_>) -> miette::Result<Vec<Action>> {
    let desired = b.desired;
    let args = ApplyArgs {
        yes: true,
        dry_run: false,
        json: b.json,
        lock_wait: b.lock_wait,
    };
    let how = Confirmed {
        args: &args,
        what: "reverting the canary",
        nothing: "the canary is reverted already",
    };
    let (app, stage) = (desired.app.as_str(), desired.stage.as_str());
    let planner = async || {
        let (current, canary) = releases::current(c, app, stage).await?;
        let current = current.ok_or(rollback::RollbackError::NoReleases {
            stage: stage.to_owned(),
        })?;
        let api =
            live_api::served(c, (&desired.api.name, desired.api.id.as_deref()), stage).await?;
        let distribution = match &desired.front {
            Some(front) => front_live::read(c, front).await?.distribution.map(|d| d.id),
            None => None,
        };
        let caches = (desired.api.cache.is_some(), distribution);
        let live =
            releases::for_rollback(c, (app, stage), b.account, &current, api, caches, canary)
                .await?;
        Ok(rollback::revert(
            (app, stage, &desired.region),
            &current,
            &live,
        )?)
    };
    let (plan, _) = maintain::plan_and_apply(c, app, stage, &how, planner).await?;
    Ok(plan.actions)
}
