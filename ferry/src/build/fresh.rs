//! Skips cargo when nothing it would read has changed since the last
//! successful compile. cargo's own no-op costs more than ferry's whole build
//! (cargo-zigbuild first probes its compiler wrappers, then cargo checks
//! every unit's fingerprint), so a no-op build compares one digest instead.
//! The digest covers every file of the workspace (path, size, mtime, with
//! target folders, `.git/` and `.ferry/` left out), the toolchain that
//! `rustc --print sysroot` names, zig and cargo-zigbuild, the cargo and rustup
//! settings outside the workspace, the environment, the files outside the
//! workspace that build scripts and binaries told cargo they read, and the
//! exact cargo command lines. A workspace whose path dependencies reach
//! outside its root never skips. When in doubt this module answers "not
//! fresh": the cost of a wrong "fresh" is a stale binary, the cost of a wrong
//! "not fresh" is one cargo no-op.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use sha2::{Digest, Sha256};

use super::pack::hex;
use super::select::CargoInvocation;
use crate::tools::ZigTools;

const STAMP: &str = ".ferry-compiled";

/// Environment variables that differ between shells without changing what
/// a compile reads.
const VOLATILE_ENV: &[&str] = &[
    "_",
    "OLDPWD",
    "PWD",
    "SHLVL",
    "TERM",
    "COLUMNS",
    "LINES",
    "TMUX_PANE",
    "WINDOWID",
    "SSH_CLIENT",
    "SSH_CONNECTION",
    "SSH_TTY",
    "SSH_AUTH_SOCK",
];

/// What `cargo run` tells the program it runs (ferry runs as `cargo xtask`
/// and, for deploys, as `cargo run --bin xtask-aws`); cargo sets these afresh
/// for every build script, so a compile never reads the inherited values.
const RUN_ENV_PREFIXES: &[&str] = &[
    "CARGO_PKG_",
    "CARGO_MANIFEST_",
    "CARGO_CRATE_NAME",
    "CARGO_BIN_NAME",
    "CARGO_PRIMARY_PACKAGE",
];

