fn main() -> std::process::ExitCode {
    ferry_aws::main()
}
