//! Helpers shared by the runner's integration tests.

use sluice_runner::cluster::PgBinaries;

/// The PostgreSQL server binaries, or `None` after printing why the test is skipped (the
/// Makefile's `test-deps` installs them).
pub fn pg_binaries() -> Option<PgBinaries> {
    match PgBinaries::find() {
        Ok(b) => Some(b),
        Err(e) => {
            eprintln!("skipped: {e}");
            None
        }
    }
}
