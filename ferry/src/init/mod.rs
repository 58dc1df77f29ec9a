//! `cargo xtask init DIR`, run from a checkout of ferry: adds ferry to an
//! existing Cargo workspace. Every change is computed first, as data: files
//! to create, files to edit, and conflicts; with a conflict (a file of
//! ferry's that the user changed) nothing is written unless `--force`. A
//! second run finds nothing to do and writes nothing.

mod edit;
mod templates;

use std::path::{Path, PathBuf};

use miette::{miette, IntoDiagnostic, WrapErr};

use crate::cli::InitArgs;
use crate::model::{glob, CrateKind};
use templates::{GitPin, Source};

/// One file `init` would write.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Change {
    /// Relative to the workspace root.
    path: PathBuf,
    /// The new content, or `None` when the file already says what ferry needs.
    content: Option<String>,
    /// Why: shown next to the path.
    what: String,
    created: bool,
}

pub fn run(args: &InitArgs) -> miette::Result<()> {
    let dir = std::path::absolute(&args.dir).into_diagnostic()?;
    if !dir.join("Cargo.toml").is_file() {
        return Err(miette!(
            help = "pass the folder whose Cargo.toml has the `[workspace]` table",
            "{} has no Cargo.toml",
            dir.display()
        ));
    }
    let source = source(args)?;
    let (changes, conflicts) = plan(&dir, &source, args)?;
    if !conflicts.is_empty() && !args.force {
        return Err(miette!(
            help = "keep your version and add what ferry needs by hand (README: \"Adopting ferry in your workspace\"), or run init again with --force to replace ferry's files",
            "init wrote nothing: {}",
            conflicts.join("; ")
        ));
    }
    let mut wrote = 0;
    for change in &changes {
        let verb = match (&change.content, change.created) {
            (None, _) => "unchanged",
            (Some(_), true) => "created",
            (Some(_), false) => "edited",
        };
        if let Some(content) = &change.content {
            let path = dir.join(&change.path);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).into_diagnostic()?;
            }
            std::fs::write(&path, content)
                .into_diagnostic()
                .wrap_err_with(|| format!("writing {}", path.display()))?;
            wrote += 1;
        }
        eprintln!("  {verb:<9} {} ({})", change.path.display(), change.what);
    }
    if wrote == 0 {
        eprintln!(
            "ferry init: {} already has ferry; nothing written",
            dir.display()
        );
        return Ok(());
    }
    eprintln!("ferry init: {wrote} files written in {}", dir.display());
    let stubs: Vec<String> = changes
        .iter()
        .filter(|c| c.content.is_some() && c.what.contains("[package.metadata.ferry]"))
        .map(|c| c.path.display().to_string())
        .collect();
    eprintln!("next:");
    if !stubs.is_empty() {
        eprintln!(
            "  - write each service's `routes` (marked TODO) in {}",
            stubs.join(", ")
        );
    }
    eprintln!("  - check deploy.toml's stage (region, role, env, tags)");
    eprintln!(
        "  - cargo xtask check; cargo xtask serve; cargo xtask plan --stage {}",
        args.stage
    );
    Ok(())
}

fn source(args: &InitArgs) -> miette::Result<Source> {
    if let Some(url) = &args.git {
        let pin = match (&args.rev, &args.tag) {
            (Some(rev), _) => Some(GitPin::Rev(rev.clone())),
            (None, Some(tag)) => Some(GitPin::Tag(tag.clone())),
            (None, None) => None,
        };
        return Ok(Source::Git {
            url: url.clone(),
            pin,
        });
    }
    // This binary's own checkout: the folder above the ferry crate.
    let checkout = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    if !checkout.join("ferry-aws/Cargo.toml").is_file() {
        return Err(miette!(
            help = "run init from a checkout of ferry, or pass --git URL (with --rev or --tag)",
            "ferry's sources are not at {}",
            checkout.display()
        ));
    }
    Ok(Source::Path(checkout))
}

