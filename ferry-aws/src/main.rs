//! `ferry-aws`: the whole command line with the AWS side in process.

fn main() -> std::process::ExitCode {
    ferry_aws::main()
}
