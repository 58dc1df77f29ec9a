//! ferry as cargo's `RUSTC_WRAPPER` while it compiles: adds, per crate, the
//! `--remap-path-prefix` flags that keep host paths out of binaries, and
//! hands the call on to the wrapper the user configured (sccache), or to
//! rustc. Flags passed this way differ per crate, where RUSTFLAGS would put
//! the workspace path on every crate: a dependency is then compiled with
//! the same command line and `CARGO_*` environment from any checkout, so a
//! shared compile cache keyed on both (sccache) finds it again.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

const WORKSPACE_VAR: &str = "FERRY_WRAP_WORKSPACE";
const TARGET_DIR_VAR: &str = "FERRY_WRAP_TARGET_DIR";
const CARGO_HOME_VAR: &str = "FERRY_WRAP_CARGO_HOME";
const NEXT_VAR: &str = "FERRY_WRAP_NEXT";

/// The host paths a build remaps, and where each lands in the binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remap {
    pub workspace: PathBuf,
    pub target_dir: PathBuf,
    pub cargo_home: Option<PathBuf>,
}

impl Remap {
    pub fn new(root: &Path) -> Self {
        Self {
            workspace: root.to_path_buf(),
            target_dir: super::compile::target_dir(root),
            cargo_home: super::compile::cargo_home(),
        }
    }

    /// The flags for one rustc call. Only crates built for a `--target` go
    /// into a Lambda binary (build scripts and proc macros run on the host).
    /// Every such crate may name files under cargo's home; a workspace member
    /// names its own folder; a crate with a build script (`OUT_DIR`) may name
    /// generated files in the target folder. Later mappings win in rustc, so
    /// the target folder, which may sit inside the workspace, comes last.
    pub fn flags(
        &self,
        args: &[OsString],
        manifest_dir: Option<&Path>,
        out_dir: bool,
    ) -> Vec<String> {
        let has = |flag: &str| {
            args.iter()
                .any(|a| a == flag || a.to_string_lossy().starts_with(&format!("{flag}=")))
        };
        let crate_name = args
            .iter()
            .position(|a| a == "--crate-name")
            .and_then(|i| args.get(i + 1));
        // `___` is cargo asking rustc about the target, not a crate.
        if !has("--target") || crate_name.is_none_or(|name| name == "___") {
            return Vec::new();
        }
        let map = |from: &Path, to: &str| format!("--remap-path-prefix={}={to}", from.display());
        let mut flags = Vec::new();
        if let Some(home) = &self.cargo_home {
            flags.push(map(home, "/cargo"));
        }
        let member = manifest_dir.is_some_and(|dir| dir.starts_with(&self.workspace));
        if member {
            flags.push(map(&self.workspace, "/workspace"));
        }
        if member || out_dir {
            flags.push(map(&self.target_dir, "/target"));
        }
        flags
    }

    /// What the freshness digest records of the remapping.
    pub fn describe(&self) -> String {
        format!("{self:?}")
    }

    /// The environment that makes ferry's executable act as the wrapper,
    /// handing on to `next` when the user has a wrapper of their own.
    pub fn env(&self, next: Option<&OsStr>) -> Vec<(&'static str, OsString)> {
        let mut env = vec![
            (WORKSPACE_VAR, self.workspace.clone().into_os_string()),
            (TARGET_DIR_VAR, self.target_dir.clone().into_os_string()),
        ];
        if let Some(home) = &self.cargo_home {
            env.push((CARGO_HOME_VAR, home.clone().into_os_string()));
        }
        if let Some(next) = next {
            env.push((NEXT_VAR, next.to_os_string()));
        }
        env
    }

    fn from_env() -> Option<Self> {
        Some(Self {
            workspace: std::env::var_os(WORKSPACE_VAR)?.into(),
            target_dir: std::env::var_os(TARGET_DIR_VAR)?.into(),
            cargo_home: std::env::var_os(CARGO_HOME_VAR).map(PathBuf::from),
        })
    }
}

/// When cargo runs this executable as ferry's rustc wrapper (`<exe> <rustc>
/// <args>…` under ferry's environment), runs that rustc call and returns its
/// exit code; otherwise `None`, and the caller goes on as a command line.
/// Every entry point of a binary that builds calls this first.
pub fn run_if_wrapping() -> Option<ExitCode> {
    let remap = Remap::from_env()?;
    let mut argv = std::env::args_os().skip(1);
    let rustc = argv.next()?;
    let args: Vec<OsString> = argv.collect();
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from);
    let out_dir = std::env::var_os("OUT_DIR").is_some();
    let flags = remap.flags(&args, manifest_dir.as_deref(), out_dir);
    let mut command = match std::env::var_os(NEXT_VAR) {
        Some(next) => {
            let mut command = Command::new(next);
            command.arg(&rustc);
            command
        }
        None => Command::new(&rustc),
    };
    command.args(&args).args(&flags);
    for var in [WORKSPACE_VAR, TARGET_DIR_VAR, CARGO_HOME_VAR, NEXT_VAR] {
        command.env_remove(var);
    }
    Some(exec(command))
}

