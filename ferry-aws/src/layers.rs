//! Holds the AWS side to its layering: SDK plumbing (`sdk`), reading live
//! state (`read`), writes (`write`), the executor (`exec`), then the
//! commands. A module may import from its own layer and those below it, and
//! no modules import each other in a cycle. Read from the source text, as
//! rust-analyzer's tidy tests do, so a new import that breaks it fails here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const LAYERS: [&str; 4] = ["sdk", "read", "write", "exec"];

/// A module's layer: its place in [`LAYERS`], the commands above them all.
fn layer(module: &[String]) -> usize {
    module
        .first()
        .and_then(|first| LAYERS.iter().position(|l| l == first))
        .unwrap_or(LAYERS.len())
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/read/live.rs` -> `read::live`; `src/read/mod.rs` -> `read`.
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file
        .strip_prefix(src)
        .expect("under src/")
        .with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The module paths a file names through `crate::` or `super::`, with one
/// level of braces expanded.
fn references(text: &str, module: &[String]) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    for (prefix, base) in [
        ("crate::", Vec::new()),
        ("super::", {
            // `super` of the file's module (inline `mod tests` blocks, whose
            // `super` is the file itself, stay within its layer either way).
            let mut parent = module.to_vec();
            parent.pop();
            parent
        }),
    ] {
        for (at, _) in text.match_indices(prefix) {
            if text[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let rest = &text[at + prefix.len()..];
            let path: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            let mut head = base.clone();
            head.extend(
                path.split("::")
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned),
            );
            let after = &rest[path.len()..];
            if let Some(group) = after.strip_prefix('{') {
                for item in group.split('}').next().unwrap_or("").split(',') {
                    let item = item.trim().split("::").next().unwrap_or("").trim();
                    if !item.is_empty() && item != "self" {
                        let mut full = head.clone();
                        full.push(item.to_owned());
                        found.push(full);
                    }
                }
            }
            found.push(head);
        }
    }
    found
}

#[test]
fn modules_import_only_their_own_layer_and_those_below_without_cycles() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| module_of(&src, f)).collect();
    let mut graph: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    let mut wrong = Vec::new();
    for file in &files {
        let module = module_of(&src, file);
        let text = std::fs::read_to_string(file).expect("a source file");
        for path in references(&text, &module) {
            // The longest prefix that is a module of this crate.
            let Some(target) = (0..=path.len())
                .rev()
                .map(|n| path[..n].to_vec())
                .find(|p| !p.is_empty() && modules.contains(p))
            else {
                continue;
            };
            if target == module || module.starts_with(&target) || target.starts_with(&module) {
                continue;
            }
            if layer(&target) > layer(&module) {
                wrong.push(format!(
                    "{} imports {} from a higher layer",
                    module.join("::"),
                    path.join("::")
                ));
            }
            graph.entry(module.clone()).or_default().insert(target);
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // A cycle: a module reachable from itself, named with its path.
    for start in graph.keys() {
        let mut stack: Vec<Vec<&Vec<String>>> = graph[start].iter().map(|n| vec![n]).collect();
        let mut seen = BTreeSet::new();
        while let Some(path) = stack.pop() {
            let next = path[path.len() - 1];
            if next == start {
                let names: Vec<String> = path.iter().map(|m| m.join("::")).collect();
                panic!(
                    "import cycle: {} -> {}",
                    start.join("::"),
                    names.join(" -> ")
                );
            }
            if seen.insert(next) {
                for after in graph.get(next).into_iter().flatten() {
                    let mut longer = path.clone();
                    longer.push(after);
                    stack.push(longer);
                }
            }
        }
    }
}

#[test]
fn the_reference_reader_sees_grouped_and_relative_imports() {
    let module = vec!["exec".to_owned(), "execute".to_owned()];
    let refs = references(
        "use crate::read::{landed, live};\nuse super::apply::Ctx;\nmy_crate::x",
        &module,
    );
    let names: Vec<String> = refs.iter().map(|r| r.join("::")).collect();
    assert!(names.contains(&"read::landed".to_owned()), "{names:?}");
    assert!(names.contains(&"read::live".to_owned()), "{names:?}");
    assert!(names.contains(&"exec::apply::Ctx".to_owned()), "{names:?}");
    assert!(!names.iter().any(|n| n == "x"), "{names:?}");
    assert_eq!(layer(&["write".into(), "lock".into()]), 2);
    assert_eq!(layer(&["run".into()]), 4);
}