/// What a compile of `invocations` reads that ferry can list before it runs,
/// as one digest; `None` when the workspace depends on crates outside `root`.
/// Computed before and after a compile: a file edited while cargo ran makes
/// the two differ, and then nothing is recorded.
pub fn sources_digest(
    root: &Path,
    tools: &ZigTools,
    invocations: &[CargoInvocation],
) -> Option<String> {
    let mut hasher = Sha256::new();
    let mut manifests = Vec::new();
    walk(root, root, &mut hasher, &mut manifests);
    let packages: BTreeSet<&str> = invocations
        .iter()
        .flat_map(|i| i.packages.iter().map(String::as_str))
        .collect();
    if !path_dependencies_inside(root, &manifests, &packages) {
        return None;
    }
    let mut env: Vec<_> = std::env::vars_os()
        .filter(|(name, _)| {
            let name = name.to_string_lossy();
            !VOLATILE_ENV.contains(&name.as_ref())
                && !RUN_ENV_PREFIXES.iter().any(|p| name.starts_with(p))
        })
        .collect();
    env.sort();
    for (name, value) in env {
        hasher.update(format!("env {name:?}={value:?}\n"));
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    let cargo_home = std::env::var_os("CARGO_HOME").map_or(home.join(".cargo"), PathBuf::from);
    let rustup_home = std::env::var_os("RUSTUP_HOME").map_or(home.join(".rustup"), PathBuf::from);
    hasher.update(format!("sysroot {}\n", tools.sysroot.display()));
    let mut outside = vec![
        cargo_home.join("config.toml"),
        cargo_home.join("config"),
        rustup_home.join("settings.toml"),
        tools.sysroot.join("bin/rustc"),
        tools.sysroot.join("bin/cargo"),
        tools
            .sysroot
            .join("lib/rustlib/multirust-channel-manifest.toml"),
        tools.zig.clone(),
        tools.cargo_zigbuild.clone(),
    ];
    // cargo also reads `.cargo/config.toml` in every folder above the root.
    for dir in root.ancestors().skip(1) {
        outside.push(dir.join(".cargo/config.toml"));
        outside.push(dir.join(".cargo/config"));
    }
    for path in outside {
        stat(&path, &path, &mut hasher);
    }
    // The exact cargo command lines, with ferry's profile settings, the
    // remapping, which names the root (a moved workspace compiles again), and
    // the rustc wrapper ferry hands on to.
    hasher.update(format!(
        "ferry {} at {}\n{}\n{:?}\n",
        env!("CARGO_PKG_VERSION"),
        root.display(),
        super::wrap::Remap::new(root).describe(),
        super::wrap::user_wrapper(root)
    ));
    for invocation in invocations {
        hasher.update(format!("{:?}\n", super::compile::args(invocation, true)));
    }
    Some(hex(&hasher.finalize()))
}

/// The sources digest together with the files outside the workspace that
/// the last compile said it read.
pub fn inputs_digest(
    sources: &str,
    root: &Path,
    target_dir: &Path,
    invocations: &[CargoInvocation],
) -> String {
    let mut hasher = Sha256::new();
    hasher.update(sources);
    for path in declared_reads(root, target_dir, invocations) {
        stat(&path, &path, &mut hasher);
    }
    hex(&hasher.finalize())
}

/// Whether the last successful compile read exactly these inputs.
pub fn is_fresh(target_dir: &Path, digest: &str) -> bool {
    std::fs::read_to_string(stamp(target_dir)).is_ok_and(|s| s.trim() == digest)
}

/// Records the inputs of a compile that succeeded.
pub fn record(target_dir: &Path, digest: &str) -> miette::Result<()> {
    super::write_atomic(&stamp(target_dir), digest.as_bytes())
}

/// Forgets the last compile, before one starts: a compile that fails or is
/// stopped must not leave a stamp that a later run could match.
pub fn forget(target_dir: &Path) {
    let _ = std::fs::remove_file(stamp(target_dir));
}

fn stamp(target_dir: &Path) -> PathBuf {
    target_dir.join("lambda").join(STAMP)
}

/// Absolute paths outside the workspace that the last compile read: the
/// `rerun-if-changed` files build scripts declared (in their `output`) and
/// the sources listed in each binary's dep-info (`include_str!` of a file
/// elsewhere, for example). Relative and in-workspace paths are covered by
/// the walk; registry sources never change.
fn declared_reads(
    root: &Path,
    target_dir: &Path,
    invocations: &[CargoInvocation],
) -> BTreeSet<PathBuf> {
    let profile = super::compile::PROFILE;
    let mut dirs = vec![target_dir.join(profile)];
    for invocation in invocations {
        for (arch, _) in &invocation.targets {
            dirs.push(target_dir.join(arch.triple()).join(profile));
        }
    }
    let mut reads = BTreeSet::new();
    for dir in dirs {
        let build_outputs = std::fs::read_dir(dir.join("build"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path().join("output"));
        for output in build_outputs {
            let Ok(text) = std::fs::read_to_string(&output) else {
                continue;
            };
            for line in text.lines() {
                let declared = line
                    .strip_prefix("cargo::rerun-if-changed=")
                    .or_else(|| line.strip_prefix("cargo:rerun-if-changed="));
                reads.extend(declared.map(PathBuf::from));
            }
        }
        let dep_infos = std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "d"));
        for dep_info in dep_infos {
            let Ok(text) = std::fs::read_to_string(&dep_info) else {
                continue;
            };
            // The first rule lists every source: `out: src1 src2 ...`, with
            // spaces inside a path escaped as `\ `.
            let Some((_, sources)) = text.lines().next().and_then(|l| l.split_once(": ")) else {
                continue;
            };
            let sources = sources.replace("\\ ", "\u{0}");
            reads.extend(
                sources
                    .split(' ')
                    .filter(|s| !s.is_empty())
                    .map(|s| PathBuf::from(s.replace('\u{0}', " "))),
            );
        }
    }
    let cargo_home = super::compile::cargo_home();
    reads.retain(|p| {
        p.is_absolute()
            && !p.starts_with(root)
            && !cargo_home
                .as_ref()
                .is_some_and(|home| p.starts_with(home.join("registry")))
    });
    reads
}

