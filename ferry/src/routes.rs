//! `cargo xtask routes`: the workspace's route table, as text or JSON. Deploy
//! and serve read the same `RouteTable` from the model.

use std::path::Path;

use miette::IntoDiagnostic;

use crate::model;

pub fn run(root: &Path, json: bool) -> miette::Result<()> {
    let workspace = crate::check::load(root)?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&workspace.routes).into_diagnostic()?
        );
    } else {
        print!("{}", render(&workspace.routes));
    }
    Ok(())
}

fn render(table: &model::RouteTable) -> String {
    if table.entries.is_empty() {
        return "no routes: add `routes = [\"GET /path\"]` to a service's [package.metadata.ferry]\n".into();
    }
    table.render_text()
}
