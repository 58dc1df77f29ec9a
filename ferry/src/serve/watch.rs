//! `serve --watch`: polls the workspace sources, rebuilds on a change, and
//! restarts only the functions whose binary or layer files changed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::App;
use crate::model::{glob, Workspace};

const POLL: Duration = Duration::from_millis(700);

pub async fn run(app: Arc<App>, release: bool) {
    let root = app.workspace.root.clone();
    let (mut sources, mut layer_files) = fingerprint(&app.workspace);
    let mut binaries = binary_times(&app, release);
    loop {
        tokio::time::sleep(POLL).await;
        let (now, layers_now) = fingerprint(&app.workspace);
        if now == sources {
            continue;
        }
        sources = now;
        eprintln!("ferry: sources changed; rebuilding");
        let (build_root, workspace) = (root.clone(), app.workspace.clone());
        let built = tokio::task::spawn_blocking(move || {
            super::prepare::build_host(&build_root, &workspace, release)
                .and_then(|()| super::prepare::layer_dirs(&workspace))
        })
        .await;
        if !matches!(built, Ok(Ok(_))) {
            eprintln!("ferry: the rebuild failed; the running functions stay as they were");
            continue;
        }
        let after = binary_times(&app, release);
        let layers_changed = layers_now != layer_files;
        layer_files = layers_now;
        for (service, pool) in &app.pools {
            let changed = after.get(service) != binaries.get(service);
            let uses_layers = app
                .workspace
                .services
                .get(service)
                .is_some_and(|s| !s.layers.is_empty());
            if changed || (layers_changed && uses_layers) {
                pool.restart().await;
                eprintln!("ferry: restarted {service}");
            }
        }
        binaries = after;
    }
}

type Fingerprint = (Option<SystemTime>, usize);

/// The newest mtime and file count of everything a rebuild depends on, and of
/// the layer crates alone (whose changes restart the functions using a layer),
/// in one walk. The crate folders are those deploy.toml's `app.services` and
/// `app.layers` globs match now.
fn fingerprint(workspace: &Workspace) -> (Fingerprint, Fingerprint) {
    let root = &workspace.root;
    let dirs = |globs: &[String]| -> BTreeSet<PathBuf> {
        globs
            .iter()
            .flat_map(|g| glob::crate_dirs(root, g))
            .collect()
    };
    let (mut newest, mut count) = (None, 0);
    for dir in dirs(&workspace.app.layers) {
        walk(&root.join(dir), &mut newest, &mut count);
    }
    let layers = (newest, count);
    for dir in dirs(&workspace.app.services) {
        walk(&root.join(dir), &mut newest, &mut count);
    }
    for item in ["crates", "Cargo.toml", "deploy.toml"] {
        walk(&root.join(item), &mut newest, &mut count);
    }
    ((newest, count), layers)
}

fn walk(path: &Path, newest: &mut Option<SystemTime>, count: &mut usize) {
    let Ok(meta) = std::fs::metadata(path) else {
        return;
    };
    if meta.is_dir() {
        if path.file_name().is_some_and(|n| n == "target") {
            return;
        }
        for entry in std::fs::read_dir(path).into_iter().flatten().flatten() {
            walk(&entry.path(), newest, count);
        }
    } else {
        *count += 1;
        *newest = (*newest).max(meta.modified().ok());
    }
}

fn binary_times(app: &App, release: bool) -> BTreeMap<String, Option<SystemTime>> {
    let dir = crate::build::compile::target_dir(&app.workspace.root).join(if release {
        "release"
    } else {
        "debug"
    });
    app.workspace
        .services
        .values()
        .map(|s| {
            (
                s.name.to_string(),
                std::fs::metadata(dir.join(&s.bin))
                    .and_then(|m| m.modified())
                    .ok(),
            )
        })
        .collect()
}
