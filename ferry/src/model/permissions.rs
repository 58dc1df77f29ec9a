//! A service's own AWS permissions: the IAM statements of the role ferry
//! makes for it. Owns the validated [`Permission`], its newtypes, the
//! `${app}`/`${stage}`/`${region}`/`${account}` placeholders, and the
//! checks of the raw tables (`raw_permissions.rs`).

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::diag::{Diagnostics, SourceFile};
use super::raw_permissions::RawPermission;

/// The placeholders a resource may hold.
pub const PLACEHOLDERS: [&str; 4] = ["app", "stage", "region", "account"];

/// An IAM action: `service:Action`, the name optionally wildcarded.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IamAction(String);

impl IamAction {
    pub fn parse(text: &str) -> Result<Self, String> {
        let Some((service, action)) = text.split_once(':') else {
            return Err(format!("`{text}` is not an IAM action (`service:Action`)"));
        };
        let service_ok = !service.is_empty()
            && service
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        let action_ok = !action.is_empty()
            && action
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '*' || c == '?');
        if service_ok && action_ok {
            Ok(IamAction(text.to_owned()))
        } else {
            Err(format!("`{text}` is not an IAM action (`service:Action`)"))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A resource ARN (or `*`) that may hold placeholders.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ResourcePattern(String);

/// The values placeholders take on one stage.
pub struct Scope<'a> {
    pub app: &'a str,
    pub stage: &'a str,
    pub region: &'a str,
    /// `None` keeps `${account}`: the deploy side knows it, the model not.
    pub account: Option<&'a str>,
}

impl ResourcePattern {
    pub fn parse(text: &str) -> Result<Self, String> {
        if text != "*" && !text.starts_with("arn:") {
            return Err(format!("`{text}` is neither an ARN nor `*`"));
        }
        // arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE, as IAM would
        // otherwise refuse it in the middle of a deploy.
        let fields: Vec<&str> = text.splitn(6, ':').collect();
        if text != "*"
            && (fields.len() < 6
                || fields[1].is_empty()
                || fields[2].is_empty()
                || fields[5].is_empty()
                || text.chars().any(char::is_whitespace))
        {
            return Err(format!(
                "`{text}` is not an ARN (`arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`)"
            ));
        }
        let mut rest = text;
        while let Some(at) = rest.find("${") {
            let Some(end) = rest[at..].find('}') else {
                return Err(format!("`{text}` has a `${{` that is never closed"));
            };
            let name = &rest[at + 2..at + end];
            if !PLACEHOLDERS.contains(&name) {
                return Err(format!("`${{{name}}}` is not a placeholder ferry knows"));
            }
            rest = &rest[at + end + 1..];
        }
        Ok(ResourcePattern(text.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The resource on a stage: its placeholders replaced.
    pub fn expand(&self, scope: &Scope) -> String {
        let mut text = self
            .0
            .replace("${app}", scope.app)
            .replace("${stage}", scope.stage)
            .replace("${region}", scope.region);
        if let Some(account) = scope.account {
            text = text.replace("${account}", account);
        }
        text
    }
}

/// One statement: the service may call `actions` on `resources`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Permission {
    pub actions: BTreeSet<IamAction>,
    pub resources: BTreeSet<ResourcePattern>,
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let actions: Vec<&str> = self.actions.iter().map(IamAction::as_str).collect();
        let resources: Vec<&str> = self.resources.iter().map(ResourcePattern::as_str).collect();
        write!(f, "{} on {}", actions.join(", "), resources.join(", "))
    }
}

/// Checks `[[KEY]]` tables; statements with a problem are left out.
pub fn check(
    raw: &[Spanned<RawPermission>],
    key: &str,
    file: &SourceFile,
    diags: &mut Diagnostics,
) -> Vec<Permission> {
    let mut out = Vec::new();
    for table in raw {
        let span = table.span();
        let raw = table.get_ref();
        let actions = list(
            raw.actions.as_ref(),
            (key, "actions"),
            span.clone(),
            file,
            diags,
            |t| {
                if t == "*" {
                    return Err("`*` grants every action of every AWS service".to_owned());
                }
                IamAction::parse(t)
            },
        );
        let resources = list(
            raw.resources.as_ref(),
            (key, "resources"),
            span,
            file,
            diags,
            ResourcePattern::parse,
        );
        if let (Some(actions), Some(resources)) = (actions, resources) {
            out.push(Permission { actions, resources });
        }
    }
    out
}

fn list<T: Ord>(
    raw: Option<&Spanned<Vec<Spanned<String>>>>,
    (key, field): (&str, &str),
    table: std::ops::Range<usize>,
    file: &SourceFile,
    diags: &mut Diagnostics,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Option<BTreeSet<T>> {
    let key = format!("{key}.{field}");
    let help = match field {
        "actions" => "list IAM actions as `service:Action`, e.g. `actions = [\"dynamodb:GetItem\"]` (AWS's Service Authorization Reference names them)",
        _ => "list resource ARNs, e.g. `resources = [\"arn:aws:dynamodb:${region}:${account}:table/${app}-${stage}-items\"]`; placeholders are ${app}, ${stage}, ${region} and ${account}; `\"*\"` only for actions that take no resource",
    };
    let Some(items) = raw.filter(|r| !r.get_ref().is_empty()) else {
        let span = raw.map_or(table, Spanned::span);
        diags.error(
            file,
            span,
            key,
            format!("a permission needs at least one of its `{field}`"),
            Some(help.to_owned()),
        );
        return None;
    };
    let mut out = BTreeSet::new();
    let mut ok = true;
    for item in items.get_ref() {
        match parse(item.get_ref()) {
            Ok(value) => {
                out.insert(value);
            }
            Err(why) => {
                diags.error(file, item.span(), key.clone(), why, Some(help.to_owned()));
                ok = false;
            }
        }
    }
    ok.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_and_resources_parse_as_iam_takes_them() {
        assert!(IamAction::parse("dynamodb:GetItem").is_ok());
        assert!(IamAction::parse("s3:Get*").is_ok());
        assert!(IamAction::parse("GetItem").is_err());
        assert!(IamAction::parse("s3:").is_err());
        assert!(IamAction::parse("S3:GetObject").is_err());
        assert!(ResourcePattern::parse("*").is_ok());
        assert!(ResourcePattern::parse("table/items").is_err());
        assert!(ResourcePattern::parse("arn:aws:s3").is_err());
        assert!(ResourcePattern::parse("arn:aws:s3:::my bucket").is_err());
        assert!(ResourcePattern::parse("arn:aws:s3:::bucket/*").is_ok());
        assert!(ResourcePattern::parse("arn:aws:s3:::${app}-${bucket}").is_err());
        assert!(ResourcePattern::parse("arn:aws:s3:::${app").is_err());
        let r =
            ResourcePattern::parse("arn:aws:dynamodb:${region}:${account}:table/${app}-${stage}")
                .unwrap();
        let scope = Scope {
            app: "shop",
            stage: "prod",
            region: "eu-west-1",
            account: None,
        };
        assert_eq!(
            r.expand(&scope),
            "arn:aws:dynamodb:eu-west-1:${account}:table/shop-prod"
        );
        let scope = Scope {
            account: Some("123456789012"),
            ..scope
        };
        assert_eq!(
            r.expand(&scope),
            "arn:aws:dynamodb:eu-west-1:123456789012:table/shop-prod"
        );
    }
}
