//! The raw TOML schema of the S3 artifact store as users write it:
//! `artifact-bucket` in `[app]` or `[stages.NAME]`, a bucket name or a table
//! `{ name = "…", create = true }`. Spans kept, nothing checked; `store.rs`
//! checks it.

use std::fmt;

use schemars::JsonSchema;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use toml::Spanned;

/// `artifact-bucket = { name = "…", create = true }`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawBucketTable {
    /// The S3 bucket's name, in the stage's region.
    #[schemars(with = "String")]
    pub name: Spanned<String>,
    /// Create the bucket (encrypted, public access blocked) when it does
    /// not exist. Default: `false`: a missing bucket stops the deploy.
    #[schemars(with = "Option<bool>")]
    pub create: Option<Spanned<bool>>,
}

/// `artifact-bucket`: the bucket's name, or a table with `create`.
#[derive(Debug)]
pub enum RawArtifactBucket {
    Name(String),
    Table(RawBucketTable),
}

impl<'de> Deserialize<'de> for RawArtifactBucket {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Either;
        impl<'de> Visitor<'de> for Either {
            type Value = RawArtifactBucket;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a bucket name, or a table `{ name = \"…\", create = true }`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(RawArtifactBucket::Name(v.to_owned()))
            }
            // Delegating keeps the spans and the unknown-key errors of the
            // table's own keys.
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                RawBucketTable::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(RawArtifactBucket::Table)
            }
        }
        deserializer.deserialize_any(Either)
    }
}

impl JsonSchema for RawArtifactBucket {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "RawArtifactBucket".into()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let table = generator.subschema_for::<RawBucketTable>();
        schemars::json_schema!({
            "description": "The S3 bucket zips are uploaded to and deployed from: its name, or `{ name, create }`.",
            "anyOf": [{ "type": "string" }, table]
        })
    }
}
