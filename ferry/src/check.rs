//! `cargo xtask check`: load and validate the workspace, print warnings, and
//! report every configuration problem at once. Other commands load through
//! [`load`] so they print the same warnings.

use std::path::Path;

use crate::model::{self, Workspace};

/// Loads the workspace, printing its warnings on stderr, and refreshes the
/// schema editors read (`.ferry/deploy.schema.json`, see [`crate::schema`]).
pub fn load(root: &Path) -> miette::Result<Workspace> {
    let workspace = model::load_workspace(root)?;
    for warning in &workspace.warnings {
        eprintln!("warning: {warning}");
    }
    if let Err(err) = crate::schema::write_for_editors(&workspace.root) {
        eprintln!(
            "warning: could not write {}: {err}",
            workspace
                .root
                .join(crate::schema::EDITOR_SCHEMA_PATH)
                .display()
        );
    }
    Ok(workspace)
}

pub fn run(root: &Path) -> miette::Result<()> {
    let workspace = load(root)?;
    let authorizers = workspace
        .services
        .values()
        .filter(|s| s.authorizer.is_some())
        .count();
    let with = match authorizers {
        0 => String::new(),
        1 => " and 1 authorizer".to_owned(),
        n => format!(" and {n} authorizers"),
    };
    eprintln!(
        "ok: app `{}`, {} services{with}, {} layers, {} routes, {} stages",
        workspace.app.name,
        workspace.services.len() - authorizers,
        workspace.layers.len(),
        workspace.routes.entries.len(),
        workspace.stages.len()
    );
    Ok(())
}
