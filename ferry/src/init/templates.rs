//! The files `init` writes whole: the xtask shim crate and a first
//! deploy.toml. The example app in this repository carries the same shim, and
//! a test holds the two equal.

use std::path::Path;

use crate::model::{DEFAULT_LAYER_GLOBS, DEFAULT_SERVICE_GLOBS};

/// Where the workspace gets ferry from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A checkout of ferry on this machine: its root folder.
    Path(std::path::PathBuf),
    /// A git repository, pinned to a commit or a tag, or its default branch.
    Git { url: String, pin: Option<GitPin> },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GitPin {
    Rev(String),
    Tag(String),
}

impl Source {
    /// The dependency table for `crate_name` (`ferry` or `ferry-aws`).
    fn dependency(&self, crate_name: &str, shim_dir: &Path, optional: bool) -> String {
        let mut fields = match self {
            Source::Path(checkout) => {
                let dir = checkout.join(crate_name);
                let shown = relative_to(&dir, shim_dir).unwrap_or(dir);
                vec![format!("path = {}", quote(&shown.to_string_lossy()))]
            }
            Source::Git { url, pin } => {
                let mut fields = vec![format!("git = {}", quote(url))];
                match pin {
                    Some(GitPin::Rev(rev)) => fields.push(format!("rev = {}", quote(rev))),
                    Some(GitPin::Tag(tag)) => fields.push(format!("tag = {}", quote(tag))),
                    None => {}
                }
                fields
            }
        };
        if optional {
            fields.push("optional = true".into());
        }
        format!("{crate_name} = {{ {} }}", fields.join(", "))
    }
}

/// `dir` relative to `base` when both sit under one folder, e.g. `../../ferry/ferry`.
fn relative_to(dir: &Path, base: &Path) -> Option<std::path::PathBuf> {
    let (dir, base): (Vec<_>, Vec<_>) = (dir.components().collect(), base.components().collect());
    let common = dir.iter().zip(&base).take_while(|(a, b)| a == b).count();
    // Only the filesystem root in common: an absolute path reads better.
    if common <= 1 {
        return None;
    }
    let mut out = std::path::PathBuf::new();
    for _ in common..base.len() {
        out.push("..");
    }
    for part in &dir[common..] {
        out.push(part);
    }
    Some(out)
}

/// A TOML basic string.
pub fn quote(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
}

/// The shim crate's Cargo.toml, for a shim in `shim_dir`.
pub fn shim_manifest(source: &Source, shim_dir: &Path) -> String {
    format!(
        r#"# ferry's shim: `cargo xtask ...` runs ferry from this crate. Upgrade
# ferry by changing the version, rev or tag of both dependencies below
# (README: "Adopting ferry in your workspace").
[package]
name = "xtask"
version = "0.1.0"
edition = "2021"
publish = false

[dependencies]
{ferry}
{ferry_aws}

[features]
# `cargo xtask plan|deploy|doctor` builds `xtask-aws` with this feature, so
# the other commands never compile the AWS SDK.
aws = ["dep:ferry-aws"]

[[bin]]
name = "xtask"
path = "src/main.rs"

[[bin]]
name = "xtask-aws"
path = "src/aws.rs"
required-features = ["aws"]
"#,
        ferry = source.dependency("ferry", shim_dir, false),
        ferry_aws = source.dependency("ferry-aws", shim_dir, true),
    )
}

pub const SHIM_MAIN: &str = "fn main() -> std::process::ExitCode {\n    ferry::main()\n}\n";
pub const SHIM_AWS: &str = "fn main() -> std::process::ExitCode {\n    ferry_aws::main()\n}\n";

/// The cargo alias that makes `cargo xtask` run the shim.
pub const ALIAS: &str = "run --package xtask --bin xtask --";

/// What a new deploy.toml needs to say.
pub struct DeployToml<'a> {
    pub app: &'a str,
    pub stage: &'a str,
    pub region: &'a str,
    /// Written only when they differ from the defaults.
    pub services: &'a [String],
    pub layers: &'a [String],
}