fn walk(root: &Path, dir: &Path, hasher: &mut Sha256, manifests: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().unwrap_or_default();
        let is_dir = path.is_dir() && !path.is_symlink();
        // Output folders are not inputs: the target folder under any name
        // (cargo tags it with CACHEDIR.TAG), git's store and ferry's tools.
        if name == ".git"
            || (dir == root && (name == "target" || name == ".ferry"))
            || (is_dir && path.join("CACHEDIR.TAG").is_file())
        {
            continue;
        }
        if is_dir {
            walk(root, &path, hasher, manifests);
        } else {
            if name == "Cargo.toml" {
                manifests.push(path.clone());
            }
            stat(root, &path, hasher);
        }
    }
}

fn stat(root: &Path, path: &Path, hasher: &mut Sha256) {
    let relative = path.strip_prefix(root).unwrap_or(path);
    let line = match std::fs::metadata(path) {
        Ok(meta) => {
            let mtime = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            format!("{} {} {mtime}\n", relative.display(), meta.len())
        }
        Err(_) => format!("{} absent\n", relative.display()),
    };
    hasher.update(line);
}

/// Whether every path dependency in Cargo.lock (a package without a
/// `source`) that `packages` reach is a crate whose Cargo.toml lies under
/// the root. Path dependencies of other members (an xtask shim's path to a
/// checkout of ferry, say) do not count: the Lambda build never reads them.
fn path_dependencies_inside(root: &Path, manifests: &[PathBuf], packages: &BTreeSet<&str>) -> bool {
    let Ok(lock) = std::fs::read_to_string(root.join("Cargo.lock")) else {
        return false;
    };
    let Ok(lock) = lock.parse::<toml::Table>() else {
        return false;
    };
    let local: BTreeSet<String> = manifests
        .iter()
        .filter_map(|m| std::fs::read_to_string(m).ok())
        .filter_map(|text| text.parse::<toml::Table>().ok())
        .filter_map(|t| t.get("package")?.get("name")?.as_str().map(str::to_owned))
        .collect();
    let entries: Vec<&toml::Value> = lock
        .get("package")
        .and_then(|p| p.as_array())
        .into_iter()
        .flatten()
        .collect();
    let field = |p: &toml::Value, key: &str| p.get(key).and_then(|v| v.as_str()).map(str::to_owned);
    // A dependency is written `name`, `name version` or `name version (source)`.
    let matching = |dep: &str| -> Vec<&toml::Value> {
        let mut words = dep.split_whitespace();
        let (name, version) = (words.next().unwrap_or(""), words.next());
        entries
            .iter()
            .copied()
            .filter(|p| field(p, "name").as_deref() == Some(name))
            .filter(|p| version.is_none() || field(p, "version").as_deref() == version)
            .collect()
    };
    let mut seen = BTreeSet::new();
    let mut stack: Vec<&toml::Value> = Vec::new();
    for package in packages {
        let found = matching(package);
        if found.is_empty() {
            // Not locked yet: cargo will change Cargo.lock, so compile.
            return false;
        }
        stack.extend(found);
    }
    while let Some(entry) = stack.pop() {
        let id = (
            field(entry, "name"),
            field(entry, "version"),
            field(entry, "source"),
        );
        if !seen.insert(id.clone()) {
            continue;
        }
        if id.2.is_none() && !id.0.as_ref().is_some_and(|n| local.contains(n)) {
            return false;
        }
        let deps = entry.get("dependencies").and_then(|d| d.as_array());
        for dep in deps.into_iter().flatten().filter_map(|d| d.as_str()) {
            stack.extend(matching(dep));
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fixture::Fixture;

    fn tools(root: &Path) -> ZigTools {
        ZigTools {
            cargo_zigbuild: root.join("no-zigbuild"),
            zig: root.join("no-zig"),
            sysroot: root.join("no-sysroot"),
        }
    }

    fn digest(f: &Fixture) -> Option<String> {
        let svc = CargoInvocation {
            targets: vec![(
                crate::model::Arch::Arm64,
                crate::model::GlibcVersion::new(2, 26),
            )],
            packages: vec!["svc".into()],
        };
        sources_digest(f.path(), &tools(f.path()), &[svc])
    }

    /// A Cargo.lock of path packages; `svc` depends on those listed after `svc ->`.
    fn lock(f: &Fixture, packages: &[&str]) {
        let mut text = "version = 4\n".to_owned();
        for p in packages {
            let (name, deps) = p.split_once(" -> ").unwrap_or((p, ""));
            let deps: Vec<String> = deps
                .split(',')
                .filter(|d| !d.is_empty())
                .map(|d| format!("\"{d}\""))
                .collect();
            text.push_str(&format!(
                "\n[[package]]\nname = \"{name}\"\nversion = \"0.1.0\"\ndependencies = [{}]\n",
                deps.join(", ")
            ));
        }
        std::fs::write(f.path().join("Cargo.lock"), text).unwrap();
    }

    #[test]
    fn the_digest_follows_the_sources_and_ignores_target() {
        let f = Fixture::new().service("svc", "routes = [\"GET /a\"]\n");
        lock(&f, &["svc"]);
        let before = digest(&f).expect("no path dependency outside");
        assert_eq!(digest(&f), Some(before.clone()), "stable");
        std::fs::create_dir_all(f.path().join("target/x")).unwrap();
        std::fs::write(f.path().join("target/x/out"), "built").unwrap();
        assert_eq!(digest(&f), Some(before.clone()), "target/ is output");
        std::fs::write(
            f.path().join("services/svc/src/main.rs"),
            "fn main() { let _x = 1; }",
        )
        .unwrap();
        assert_ne!(digest(&f), Some(before));
    }

    #[test]
    fn a_path_dependency_outside_the_root_disables_the_shortcut() {
        let f = Fixture::new().service("svc", "routes = [\"GET /a\"]\n");
        lock(&f, &["svc -> elsewhere", "elsewhere"]);
        assert_eq!(digest(&f), None);
        // One that only another member uses (a shim's path to ferry) does not.
        lock(&f, &["svc", "xtask -> ferry", "ferry"]);
        assert!(digest(&f).is_some());
    }

    #[test]
    fn files_a_build_script_or_binary_declared_outside_the_root_count() {
        let f = Fixture::new().service("svc", "routes = [\"GET /a\"]\n");
        lock(&f, &["svc"]);
        let outside = Fixture::new();
        let header = outside.path().join("lib.h");
        let included = outside.path().join("with space.txt");
        std::fs::write(&header, "int x;").unwrap();
        std::fs::write(&included, "text").unwrap();
        let target = f.path().join("target");
        let script = target.join("lambda/build/cc-0123");
        std::fs::create_dir_all(&script).unwrap();
        std::fs::write(
            script.join("output"),
            format!(
                "cargo:rerun-if-changed={}\ncargo:rustc-link-lib=z\n",
                header.display()
            ),
        )
        .unwrap();
        let bins = target.join("x86_64-unknown-linux-gnu/lambda");
        std::fs::create_dir_all(&bins).unwrap();
        let escaped = included.display().to_string().replace(' ', "\\ ");
        std::fs::write(
            bins.join("svc.d"),
            format!(
                "{}/svc: {} {escaped}\n",
                bins.display(),
                f.path().join("services/svc/src/main.rs").display()
            ),
        )
        .unwrap();
        let invocation = CargoInvocation {
            targets: vec![(
                crate::model::Arch::X86_64,
                crate::model::GlibcVersion::new(2, 26),
            )],
            packages: vec!["svc".into()],
        };
        let reads = declared_reads(f.path(), &target, std::slice::from_ref(&invocation));
        assert_eq!(reads, BTreeSet::from([header.clone(), included.clone()]));
        let sources = digest(&f).unwrap();
        let first = inputs_digest(
            &sources,
            f.path(),
            &target,
            std::slice::from_ref(&invocation),
        );
        std::fs::write(&header, "int x; int y;").unwrap();
        let second = inputs_digest(
            &sources,
            f.path(),
            &target,
            std::slice::from_ref(&invocation),
        );
        assert_ne!(first, second, "a changed header outside the root");
        std::fs::write(&included, "other").unwrap();
        let third = inputs_digest(&sources, f.path(), &target, &[invocation]);
        assert_ne!(second, third, "a changed included file outside the root");
    }

    #[test]
    fn only_a_recorded_digest_is_fresh() {
        let dir = Fixture::new();
        assert!(!is_fresh(dir.path(), "abc"));
        record(dir.path(), "abc").unwrap();
        assert!(is_fresh(dir.path(), "abc") && !is_fresh(dir.path(), "abd"));
        forget(dir.path());
        assert!(!is_fresh(dir.path(), "abc"));
    }
}
