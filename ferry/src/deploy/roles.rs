//! Per-service roles: a service that declares `permissions` runs with a
//! role of its own, holding exactly its statements (one inline policy) and
//! the managed policies Lambda needs for logs, tracing and a VPC. Owns the
//! role's name and path, the policy document, the statement-by-statement
//! comparison with the live one, and the plan's role actions. Pure.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::action::{managed_policies, Action, InlinePolicy, LAMBDA_TRUST_POLICY};
use super::state::{Desired, DesiredFunction, Live};
use crate::model::permissions::{Permission, Scope};

/// The inline policy that holds a service's declared statements.
pub const PERMISSIONS_POLICY: &str = "ferry-permissions";

/// IAM's limit on the inline policies of one role, in characters
/// (whitespace excluded; ferry writes none).
pub const MAX_INLINE_CHARS: usize = 10_240;

/// The IAM path of a stage's service roles, so that `destroy` finds them
/// all, even a removed service's.
pub fn role_path(app: &str, stage: &str) -> String {
    format!("/ferry/{app}/{stage}/")
}

/// The role of the function named `function`: its name and `-ferry`, cut
/// to IAM's 64 characters with a hash that keeps cut names apart.
pub fn service_role_name(function: &str) -> String {
    capped_name(format!("{function}-ferry"), 64)
}

/// `name` if it has at most `max` characters, else cut with a hash of the
/// whole that keeps cut names apart.
pub fn capped_name(name: String, max: usize) -> String {
    if name.len() <= max {
        return name;
    }
    let hash: String = Sha256::digest(name.as_bytes())[..4]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("{}-{hash}", &name[..max - 9])
}

/// One IAM statement as ferry compares them: actions and resources sorted.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    pub effect: String,
    pub actions: BTreeSet<String>,
    pub resources: BTreeSet<String>,
}

impl fmt::Display for Statement {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let join =
            |s: &BTreeSet<String>| s.iter().map(String::as_str).collect::<Vec<_>>().join(", ");
        write!(
            f,
            "{} {} on {}",
            self.effect,
            join(&self.actions),
            join(&self.resources)
        )
    }
}

/// The role ferry keeps for one service.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceRole {
    pub name: String,
    pub path: String,
    pub service: String,
    /// Placeholders expanded but `${account}`, which the plan fills in.
    pub statements: Vec<Statement>,
}

impl ServiceRole {
    /// The role for `service`'s declared `permissions` on a stage.
    pub fn new(
        function: &str,
        service: &str,
        permissions: &[Permission],
        scope: &Scope,
    ) -> ServiceRole {
        let statements = permissions
            .iter()
            .map(|p| Statement {
                effect: "Allow".into(),
                actions: p.actions.iter().map(|a| a.as_str().to_owned()).collect(),
                resources: p.resources.iter().map(|r| r.expand(scope)).collect(),
            })
            .collect();
        ServiceRole {
            name: service_role_name(function),
            path: role_path(scope.app, scope.stage),
            service: service.to_owned(),
            statements,
        }
    }

    /// The length of its policy document, which IAM limits: the same in
    /// every account, as account ids are all 12 digits.
    pub fn document_chars(&self) -> usize {
        document(&self.statements_in("000000000000")).len()
    }

