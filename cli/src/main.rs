//! The `sluice` binary: runs the command line of this package's library.

sluice::tune_allocator_at_load!();

fn main() -> std::process::ExitCode {
    #[cfg(not(target_os = "linux"))]
    sluice::allocator::tune();
    sluice::main()
}