/// Every change init would make, and the conflicts that stop it.
fn plan(
    dir: &Path,
    source: &Source,
    args: &InitArgs,
) -> miette::Result<(Vec<Change>, Vec<String>)> {
    let read = |rel: &str| std::fs::read_to_string(dir.join(rel)).ok();
    let mut changes = Vec::new();
    let mut conflicts = Vec::new();
    let mut whole = |rel: &str, content: String, what: &str| {
        let current = read(rel);
        let created = current.is_none();
        let content = match current {
            Some(current) if current == content => None,
            Some(_) => {
                conflicts.push(format!("{rel} differs from the {what} init writes"));
                Some(content)
            }
            None => Some(content),
        };
        changes.push(Change {
            path: rel.into(),
            content,
            what: what.into(),
            created,
        });
    };
    whole(
        "xtask/Cargo.toml",
        templates::shim_manifest(source, &dir.join("xtask")),
        "the xtask shim",
    );
    whole(
        "xtask/src/main.rs",
        templates::SHIM_MAIN.into(),
        "the xtask shim",
    );
    whole(
        "xtask/src/aws.rs",
        templates::SHIM_AWS.into(),
        "the shim's AWS side",
    );

    let manifest = read("Cargo.toml").unwrap_or_default();
    let member = edit::add_member(&manifest, "xtask").map_err(|e| miette!("{e}"))?;
    changes.push(edited("Cargo.toml", member, "workspace member `xtask`"));
    let config = read(".cargo/config.toml");
    match edit::add_alias(config.as_deref(), templates::ALIAS) {
        Ok(content) => changes.push(Change {
            created: config.is_none(),
            ..edited(".cargo/config.toml", content, "the alias `cargo xtask`")
        }),
        Err(_) if args.force => {
            changes.push(edited(
                ".cargo/config.toml",
                Some(format!(
                    "[alias]\nxtask = {}\n",
                    templates::quote(templates::ALIAS)
                )),
                "the alias `cargo xtask` (replaced)",
            ));
        }
        Err(edit::Conflict(why)) => conflicts.push(format!(".cargo/config.toml: {why}")),
    }
    let ignore = read(".gitignore");
    changes.push(Change {
        created: ignore.is_none(),
        ..edited(
            ".gitignore",
            edit::add_ignores(ignore.as_deref()),
            "target/ and .ferry/",
        )
    });

    let (services, layers) = globs(dir, args);
    let deploy_exists = dir.join("deploy.toml").is_file();
    changes.push(Change {
        path: "deploy.toml".into(),
        content: (!deploy_exists).then(|| {
            templates::deploy_toml(&templates::DeployToml {
                app: &app_name(dir),
                stage: &args.stage,
                region: &args.region,
                services: &services,
                layers: &layers,
            })
        }),
        what: "the app and its stages".into(),
        created: !deploy_exists,
    });
    for (patterns, service) in [(&services, true), (&layers, false)] {
        for pattern in patterns.iter() {
            glob::check(pattern).map_err(|e| miette!("the glob `{pattern}`: {e}"))?;
            for crate_dir in glob::crate_dirs(dir, pattern) {
                let rel = crate_dir.join("Cargo.toml");
                let text = read(&rel.to_string_lossy()).unwrap_or_default();
                let package = package_name(&text).unwrap_or_default();
                let stub = if service {
                    edit::service_stub(
                        &text,
                        &package,
                        &bins(&dir.join(&crate_dir), &text, &package),
                    )
                } else {
                    edit::layer_stub(&text, &package)
                }
                .map_err(|e| miette!("{}: {e}", rel.display()))?;
                let what = if service {
                    "[package.metadata.ferry] stub"
                } else {
                    "[package.metadata.ferry.layer] stub"
                };
                changes.push(edited(&rel.to_string_lossy(), stub, what));
            }
        }
    }
    Ok((changes, conflicts))
}

fn edited(path: &str, content: Option<String>, what: &str) -> Change {
    Change {
        path: path.into(),
        content,
        what: what.into(),
        created: false,
    }
}

/// The service and layer globs: the flags, else an existing deploy.toml's, else the defaults.
fn globs(dir: &Path, args: &InitArgs) -> (Vec<String>, Vec<String>) {
    let existing = std::fs::read_to_string(dir.join("deploy.toml")).ok();
    let pick = |flag: &Vec<String>, kind: CrateKind| {
        if flag.is_empty() {
            crate::model::globs_in(existing.as_deref(), kind)
        } else {
            flag.clone()
        }
    };
    (
        pick(&args.services, CrateKind::Service),
        pick(&args.layers, CrateKind::Layer),
    )
}

/// An app name from the workspace folder's name: lower case letters, digits and `-`.
fn app_name(dir: &Path) -> String {
    let raw = dir
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let name: String = raw
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let name = name.trim_matches('-').to_owned();
    if name.is_empty() {
        "app".into()
    } else {
        name
    }
}

fn package_name(manifest: &str) -> Option<String> {
    let table: toml::Table = manifest.parse().ok()?;
    Some(table.get("package")?.get("name")?.as_str()?.to_owned())
}

/// The names of a crate's binary targets.
fn bins(crate_dir: &Path, manifest: &str, package: &str) -> Vec<String> {
    let table: toml::Table = manifest.parse().unwrap_or_default();
    crate::model::bin_targets(crate_dir, &table, package)
        .into_iter()
        .map(|b| b.name)
        .collect()
}
