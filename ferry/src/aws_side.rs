//! `plan`, `deploy`, `doctor`, `logs`, `releases` and `rollback`: ferry validates the workspace and the
//! stage here, then runs them in its AWS side, the only part of ferry that
//! compiles the AWS SDK. In process when this binary has it (`ferry-aws`),
//! else in the workspace's AWS binary: the bin named after this one with
//! `-aws` (the shim's `xtask-aws`), found among the workspace members
//! whatever their package names, and handed the command as typed JSON.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use miette::{miette, IntoDiagnostic};
use serde::{Deserialize, Serialize};

use crate::cli::{
    DeployArgs, DestroyArgs, DoctorArgs, ImportArgs, InvalidateArgs, InvokeArgs, LogsArgs,
    PlanArgs, PromoteArgs, PruneArgs, ReleasesArgs, RollbackArgs,
};
use crate::model::glob;

/// The flag that hands a serialized [`AwsInvocation`] to the AWS binary.
pub const INVOCATION_FLAG: &str = "--ferry-invocation";

/// One AWS-side command, typed, as the front half parsed it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum AwsCommand {
    Plan(PlanArgs),
    Deploy(DeployArgs),
    Doctor(DoctorArgs),
    Logs(LogsArgs),
    Invalidate(InvalidateArgs),
    Releases(ReleasesArgs),
    Rollback(RollbackArgs),
    Prune(PruneArgs),
    Destroy(DestroyArgs),
    Invoke(InvokeArgs),
    Promote(PromoteArgs),
    Import(ImportArgs),
}

impl AwsCommand {
    /// The command with its file paths made absolute against the caller's
    /// working directory: the AWS binary runs in the workspace root.
    pub fn with_absolute_paths(mut self) -> Self {
        let absolute = |p: &mut Option<PathBuf>| {
            if let Some(path) = p.as_mut() {
                if let Ok(abs) = std::path::absolute(&*path) {
                    *path = abs;
                }
            }
        };
        match &mut self {
            AwsCommand::Plan(a) => {
                absolute(&mut a.stage.manifest);
                absolute(&mut a.out);
            }
            AwsCommand::Deploy(a) => {
                absolute(&mut a.stage.manifest);
                absolute(&mut a.plan);
            }
            AwsCommand::Doctor(a) => absolute(&mut a.manifest),
            AwsCommand::Logs(_)
            | AwsCommand::Invalidate(_)
            | AwsCommand::Releases(_)
            | AwsCommand::Rollback(_)
            | AwsCommand::Prune(_)
            | AwsCommand::Destroy(_)
            | AwsCommand::Promote(_)
            | AwsCommand::Import(_) => {}
            AwsCommand::Invoke(a) => {
                if let Some(file) = a.data.as_deref().and_then(|d| d.strip_prefix('@')) {
                    if let Ok(abs) = std::path::absolute(file) {
                        a.data = Some(format!("@{}", abs.display()));
                    }
                }
            }
        }
        self
    }

    pub fn stage(&self) -> &str {
        match self {
            AwsCommand::Plan(a) => &a.stage.stage,
            AwsCommand::Deploy(a) => &a.stage.stage,
            AwsCommand::Doctor(a) => &a.stage,
            AwsCommand::Logs(a) => &a.stage,
            AwsCommand::Invalidate(a) => &a.stage,
            AwsCommand::Releases(a) => &a.stage,
            AwsCommand::Rollback(a) => &a.stage,
            AwsCommand::Prune(a) => &a.stage,
            AwsCommand::Destroy(a) => &a.stage,
            AwsCommand::Invoke(a) => a.stage.as_deref().unwrap_or_default(),
            AwsCommand::Promote(a) => &a.to,
            AwsCommand::Import(a) => &a.stage,
        }
    }
}

/// What the AWS side runs: the command and the workspace it runs on.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AwsInvocation {
    pub root: PathBuf,
    pub command: AwsCommand,
}

/// ferry-aws's entry point, for a binary that links it.
pub type AwsEntry = fn(AwsInvocation) -> miette::Result<ExitCode>;

