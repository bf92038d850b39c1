//! `sluice-pre-commit`: the `sluice` command line, built from the repository root by pre-commit
//! for the `sluice` hook (`.pre-commit-hooks.yaml`).

fn main() -> std::process::ExitCode {
    sluice::main()
}