/// A first deploy.toml: the app and one stage, every optional key shown
/// commented out with its default.
pub fn deploy_toml(d: &DeployToml) -> String {
    let globs = |key: &str, globs: &[String], default: &str| {
        let list: Vec<String> = globs.iter().map(|g| quote(g)).collect();
        if globs.is_empty() || globs == [default] {
            format!("# {key} = [\"{default}\"]")
        } else {
            format!("{key} = [{}]", list.join(", "))
        }
    };
    let (app, stage, region) = (d.app, d.stage, quote(d.region));
    let services = globs("services", d.services, DEFAULT_SERVICE_GLOBS[0]);
    let layers = globs("layers", d.layers, DEFAULT_LAYER_GLOBS[0]);
    format!(
        r#"#:schema ./.ferry/deploy.schema.json
# ferry's deployment description: the app and its stages. Written by
# `cargo xtask init`; optional keys are shown commented out with their
# defaults. Every key is documented in ferry's README ("deploy.toml").

[app]
name = "{app}"                 # functions are named <app>-<stage>-<service>
# architecture = "arm64"       # every service's default: arm64 or x86_64
# runtime = "provided.al2023"  # every service's default: provided.al2023 or provided.al2
{services}     # where the service crates are (globs)
{layers}       # where the layer crates are (globs)

[stages.{stage}]
region = {region}
# role = "arn:aws:iam::123456789012:role/NAME"  # default: ferry manages a basic execution role
# log-retention-days = 30      # one of CloudWatch's values (1, 3, 5, 7, 14, 30, 60, 90, ...)
# env = {{ LOG_FORMAT = "json" }} # for every function of the stage
# tags = {{ team = "{app}" }}    # ferry adds ferry:app and ferry:stage

# [stages.{stage}.api]
# name = "{app}-{stage}"
# endpoint = "REGIONAL"        # or EDGE
# binary-media-types = ["application/octet-stream"]

# [stages.{stage}.services.SERVICE]  # per-service overrides for this stage
# memory = 512
# timeout = 20
# env = {{ FEATURE = "on" }}

# [stages.{stage}.cloudfront]  # the stage's public front door
# domain = "api.example.com"
# certificate = "arn:aws:acm:us-east-1:123456789012:certificate/ID"
# hosted-zone = "Z0123456789ABCDEFGHIJ"
# distribution = "E2QWRUHAPOMQZL"  # or wire an existing distribution by id
# origin = "my-api-origin"
# invalidate = false
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_relative_when_the_checkout_is_near() {
        let source = Source::Path("/src/ferry".into());
        let line = source.dependency("ferry", Path::new("/src/app/xtask"), false);
        assert_eq!(line, r#"ferry = { path = "../../ferry/ferry" }"#);
        let far = source.dependency("ferry-aws", Path::new("/home/app/xtask"), true);
        assert_eq!(
            far,
            r#"ferry-aws = { path = "/src/ferry/ferry-aws", optional = true }"#
        );
        let git = Source::Git {
            url: "https://example.com/ferry.git".into(),
            pin: Some(GitPin::Tag("v0.1.0".into())),
        };
        assert_eq!(
            git.dependency("ferry", Path::new("/x"), false),
            r#"ferry = { git = "https://example.com/ferry.git", tag = "v0.1.0" }"#
        );
    }

    #[test]
    fn the_example_app_carries_the_shim_init_writes() {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let shim = repo.join("xtask");
        let manifest = shim_manifest(&Source::Path(repo.to_path_buf()), &shim);
        let ours = std::fs::read_to_string(shim.join("Cargo.toml")).unwrap();
        // The example's own header comment says where it comes from.
        let body = |text: &str| text[text.find("[package]").unwrap()..].to_owned();
        assert_eq!(body(&ours), body(&manifest));
        assert_eq!(
            std::fs::read_to_string(shim.join("src/main.rs")).unwrap(),
            SHIM_MAIN
        );
        assert_eq!(
            std::fs::read_to_string(shim.join("src/aws.rs")).unwrap(),
            SHIM_AWS
        );
    }

    #[test]
    fn a_new_deploy_toml_parses_and_names_non_default_globs() {
        let text = deploy_toml(&DeployToml {
            app: "shop",
            stage: "test",
            region: "eu-west-1",
            services: &["lambdas/*".into()],
            layers: &[],
        });
        let table: toml::Table = text.parse().unwrap();
        assert_eq!(table["app"]["name"].as_str(), Some("shop"));
        assert_eq!(table["app"]["services"][0].as_str(), Some("lambdas/*"));
        assert!(table["app"].get("layers").is_none());
        assert_eq!(
            table["stages"]["test"]["region"].as_str(),
            Some("eu-west-1")
        );
    }
}
