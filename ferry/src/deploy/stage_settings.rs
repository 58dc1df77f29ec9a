//! An API stage's own settings, planned: X-Ray tracing, throttling (the
//! stage's `*/*` and each method with settings of its own) and access
//! logging, set with one `UpdateStage` of patch operations after the stage
//! serves its deployment. Pure, like the planner.
//!
//! A method with settings of its own (a cached route's, or one with its
//! own throttle) does not take the stage's throttle: ferry writes on each
//! such method the throttle that applies to it, the route's or else the
//! stage's, or `-1` (not set) when neither is. The checks that need live
//! state before anything is written are here too.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::action::{APIGW_LOGS_POLICY, APIGW_TRUST_POLICY};
use super::plan::Action;
use super::stage_cache::StagePatch;
use super::state::{Desired, Live};
use crate::model::cache::ApiCache;
use crate::model::stage_api::{AccessLog, CloudWatchRole, Throttle, MANAGED_CLOUDWATCH_ROLE};

/// The method-settings key of the stage's defaults.
pub const STAGE_KEY: &str = "*/*";

/// A stage's own settings as ferry compares them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageSettingsState {
    pub tracing: bool,
    /// The throttle of every method without settings of its own.
    pub throttle: Option<Throttle>,
    /// Method-settings key (`~1items/POST`) -> its throttle (`None`: off),
    /// for each method with settings of its own.
    pub methods: BTreeMap<String, Option<Throttle>>,
    pub access_log: Option<AccessLogState>,
}

/// Where a stage's access log goes and its line format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessLogState {
    /// The log group's ARN (without `:*`).
    pub destination: String,
    pub format: String,
}

impl fmt::Display for StageSettingsState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = vec![format!("tracing {}", on(self.tracing))];
        match &self.throttle {
            Some(t) => parts.push(format!("throttle {t}")),
            None => parts.push("no throttle".into()),
        }
        for (key, t) in &self.methods {
            let route = route_of(key);
            match t {
                Some(t) => parts.push(format!("{route} {t}")),
                None => parts.push(format!("{route} no throttle of its own")),
            }
        }
        match &self.access_log {
            Some(log) => parts.push(format!("access log to {}", log_name(&log.destination))),
            None => parts.push("no access log".into()),
        }
        f.write_str(&parts.join(", "))
    }
}

impl StageSettingsState {
    /// Whether anything is set beyond API Gateway's defaults.
    pub fn is_set(&self) -> bool {
        self.tracing
            || self.throttle.is_some()
            || self.methods.values().any(Option::is_some)
            || self.access_log.is_some()
    }

    /// What differs from `self` to `to`, one part each, for the plan.
    pub fn differences(&self, to: &StageSettingsState) -> Vec<String> {
        let throttle = |t: Option<&Option<Throttle>>| match t {
            None => "default".to_owned(),
            Some(None) => "not set".to_owned(),
            Some(Some(t)) => t.to_string(),
        };
        let mut out = Vec::new();
        if self.tracing != to.tracing {
            out.push(format!(
                "tracing {} -> {}",
                on(self.tracing),
                on(to.tracing)
            ));
        }
        if self.throttle != to.throttle {
            let (from, to) = (self.throttle.as_ref(), to.throttle.as_ref());
            let show = |t: Option<&Throttle>| t.map_or("none".to_owned(), Throttle::to_string);
            out.push(format!("throttle {} -> {}", show(from), show(to)));
        }
        for (key, want) in &to.methods {
            let live = self.methods.get(key);
            if live != Some(want) {
                let route = route_of(key);
                out.push(format!(
                    "{route} {} -> {}",
                    throttle(live),
                    throttle(Some(want))
                ));
            }
        }
        if self.access_log != to.access_log {
            let show = |l: &Option<AccessLogState>| {
                l.as_ref()
                    .map_or("none".to_owned(), |l| log_name(&l.destination).to_owned())
            };
            out.push(format!(
                "access log {} -> {}",
                show(&self.access_log),
                show(&to.access_log)
            ));
        }
        out
    }
}

fn on(b: bool) -> &'static str {
    if b {
        "on"
    } else {
        "off"
    }
}