#[cfg(unix)]
fn exec(mut command: Command) -> ExitCode {
    use std::os::unix::process::CommandExt;
    let error = command.exec();
    eprintln!("ferry: cannot run {:?}: {error}", command.get_program());
    ExitCode::FAILURE
}

#[cfg(not(unix))]
fn exec(mut command: Command) -> ExitCode {
    match command.status() {
        Ok(status) => ExitCode::from(status.code().unwrap_or(1).clamp(0, 255) as u8),
        Err(error) => {
            eprintln!("ferry: cannot run {:?}: {error}", command.get_program());
            ExitCode::FAILURE
        }
    }
}

/// The rustc wrapper the user configured, as cargo would find it: the
/// `RUSTC_WRAPPER` or `CARGO_BUILD_RUSTC_WRAPPER` variable, else
/// `build.rustc-wrapper` in the nearest `.cargo/config.toml` above `root`,
/// else in cargo's home. An empty value means none.
pub fn user_wrapper(root: &Path) -> Option<OsString> {
    for var in ["RUSTC_WRAPPER", "CARGO_BUILD_RUSTC_WRAPPER"] {
        if let Some(value) = std::env::var_os(var) {
            return Some(value).filter(|v| !v.is_empty());
        }
    }
    let home = super::compile::cargo_home();
    let configs = root
        .ancestors()
        .flat_map(|dir| [dir.join(".cargo/config.toml"), dir.join(".cargo/config")])
        .chain(
            home.into_iter()
                .flat_map(|h| [h.join("config.toml"), h.join("config")]),
        );
    for config in configs {
        let Ok(text) = std::fs::read_to_string(&config) else {
            continue;
        };
        if let Some(value) = config_wrapper(&text) {
            if value.is_empty() {
                return None;
            }
            // cargo reads a value with a slash relative to the folder that
            // holds `.cargo/`, and a bare name from PATH.
            let base = config.parent().and_then(Path::parent).unwrap_or(root);
            return Some(if value.contains('/') {
                base.join(value).into_os_string()
            } else {
                value.into()
            });
        }
    }
    None
}

fn config_wrapper(text: &str) -> Option<String> {
    let table: toml::Table = text.parse().ok()?;
    let build = table.get("build")?.as_table()?;
    Some(build.get("rustc-wrapper")?.as_str()?.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remap() -> Remap {
        Remap {
            workspace: "/src/app".into(),
            target_dir: "/src/app/target".into(),
            cargo_home: Some("/home/me/.cargo".into()),
        }
    }

    fn args(line: &str) -> Vec<OsString> {
        line.split(' ').map(OsString::from).collect()
    }

    const LIB: &str = "--crate-name serde --edition=2021 src/lib.rs --crate-type lib --target x86_64-unknown-linux-gnu";

    #[test]
    fn a_dependency_is_mapped_without_the_workspace_path() {
        let dep = Path::new("/home/me/.cargo/registry/src/index/serde-1.0.0");
        assert_eq!(
            remap().flags(&args(LIB), Some(dep), false),
            ["--remap-path-prefix=/home/me/.cargo=/cargo"]
        );
        assert_eq!(
            remap().flags(&args(LIB), Some(dep), true),
            [
                "--remap-path-prefix=/home/me/.cargo=/cargo",
                "--remap-path-prefix=/src/app/target=/target"
            ],
            "a build script's OUT_DIR lies in the target folder"
        );
    }

    #[test]
    fn a_member_maps_the_workspace_then_the_target_folder() {
        assert_eq!(
            remap().flags(&args(LIB), Some(Path::new("/src/app/services/x")), false),
            [
                "--remap-path-prefix=/home/me/.cargo=/cargo",
                "--remap-path-prefix=/src/app=/workspace",
                "--remap-path-prefix=/src/app/target=/target"
            ]
        );
    }

    #[test]
    fn host_crates_and_cargos_probes_get_nothing() {
        let member = Some(Path::new("/src/app/services/x"));
        let host = "--crate-name build_script_build --edition=2021 build.rs --crate-type bin";
        assert!(remap().flags(&args(host), member, false).is_empty());
        let probe = "- --crate-name ___ --print=file-names --target=x86_64-unknown-linux-gnu";
        assert!(remap().flags(&args(probe), member, false).is_empty());
        assert!(remap().flags(&args("-vV"), member, false).is_empty());
    }

    #[test]
    fn a_configured_wrapper_is_read_from_cargo_config() {
        assert_eq!(
            config_wrapper("[build]\nrustc-wrapper = \"sccache\"\n").as_deref(),
            Some("sccache")
        );
        assert_eq!(config_wrapper("[build]\njobs = 2\n"), None);
        assert_eq!(config_wrapper("not toml ["), None);
    }
}
