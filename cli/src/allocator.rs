//! The process allocator for the `sluice` binaries.
//!
//! Linting allocates and frees many small objects (tokens, names, catalog entries, findings)
//! from several threads; with the system allocator that was a fifth of a run's CPU time.
//! mimalloc halves the whole run's CPU on a large corpus (see BENCHMARKS.md).

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_arena_eager_commit` and `mi_option_purge_delay` in mimalloc's `mi_option_e`.
const MI_OPTION_ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Keeps peak memory close to what is live: arena memory is committed on demand, and freed pages
/// go back to the system after [`BATCH_PURGE_DELAY_MS`] instead of a second (a lint run frees each
/// migration directory's parse before reading the next). These are defaults, so `MIMALLOC_ARENA_EAGER_COMMIT`
/// and `MIMALLOC_PURGE_DELAY` in the environment still win.
///
/// Binaries call it before the first allocation (a load-time constructor), because the first
/// arena is set up then and keeps the eager-commit setting it was created with.
pub extern "C" fn tune() {
    // SAFETY: setting an option's default is a plain store, allowed before mimalloc initialises;
    // both ids exist in the linked mimalloc (its version is pinned through Cargo.lock).
    #[allow(unsafe_code)]
    unsafe {
        libmimalloc_sys::mi_option_set_default(MI_OPTION_ARENA_EAGER_COMMIT, 0);
        libmimalloc_sys::mi_option_set_default(MI_OPTION_PURGE_DELAY, BATCH_PURGE_DELAY_MS);
    }
}

/// How long a batch run keeps freed pages before returning them. Pages returned sooner are
/// faulted back in by the next file's parse (on 7,160 files, 10 ms took 46,000 page faults and
/// 100 ms 32,000); pages kept longer pile up when two threads free a migration directory each, and
/// at 100 ms a two-thread run over those files peaked anywhere from 88 to 106 MiB. 25 ms keeps
/// every such run under 92 MiB for about 1% more CPU (BENCHMARKS.md).
pub const BATCH_PURGE_DELAY_MS: std::os::raw::c_long = 25;

/// For `sluice lsp`: the server frees and reallocates the same few megabytes on every edit, and
/// returning them to the system after 10 ms only to fault them back in on the next keystroke
/// raised the p50 edit latency from 12 to 16-19 ms (BENCHMARKS.md). Freed pages are kept for a second
/// (mimalloc's own default) unless `MIMALLOC_PURGE_DELAY` says otherwise.
pub fn tune_for_server() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
        return;
    }
    // SAFETY: as in `tune`; the purge delay is read at each purge, so it can change at any time.
    #[allow(unsafe_code)]
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, SERVER_PURGE_DELAY_MS);
    }
}

/// How long `sluice lsp` keeps freed pages, in milliseconds.
pub const SERVER_PURGE_DELAY_MS: std::os::raw::c_long = 1000;

/// Runs [`tune`] from the binary's load-time constructors on Linux, before any allocation.
/// Elsewhere call [`tune`] first thing in `main`.
#[macro_export]
macro_rules! tune_allocator_at_load {
    () => {
        #[cfg(target_os = "linux")]
        #[allow(unsafe_code)]
        #[used]
        #[link_section = ".init_array"]
        static TUNE_ALLOCATOR: extern "C" fn() = $crate::allocator::tune;
    };
}
