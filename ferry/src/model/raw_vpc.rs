//! The raw TOML schema of a function's network as users write it:
//! `[stages.NAME.vpc]`, `[package.metadata.ferry.vpc]`, and a stage's
//! per-service `vpc` (a table, or `false` to keep the service out of the
//! stage's VPC); spans kept, no defaults applied. `vpc.rs` checks them.

use std::fmt;

use schemars::JsonSchema;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use toml::Spanned;

use super::vpc::{MAX_SECURITY_GROUPS, MAX_SUBNETS};

/// A VPC for Lambda functions: they reach what the subnets reach (an RDS
/// database, say) and lose the internet unless the subnets route to a NAT
/// gateway. Both lists are required.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawVpc {
    /// Subnet ids (`subnet-…`), 1 to 16, all in one VPC; two or more in
    /// different availability zones keep the function up when one fails.
    #[schemars(with = "Vec<String>", length(min = 1, max = MAX_SUBNETS))]
    pub subnets: Option<Spanned<Vec<Spanned<String>>>>,
    /// Security group ids (`sg-…`), 1 to 5, of the subnets' VPC.
    #[schemars(with = "Vec<String>", length(min = 1, max = MAX_SECURITY_GROUPS))]
    pub security_groups: Option<Spanned<Vec<Spanned<String>>>>,
    /// Let the function use IPv6 in dual-stack subnets. Default: `false`.
    #[schemars(with = "Option<bool>")]
    pub ipv6_dual_stack: Option<Spanned<bool>>,
}

/// A stage's per-service `vpc`: its own subnets and security groups, or
/// `false` for none (outside the stage's VPC).
#[derive(Debug)]
pub enum RawVpcOverride {
    Off(bool),
    Vpc(RawVpc),
}

impl<'de> Deserialize<'de> for RawVpcOverride {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Either;
        impl<'de> Visitor<'de> for Either {
            type Value = RawVpcOverride;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("`false` or a table with `subnets` and `security-groups`")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(RawVpcOverride::Off(v))
            }
            // Delegating keeps the spans and the unknown-key errors of the
            // table's own keys.
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                RawVpc::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(RawVpcOverride::Vpc)
            }
        }
        deserializer.deserialize_any(Either)
    }
}

impl JsonSchema for RawVpcOverride {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "RawVpcOverride".into()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let table = generator.subschema_for::<RawVpc>();
        schemars::json_schema!({
            "description": "This service's own VPC on this stage, or `false` to keep it out of the stage's.",
            "anyOf": [{ "const": false }, table]
        })
    }
}
