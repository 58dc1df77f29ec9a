//! Finds the workspace's services, layers and deploy.toml on disk, parses each
//! file into the raw schema, and runs validation, collecting every problem.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::diag::{ConfigErrors, Diagnostics, SourceFile};
use super::discover::{self, GlobMatch};
use super::raw::{RawCargoToml, RawDeployToml};
use super::validate::{self, CrateInput, Drafts};
use super::Workspace;

/// The kind of crate, from the deploy.toml glob that found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CrateKind {
    Service,
    Layer,
}

/// The text of every file the model is made from, read once.
#[derive(Debug, Clone)]
pub struct WorkspaceFiles {
    pub root: PathBuf,
    pub deploy_toml: Option<String>,
    /// Each `app.services` / `app.layers` glob (or default) and what it matched.
    pub globs: Vec<GlobMatch>,
    pub crates: Vec<CrateFiles>,
}

/// One crate found by a service or layer glob.
#[derive(Debug, Clone)]
pub struct CrateFiles {
    pub kind: CrateKind,
    /// Relative to the workspace root, e.g. `services/list-items` or `lambdas/orders`.
    pub dir: PathBuf,
    pub manifest: String,
    /// Binary targets found by cargo's conventions (`src/main.rs`, `src/bin/*.rs`).
    pub implicit_bins: Vec<String>,
}