fn log_name(arn: &str) -> &str {
    arn.split_once(":log-group:").map_or(arn, |(_, name)| name)
}

/// The settings `desired` wants, given the method keys that have settings
/// of their own live (which keep them).
pub fn wanted<'a>(
    desired: &Desired,
    account: &str,
    live_keys: impl IntoIterator<Item = &'a String>,
) -> StageSettingsState {
    let api = &desired.api;
    let throttle = &api.throttle;
    let mut keys: Vec<String> = live_keys.into_iter().cloned().collect();
    if let Some(cache) = &api.cache {
        keys.extend(cache.routes.keys().map(|r| ApiCache::method_key(r)));
    }
    keys.extend(throttle.routes.keys().flat_map(|r| verb_keys(r)));
    let methods = keys
        .into_iter()
        .map(|key| {
            let route = route_of(&key);
            let any = route
                .split_once(' ')
                .map(|(_, path)| format!("ANY {path}"))
                .unwrap_or_default();
            let own = throttle.routes.get(&route).or(throttle.routes.get(&any));
            (key, own.copied().or(throttle.stage))
        })
        .collect();
    StageSettingsState {
        tracing: api.tracing,
        throttle: throttle.stage,
        methods,
        access_log: api.access_log.as_ref().map(|log| AccessLogState {
            destination: log_group_arn(&desired.region, account, &access_log_group(desired)),
            format: log.format.clone(),
        }),
    }
}

/// The method-settings keys a route's throttle is written on: REST API
/// method settings apply per HTTP verb, so an `ANY` route's are each
/// verb's (as the Serverless Framework's throttling plugin writes them).
fn verb_keys(route: &str) -> Vec<String> {
    match route.strip_prefix("ANY ") {
        Some(path) => crate::model::Method::ALL_CONCRETE
            .iter()
            .map(|m| ApiCache::method_key(&format!("{m} {path}")))
            .collect(),
        None => vec![ApiCache::method_key(route)],
    }
}

/// `GET /items/{id}` from its method-settings key `~1items~1{id}/GET`.
fn route_of(key: &str) -> String {
    let (path, method) = key.rsplit_once('/').unwrap_or((key, ""));
    format!("{method} {}", path.replace("~1", "/"))
}

/// The stage's access-log group.
pub fn access_log_group(desired: &Desired) -> String {
    AccessLog::group(&desired.api.name, &desired.stage)
}

pub fn log_group_arn(region: &str, account: &str, group: &str) -> String {
    format!("arn:aws:logs:{region}:{account}:log-group:{group}")
}

/// The patch operations that turn `from` into `to`; `created` are method
/// keys this plan's stage-cache update makes, whose settings API Gateway
/// fills with defaults of its own.
pub fn patch(
    from: &StageSettingsState,
    to: &StageSettingsState,
    created: &[String],
) -> Vec<StagePatch> {
    let mut out = Vec::new();
    if from.tracing != to.tracing {
        out.push(StagePatch::replace(
            "/tracingEnabled",
            to.tracing.to_string(),
        ));
    }
    let mut throttle = |key: &str, t: Option<Throttle>| {
        let (rate, burst) = t.map_or((-1, -1), |t| (i64::from(t.rate), i64::from(t.burst)));
        out.push(StagePatch::replace(
            &format!("/{key}/throttling/rateLimit"),
            rate.to_string(),
        ));
        out.push(StagePatch::replace(
            &format!("/{key}/throttling/burstLimit"),
            burst.to_string(),
        ));
    };
    if from.throttle != to.throttle {
        throttle(STAGE_KEY, to.throttle);
    }
    for (key, want) in &to.methods {
        let differs = match from.methods.get(key) {
            Some(live) => live != want,
            None => want.is_some() || created.contains(key),
        };
        if differs {
            throttle(key, *want);
        }
    }
    match (&from.access_log, &to.access_log) {
        (from, Some(to)) if from.as_ref() != Some(to) => {
            out.push(StagePatch::replace(
                "/accessLogSettings/destinationArn",
                to.destination.clone(),
            ));
            out.push(StagePatch::replace(
                "/accessLogSettings/format",
                to.format.clone(),
            ));
        }
        (Some(_), None) => out.push(StagePatch::remove("/accessLogSettings")),
        _ => {}
    }
    out
}

