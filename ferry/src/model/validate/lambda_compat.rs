//! Reads cargo-lambda's `[package.metadata.lambda.deploy]` keys into ferry's
//! own schema, so a cargo-lambda user's crates work unchanged. A key set in
//! `[package.metadata.ferry]` wins over the same key here.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use toml::Spanned;

use crate::model::diag::{Diagnostics, SourceFile};
use crate::model::raw::{RawCargoLambda, RawFerry, CARGO_LAMBDA_KEYS_NOT_USED};
use crate::model::raw_vpc::RawVpc;
use crate::model::Tracing;

const TABLE: &str = "package.metadata.lambda.deploy";

pub(crate) fn merge(
    mut ferry: RawFerry,
    lambda: Option<Spanned<RawCargoLambda>>,
    file: &SourceFile,
    diags: &mut Diagnostics,
) -> RawFerry {
    let Some(deploy) = lambda.and_then(|l| l.into_inner().deploy) else {
        return ferry;
    };
    let span = deploy.span();
    let mut vpc = RawVpc::default();
    for (key, value) in deploy.into_inner() {
        let name = key.get_ref().as_str();
        match name {
            "memory" => set(&mut ferry.memory, typed(name, value, file, diags)),
            "timeout" => set(&mut ferry.timeout, typed(name, value, file, diags)),
            "runtime" => set(&mut ferry.runtime, typed(name, value, file, diags)),
            // cargo-lambda writes `active` or `passthrough`.
            "tracing" => {
                let mode = typed::<String>(name, value, file, diags);
                set(
                    &mut ferry.tracing,
                    mode.and_then(|m| tracing(m, file, diags)),
                );
            }
            "env" => set(
                &mut ferry.env,
                typed::<BTreeMap<String, toml::Value>>(name, value, file, diags).map(spread),
            ),
            "layers" | "layer" => set(
                &mut ferry.layers,
                typed::<Vec<String>>(name, value, file, diags).map(spread_vec),
            ),
            // Checked with `[package.metadata.ferry.vpc]`'s own rules.
            "subnet_ids" => {
                vpc.subnets = typed::<Vec<String>>(name, value, file, diags).map(spread_vec)
            }
            "security_group_ids" => {
                vpc.security_groups = typed::<Vec<String>>(name, value, file, diags).map(spread_vec)
            }
            "ipv6_allowed_for_dual_stack" => vpc.ipv6_dual_stack = typed(name, value, file, diags),
            _ => match CARGO_LAMBDA_KEYS_NOT_USED.iter().find(|(k, _)| *k == name) {
                Some((_, instead)) => {
                    diags.warn(format!("{}:{}: `{TABLE}.{name}` is a cargo-lambda key ferry does not read; ferry uses {instead}", file.display, file.line_of(key.span().start)));
                }
                None => {
                    let help = "remove the key or fix its spelling; ferry reads memory, timeout, env, layers, runtime, tracing and the VPC keys here";
                    diags.error(
                        file,
                        key.span(),
                        format!("{TABLE}.{name}"),
                        format!("unknown key `{name}`"),
                        Some(help.into()),
                    );
                }
            },
        }
    }
    // Checked here, under cargo-lambda's key names; `[package.metadata.ferry.vpc]`
    // wins when both are set.
    let named = (TABLE, crate::model::vpc::CARGO_LAMBDA_KEYS);
    if vpc.subnets.is_none() && vpc.security_groups.is_none() && vpc.ipv6_dual_stack.is_some() {
        diags.warn(format!(
            "{}: `{TABLE}.ipv6_allowed_for_dual_stack` is ignored without `subnet_ids` and `security_group_ids`",
            file.display
        ));
    }
    if ferry.vpc.is_none()
        && (vpc.subnets.is_some() || vpc.security_groups.is_some())
        && crate::model::vpc::check_table(&vpc, span.clone(), named, file, diags).is_some()
    {
        ferry.vpc = Some(Spanned::new(span, vpc));
    }
    ferry
}

fn tracing(
    mode: Spanned<String>,
    file: &SourceFile,
    diags: &mut Diagnostics,
) -> Option<Spanned<Tracing>> {
    let span = mode.span();
    let tracing = match mode.get_ref().to_ascii_lowercase().as_str() {
        "active" => Tracing::Active,
        "passthrough" | "pass-through" => Tracing::PassThrough,
        other => {
            diags.error(
                file,
                span.clone(),
                format!("{TABLE}.tracing"),
                format!("`{other}` is not a tracing mode"),
                Some("write `active` or `passthrough`".into()),
            );
            return None;
        }
    };
    Some(Spanned::new(span, tracing))
}

fn set<T>(slot: &mut Option<T>, value: Option<T>) {
    if slot.is_none() {
        *slot = value;
    }
}

/// Converts one value to `T`, keeping its span; a type error is reported there.
fn typed<T: DeserializeOwned>(
    name: &str,
    value: Spanned<toml::Value>,
    file: &SourceFile,
    diags: &mut Diagnostics,
) -> Option<Spanned<T>> {
    let span = value.span();
    match value.into_inner().try_into::<T>() {
        Ok(v) => Some(Spanned::new(span, v)),
        Err(e) => {
            let help = "cargo-lambda and ferry take the same types for this key; see the README";
            diags.error(
                file,
                span,
                format!("{TABLE}.{name}"),
                e.message().to_owned(),
                Some(help.into()),
            );
            None
        }
    }
}

/// Gives each inner value the span of the whole table, which is all a
/// converted `toml::Value` can still point at.
fn spread<T>(map: Spanned<BTreeMap<String, T>>) -> Spanned<BTreeMap<String, Spanned<T>>> {
    let span = map.span();
    let inner = map
        .into_inner()
        .into_iter()
        .map(|(k, v)| (k, Spanned::new(span.clone(), v)))
        .collect();
    Spanned::new(span, inner)
}

fn spread_vec(list: Spanned<Vec<String>>) -> Spanned<Vec<Spanned<String>>> {
    let span = list.span();
    let inner = list
        .into_inner()
        .into_iter()
        .map(|v| Spanned::new(span.clone(), v))
        .collect();
    Spanned::new(span, inner)
}
