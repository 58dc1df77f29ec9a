//! Versions and the stage alias. A deploy that changes a function's code or
//! configuration publishes a version and moves the stage's alias to it; the
//! API's integrations and the invoke permission name the alias, so a stage
//! serves a known set of versions and a rollback is an alias move. This
//! module owns what a version's description records (the code hash and a
//! digest of the configuration, so one read of the alias says what the stage
//! serves) and the planner's publish and alias actions.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use super::action::{Action, VersionRef};
use super::state::{Desired, DesiredFunction, DesiredLayer, DesiredLayerRef, Live};
use crate::model::{Arch, EnvValue, Tracing};

/// How a version's description begins: `ferry sha256:<CodeSha256> config:<digest>`.
pub const VERSION_MARK: &str = "ferry sha256:";

/// The alias of each function through which a stage serves it: named after
/// the stage (a stage name is a valid alias name; check refuses digits only).
pub fn alias_name(stage: &str) -> String {
    stage.to_owned()
}

/// Sets each function's digest: its code hash and every setting a version
/// freezes. Secrets count by their source, never their value; a rotated
/// value still publishes, through the configuration update it plans.
pub fn fill_digests(
    functions: &mut BTreeMap<String, DesiredFunction>,
    layers: &BTreeMap<(String, Arch), DesiredLayer>,
) {
    for f in functions.values_mut() {
        let mut h = Sha256::new();
        h.update(format!(
            "ferry-version-1\n{:?}\n{}\n{}\n{}\n{:?}\n",
            f.arch, f.runtime, f.memory_mb, f.timeout_s, f.role
        ));
        // Settings added since versions were first described count only
        // when set, so existing versions keep their digest.
        if f.tracing != Tracing::default() {
            h.update(format!("tracing {}\n", f.tracing));
        }
        if f.ephemeral_mb != crate::model::DEFAULT_EPHEMERAL_MB {
            h.update(format!("ephemeral {}\n", f.ephemeral_mb));
        }
        // A version keeps the VPC configuration it was published with.
        if let Some(vpc) = &f.vpc {
            h.update(format!("vpc {vpc}\n"));
        }
        for (key, value) in &f.env_declared {
            match value {
                EnvValue::Plain(v) => h.update(format!("env {key}={v}\n")),
                EnvValue::Secret(source) => h.update(format!("secret {key}={source}\n")),
            }
        }
        for layer in &f.layers {
            match layer {
                DesiredLayerRef::Arn(arn) => h.update(format!("layer {arn}\n")),
                DesiredLayerRef::Own { name, arch } => {
                    let sha = layers
                        .get(&(name.clone(), *arch))
                        .map_or("", |l| l.code_sha256.as_str());
                    h.update(format!("layer {name} {arch} {sha}\n"));
                }
            }
        }
        let config = crate::build::pack::hex(&h.finalize())[..16].to_owned();
        f.digest = format!("{VERSION_MARK}{} config:{config}", f.code_sha256);
    }
}

/// A version's description: its digest, and the commit when known.
pub fn version_description(function: &DesiredFunction, commit: Option<&str>) -> String {
    match commit {
        Some(commit) => format!("{} commit:{commit}", function.digest),
        None => function.digest.clone(),
    }
}

/// The digest a description records, without the commit: two deploys of
/// one build from two commits publish nothing the second time.
pub fn recorded_digest(description: &str) -> Option<&str> {
    description
        .starts_with(VERSION_MARK)
        .then(|| description.split(" commit:").next().unwrap_or(description))
}

/// The CodeSha256 a description records, if it is ferry's.
pub fn recorded_code(description: &str) -> Option<&str> {
    let rest = description.strip_prefix(VERSION_MARK)?;
    rest.split(' ').next()
}

/// The commit a description records, if any.
pub fn recorded_commit(description: &str) -> Option<&str> {
    description.split_once(" commit:").map(|(_, c)| c.trim())
}

/// Plans the publish and the alias move of `function` when this plan writes
/// its code or configuration, or its alias is missing or serves something
/// else (after a rollback, or a hand edit). Returns whether it did.
pub fn actions(
    desired: &Desired,
    live: &Live,
    function: &DesiredFunction,
    writes_function: bool,
    actions: &mut Vec<Action>,
) -> bool {
    let alias = live
        .functions
        .get(&function.name)
        .and_then(|f| f.alias.as_ref());
    let holds = |description: &str| recorded_digest(description) == Some(function.digest.as_str());
    let canary = alias.and_then(|a| a.canary.as_ref());
    let serves_it = alias.is_some_and(|a| holds(&a.description)) && canary.is_none();
    if serves_it && !writes_function {
        return false;
    }
    // A canary of this very build completes: its version takes all traffic.
    if let (Some(a), Some(c), false) = (alias, canary, writes_function) {
        if holds(&c.description) {
            actions.push(Action::PointAlias {
                function: function.name.clone(),
                alias: alias_name(&desired.stage),
                from: Some(a.version.clone()),
                to: VersionRef::Version(c.version.clone()),
                description: c.description.clone(),
                canary: None,
            });
            return true;
        }
    }
    let description = version_description(function, desired.commit.as_deref());
    actions.push(Action::PublishVersion {
        function: function.name.clone(),
        code_sha256: function.code_sha256.clone(),
        description: description.clone(),
    });
    actions.push(Action::PointAlias {
        function: function.name.clone(),
        alias: alias_name(&desired.stage),
        from: alias.map(|a| a.version.clone()),
        to: VersionRef::Published,
        description,
        canary: None,
    });
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_ignores_the_commit() {
        let d = "ferry sha256:abc= config:0123456789abcdef";
        assert_eq!(recorded_digest(d), Some(d));
        let with = format!("{d} commit:1a2b3c4d5e6f");
        assert_eq!(recorded_digest(&with), Some(d));
        assert_eq!(recorded_commit(&with), Some("1a2b3c4d5e6f"));
        assert_eq!(recorded_digest("made in the console"), None);
    }
}
