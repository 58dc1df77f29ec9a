//! What differs in a function's configuration, as the plan shows it: one
//! [`Change`] per field, and for the environment only the names of the
//! variables that differ (values may be secrets).

use super::action::{Action, Change};
use super::plan::own_layer_arn;
use super::state::{Desired, DesiredFunction, DesiredLayerRef, Live, LiveFunction};

pub(super) fn config_changes(
    desired: &Desired,
    live: &Live,
    function: &DesiredFunction,
    current: &LiveFunction,
) -> Vec<Change> {
    let mut changes = Vec::new();
    let mut differ = |field: &str, from: String, to: String| {
        if from != to {
            changes.push(Change {
                field: field.to_owned(),
                from,
                to,
            });
        }
    };
    differ(
        "memory_mb",
        current.memory_mb.to_string(),
        function.memory_mb.to_string(),
    );
    differ(
        "timeout_s",
        current.timeout_s.to_string(),
        function.timeout_s.to_string(),
    );
    differ(
        "tracing",
        current.tracing.to_string(),
        function.tracing.to_string(),
    );
    differ(
        "ephemeral_mb",
        current.ephemeral_mb.to_string(),
        function.ephemeral_mb.to_string(),
    );
    let vpc =
        |v: &Option<crate::model::vpc::Vpc>| v.as_ref().map_or("none".into(), ToString::to_string);
    differ("vpc", vpc(&current.vpc), vpc(&function.vpc));
    differ(
        "role",
        current.role.clone(),
        function.role.arn(&live.account_id),
    );
    differ(
        "runtime",
        match (current.runtime, &current.other_runtime) {
            (Some(r), _) => r.to_string(),
            (None, Some(other)) => other.clone(),
            (None, None) => "-".into(),
        },
        function.runtime.to_string(),
    );
    // Only the names of the variables that differ are shown: values may be
    // secrets.
    if current.env != function.env {
        let (from, to) = env_difference(&current.env, &function.env);
        differ("environment", from, to);
    }
    let wanted: Vec<String> = function
        .layers
        .iter()
        .map(|l| match l {
            DesiredLayerRef::Arn(arn) => arn.clone(),
            DesiredLayerRef::Own { name, arch } => own_layer_arn(desired, live, name, *arch)
                .map_or_else(|| format!("{name}:<new version>"), str::to_owned),
        })
        .collect();
    differ("layers", current.layers.join(","), wanted.join(","));
    changes
}

/// The variables that leave or change (`from`) and that arrive or change
/// (`to`), by name: `DB_PASSWORD -> DB_PASSWORD (new value)`.
fn env_difference(
    current: &std::collections::BTreeMap<String, String>,
    wanted: &std::collections::BTreeMap<String, String>,
) -> (String, String) {
    let list = |names: Vec<String>| {
        if names.is_empty() {
            "-".to_owned()
        } else {
            names.join(",")
        }
    };
    let from = current
        .iter()
        .filter(|(k, v)| wanted.get(*k) != Some(*v))
        .map(|(k, _)| k.clone())
        .collect();
    let to = wanted
        .iter()
        .filter(|(k, v)| current.get(*k) != Some(*v))
        .map(|(k, _)| {
            if current.contains_key(k) {
                format!("{k} (new value)")
            } else {
                k.clone()
            }
        })
        .collect();
    (list(from), list(to))
}

/// The reserved-concurrency write that `function` needs, if its live
/// reservation (`current`) differs. Not part of a version: Lambda keeps it
/// on the function.
pub(super) fn concurrency(function: &DesiredFunction, current: Option<u32>) -> Option<Action> {
    (current != function.reserved_concurrency).then(|| Action::SetReservedConcurrency {
        function: function.name.clone(),
        from: current,
        to: function.reserved_concurrency,
    })
}