/// Validates, then runs `command` in process (`aws`) or in the workspace's AWS binary.
pub fn run(root: &Path, command: AwsCommand, aws: Option<AwsEntry>) -> miette::Result<ExitCode> {
    // Bad input fails here, before the SDK is compiled or any AWS call.
    let workspace = crate::check::load(root)?;
    // `import` writes the stage it names: it need not exist yet.
    if !matches!(command, AwsCommand::Import(_)) {
        crate::deploy::find_stage(&workspace, command.stage())?;
    }
    let invocation = AwsInvocation {
        root: root.to_path_buf(),
        command: command.with_absolute_paths(),
    };
    if let Some(entry) = aws {
        return entry(invocation);
    }
    let wanted = format!("{}-aws", own_bin_name());
    let bin = locate(root, &wanted)?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let target = crate::build::compile::target_dir(root);
    if !target.join("debug").join(&bin.name).exists() {
        eprintln!(
            "ferry: compiling its AWS side once (`{}` of {}: the AWS SDK, a few minutes)",
            bin.name, bin.package
        );
    }
    let json = serde_json::to_string(&invocation).into_diagnostic()?;
    let mut run = Command::new(cargo);
    run.current_dir(root).args([
        "run",
        "--quiet",
        "--package",
        &bin.package,
        "--bin",
        &bin.name,
    ]);
    if !bin.required_features.is_empty() {
        run.args(["--features", &bin.required_features.join(",")]);
    }
    run.args(sdk_profile_args());
    let status = run
        .arg("--")
        .arg(INVOCATION_FLAG)
        .arg(json)
        .status()
        .into_diagnostic()?;
    match status.code() {
        Some(code) => Ok(ExitCode::from(u8::try_from(code).unwrap_or(1))),
        None => Err(miette!("ferry's AWS side was killed by a signal")),
    }
}

/// The AWS SDK's generated crates: large, and little of their code runs in a
/// deploy, whose time is the network's.
pub const SDK_CRATES: [&str; 12] = [
    "aws-sdk-apigateway",
    "aws-sdk-cloudfront",
    "aws-sdk-cloudwatchlogs",
    "aws-sdk-ec2",
    "aws-sdk-iam",
    "aws-sdk-lambda",
    "aws-sdk-route53",
    "aws-sdk-s3",
    "aws-sdk-ssm",
    "aws-sdk-sso",
    "aws-sdk-ssooidc",
    "aws-sdk-sts",
];

/// Profile settings for the SDK's crates when ferry compiles the AWS side:
/// unoptimised and without debug info, which roughly halves its first
/// compile (README: "What CI pays for ferry"). A workspace that sets the same
/// in its Cargo.toml shares the artifacts with its own builds.
pub fn sdk_profile_args() -> Vec<String> {
    SDK_CRATES
        .iter()
        .flat_map(|krate| {
            [
                "--config".to_owned(),
                format!("profile.dev.package.{krate}.opt-level=0"),
                "--config".to_owned(),
                format!("profile.dev.package.{krate}.debug=false"),
            ]
        })
        .collect()
}

/// The running binary's name (`xtask` under `cargo xtask`).
fn own_bin_name() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "xtask".into())
}

/// A binary target of a workspace member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberBin {
    pub package: String,
    pub name: String,
    pub required_features: Vec<String>,
}

/// Finds the workspace member that declares the binary `wanted`.
pub fn locate(root: &Path, wanted: &str) -> miette::Result<MemberBin> {
    let help = format!(
        "give the workspace's xtask crate the binary `{wanted}` (`fn main() -> std::process::ExitCode {{ ferry_aws::main() }}`, \
         with `required-features = [\"aws\"]` and `aws = [\"dep:ferry-aws\"]`); `cargo xtask init` writes it"
    );
    let bins = workspace_bins(root).map_err(|e| miette!(help = help.clone(), "{e}"))?;
    bins.into_iter().find(|b| b.name == wanted).ok_or_else(|| {
        miette!(
            help = help,
            "no member of the workspace at {} has the binary `{wanted}`, ferry's AWS side",
            root.display()
        )
    })
}

