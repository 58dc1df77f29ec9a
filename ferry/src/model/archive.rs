//! A stage's log archive: the S3 bucket and key prefix its log groups are
//! copied to (through a subscription filter each and one Firehose delivery
//! stream), so that logs outlive the groups' retention. Checked here,
//! before any AWS call; `deploy::log_archive` plans the resources.

use serde::Serialize;
use toml::Spanned;

use super::diag::{Diagnostics, SourceFile};
use super::raw_archive::RawLogArchive;
use super::store::{check_bucket_name, ArtifactStore, StoreOrigin};

/// Where a stage's logs are archived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogArchive {
    /// The bucket, whether ferry creates it, and where deploy.toml names it.
    pub bucket: ArtifactStore,
    /// Ends with `/`; Firehose adds the date and hour after it.
    pub prefix: String,
}

/// Checks `[stages.STAGE.log-archive]` at `key` of `file`.
pub(crate) fn check(
    raw: &Spanned<RawLogArchive>,
    (app, stage): (&str, &str),
    key: &str,
    file: &SourceFile,
    diags: &mut Diagnostics,
) -> Option<LogArchive> {
    let table = raw.get_ref();
    let name = table.bucket.get_ref();
    let mut ok = true;
    if let Err(why) = check_bucket_name(name) {
        diags.error(
            file,
            table.bucket.span(),
            format!("{key}.bucket"),
            format!("`{name}` is not a valid S3 bucket name: {why}"),
            Some("S3 bucket names are 3-63 lowercase letters, digits, `-` and `.`, starting and ending with a letter or digit, e.g. `items-logs-123456789012`".into()),
        );
        ok = false;
    }
    let prefix = match &table.prefix {
        None => format!("logs/{app}/{stage}/"),
        Some(p) => match check_prefix(p.get_ref()) {
            Ok(()) => p.get_ref().clone(),
            Err(why) => {
                diags.error(
                    file,
                    p.span(),
                    format!("{key}.prefix"),
                    format!("`{}` is not a prefix ferry can archive under: {why}", p.get_ref()),
                    Some(format!("write a plain key prefix ending in `/`, e.g. `logs/{app}/{stage}/`; Firehose adds `YYYY/MM/DD/HH/` after it")),
                );
                ok = false;
                String::new()
            }
        },
    };
    ok.then(|| LogArchive {
        bucket: ArtifactStore {
            bucket: name.clone(),
            create: table.create.as_ref().is_some_and(|c| *c.get_ref()),
            origin: StoreOrigin {
                file: file.display.clone(),
                line: file.line_of(raw.span().start),
                key: format!("{key}.bucket"),
            },
        },
        prefix,
    })
}

/// A prefix Firehose takes as it is: no `!{…}` expressions (which would
/// need an error prefix and turn off the date partitions ferry relies on),
/// ending in `/`, within S3's key length.
fn check_prefix(prefix: &str) -> Result<(), String> {
    if prefix.is_empty() || !prefix.ends_with('/') {
        return Err("it must end with `/`".into());
    }
    if prefix.starts_with('/') {
        return Err("S3 keys do not start with `/`".into());
    }
    if prefix.contains("!{") {
        return Err("Firehose expressions (`!{…}`) are not supported".into());
    }
    if prefix.len() > 512 {
        return Err(format!("{} characters; at most 512", prefix.len()));
    }
    if let Some(c) = prefix.chars().find(|c| c.is_control() || *c == '\\') {
        return Err(format!("{c:?} is not allowed"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::model::fixture::Fixture;

    fn shop(archive: &str) -> Fixture {
        Fixture::new()
            .file(
                "deploy.toml",
                &format!(
                    "[app]\nname = \"shop\"\n\n[stages.prod]\nregion = \"eu-west-1\"\n{archive}"
                ),
            )
            .service("list", "routes = [\"GET /items\"]\n")
    }

    #[test]
    fn the_archive_takes_its_defaults_once() {
        let ws = shop("log-archive = { bucket = \"shop-logs\", create = true }\n")
            .load()
            .unwrap();
        let archive = ws.stages["prod"].log_archive.as_ref().unwrap();
        assert_eq!(archive.prefix, "logs/shop/prod/");
        assert_eq!(
            (archive.bucket.bucket.as_str(), archive.bucket.create),
            ("shop-logs", true)
        );
        assert_eq!(
            archive.bucket.origin.place(),
            "deploy.toml:6 `stages.prod.log-archive.bucket`"
        );
        let own = shop("[stages.prod.log-archive]\nbucket = \"shop-logs\"\nprefix = \"cw/\"\n")
            .load()
            .unwrap();
        let archive = own.stages["prod"].log_archive.as_ref().unwrap();
        assert_eq!(
            (archive.prefix.as_str(), archive.bucket.create),
            ("cw/", false)
        );
        assert!(shop("").load().unwrap().stages["prod"]
            .log_archive
            .is_none());
    }

    #[test]
    fn a_bad_archive_names_file_line_and_key() {
        let cases = [
            "log-archive = { bucket = \"Shop_Logs\" }\n",
            "log-archive = { bucket = \"shop-logs\", prefix = \"logs/!{timestamp:yyyy}/\" }\n",
            "log-archive = { bucket = \"shop-logs\", prefix = \"logs\" }\n",
            "log-archive = { bucket = \"shop-logs\", retention = 30 }\n",
        ];
        let errors: Vec<String> = cases.iter().map(|c| shop(c).redacted_errors()).collect();
        insta::assert_snapshot!("log_archive_errors", errors.join("\n"));
    }
}
