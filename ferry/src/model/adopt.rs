//! Adoption: a stage that takes over resources ferry did not create (what
//! `cargo xtask import` writes). A service's `function-name` names the
//! existing function it deploys to, and the stage API's `id` the existing
//! REST API; ferry then updates them in place and never deletes them.
//! Checked here, before any AWS call.

use std::collections::BTreeMap;

use toml::Spanned;

use super::diag::{Diagnostics, SourceFile};
use super::raw::RawServiceOverride;

/// Checks a `function-name` at `key`: Lambda's rule for a function's name.
pub(crate) fn check_function_name(
    raw: &Spanned<String>,
    key: &str,
    file: &SourceFile,
    diags: &mut Diagnostics,
) -> Option<String> {
    let name = raw.get_ref();
    let ok = (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        return Some(name.clone());
    }
    diags.error(
        file,
        raw.span(),
        key,
        format!("`{name}` is not a Lambda function name"),
        Some("write the existing function's name (1 to 64 letters, digits, `-` and `_`), as `aws lambda list-functions` prints it".into()),
    );
    None
}

/// Whether `id` has the form of a REST API id: ten lower-case letters and
/// digits.
pub fn is_api_id(id: &str) -> bool {
    id.len() == 10
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
}

/// Checks the stage API's `id` at `key`: API Gateway's REST API ids are ten
/// lower-case letters and digits, and an adopted API needs its `name`
/// (ferry's definition sets the API's title, which would rename it).
pub(crate) fn check_api_id(
    raw: &Spanned<String>,
    (named, key): (bool, &str),
    file: &SourceFile,
    diags: &mut Diagnostics,
) -> Option<String> {
    let id = raw.get_ref();
    let ok = is_api_id(id);
    if ok && !named {
        diags.error(
            file,
            raw.span(),
            key,
            format!("the adopted REST API `{id}` has no `name` here"),
            Some("set `name` to the API's current name (`aws apigateway get-rest-api --rest-api-id ID`): ferry's definition sets the API's title, which would rename it".into()),
        );
        return None;
    }
    if ok {
        return Some(id.clone());
    }
    diags.error(
        file,
        raw.span(),
        key,
        format!("`{id}` is not a REST API id"),
        Some("write the existing API's id (ten lower-case letters and digits, as `aws apigateway get-rest-apis` prints it), or remove `id` to let ferry create the API".into()),
    );
    None
}

/// The stage's per-service tables, as deploy.toml has them.
type RawOverrides = BTreeMap<Spanned<String>, Spanned<RawServiceOverride>>;

/// Two services of one stage that would deploy to one function: each adopted
/// name must be its own and must not be another service's default name.
pub(crate) fn check_distinct<'a>(
    (raw, services): (&RawOverrides, impl Iterator<Item = &'a String>),
    default_name: impl Fn(&str) -> String,
    key: impl Fn(&str) -> String,
    (file, diags): (&SourceFile, &mut Diagnostics),
) {
    let adopted = |service: &str| {
        raw.iter()
            .find(|(k, _)| k.get_ref() == service)
            .and_then(|(_, o)| o.get_ref().function_name.as_ref())
    };
    let mut order: Vec<(&String, Option<&Spanned<String>>)> =
        services.map(|s| (s, adopted(s))).collect();
    // Defaults first, so an adopted name that repeats one is the one blamed.
    order.sort_by_key(|(_, raw)| raw.is_some());
    let mut seen: BTreeMap<String, &str> = BTreeMap::new();
    for (service, raw) in order {
        let function = raw.map_or_else(|| default_name(service), |r| r.get_ref().clone());
        match (seen.get(&function), raw) {
            (Some(other), Some(raw)) => diags.error(
                file,
                raw.span(),
                key(service),
                format!("`{function}` is already the function of service `{other}` on this stage"),
                Some(
                    "give each service its own function: one crate deploys to one function".into(),
                ),
            ),
            _ => {
                seen.insert(function, service);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diags_of(f: impl FnOnce(&SourceFile, &mut Diagnostics)) -> Vec<String> {
        let file = SourceFile::new("deploy.toml", "x = 1\n");
        let mut diags = Diagnostics::default();
        f(&file, &mut diags);
        diags.errors.iter().map(|e| e.message.clone()).collect()
    }

    #[test]
    fn names_and_ids_follow_aws_rules() {
        let ok = diags_of(|file, diags| {
            let name = Spanned::new(0..1, "kstarlive-sample-readAllItems".to_owned());
            assert!(check_function_name(&name, "k", file, diags).is_some());
            let id = Spanned::new(0..1, "a1b2c3d4e5".to_owned());
            assert!(check_api_id(&id, (true, "k"), file, diags).is_some());
        });
        assert!(ok.is_empty(), "{ok:?}");
        let bad = diags_of(|file, diags| {
            let name = Spanned::new(0..1, "has space".to_owned());
            assert!(check_function_name(&name, "k", file, diags).is_none());
            let id = Spanned::new(0..1, "ABC".to_owned());
            assert!(check_api_id(&id, (true, "k"), file, diags).is_none());
            let unnamed = Spanned::new(0..1, "a1b2c3d4e5".to_owned());
            assert!(check_api_id(&unnamed, (false, "k"), file, diags).is_none());
        });
        assert_eq!(bad.len(), 3, "{bad:?}");
    }

    #[test]
    fn two_services_cannot_share_a_function() {
        let raw: RawOverrides =
            toml::from_str("list = { function-name = \"items-v1-get\" }\nget = { memory = 256 }\n")
                .unwrap();
        let services = ["get".to_owned(), "list".to_owned()];
        let found = diags_of(|file, diags| {
            check_distinct(
                (&raw, services.iter()),
                |s| format!("items-v1-{s}"),
                |s| format!("services.{s}.function-name"),
                (file, diags),
            )
        });
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("service `get`"), "{found:?}");
    }
}
