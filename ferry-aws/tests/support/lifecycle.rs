//! What the deploy scenarios do to the example between deploys: split a
//! build per architecture as CI jobs would, read its manifest, edit a
//! source, and name the actions a deploy applied.

use std::path::Path;

use serde_json::Value;

/// One architecture's part of the workspace's build, as a CI job for that
/// architecture uploads it: a manifest with its artifacts, their zips next to
/// it. Returns the manifest's path.
pub fn split(ws: &Path, dir: &Path, arch: &str) -> std::path::PathBuf {
    let mut m = manifest(ws);
    m["artifacts"]
        .as_array_mut()
        .unwrap()
        .retain(|a| a["architecture"] == arch);
    for a in m["artifacts"].as_array().unwrap() {
        let rel = a["path"].as_str().unwrap();
        let to = dir.join(rel.strip_prefix("target/lambda/").unwrap());
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(ws.join(rel), to).unwrap();
    }
    let path = dir.join("manifest.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&m).unwrap()).unwrap();
    path
}

pub fn manifest(ws: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(ws.join("target/lambda/manifest.json")).unwrap()).unwrap()
}

/// The kinds of the actions a deploy applied, e.g. `update_function_code items-test-get-item`.
pub fn applied(result: &Value) -> Vec<String> {
    result["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let target = ["function", "layer", "name", "api", "parameter"]
                .iter()
                .find_map(|k| a[*k].as_str())
                .unwrap_or_default();
            format!("{} {target}", a["action"].as_str().unwrap())
        })
        .collect()
}

pub fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} has no `{from}`", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}
