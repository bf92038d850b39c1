//! The `sluice` binary: runs the command line of this package's library.

fn main() -> std::process::ExitCode {
    sluice::main()
}