impl WorkspaceFiles {
    /// Reads deploy.toml, then the Cargo.toml of every crate folder its
    /// `app.services` and `app.layers` globs match (default `services/*`
    /// and `layers/*`).
    pub fn read(root: &Path) -> std::io::Result<Self> {
        let deploy_toml = match std::fs::read_to_string(root.join("deploy.toml")) {
            Ok(text) => Some(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        let globs = discover::find(root, deploy_toml.as_deref());
        let mut crates = Vec::new();
        for (kind, dir) in discover::crate_dirs(&globs) {
            let abs = root.join(&dir);
            let manifest = std::fs::read_to_string(abs.join("Cargo.toml"))?;
            crates.push(CrateFiles {
                kind,
                implicit_bins: implicit_bins(&abs),
                dir,
                manifest,
            });
        }
        Ok(Self {
            root: root.to_owned(),
            deploy_toml,
            globs,
            crates,
        })
    }
}

/// The binaries cargo infers: `src/main.rs` is named after the package (given
/// here as the empty string), `src/bin/NAME.rs` and `src/bin/NAME/main.rs` as NAME.
pub fn implicit_bins(dir: &Path) -> Vec<String> {
    let mut bins = Vec::new();
    if dir.join("src/main.rs").is_file() {
        bins.push(String::new());
    }
    if let Ok(entries) = std::fs::read_dir(dir.join("src/bin")) {
        for path in entries.filter_map(Result::ok).map(|e| e.path()) {
            let name = if path.extension().is_some_and(|e| e == "rs") {
                path.file_stem()
            } else if path.join("main.rs").is_file() {
                path.file_name()
            } else {
                None
            };
            if let Some(name) = name {
                bins.push(name.to_string_lossy().into_owned());
            }
        }
    }
    bins.sort();
    bins
}

/// A binary target of a crate: its name and the features it requires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinTarget {
    pub name: String,
    pub required_features: Vec<String>,
}

/// A crate's binary targets, from its parsed Cargo.toml (`[[bin]]`) and
/// cargo's conventions (`src/main.rs`, named after `package`; `src/bin/*`),
/// sorted by name.
pub fn bin_targets(dir: &Path, manifest: &toml::Table, package: &str) -> Vec<BinTarget> {
    let mut bins: Vec<BinTarget> = manifest
        .get("bin")
        .and_then(|b| b.as_array())
        .into_iter()
        .flatten()
        .filter_map(|bin| {
            Some(BinTarget {
                name: bin.get("name")?.as_str()?.to_owned(),
                required_features: bin
                    .get("required-features")
                    .and_then(|f| f.as_array())
                    .map(|f| {
                        f.iter()
                            .filter_map(|v| v.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default(),
            })
        })
        .collect();
    for implicit in implicit_bins(dir) {
        let name = if implicit.is_empty() {
            package.to_owned()
        } else {
            implicit
        };
        if !bins.iter().any(|b| b.name == name) {
            bins.push(BinTarget {
                name,
                required_features: Vec::new(),
            });
        }
    }
    bins.sort_by(|a, b| a.name.cmp(&b.name));
    bins
}

/// Loads and validates the workspace at `root`.
pub fn load_workspace(root: &Path) -> miette::Result<Workspace> {
    let files = WorkspaceFiles::read(root)
        .map_err(|e| miette::miette!("cannot read the workspace at {}: {e}", root.display()))?;
    Ok(load_workspace_from(&files)?)
}

/// Validates the files of a workspace, reporting every problem at once.
pub fn load_workspace_from(files: &WorkspaceFiles) -> Result<Workspace, ConfigErrors> {
    let mut diags = Diagnostics::default();
    let deploy_file = SourceFile::new("deploy.toml", files.deploy_toml.clone().unwrap_or_default());
    let raw_deploy = match &files.deploy_toml {
        Some(text) => parse_toml::<RawDeployToml>(&deploy_file, text, &mut diags),
        None => {
            diags.error(
                &deploy_file,
                0..0,
                "",
                "deploy.toml is missing at the workspace root",
                Some("create deploy.toml with at least `[app]` and `name = \"your-app\"` (see the README)".into()),
            );
            None
        }
    };
    let app = raw_deploy
        .as_ref()
        .and_then(|raw| super::load_deploy::app(&deploy_file, &raw.app, &files.globs, &mut diags));

    let mut drafts = Drafts::default();
    for krate in &files.crates {
        let display = SourceFile::display_path(Path::new(""), &krate.dir.join("Cargo.toml"));
        let file = SourceFile::new(display, krate.manifest.as_str());
        let Some(raw) = parse_toml::<RawCargoToml>(&file, &krate.manifest, &mut diags) else {
            continue;
        };
        let input = CrateInput {
            files: krate,
            file: &file,
            raw,
            root: &files.root,
        };
        validate::add_crate(&mut drafts, input, app.as_ref(), &mut diags);
    }
    let cognito = raw_deploy
        .as_ref()
        .map(|raw| validate::cognito_names(&raw.stages))
        .unwrap_or_default();
    let (services, layers, routes) = validate::cross_check(drafts, &cognito, &mut diags);
    let stages = match (&raw_deploy, &app) {
        (Some(raw), Some(app)) => {
            super::load_deploy::stages(&deploy_file, raw, app, &services, &mut diags)
        }
        _ => BTreeMap::new(),
    };
    // A stage's own role wins over what services declare: say so, as
    // their statements are then the role's owner's to grant.
    for stage in stages.values().filter(|s| s.role.is_some()) {
        let declaring: Vec<&str> = services
            .values()
            .filter(|s| !s.permissions.is_empty())
            .map(|s| s.name.as_str())
            .collect();
        if !declaring.is_empty() {
            diags.warn(format!(
                "stage `{}` runs every function with its `role`: the `permissions` of {} are not applied there; that role must grant them",
                stage.name,
                declaring.join(", ")
            ));
        }
    }
    let warnings = diags.finish()?;
    let app = app.expect("no errors means deploy.toml's [app] was valid");
    Ok(Workspace {
        root: files.root.clone(),
        app,
        stages,
        services,
        layers,
        routes,
        warnings,
    })
}

/// Parses `text` into the raw schema `T`, recording a syntax or schema error.
pub(crate) fn parse_toml<T: serde::de::DeserializeOwned>(
    file: &SourceFile,
    text: &str,
    diags: &mut Diagnostics,
) -> Option<T> {
    match toml::from_str::<T>(text) {
        Ok(raw) => Some(raw),
        Err(e) => {
            let span = e.span().unwrap_or(0..0);
            let message = e.message().trim_end().to_owned();
            let key = key_at(text, span.start);
            let help = schema_help(&message);
            diags.error(file, span, key, message, help);
            None
        }
    }
}

/// The dotted key a byte offset sits under: the last `[table]` header before
/// it plus the key on its own line, for messages like `package.metadata.ferry.memory`.
pub(crate) fn key_at(text: &str, offset: usize) -> String {
    let before = &text[..offset.min(text.len())];
    let table = before
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('[') && !l.starts_with("[["))
        .map(|l| l.trim_matches(|c| c == '[' || c == ']').trim().to_owned())
        .unwrap_or_default();
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = text[line_start..].lines().next().unwrap_or("");
    let key = line
        .split('=')
        .next()
        .filter(|_| line.contains('='))
        .map(str::trim)
        .unwrap_or("");
    match (table.is_empty(), key.is_empty() || key.starts_with('[')) {
        (_, true) => table,
        (true, false) => key.to_owned(),
        (false, false) => format!("{table}.{key}"),
    }
}

fn schema_help(message: &str) -> Option<String> {
    if message.starts_with("unknown field") {
        Some("remove the key or fix its spelling; every key is listed in the README".into())
    } else if message.starts_with("invalid type") {
        Some("give the value the type the README lists for this key".into())
    } else if message.starts_with("unknown variant") {
        Some("use one of the values listed in the message".into())
    } else if message.starts_with("missing field") {
        Some("add the key; the README lists what it takes".into())
    } else {
        Some("this is not valid TOML; see https://toml.io for the syntax".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_at_names_table_and_key() {
        let text = "[package]\nname = \"x\"\n\n[package.metadata.ferry]\nmemory = 99\n";
        let offset = text.find("99").unwrap();
        assert_eq!(key_at(text, offset), "package.metadata.ferry.memory");
        assert_eq!(
            key_at(text, text.find("[package.metadata").unwrap()),
            "package"
        );
    }
}
