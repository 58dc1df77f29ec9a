//! `prune`: the plan that deletes a stage's old function versions, keeping
//! the newest `keep` of each function, the one its stage alias serves, and
//! every version that one of the newest `keep` releases names (so the
//! releases a rollback may return to still can); and old versions of the
//! app's layers, keeping the newest `keep` of each and every one a function
//! of the region or one of the newest `keep` releases of any of the app's
//! stages there uses. Pure; the AWS side reads [`PruneLive`] and applies the
//! plan with the deploy's executor.

use std::collections::{BTreeMap, BTreeSet};

use super::action::Action;
use super::plan::Plan;
use super::record::Release;

/// What `prune` reads of a stage.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PruneLive {
    pub account: String,
    /// Function -> its published versions and those its alias serves (a
    /// canary's weighted alias serves two).
    pub functions: BTreeMap<String, (Vec<u64>, Vec<String>)>,
    pub releases: Vec<Release>,
    /// Every version of the app's layers: (AWS name, version, ARN).
    pub layers: Vec<(String, u64, String)>,
    /// Layer version ARNs in use (see the module doc).
    pub layers_in_use: BTreeSet<String>,
}

/// The versions to delete, oldest first, function by function.
pub fn plan((app, stage, region): (&str, &str, &str), keep: usize, live: &PruneLive) -> Plan {
    let mut newest: Vec<&Release> = live.releases.iter().collect();
    newest.sort_by_key(|r| std::cmp::Reverse(r.number));
    let mut named: BTreeSet<(String, String)> = BTreeSet::new();
    for release in newest.iter().take(keep) {
        for (service, version) in &release.functions {
            named.insert((release.function_of(app, stage, service), version.clone()));
        }
    }
    let mut actions = Vec::new();
    let mut unchanged = Vec::new();
    for (function, (versions, alias)) in &live.functions {
        let in_use = |v: u64| {
            let version = v.to_string();
            alias.contains(&version) || named.contains(&(function.clone(), version))
        };
        let (kept, old) = split(versions.clone(), keep, in_use);
        actions.extend(old.into_iter().map(|v| Action::DeleteFunctionVersion {
            function: function.clone(),
            version: v.to_string(),
        }));
        unchanged.push(format!("function {function} ({kept} versions kept)"));
    }
    let mut by_layer: BTreeMap<&str, BTreeMap<u64, &str>> = BTreeMap::new();
    for (layer, version, arn) in &live.layers {
        by_layer.entry(layer).or_default().insert(*version, arn);
    }
    for (layer, versions) in by_layer {
        let in_use = |v: u64| {
            versions
                .get(&v)
                .is_some_and(|arn| live.layers_in_use.contains(*arn))
        };
        let (kept, old) = split(versions.keys().copied().collect(), keep, in_use);
        actions.extend(old.into_iter().map(|version| Action::DeleteLayerVersion {
            layer: layer.to_owned(),
            version,
        }));
        unchanged.push(format!("layer {layer} ({kept} versions kept)"));
    }
    Plan::new((app, stage, region), &live.account, actions, unchanged)
}

/// How many of `versions` are kept (the newest `keep` and those in use)
/// and the others, oldest first.
fn split(mut versions: Vec<u64>, keep: usize, in_use: impl Fn(u64) -> bool) -> (usize, Vec<u64>) {
    versions.sort_unstable();
    let recent: BTreeSet<u64> = versions.iter().rev().take(keep).copied().collect();
    let (kept, old): (Vec<u64>, Vec<u64>) = versions
        .into_iter()
        .partition(|v| recent.contains(v) || in_use(*v));
    (kept.len(), old)
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
            adopted: Default::default(),
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
                    ((1..=8).collect(), vec!["2".to_owned()]),
                ),
                ("shop-test-list".to_owned(), (vec![1], vec!["1".to_owned()])),
            ]
            .into(),
            releases: vec![release(1, "1"), release(2, "3"), release(3, "2")],
            layers: (1..=4)
                .map(|v| ("shop-jwt".to_owned(), v, format!("arn:jwt:{v}")))
                .collect(),
            // Another stage's function uses version 1.
            layers_in_use: ["arn:jwt:1".to_owned()].into(),
        };
        let plan = plan(("shop", "test", "us-east-1"), 2, &live);
        let deleted: Vec<String> = plan
            .actions
            .iter()
            .map(|a| match a {
                Action::DeleteFunctionVersion { function, version } => {
                    format!("{function}:{version}")
                }
                Action::DeleteLayerVersion { layer, version } => format!("{layer}:{version}"),
                other => panic!("{other:?}"),
            })
            .collect();
        // Kept: 7 and 8 (newest), 2 (alias, release 3), 3 (release 2);
        // of the layer, 3 and 4 (newest) and 1 (in use).
        assert_eq!(
            deleted,
            [
                "shop-test-get:1",
                "shop-test-get:4",
                "shop-test-get:5",
                "shop-test-get:6",
                "shop-jwt:2"
            ]
        );
        assert!(plan
            .unchanged
            .contains(&"function shop-test-list (1 versions kept)".to_owned()));
    }
}
