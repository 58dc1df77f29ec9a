//! Runs `cargo zigbuild` for one invocation of the build plan: every selected
//! crate, every target, one shared target directory, host paths remapped out
//! of the binaries by ferry itself as cargo's rustc wrapper (`wrap`).

use std::path::{Path, PathBuf};
use std::process::Command;

use miette::{miette, IntoDiagnostic, WrapErr};

use super::select::CargoInvocation;
use super::wrap::{user_wrapper, Remap};
use crate::model::Arch;
use crate::tools::ZigTools;

/// The cargo profile ferry builds with (defined in the workspace Cargo.toml, or
/// supplied on the command line when the workspace does not define it).
pub const PROFILE: &str = "lambda";

/// Where cargo puts its output: `CARGO_TARGET_DIR`, else `<root>/target`.
pub fn target_dir(root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root.join(dir),
        None => root.join("target"),
    }
}

/// cargo's home: `CARGO_HOME`, else `~/.cargo`.
pub fn cargo_home() -> Option<PathBuf> {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
}

/// Where cargo leaves a binary built for `arch`.
pub fn binary_path(target_dir: &Path, arch: Arch, bin: &str) -> PathBuf {
    target_dir.join(arch.triple()).join(PROFILE).join(bin)
}

/// The arguments of one `cargo zigbuild` run, without the program.
pub fn args(invocation: &CargoInvocation, define_profile: bool) -> Vec<String> {
    let mut args = vec![
        "zigbuild".to_owned(),
        "--profile".to_owned(),
        PROFILE.to_owned(),
        "--bins".to_owned(),
    ];
    if define_profile {
        for setting in [
            r#"profile.lambda.inherits="release""#,
            r#"profile.lambda.strip="symbols""#,
            r#"profile.lambda.opt-level="s""#,
            r#"profile.lambda.codegen-units=1"#,
        ] {
            args.extend(["--config".to_owned(), setting.to_owned()]);
        }
    }
    for target in invocation.target_args() {
        args.extend(["--target".to_owned(), target]);
    }
    for package in &invocation.packages {
        args.extend(["-p".to_owned(), package.clone()]);
    }
    args
}

/// The exact `cargo zigbuild` command ferry runs for `invocation`.
pub fn command(
    root: &Path,
    tools: &ZigTools,
    invocation: &CargoInvocation,
) -> miette::Result<Command> {
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).into_diagnostic()?;
    let define_profile = !manifest.contains("[profile.lambda]");
    let mut command = Command::new(&tools.cargo_zigbuild);
    command
        .current_dir(root)
        .args(args(invocation, define_profile))
        .env("CARGO_ZIGBUILD_ZIG_PATH", &tools.zig);
    // cargo-zigbuild asks `python3 -m ziglang` before anything else; with the
    // tool venv first on PATH that is a fast, successful call instead of a
    // slow miss through shims such as pyenv's.
    if let Some(venv_bin) = tools.cargo_zigbuild.parent() {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let paths = std::iter::once(venv_bin.to_path_buf()).chain(std::env::split_paths(&path));
        if let Ok(joined) = std::env::join_paths(paths) {
            command.env("PATH", joined);
        }
    }
    // ferry runs as cargo's rustc wrapper to remap host paths per crate
    // (see `wrap`), in front of the user's own wrapper, which cargo would
    // otherwise have run: the environment variable wins over its config.
    let exe = std::env::current_exe()
        .into_diagnostic()
        .wrap_err("ferry cannot find its own executable, which it runs as cargo's rustc wrapper")?;
    command
        .env("RUSTC_WRAPPER", exe)
        .env_remove("CARGO_BUILD_RUSTC_WRAPPER");
    for (var, value) in Remap::new(root).env(user_wrapper(root).as_deref()) {
        command.env(var, value);
    }
    Ok(command)
}

pub fn run(root: &Path, tools: &ZigTools, invocation: &CargoInvocation) -> miette::Result<()> {
    let targets: Vec<String> = invocation
        .targets
        .iter()
        .map(|(a, f)| format!("{a} (glibc {f})"))
        .collect();
    eprintln!(
        "ferry: compiling {} crates for {}",
        invocation.packages.len(),
        targets.join(", ")
    );
    let mut command = command(root, tools, invocation)?;
    let status = command
        .status()
        .into_diagnostic()
        .wrap_err_with(|| format!("cannot start {}", tools.cargo_zigbuild.display()))?;
    if !status.success() {
        return Err(miette!(
            help = "fix the compile errors above; `cargo check -p NAME` shows them faster",
            "cargo zigbuild failed ({status}) for {}",
            invocation.packages.join(", ")
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::GlibcVersion;

    #[test]
    fn one_run_builds_every_package_for_every_target() {
        let invocation = CargoInvocation {
            targets: vec![
                (Arch::Arm64, GlibcVersion::new(2, 26)),
                (Arch::X86_64, GlibcVersion::new(2, 34)),
            ],
            packages: vec!["a".into(), "b".into()],
        };
        let args = args(&invocation, false).join(" ");
        assert_eq!(
            args,
            "zigbuild --profile lambda --bins --target aarch64-unknown-linux-gnu.2.26 --target x86_64-unknown-linux-gnu.2.34 -p a -p b"
        );
        assert!(super::args(&invocation, true)
            .join(" ")
            .contains(r#"--config profile.lambda.inherits="release""#));
    }
}