    /// Its statements in `account`.
    pub fn statements_in(&self, account: &str) -> Vec<Statement> {
        let mut out: Vec<Statement> = self
            .statements
            .iter()
            .map(|s| Statement {
                resources: s
                    .resources
                    .iter()
                    .map(|r| r.replace("${account}", account))
                    .collect(),
                ..s.clone()
            })
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

/// A policy document of `statements`, as IAM takes it.
pub fn document(statements: &[Statement]) -> String {
    let statements: Vec<serde_json::Value> = statements
        .iter()
        .map(|s| {
            serde_json::json!({
                "Effect": s.effect,
                "Action": s.actions,
                "Resource": s.resources,
            })
        })
        .collect();
    serde_json::json!({"Version": "2012-10-17", "Statement": statements}).to_string()
}

/// The statements of a live policy document; `None` when it is not one.
pub fn parse_document(text: &str) -> Option<Vec<Statement>> {
    let doc: serde_json::Value = serde_json::from_str(text).ok()?;
    let list = match doc.get("Statement")? {
        serde_json::Value::Array(a) => a.clone(),
        one => vec![one.clone()],
    };
    let strings = |v: Option<&serde_json::Value>| -> Option<BTreeSet<String>> {
        match v? {
            serde_json::Value::String(s) => Some(BTreeSet::from([s.clone()])),
            serde_json::Value::Array(a) => {
                a.iter().map(|s| s.as_str().map(str::to_owned)).collect()
            }
            _ => None,
        }
    };
    let mut out: Vec<Statement> = list
        .iter()
        .map(|s| {
            // Keys ferry never writes (a Condition added by hand, say)
            // make the statement differ from any ferry wants.
            let extra: Vec<&str> = s
                .as_object()?
                .keys()
                .map(String::as_str)
                .filter(|k| !["Effect", "Action", "Resource", "Sid"].contains(k))
                .collect();
            let effect = s.get("Effect")?.as_str()?;
            Some(Statement {
                effect: if extra.is_empty() {
                    effect.to_owned()
                } else {
                    format!("{effect} (with {})", extra.join(", "))
                },
                actions: strings(s.get("Action"))?,
                resources: strings(s.get("Resource"))?,
            })
        })
        .collect::<Option<_>>()?;
    out.sort();
    out.dedup();
    Some(out)
}

/// What changes from `live` to `wanted`, a statement a line: `+ …` added,
/// `- …` removed (an edited statement is one of each).
pub fn statement_changes(live: &[Statement], wanted: &[Statement]) -> Vec<String> {
    let mut out: Vec<String> = wanted
        .iter()
        .filter(|s| !live.contains(s))
        .map(|s| format!("+ {s}"))
        .collect();
    out.extend(
        live.iter()
            .filter(|s| !wanted.contains(s))
            .map(|s| format!("- {s}")),
    );
    out
}

/// A service role as read from IAM.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LiveRole {
    /// The managed policies attached.
    pub attached: Vec<String>,
    /// The document of [`PERMISSIONS_POLICY`], URL-decoded, if it exists.
    pub permissions: Option<String>,
}

/// The managed policies `role` holds for the functions that run with it.
pub fn role_policies(desired: &Desired, role: &str) -> Vec<String> {
    managed_policies(functions_of(desired, role))
}

fn functions_of<'a>(
    desired: &'a Desired,
    role: &'a str,
) -> impl Iterator<Item = &'a DesiredFunction> {
    desired.functions.values().filter(
        move |f| matches!(&f.role, super::state::DesiredRole::Service { name, .. } if name == role),
    )
}

/// The writes that bring each service role to what `desired` declares.
pub fn actions(
    desired: &Desired,
    live: &Live,
    actions: &mut Vec<Action>,
    unchanged: &mut Vec<String>,
) {
    for role in desired.service_roles.values() {
        let wanted = role.statements_in(&live.account_id);
        let policies = role_policies(desired, &role.name);
        let Some(current) = live.service_roles.get(&role.name) else {
            actions.push(Action::CreateRole {
                name: role.name.clone(),
                description: format!(
                    "Lambda execution role of {} stage {} service {}, managed by ferry",
                    desired.app, desired.stage, role.service
                ),
                trust_policy: LAMBDA_TRUST_POLICY.to_owned(),
                policies,
                path: Some(role.path.clone()),
                inline: Some(inline_policy(&wanted)),
            });
            continue;
        };
        let missing: Vec<String> = policies
            .into_iter()
            .filter(|p| !current.attached.contains(p))
            .collect();
        let before = actions.len();
        if !missing.is_empty() {
            actions.push(Action::AttachRolePolicies {
                role: role.name.clone(),
                policies: missing,
            });
        }
        actions.extend(policy_update(&role.name, current, &wanted));
        if actions.len() == before {
            unchanged.push(format!("role {}", role.name));
        }
    }
}