/// Every binary target of every workspace member, explicit or by cargo's conventions.
pub fn workspace_bins(root: &Path) -> Result<Vec<MemberBin>, String> {
    let read = |path: &Path| -> Result<toml::Table, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        text.parse::<toml::Table>()
            .map_err(|e| format!("{} is not valid TOML: {e}", path.display()))
    };
    let manifest = read(&root.join("Cargo.toml"))?;
    let members: Vec<String> = manifest
        .get("workspace")
        .and_then(|w| w.get("members"))
        .and_then(|m| m.as_array())
        .map(|m| {
            m.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let mut dirs: Vec<PathBuf> = members
        .iter()
        .flat_map(|pattern| glob::crate_dirs(root, pattern))
        .collect();
    if manifest.contains_key("package") {
        dirs.push(PathBuf::new());
    }
    dirs.sort();
    dirs.dedup();
    let mut bins = Vec::new();
    for dir in dirs {
        let member = read(&root.join(&dir).join("Cargo.toml"))?;
        let Some(package) = member
            .get("package")
            .and_then(|p| p.get("name"))
            .and_then(|n| n.as_str())
        else {
            continue;
        };
        for bin in crate::model::bin_targets(&root.join(&dir), &member, package) {
            bins.push(MemberBin {
                package: package.to_owned(),
                name: bin.name,
                required_features: bin.required_features,
            });
        }
    }
    Ok(bins)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_aws_binary_is_found_whatever_the_package_is_called() {
        let root = std::env::temp_dir().join(format!("ferry-aws-side-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("tools/release/src")).unwrap();
        std::fs::create_dir_all(root.join("lambdas/a/src")).unwrap();
        std::fs::write(
            root.join("Cargo.toml"),
            "[workspace]\nmembers = [\"tools/release\", \"lambdas/*\"]\n",
        )
        .unwrap();
        std::fs::write(
            root.join("tools/release/Cargo.toml"),
            "[package]\nname = \"release-tool\"\n\n[[bin]]\nname = \"xtask\"\npath = \"src/main.rs\"\n\n\
             [[bin]]\nname = \"xtask-aws\"\npath = \"src/aws.rs\"\nrequired-features = [\"aws\"]\n",
        )
        .unwrap();
        std::fs::write(
            root.join("lambdas/a/Cargo.toml"),
            "[package]\nname = \"a\"\n",
        )
        .unwrap();
        std::fs::write(root.join("lambdas/a/src/main.rs"), "").unwrap();
        let found = locate(&root, "xtask-aws").unwrap();
        assert_eq!(
            found,
            MemberBin {
                package: "release-tool".into(),
                name: "xtask-aws".into(),
                required_features: vec!["aws".into()],
            }
        );
        assert_eq!(locate(&root, "a").unwrap().package, "a");
        let missing = format!("{:?}", locate(&root, "other-aws").unwrap_err());
        assert!(missing.contains("no member of the workspace"), "{missing}");
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn an_invocation_round_trips_through_json() {
        let invocation = AwsInvocation {
            root: "/w".into(),
            command: AwsCommand::Doctor(DoctorArgs {
                stage: "prod".into(),
                manifest: Some("m.json".into()),
                json: true,
            }),
        };
        let json = serde_json::to_string(&invocation).unwrap();
        let back: AwsInvocation = serde_json::from_str(&json).unwrap();
        assert_eq!(back.command.stage(), "prod");
        assert_eq!(serde_json::to_string(&back).unwrap(), json);
    }

    #[test]
    fn relative_paths_are_handed_over_absolute() {
        let here = std::env::current_dir().unwrap();
        let command = AwsCommand::Doctor(DoctorArgs {
            stage: "prod".into(),
            manifest: Some("dist/manifest.json".into()),
            json: false,
        })
        .with_absolute_paths();
        let AwsCommand::Doctor(args) = command else {
            unreachable!()
        };
        assert_eq!(args.manifest, Some(here.join("dist/manifest.json")));
    }
}
