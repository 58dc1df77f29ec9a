//! `promote --from A --to B`: deploys to B exactly the artifacts A serves,
//! with B's own settings. A's current release names its manifest by hash;
//! the deploy that made it archived that manifest and its zips on this
//! machine (see [`crate::archive`]), or, for a stage with an artifact
//! bucket, in the bucket, from which any machine fetches it. Nothing is built. Before anything
//! is planned, each function version A serves is checked to hold the code
//! the archived manifest has. The deploy to B is the ordinary one (plan,
//! lock, apply), across regions when the stages differ.

use std::path::Path;
use std::process::ExitCode;

use ferry::cli::{PromoteArgs, StageArgs};
use ferry::deploy::record::Release;
use ferry::deploy::release::recorded_code;
use ferry::manifest::{ArtifactKind, Manifest};
use ferry::model::Workspace;
use miette::{miette, IntoDiagnostic};

use crate::read::releases;
use crate::run::{self, Mode};
use crate::sdk::clients::Clients;

pub async fn run(root: &Path, args: &PromoteArgs) -> miette::Result<ExitCode> {
    if args.from == args.to {
        return Err(miette!(
            help = "name two different stages",
            "`--from` and `--to` are both `{}`",
            args.to
        ));
    }
    let workspace = ferry::check::load(root)?;
    let from = ferry::deploy::find_stage(&workspace, &args.from)?;
    ferry::deploy::find_stage(&workspace, &args.to)?;
    let app = workspace.app.name.as_str();
    let clients = Clients::for_stage(from).await?;
    let (release, canary) = releases::current(&clients, app, &from.name).await?;
    if canary.is_some() {
        return Err(miette!(
            help = format!(
                "let its canary finish (or run `cargo xtask deploy --stage {0}` to complete it, `cargo xtask rollback --stage {0}` to revert it), then promote",
                from.name
            ),
            "stage `{}` is in the middle of a canary: it serves two versions of some functions",
            from.name
        ));
    }
    let release = release.ok_or_else(|| {
        miette!(
            help = format!("deploy it first: cargo xtask deploy --stage {}", from.name),
            "stage `{}` has no release to promote",
            from.name
        )
    })?;
    let sha = release.manifest_sha256.clone().ok_or_else(|| {
        miette!(
            "release {} of `{}` records no manifest hash",
            release.number,
            from.name
        )
    })?;
    let manifest_file = crate::archive::folder(root, &sha).join("manifest.json");
    if !manifest_file.is_file() {
        if let Some(store) = &from.artifacts {
            crate::archive::fetch(&clients, (root, app), store, &sha).await?;
        }
    }
    if !manifest_file.is_file() {
        return Err(miette!(
            help = format!(
                "promote from the machine (or CI job) that deployed `{}`, or deploy it again from this checkout's build of that commit{}",
                from.name,
                release.commit.as_deref().map(|c| format!(" ({c})")).unwrap_or_default()
            ),
            "the artifacts of release {} of `{}` (manifest {}) are not archived on this machine",
            release.number,
            from.name,
            &sha[..12.min(sha.len())]
        ));
    }
    let bytes = std::fs::read(&manifest_file).into_diagnostic()?;
    if ferry::build::pack::sha256_hex(&bytes) != sha {
        return Err(miette!(
            help = format!(
                "delete {} and deploy `{}` again",
                manifest_file.display(),
                from.name
            ),
            "the archived manifest {} does not hash to {sha}",
            manifest_file.display()
        ));
    }
    let manifest = Manifest::load(&manifest_file).map_err(|why| miette!("{why}"))?;
    check_served(&clients, (&workspace, &from.name), &release, &manifest).await?;
    eprintln!(
        "ferry: promoting release {} of `{}` (manifest {}, commit {}) to `{}`: no build",
        release.number,
        from.name,
        &sha[..12.min(sha.len())],
        release.commit.as_deref().unwrap_or("unknown"),
        args.to
    );
    let stage_args = StageArgs {
        stage: args.to.clone(),
        manifest: Some(manifest_file),
        prune: false,
        json: args.apply.json,
    };
    if args.apply.dry_run || !args.apply.yes {
        let plan = Mode::Plan {
            detailed_exitcode: false,
            out: None,
            canary: None,
        };
        let shown = run::run(
            root,
            &StageArgs {
                json: false,
                ..stage_args.clone()
            },
            plan,
        )
        .await?;
        if args.apply.dry_run {
            return Ok(shown);
        }
        crate::maintain::confirm(&args.to, "promote replaces the code")?;
    }
    let apply = Mode::Apply {
        wait: false,
        lock_wait: args.apply.lock_wait,
        saved: None,
        canary: None,
    };
    run::run(root, &stage_args, apply).await
}

/// Each function version `release` names holds the code the manifest has.
async fn check_served(
    c: &Clients,
    (workspace, stage): (&Workspace, &str),
    release: &Release,
    manifest: &Manifest,
) -> miette::Result<()> {
    let app = workspace.app.name.as_str();
    let alias = ferry::deploy::release::alias_name(stage);
    for (service, version) in &release.functions {
        let function = release.function_of(app, stage, service);
        // A deploy moves the aliases before it records its release: one cut
        // in between leaves a stage serving what its record does not name.
        let serving = releases::alias(c, &function, &alias)
            .await?
            .map(|a| a.version);
        if serving.as_deref() != Some(version.as_str()) {
            return Err(miette!(
                help = format!("deploy `{stage}` again (or roll it back), then promote"),
                "{function} serves version {} but release {} of `{stage}` names version {version}",
                serving.as_deref().unwrap_or("none"),
                release.number
            ));
        }
        let description = releases::version_description(c, &function, version).await?;
        let served = description.as_deref().and_then(recorded_code);
        let archived = manifest.artifacts.iter().any(|a| {
            a.kind == ArtifactKind::Function
                && &a.name == service
                && Some(a.code_sha256.as_str()) == served
        });
        if !archived {
            return Err(miette!(
                help = format!("deploy `{stage}` again, then promote"),
                "{function} version {version} serves code {} that the archived manifest does not hold",
                served.unwrap_or("unknown")
            ));
        }
    }
    Ok(())
}
