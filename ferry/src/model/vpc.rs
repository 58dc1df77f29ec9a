//! A function's network: the VPC subnets and security groups Lambda puts
//! its network interfaces in. Owns the validated [`Vpc`] and the checks of
//! its raw tables (`raw_vpc.rs`): id shapes, Lambda's limits (16 subnets, 5
//! security groups). That the ids exist, in one VPC, is checked live by the
//! AWS side before anything is built.

use std::collections::BTreeSet;
use std::fmt;
use std::ops::Range;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::diag::{Diagnostics, SourceFile};
use super::raw_vpc::{RawVpc, RawVpcOverride};

/// Lambda's limits on one function's VPC configuration.
pub const MAX_SUBNETS: usize = 16;
pub const MAX_SECURITY_GROUPS: usize = 5;

/// An EC2 subnet id: `subnet-` and 8 or 17 hex digits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SubnetId(String);

/// An EC2 security group id: `sg-` and 8 or 17 hex digits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecurityGroupId(String);

macro_rules! ec2_id {
    ($type:ident, $prefix:literal) => {
        impl $type {
            /// The id, when `text` has the shape EC2 gives its ids.
            pub fn parse(text: &str) -> Option<Self> {
                let hex = text.strip_prefix($prefix)?;
                ((hex.len() == 8 || hex.len() == 17)
                    && hex
                        .chars()
                        .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)))
                .then(|| Self(text.to_owned()))
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Display for $type {
            fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}
ec2_id!(SubnetId, "subnet-");
ec2_id!(SecurityGroupId, "sg-");

/// Where a function's network interfaces go. Sets, because Lambda keeps
/// no order of its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vpc {
    pub subnets: BTreeSet<SubnetId>,
    pub security_groups: BTreeSet<SecurityGroupId>,
    #[serde(default)]
    pub ipv6_dual_stack: bool,
}

impl fmt::Display for Vpc {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let join = |ids: Vec<&str>| ids.join(",");
        write!(
            f,
            "subnets {} groups {}",
            join(self.subnets.iter().map(SubnetId::as_str).collect()),
            join(
                self.security_groups
                    .iter()
                    .map(SecurityGroupId::as_str)
                    .collect()
            ),
        )?;
        if self.ipv6_dual_stack {
            f.write_str(" ipv6")?;
        }
        Ok(())
    }
}

/// Where a function's VPC was set, for messages that send the user there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VpcOrigin {
    /// `[stages.S.services.X.vpc]` in deploy.toml.
    Override,
    /// `[stages.S.vpc]` in deploy.toml.
    Stage,
    /// The service's Cargo.toml.
    Service,
}

impl VpcOrigin {
    /// The file and key of `service`'s VPC on `stage`.
    pub fn place(self, stage: &str, service: &super::Service) -> String {
        match self {
            VpcOrigin::Override => format!("deploy.toml `stages.{stage}.services.{}.vpc`", service.name),
            VpcOrigin::Stage => format!("deploy.toml `stages.{stage}.vpc`"),
            VpcOrigin::Service => format!(
                "{}/Cargo.toml `package.metadata.ferry.vpc` (or cargo-lambda's `subnet_ids`, `security_group_ids`)",
                service.dir.display()
            ),
        }
    }
}

/// A stage's per-service choice: the service's own VPC, or none at all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VpcChoice {
    Outside,
    Inside(Vpc),
}

/// Checks one `vpc` table; `key` is its dotted path for the messages.
pub(crate) fn check(
    raw: &Spanned<RawVpc>,
    key: &str,
    file: &SourceFile,
    diags: &mut Diagnostics,
) -> Option<Vpc> {
    check_table(raw.get_ref(), raw.span(), (key, FERRY_KEYS), file, diags)
}

/// The names of the two lists where the user wrote them.
pub(crate) type KeyNames = (&'static str, &'static str);
pub(crate) const FERRY_KEYS: KeyNames = ("subnets", "security-groups");
/// cargo-lambda's `subnet_ids` and `security_group_ids`, read into a [`RawVpc`].
pub(crate) const CARGO_LAMBDA_KEYS: KeyNames = ("subnet_ids", "security_group_ids");

