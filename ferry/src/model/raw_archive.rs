//! The raw TOML schema of a stage's log archive as users write it:
//! `[stages.NAME.log-archive]` with the bucket, whether ferry creates it,
//! and the key prefix. Spans kept, nothing checked; `archive.rs` checks it.

use schemars::JsonSchema;
use serde::Deserialize;
use toml::Spanned;

/// `[stages.NAME.log-archive]`: copy every function's log group (and the
/// API's access log group) to S3 through a Firehose delivery stream.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawLogArchive {
    /// The S3 bucket the logs land in, in the stage's region (it may be
    /// the artifact bucket).
    #[schemars(with = "String")]
    pub bucket: Spanned<String>,
    /// Create the bucket (encrypted, public access blocked) when it does
    /// not exist. Default: `false`: a missing bucket stops the deploy.
    #[schemars(with = "Option<bool>")]
    pub create: Option<Spanned<bool>>,
    /// The key prefix of the archived logs; Firehose adds `YYYY/MM/DD/HH/`
    /// (UTC) after it. Default: `logs/APP/STAGE/`.
    #[schemars(with = "Option<String>")]
    pub prefix: Option<Spanned<String>>,
}
