//! Helpers shared by the runner's integration tests (each test binary uses some of them).
#![allow(dead_code)]

use sluice_runner::backfill::Outcome;
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

/// Prints a backfill's outcome on one line (seen with `--nocapture`).
pub fn print_outcome(out: &Outcome) {
    eprintln!(
        "{} rows in {} batches, {:.1} s; waited {} times ({:.0} ms); lag up to {:?} s, at batch start up to {:?} s",
        out.rows_updated,
        out.batches,
        out.elapsed_ms / 1000.0,
        out.lag_waits,
        out.lag_wait_ms,
        out.max_lag_seconds_seen,
        out.max_lag_seconds_at_batch_start
    );
}
