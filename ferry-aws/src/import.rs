//! `import`: reads an API Gateway stage someone built by hand into
//! `ferry::import::Found` (`read::console`), lets the pure half decide the
//! edits, and writes deploy.toml and the mapped services' Cargo.toml.
//! Only reads in AWS.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use ferry::cli::ImportArgs;
use ferry::model::Stage;
use miette::{miette, IntoDiagnostic};

use crate::read::console;
use crate::sdk::clients::Clients;

pub async fn run(root: &Path, args: &ImportArgs) -> miette::Result<ExitCode> {
    let workspace = ferry::check::load(root)?;
    let region = match &args.region {
        Some(r) => r.clone(),
        None => default_region(args.profile.as_deref())
            .await
            .ok_or_else(|| {
                miette!(
                    help = "pass `--region`, or set AWS_REGION",
                    "no region for the import"
                )
            })?,
    };
    let mut stage = Stage::local();
    stage.name = args.stage.clone();
    stage.region = region.clone();
    stage.profile = args.profile.clone();
    let c = Clients::for_stage(&stage).await?;
    let found = console::read(&c, args, &region).await?;
    let deploy_path = root.join("deploy.toml");
    let deploy_toml = std::fs::read_to_string(&deploy_path).into_diagnostic()?;
    let manifests: BTreeMap<PathBuf, String> = workspace
        .services
        .values()
        .filter_map(|s| {
            let rel = s.dir.join("Cargo.toml");
            Some((rel.clone(), std::fs::read_to_string(root.join(&rel)).ok()?))
        })
        .collect();
    let import = ferry::import::plan(&workspace, &deploy_toml, &manifests, &found, &args.maps)?;
    // What is written must load: the user reviews it, `check` agrees.
    ferry::import::check_written(root, &import)?;
    if !args.dry_run {
        std::fs::write(&deploy_path, &import.deploy_toml).into_diagnostic()?;
        for (rel, text) in &import.manifests {
            std::fs::write(root.join(rel), text).into_diagnostic()?;
        }
    }
    if args.json {
        let out = serde_json::json!({
            "stage": found.stage,
            "dry_run": args.dry_run,
            "found": found,
            "report": import.report,
            "written": written(&import, args.dry_run),
            "files": files(&import),
        });
        println!("{out:#}");
    } else {
        print!("{}", import.report.render());
        if args.dry_run {
            for (file, text) in files(&import) {
                println!("\n--- {file} as import would write it:\n{text}");
            }
        }
        let verb = if args.dry_run { "would write" } else { "wrote" };
        for file in written(&import, false) {
            println!("{verb} {file}");
        }
        println!(
            "next: review the changes, then `cargo xtask plan --stage {}`",
            found.stage
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn written(import: &ferry::import::Import, dry_run: bool) -> Vec<String> {
    if dry_run {
        return Vec::new();
    }
    std::iter::once("deploy.toml".to_owned())
        .chain(import.manifests.keys().map(|p| p.display().to_string()))
        .collect()
}

/// Each file import writes, with its new text.
fn files(import: &ferry::import::Import) -> std::collections::BTreeMap<String, &str> {
    std::iter::once(("deploy.toml".to_owned(), import.deploy_toml.as_str()))
        .chain(
            import
                .manifests
                .iter()
                .map(|(p, t)| (p.display().to_string(), t.as_str())),
        )
        .collect()
}

async fn default_region(profile: Option<&str>) -> Option<String> {
    let mut chain = aws_config::default_provider::region::DefaultRegionChain::builder();
    if let Some(p) = profile {
        chain = chain.profile_name(p);
    }
    chain.build().region().await.map(|r| r.to_string())
}
