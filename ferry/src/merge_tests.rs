//! Merges of manifests written in code, with their zips in temporary folders.

use sha2::{Digest, Sha256};

use super::*;

/// A folder under the system's temp dir, removed when dropped.
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!("ferry-merge-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Dir(path)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const ROUTES: &str = r#"[{"method": "GET", "path": "/items", "service": "list-items"}]"#;

/// A build's folder: its manifest with one function per `(name, arch,
/// content)` and the zips (whose bytes are the content) next to it.
fn build(dir: &Dir, app: &str, routes: &str, functions: &[(&str, &str, &str)]) -> PathBuf {
    let artifacts: Vec<serde_json::Value> = functions
        .iter()
        .map(|(name, arch, content)| {
            let rel = format!("{arch}/{name}.zip");
            std::fs::create_dir_all(dir.0.join(arch)).unwrap();
            std::fs::write(dir.0.join(&rel), content).unwrap();
            serde_json::json!({
                "name": name, "kind": "function", "architecture": arch,
                "runtime": "provided.al2023", "path": format!("target/lambda/{rel}"),
                "sha256": format!("{:x}", Sha256::digest(content.as_bytes())),
                "code_sha256": "", "zipped_size": content.len(), "unzipped_size": 1,
                "glibc_floor": "2.34", "inputs_sha256": "", "entries": []
            })
        })
        .collect();
    let manifest = serde_json::json!({
        "schema_version": SCHEMA_VERSION, "app": app, "ferry_version": "0.1.0",
        "artifacts": artifacts,
        "routes": serde_json::from_str::<serde_json::Value>(routes).unwrap(),
    });
    let path = dir.0.join("manifest.json");
    std::fs::write(&path, manifest.to_string()).unwrap();
    path
}

#[test]
fn per_architecture_builds_join_with_their_zips() {
    let (a, b, out) = (Dir::new("a"), Dir::new("b"), Dir::new("out"));
    let arm = build(
        &a,
        "items",
        ROUTES,
        &[("get-item", "arm64", "A1"), ("list-items", "arm64", "A2")],
    );
    let x86 = build(
        &b,
        "items",
        ROUTES,
        &[("get-item", "x86_64", "X1"), ("list-items", "arm64", "A2")],
    );
    let merged = run(&[arm, x86], &out.0.join("manifest.json")).unwrap();
    let names: Vec<String> = merged
        .artifacts
        .iter()
        .map(|a| format!("{} {}", a.name, a.architecture))
        .collect();
    assert_eq!(
        names,
        ["get-item arm64", "get-item x86_64", "list-items arm64"]
    );
    assert_eq!(
        std::fs::read_to_string(out.0.join("x86_64/get-item.zip")).unwrap(),
        "X1"
    );
    assert_eq!(
        std::fs::read_to_string(out.0.join("arm64/list-items.zip")).unwrap(),
        "A2"
    );
    let written = Manifest::read(&out.0.join("manifest.json")).unwrap();
    assert_eq!(written, merged);
}

#[test]
fn two_zips_for_one_name_and_architecture_are_refused_with_nothing_written() {
    let (a, b, out) = (Dir::new("c"), Dir::new("d"), Dir::new("out2"));
    let one = build(&a, "items", ROUTES, &[("get-item", "arm64", "old")]);
    let two = build(&b, "items", ROUTES, &[("get-item", "arm64", "new")]);
    let err = run(&[one, two], &out.0.join("manifest.json"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("two different zips for function get-item (arm64)"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_dir(&out.0).unwrap().count(),
        0,
        "something was written"
    );
}

#[test]
fn builds_of_other_sources_or_apps_are_refused() {
    let (a, b, c) = (Dir::new("e"), Dir::new("f"), Dir::new("g"));
    let base = build(&a, "items", ROUTES, &[("get-item", "arm64", "1")]);
    let other_routes = build(&b, "items", "[]", &[("get-item", "x86_64", "2")]);
    let other_app = build(&c, "shop", ROUTES, &[("get-item", "x86_64", "3")]);
    let (m1, m2) = (
        vec![
            Input::read(&base).unwrap(),
            Input::read(&other_routes).unwrap(),
        ],
        vec![
            Input::read(&base).unwrap(),
            Input::read(&other_app).unwrap(),
        ],
    );
    let e1 = merge(&m1).unwrap_err().to_string();
    assert!(e1.contains("route tables differ"), "{e1}");
    let e2 = merge(&m2).unwrap_err().to_string();
    assert!(e2.contains("apps `items` and `shop`"), "{e2}");
}

#[test]
fn a_zip_that_is_not_its_manifests_is_refused() {
    let (a, out) = (Dir::new("h"), Dir::new("out3"));
    let path = build(&a, "items", ROUTES, &[("get-item", "arm64", "right")]);
    std::fs::write(a.0.join("arm64/get-item.zip"), "tampered").unwrap();
    let err = run(&[path], &out.0.join("manifest.json"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("is not the one its manifest names"), "{err}");
}
