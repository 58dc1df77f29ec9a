//! The executor's state while it applies one plan: where it writes, the
//! secret values the plan names by source, and what earlier actions made
//! (a new API's id, published layer versions, RevisionIds, the distribution).

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::AtomicBool;
use std::sync::Mutex;

use ferry::deploy::Plan;
use ferry::model::{Arch, Secrets};

use crate::sdk::clients::Clients;
use crate::sdk::fail::AwsError;

/// What the executor knows while it applies one plan: where it writes, the
/// secret values the plan names by source, and what earlier actions made.
pub(crate) struct Ctx<'a> {
    pub c: &'a Clients,
    pub plan: &'a Plan,
    pub secrets: &'a Secrets,
    /// Layer versions published by this deploy.
    pub layer_arns: Mutex<BTreeMap<(String, Arch), String>>,
    pub revisions: Mutex<HashMap<String, String>>,
    pub api_id: Mutex<Option<String>>,
    /// Function versions published by this deploy, by function.
    pub versions: Mutex<BTreeMap<String, String>>,
    /// The API deployment this deploy created.
    pub deployment: Mutex<Option<String>>,
    /// The stage's distribution (id, domain name): live, or created now.
    pub distribution: Mutex<Option<(String, String)>>,
    pub uploaded: Mutex<u64>,
    /// Set when an action fails: the other functions' chains stop before
    /// their next write instead of going on with a deploy that has failed.
    pub failed: AtomicBool,
}

/// The RevisionId the next write of `function` must name, when known.
pub(super) fn revision(ctx: &Ctx<'_>, function: &str) -> Option<String> {
    ctx.revisions
        .lock()
        .unwrap()
        .get(function)
        .cloned()
        .filter(|r| !r.is_empty())
}

/// The version this deploy's `PublishVersion` of `function` made.
pub(super) fn published_version(ctx: &Ctx<'_>, function: &str) -> Result<String, AwsError> {
    ctx.versions
        .lock()
        .unwrap()
        .get(function)
        .cloned()
        .ok_or_else(|| AwsError::Call {
            call: "lambda:UpdateAlias",
            message: format!(
                "the plan moves the alias of {function} to a version it does not publish"
            ),
            help: "make the plan again (`cargo xtask plan`); a saved plan must come whole".into(),
        })
}

/// The stage's REST API: the live one, or the one this deploy created.
pub(super) fn current_api(ctx: &Ctx<'_>) -> String {
    ctx.api_id.lock().unwrap().clone().unwrap_or_default()
}