/// The stage-settings actions, after the stage-cache ones: the account's
/// CloudWatch role first when access logs need it and ferry may set it.
pub(super) fn actions(
    desired: &Desired,
    live: &Live,
    actions: &mut Vec<Action>,
    unchanged: &mut Vec<String>,
) {
    let live_api = live.api.as_ref();
    let from = live_api
        .map(|a| a.stage_settings.clone())
        .unwrap_or_default();
    let to = wanted(desired, &live.account_id, from.methods.keys());
    let created: Vec<String> = match &desired.api.cache {
        Some(cache) => cache
            .routes
            .keys()
            .map(|r| ApiCache::method_key(r))
            .filter(|k| !from.methods.contains_key(k))
            .collect(),
        None => Vec::new(),
    };
    access_log_prerequisites(desired, live, actions);
    let changes = patch(&from, &to, &created);
    if changes.is_empty() {
        if to.is_set() {
            unchanged.push(format!("stage settings of `{}` ({to})", desired.stage));
        }
        return;
    }
    actions.push(Action::UpdateStageSettings {
        api: desired.api.name.clone(),
        api_id: live_api.map(|a| a.id.clone()),
        stage: desired.stage.clone(),
        from,
        to,
        patch: changes,
    });
}

/// What must exist before the stage logs its requests: the log group, kept
/// for the stage's retention, and the account's role when ferry sets it.
fn access_log_prerequisites(desired: &Desired, live: &Live, actions: &mut Vec<Action>) {
    if desired.api.access_log.is_none() {
        return;
    }
    actions.extend(super::plan::log_group(
        desired,
        live,
        access_log_group(desired),
    ));
    if let Some((create, arn)) = account_role(desired, live) {
        if create {
            actions.push(Action::CreateRole {
                name: MANAGED_CLOUDWATCH_ROLE.to_owned(),
                description: "The role API Gateway writes CloudWatch logs with in this account, managed by ferry".into(),
                trust_policy: APIGW_TRUST_POLICY.to_owned(),
                policies: vec![APIGW_LOGS_POLICY.to_owned()],
                path: None,
                inline: None,
            });
        }
        actions.push(Action::SetApiGatewayAccountRole {
            from: live
                .apigw_account
                .as_ref()
                .and_then(|a| a.cloudwatch_role.clone()),
            to: arn,
            new_role: create,
        });
    }
}

/// The account-level role API Gateway logs with, when access logs need
/// one that ferry should set: a role to create first (`true`) and its ARN.
fn account_role(desired: &Desired, live: &Live) -> Option<(bool, String)> {
    let log = desired.api.access_log.as_ref()?;
    let account = live.apigw_account.as_ref()?;
    let managed = format!(
        "arn:aws:iam::{}:role/{MANAGED_CLOUDWATCH_ROLE}",
        live.account_id
    );
    match &log.cloudwatch_role {
        CloudWatchRole::Required => None,
        CloudWatchRole::Managed if account.cloudwatch_role.is_some() => None,
        CloudWatchRole::Managed => Some((!account.managed_role_exists, managed)),
        CloudWatchRole::Arn(arn) if account.cloudwatch_role.as_ref() == Some(arn) => None,
        CloudWatchRole::Arn(arn) => Some((false, arn.clone())),
    }
}

/// The plan's line of a stage-settings, account-role or concurrency action.
pub(super) fn line(action: &Action) -> String {
    match action {
        Action::UpdateStageSettings {
            stage, from, to, ..
        } => format!(
            "  ~ update   stage `{stage}` settings: {}",
            from.differences(to).join("; ")
        ),
        Action::SetApiGatewayAccountRole { from, to, .. } => format!(
            "  ~ update   API Gateway's CloudWatch role (account setting): {} -> {to}",
            from.as_deref().unwrap_or("none")
        ),
        Action::SetReservedConcurrency { function, from, to } => {
            let show = |n: &Option<u32>| n.map_or("none".to_owned(), |n| n.to_string());
            format!(
                "  ~ update   reserved concurrency of {function}: {} -> {}",
                show(from),
                show(to)
            )
        }
        other => format!("  {other:?}"),
    }
}
