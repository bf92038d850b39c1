//! `sluice-pre-commit`: the `sluice` command line, built from the repository root by pre-commit
//! for the `sluice` hook (`.pre-commit-hooks.yaml`).

sluice::tune_allocator_at_load!();

fn main() -> std::process::ExitCode {
    #[cfg(not(target_os = "linux"))]
    sluice::allocator::tune();
    sluice::main()
}
