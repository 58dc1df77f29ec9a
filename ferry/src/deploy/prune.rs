//! `prune`: the plan that deletes a stage's old function versions, keeping
//! the newest `keep` of each function, the one its stage alias serves, and
//! every version that one of the newest `keep` releases names (so the
//! releases a rollback may return to still can). Pure; the AWS side reads
//! [`PruneLive`] and applies the plan with the deploy's executor.

use std::collections::{BTreeMap, BTreeSet};

use super::action::Action;
use super::plan::Plan;
use super::record::Release;
use crate::model::function_name;

/// What `prune` reads of a stage.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PruneLive {
    pub account: String,
    /// Function -> its published versions and the one its alias serves.
    pub functions: BTreeMap<String, (Vec<u64>, Option<String>)>,
    pub releases: Vec<Release>,
}

/// The versions to delete, oldest first, function by function.
pub fn plan((app, stage, region): (&str, &str, &str), keep: usize, live: &PruneLive) -> Plan {
    let mut newest: Vec<&Release> = live.releases.iter().collect();
    newest.sort_by_key(|r| std::cmp::Reverse(r.number));
    let mut named: BTreeSet<(String, String)> = BTreeSet::new();
    for release in newest.iter().take(keep) {
        for (service, version) in &release.functions {
            named.insert((function_name(app, stage, service), version.clone()));
        }
    }
    let mut actions = Vec::new();
    let mut unchanged = Vec::new();
    for (function, (versions, alias)) in &live.functions {
        let mut sorted = versions.clone();
        sorted.sort_unstable();
        let recent: BTreeSet<u64> = sorted.iter().rev().take(keep).copied().collect();
        let mut kept = 0;
        for v in &sorted {
            let version = v.to_string();
            let in_use = alias.as_deref() == Some(version.as_str())
                || named.contains(&(function.clone(), version.clone()));
            if in_use || recent.contains(v) {
                kept += 1;
            } else {
                actions.push(Action::DeleteFunctionVersion {
                    function: function.clone(),
                    version,
                });
            }
        }
        unchanged.push(format!("function {function} ({kept} versions kept)"));
    }
    Plan::new((app, stage, region), &live.account, actions, unchanged)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deploy::record::ReleaseKind;

    fn release(number: u32, get: &str) -> Release {
        Release {
            number,
            kind: ReleaseKind::Deploy,
            at: String::new(),
            by: String::new(),
            commit: None,
            manifest_sha256: None,
            functions: [("get".to_owned(), get.to_owned())].into(),
            layers: Vec::new(),
            api_id: "a".into(),
            deployment: "d".into(),
        }
    }

    #[test]
    fn keeps_the_newest_the_alias_and_what_kept_releases_name() {
        let live = PruneLive {
            account: "1".into(),
            functions: [
                // The alias was rolled back to 2; release 3 (kept) names 3.
                (
                    "shop-test-get".to_owned(),
                    ((1..=8).collect(), Some("2".to_owned())),
                ),
                ("shop-test-list".to_owned(), (vec![1], Some("1".to_owned()))),
            ]
            .into(),
            releases: vec![release(1, "1"), release(2, "3"), release(3, "2")],
        };
        let plan = plan(("shop", "test", "us-east-1"), 2, &live);
        let deleted: Vec<String> = plan
            .actions
            .iter()
            .map(|a| match a {
                Action::DeleteFunctionVersion { function, version } => {
                    format!("{function}:{version}")
                }
                other => panic!("{other:?}"),
            })
            .collect();
        // Kept: 7 and 8 (newest), 2 (alias, release 3), 3 (release 2).
        assert_eq!(
            deleted,
            [
                "shop-test-get:1",
                "shop-test-get:4",
                "shop-test-get:5",
                "shop-test-get:6"
            ]
        );
        assert!(plan
            .unchanged
            .contains(&"function shop-test-list (1 versions kept)".to_owned()));
    }
}
