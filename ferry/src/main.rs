//! `ferry`: the command line without a workspace shim (ferry's own tests run
//! it); a workspace runs the same thing as `cargo xtask`.

fn main() -> std::process::ExitCode {
    ferry::main()
}
