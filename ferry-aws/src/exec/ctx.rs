//! The executor's state while it applies one plan: where it writes, the
//! secret values the plan names by source, and what earlier actions made
//! (a new API's id, published layer versions, RevisionIds, the distribution).

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::AtomicBool;
use std::sync::Mutex;

use ferry::deploy::Plan;
use ferry::model::{Arch, Secrets};

use crate::sdk::clients::Clients;

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