/// Checks one table whose keys are named `names` under `key`.
pub(crate) fn check_table(
    table: &RawVpc,
    span: Range<usize>,
    (key, names): (&str, KeyNames),
    file: &SourceFile,
    diags: &mut Diagnostics,
) -> Option<Vpc> {
    let subnets = ids(
        (&table.subnets, span.clone()),
        (key, names.0, MAX_SUBNETS),
        SubnetId::parse,
        "subnet ids look like `subnet-0123456789abcdef0` (`aws ec2 describe-subnets` lists them)",
        file,
        diags,
    );
    let groups = ids(
        (&table.security_groups, span),
        (key, names.1, MAX_SECURITY_GROUPS),
        SecurityGroupId::parse,
        "security group ids look like `sg-0123456789abcdef0` (`aws ec2 describe-security-groups` lists them)",
        file,
        diags,
    );
    Some(Vpc {
        subnets: subnets?,
        security_groups: groups?,
        ipv6_dual_stack: table.ipv6_dual_stack.as_ref().is_some_and(|v| *v.get_ref()),
    })
}

/// Checks a stage's per-service `vpc`: `false`, or a table.
pub(crate) fn check_override(
    raw: &Spanned<RawVpcOverride>,
    key: &str,
    file: &SourceFile,
    diags: &mut Diagnostics,
) -> Option<VpcChoice> {
    match raw.get_ref() {
        RawVpcOverride::Off(false) => Some(VpcChoice::Outside),
        RawVpcOverride::Off(true) => {
            diags.error(
                file,
                raw.span(),
                key,
                "`vpc = true` names no VPC",
                Some("write `vpc = false` to keep the service out of the stage's VPC, give it a table with `subnets` and `security-groups`, or remove the key to use the stage's".into()),
            );
            None
        }
        RawVpcOverride::Vpc(table) => {
            check_table(table, raw.span(), (key, FERRY_KEYS), file, diags).map(VpcChoice::Inside)
        }
    }
}

type RawIds = Option<Spanned<Vec<Spanned<String>>>>;

/// One required list of ids: present, 1 to `max` of them, each well
/// formed, none twice.
fn ids<T: Ord>(
    (list, table): (&RawIds, Range<usize>),
    (key, name, max): (&str, &str, usize),
    parse: fn(&str) -> Option<T>,
    shape: &str,
    file: &SourceFile,
    diags: &mut Diagnostics,
) -> Option<BTreeSet<T>> {
    let Some(list) = list else {
        diags.error(
            file,
            table,
            format!("{key}.{name}"),
            format!("`{name}` is missing"),
            Some(format!("a VPC needs both lists of ids; {shape}")),
        );
        return None;
    };
    let n = list.get_ref().len();
    if n == 0 || n > max {
        diags.error(
            file,
            list.span(),
            format!("{key}.{name}"),
            format!("{n} ids where Lambda takes 1 to {max}"),
            Some(format!("list 1 to {max} ids")),
        );
        return None;
    }
    let mut out = BTreeSet::new();
    let mut ok = true;
    for id in list.get_ref() {
        match parse(id.get_ref()).map(|parsed| out.insert(parsed)) {
            Some(true) => {}
            Some(false) => {
                diags.error(
                    file,
                    id.span(),
                    format!("{key}.{name}"),
                    format!("`{}` is listed twice", id.get_ref()),
                    Some("list each id once".into()),
                );
                ok = false;
            }
            None => {
                diags.error(
                    file,
                    id.span(),
                    format!("{key}.{name}"),
                    format!("`{}` is not a valid id here", id.get_ref()),
                    Some(shape.to_owned()),
                );
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
    fn ids_have_ec2_shapes() {
        assert!(SubnetId::parse("subnet-0123abcd").is_some());
        assert!(SubnetId::parse("subnet-0123456789abcdef0").is_some());
        assert!(SubnetId::parse("subnet-0123ABCD").is_none());
        assert!(SubnetId::parse("subnet-0123abc").is_none());
        assert!(SubnetId::parse("sg-0123abcd").is_none());
        assert!(SecurityGroupId::parse("sg-0123456789abcdef0").is_some());
        assert!(SecurityGroupId::parse("sg-xyz12345").is_none());
    }

    #[test]
    fn a_vpc_reads_as_the_plan_shows_it() {
        let vpc = Vpc {
            subnets: ["subnet-2222bbbb", "subnet-1111aaaa"]
                .into_iter()
                .filter_map(SubnetId::parse)
                .collect(),
            security_groups: SecurityGroupId::parse("sg-3333cccc").into_iter().collect(),
            ipv6_dual_stack: false,
        };
        assert_eq!(
            vpc.to_string(),
            "subnets subnet-1111aaaa,subnet-2222bbbb groups sg-3333cccc"
        );
    }
}

#[cfg(test)]
#[path = "vpc_tests.rs"]
mod model_tests;
