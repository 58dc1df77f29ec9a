//! The S3 artifact store of a stage: the bucket its zips are uploaded to,
//! once each under their content hash, and Lambda takes function code and
//! layer versions from. `[app]`'s `artifact-bucket` is every stage's unless
//! the stage names its own; the name is checked against S3's rules here,
//! before any AWS call.

use serde::Serialize;
use toml::Spanned;

use super::diag::{Diagnostics, SourceFile};
use super::raw_store::RawArtifactBucket;

/// Where the bucket was declared, for errors about it found live.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoreOrigin {
    pub file: String,
    pub line: usize,
    pub key: String,
}

impl StoreOrigin {
    /// `deploy.toml:12 \`stages.prod.artifact-bucket\``.
    pub fn place(&self) -> String {
        format!("{}:{} `{}`", self.file, self.line, self.key)
    }
}

/// A stage's artifact bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArtifactStore {
    pub bucket: String,
    /// Create it (encrypted, public access blocked) when it does not exist.
    pub create: bool,
    pub origin: StoreOrigin,
}

/// The key of a zip in the bucket: its hex SHA-256, so a zip is uploaded
/// once whichever stage or app deploys it.
pub fn zip_key(sha256_hex: &str) -> String {
    format!("ferry/zips/{sha256_hex}.zip")
}

/// The key of a release's build manifest, by the manifest's hex SHA-256.
pub fn manifest_key(app: &str, manifest_sha256: &str) -> String {
    format!("ferry/releases/{app}/{manifest_sha256}/manifest.json")
}

/// The metadata key that keeps a release manifest's commit.
pub const COMMIT_METADATA: &str = "ferry-commit";

/// Checks `artifact-bucket` at `key` of `file`.
pub(crate) fn check(
    raw: &Spanned<RawArtifactBucket>,
    key: &str,
    file: &SourceFile,
    diags: &mut Diagnostics,
) -> Option<ArtifactStore> {
    let (name, name_span, name_key, create) = match raw.get_ref() {
        RawArtifactBucket::Name(name) => (name.clone(), raw.span(), key.to_owned(), false),
        RawArtifactBucket::Table(t) => (
            t.name.get_ref().clone(),
            t.name.span(),
            format!("{key}.name"),
            t.create.as_ref().is_some_and(|c| *c.get_ref()),
        ),
    };
    if let Err(why) = check_bucket_name(&name) {
        let help = "S3 bucket names are 3-63 lowercase letters, digits, `-` and `.`, starting and ending with a letter or digit, e.g. `items-artifacts-123456789012`";
        diags.error(
            file,
            name_span,
            name_key,
            format!("`{name}` is not a valid S3 bucket name: {why}"),
            Some(help.into()),
        );
        return None;
    }
    Some(ArtifactStore {
        bucket: name,
        create,
        origin: StoreOrigin {
            file: file.display.clone(),
            line: file.line_of(raw.span().start),
            key: key.to_owned(),
        },
    })
}

/// S3's naming rules for general purpose buckets.
pub fn check_bucket_name(name: &str) -> Result<(), String> {
    if !(3..=63).contains(&name.len()) {
        return Err(format!("{} characters, not 3 to 63", name.len()));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-' || *c == '.'))
    {
        return Err(format!("`{c}` is not allowed"));
    }
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !edge(name.chars().next()) || !edge(name.chars().last()) {
        return Err("it must start and end with a letter or digit".into());
    }
    if name.contains("..") {
        return Err("two dots in a row".into());
    }
    if name.split('.').count() == 4 && name.split('.').all(|p| p.parse::<u8>().is_ok()) {
        return Err("it looks like an IP address".into());
    }
    for prefix in ["xn--", "sthree-", "amzn-s3-demo-"] {
        if name.starts_with(prefix) {
            return Err(format!("S3 reserves the prefix `{prefix}`"));
        }
    }
    for suffix in ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"] {
        if name.ends_with(suffix) {
            return Err(format!("S3 reserves the suffix `{suffix}`"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names() {
        for ok in ["items-artifacts-123456789012", "abc", "a.b-c1"] {
            assert_eq!(check_bucket_name(ok), Ok(()), "{ok}");
        }
        for bad in [
            "ab",
            "Items",
            "-items",
            "items-",
            "a..b",
            "192.168.1.1",
            "xn--items",
            "items-s3alias",
            "under_score",
            &"a".repeat(64),
        ] {
            assert!(check_bucket_name(bad).is_err(), "{bad}");
        }
    }
}

#[cfg(test)]
mod read_tests {
    use crate::model::fixture::Fixture;

    fn shop(app: &str, stages: &str) -> Fixture {
        Fixture::new()
            .file(
                "deploy.toml",
                &format!(
                    "[app]\nname = \"shop\"\n{app}\n[stages.test]\nregion = \"us-east-1\"\n\n[stages.prod]\nregion = \"eu-west-1\"\n{stages}"
                ),
            )
            .service("list", "routes = [\"GET /items\"]\n")
    }

    #[test]
    fn the_app_bucket_serves_every_stage_but_one_with_its_own() {
        let fixture = shop(
            "artifact-bucket = \"shop-artifacts\"\n",
            "artifact-bucket = { name = \"shop-artifacts-eu\", create = true }\n",
        );
        let ws = fixture.load().unwrap();
        let test = ws.stages["test"].artifacts.as_ref().unwrap();
        assert_eq!(
            (test.bucket.as_str(), test.create),
            ("shop-artifacts", false)
        );
        assert_eq!(test.origin.place(), "deploy.toml:3 `app.artifact-bucket`");
        let prod = ws.stages["prod"].artifacts.as_ref().unwrap();
        assert_eq!(
            (prod.bucket.as_str(), prod.create),
            ("shop-artifacts-eu", true)
        );
        assert_eq!(prod.origin.key, "stages.prod.artifact-bucket");
        assert!(shop("", "").load().unwrap().stages["test"]
            .artifacts
            .is_none());
    }

    #[test]
    fn a_bad_bucket_names_file_line_and_key() {
        let bad_name = shop("artifact-bucket = \"Shop_Artifacts\"\n", "");
        let unknown = shop(
            "",
            "artifact-bucket = { name = \"shop-eu\", craete = true }\n",
        );
        insta::assert_snapshot!(
            "artifact_bucket_errors",
            format!(
                "{}\n{}",
                bad_name.redacted_errors(),
                unknown.redacted_errors()
            )
        );
    }
}
