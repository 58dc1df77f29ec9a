//! Workspace-relative folder globs, as Cargo's `workspace.members` and
//! deploy.toml's `app.services` / `app.layers` write them: `/`-separated
//! segments, each a literal or a pattern with `*` (any run of characters)
//! and `?` (one character). `**` and character classes are not supported.

use std::path::{Path, PathBuf};

/// Checks a glob's form; the error says what is wrong with it.
pub fn check(pattern: &str) -> Result<(), String> {
    if pattern.is_empty() {
        return Err("the pattern is empty".into());
    }
    if pattern.starts_with('/') || pattern.split('/').any(|s| s == "..") {
        return Err("the pattern must stay inside the workspace (no leading `/`, no `..`)".into());
    }
    if pattern.contains("**") {
        return Err("`**` is not supported; name each level, e.g. `lambdas/*`".into());
    }
    if pattern.contains(['[', ']', '{', '}']) {
        return Err("only `*` and `?` are supported".into());
    }
    Ok(())
}

/// Whether `name` matches one segment pattern of `*` and `?`.
pub fn segment_matches(pattern: &str, name: &str) -> bool {
    fn go(p: &[char], n: &[char]) -> bool {
        match (p.first(), n.first()) {
            (None, None) => true,
            (Some('*'), _) => go(&p[1..], n) || (!n.is_empty() && go(p, &n[1..])),
            (Some('?'), Some(_)) => go(&p[1..], &n[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &n[1..]),
            _ => false,
        }
    }
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    go(&p, &n)
}

/// The folders under `root` that `pattern` names and that hold a
/// `Cargo.toml`, relative to `root`, sorted. Hidden folders and `target`
/// match only when named literally.
pub fn crate_dirs(root: &Path, pattern: &str) -> Vec<PathBuf> {
    let mut found = vec![PathBuf::new()];
    for segment in pattern.split('/').filter(|s| !s.is_empty() && *s != ".") {
        let literal = !segment.contains(['*', '?']);
        let mut next = Vec::new();
        for dir in &found {
            if literal {
                if root.join(dir).join(segment).is_dir() {
                    next.push(dir.join(segment));
                }
                continue;
            }
            let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
                continue;
            };
            for entry in entries.filter_map(Result::ok) {
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.starts_with('.') || name == "target" || !entry.path().is_dir() {
                    continue;
                }
                if segment_matches(segment, &name) {
                    next.push(dir.join(&name));
                }
            }
        }
        found = next;
    }
    found.retain(|dir| root.join(dir).join("Cargo.toml").is_file());
    found.sort();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_match_stars_and_question_marks() {
        assert!(segment_matches("*", "get-item"));
        assert!(segment_matches("get-*", "get-item"));
        assert!(segment_matches("*-item", "get-item"));
        assert!(segment_matches("g?t-item", "get-item"));
        assert!(!segment_matches("get-?", "get-item"));
        assert!(!segment_matches("list-*", "get-item"));
    }

    #[test]
    fn globs_find_crate_folders_only() {
        let root = std::env::temp_dir().join(format!("ferry-glob-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for dir in ["lambdas/a", "lambdas/b", "lambdas/notes", "extensions/x"] {
            std::fs::create_dir_all(root.join(dir)).unwrap();
        }
        for dir in ["lambdas/a", "lambdas/b", "extensions/x"] {
            std::fs::write(root.join(dir).join("Cargo.toml"), "").unwrap();
        }
        let found = crate_dirs(&root, "lambdas/*");
        assert_eq!(
            found,
            vec![PathBuf::from("lambdas/a"), PathBuf::from("lambdas/b")]
        );
        assert_eq!(
            crate_dirs(&root, "extensions/x"),
            vec![PathBuf::from("extensions/x")]
        );
        assert!(crate_dirs(&root, "nothing/*").is_empty());
        assert!(check("../x").is_err());
        assert!(check("a/**").is_err());
        assert!(check("lambdas/*").is_ok());
        std::fs::remove_dir_all(&root).unwrap();
    }
}