/// A new role's [`PERMISSIONS_POLICY`] with `wanted`.
pub fn inline_policy(wanted: &[Statement]) -> InlinePolicy {
    InlinePolicy {
        name: PERMISSIONS_POLICY.to_owned(),
        document: document(wanted),
        statements: wanted.iter().map(ToString::to_string).collect(),
    }
}

/// The write that puts `role`'s [`PERMISSIONS_POLICY`] back to `wanted`,
/// if its statements differ.
pub fn policy_update(role: &str, live: &LiveRole, wanted: &[Statement]) -> Option<Action> {
    let statements = live
        .permissions
        .as_deref()
        .and_then(parse_document)
        .unwrap_or_default();
    (statements != wanted).then(|| Action::PutRolePolicy {
        role: role.to_owned(),
        policy: PERMISSIONS_POLICY.to_owned(),
        document: document(wanted),
        changes: statement_changes(&statements, wanted),
    })
}

/// What `doctor` finds wrong with `role`'s [`PERMISSIONS_POLICY`], if
/// anything.
pub fn policy_problem(role: &str, live: &LiveRole, wanted: &[Statement]) -> Option<String> {
    match live.permissions.as_deref().map(parse_document) {
        Some(Some(s)) if s == wanted => None,
        Some(Some(s)) => Some(format!(
            "role {role} policy differs: {}",
            statement_changes(&s, wanted).join("; ")
        )),
        Some(None) => Some(format!(
            "role {role} policy {PERMISSIONS_POLICY} is not a policy ferry wrote"
        )),
        None => Some(format!("role {role} has no {PERMISSIONS_POLICY} policy")),
    }
}

/// A role action as lines of the plan: statements one a line.
pub fn line(action: &Action) -> String {
    let short = |policies: &[String]| {
        policies
            .iter()
            .map(|p| p.rsplit('/').next().unwrap_or(p))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut out = match action {
        Action::CreateRole { name, policies, .. } if policies.is_empty() => {
            format!("  + create   role {name} (or complete it):")
        }
        Action::CreateRole { name, policies, .. } => {
            // An existing role lacking one of them is completed instead.
            format!(
                "  + create   role {name} (or complete it) with {}",
                short(policies)
            )
        }
        Action::AttachRolePolicies { role, policies } => {
            format!("  ~ update   role {role}: attach {}", short(policies))
        }
        Action::PutRolePolicy { role, policy, .. } => {
            format!("  ~ update   role {role} policy {policy}:")
        }
        _ => return String::new(),
    };
    let statements = match action {
        Action::CreateRole {
            inline: Some(inline),
            ..
        } => inline.statements.iter().map(|s| format!("+ {s}")).collect(),
        Action::PutRolePolicy { changes, .. } => changes.clone(),
        _ => Vec::new(),
    };
    for s in statements {
        out.push_str(&format!("\n               {s}"));
    }
    out
}

/// What `doctor` finds wrong with the service roles (empty: they hold):
/// a role missing or short of a policy, statements that differ, a function
/// running with another role.
pub fn problems(desired: &Desired, live: &Live) -> Vec<String> {
    let mut out = Vec::new();
    for role in desired.service_roles.values() {
        let Some(current) = live.service_roles.get(&role.name) else {
            out.push(format!("role {} does not exist", role.name));
            continue;
        };
        let wanted = role.statements_in(&live.account_id);
        out.extend(policy_problem(&role.name, current, &wanted));
        for policy in role_policies(desired, &role.name) {
            if !current.attached.contains(&policy) {
                out.push(format!("role {} lacks {policy}", role.name));
            }
        }
    }
    for f in desired.functions.values() {
        let wanted = f.role.arn(&live.account_id);
        match live.functions.get(&f.name) {
            Some(l)
                if matches!(f.role, super::state::DesiredRole::Service { .. })
                    && l.role != wanted =>
            {
                out.push(format!("{} runs with {}, not {wanted}", f.name, l.role));
            }
            _ => {}
        }
    }
    out
}
