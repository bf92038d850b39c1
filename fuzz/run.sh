#!/bin/sh
# Runs one cargo-fuzz target for a bounded time with seeds gathered at run time.
#
#   fuzz/run.sh TARGET [SECONDS] [extra libFuzzer flags...]
#
# TARGET is lint_postgres, pg_encoder, lint_mysql, config or suppression. The corpus that libFuzzer grows
# lives in WORK/corpus/TARGET; seeds are copied into WORK/corpus/TARGET-seeds from fuzz/seeds/,
# fixtures/ and, when present, ../shared/corpus/ (never committed). Crashing inputs land in
# WORK/artifacts/TARGET/. WORK is $FUZZ_WORK_DIR, by default fuzz/. Needs a nightly toolchain
# and cargo-fuzz.
#
# FUZZ_SANITIZER (default none: the Rust code denies `unsafe` outside the libpg_query binding)
# and FUZZ_TARGET_DIR (default fuzz/target) are passed to cargo fuzz. cargo-fuzz instruments Rust
# code only, so FUZZ_SANITIZER=address also compiles libpg_query's C code (built by the `cc`
# crate, which reads CC and CFLAGS) with clang's AddressSanitizer and libFuzzer coverage, into
# fuzz/target-asan unless FUZZ_TARGET_DIR is set. FUZZ_CC names the clang binary (default clang).
# See docs/fuzzing.md.
set -eu
target=${1:?usage: fuzz/run.sh TARGET [SECONDS] [libFuzzer flags...]}
seconds=${2:-60}
[ $# -ge 2 ] && shift 2 || shift $#
cd "$(dirname "$0")"
root=..
work=${FUZZ_WORK_DIR:-.}
shared=${SLUICE_SHARED_CORPUS:-$root/../shared/corpus}
corpus=$work/corpus/$target
seeds=$work/corpus/$target-seeds
rm -rf "$seeds"
mkdir -p "$corpus" "$seeds" "$work/artifacts/$target"

# copy DIR PATTERN: every file named PATTERN under DIR, flattened into the seed directory.
copy() {
    [ -d "$1" ] || return 0
    find "$1" -type f -name "$2" -size -256k | while IFS= read -r f; do
        cp "$f" "$seeds/$(printf '%s' "$f" | tr '/' '_' | sed 's/^[._]*//')"
    done
}

if [ -d "seeds/$target" ]; then cp "seeds/$target"/* "$seeds"/; fi
case $target in
    lint_postgres|pg_encoder)
        copy "$root/fixtures/postgres" '*.sql'
        copy "$root/fixtures/projects" '*.sql'
        copy "$shared/pg" '*'
        copy "$shared/pg-regress" '*' ;;
    lint_mysql)
        copy "$root/fixtures/mysql" '*.sql'
        copy "$shared/mysql" '*' ;;
    config)
        copy "$root/fixtures" 'sluice.toml' ;;
    suppression)
        grep -rl 'sluice:ignore' "$root/fixtures" --include='*.sql' | while IFS= read -r f; do
            cp "$f" "$seeds/$(printf '%s' "$f" | tr '/' '_' | sed 's/^[._]*//')"
        done ;;
    *) echo "unknown target $target" >&2; exit 2 ;;
esac
sanitizer=${FUZZ_SANITIZER:-none}
target_dir=${FUZZ_TARGET_DIR:-}
if [ "$sanitizer" = address ]; then
    # gcc's -fsanitize=address needs gcc's libasan, which clashes with the LLVM runtime rustc links.
    cc=${FUZZ_CC:-clang}
    if ! "$cc" --version 2>/dev/null | grep -q clang; then
        echo "FUZZ_SANITIZER=address compiles libpg_query's C code with clang; '$cc' is missing or not clang." >&2
        echo "Install it (Debian/Ubuntu: apt-get install clang) or name one with FUZZ_CC=clang-NN." >&2
        exit 1
    fi
    # PostgreSQL's assertions and memory-context checks, and its Valgrind requests (which mark
    # palloc chunk bounds and freed chunks) turned into ASan poisoning by pg-asan/valgrind/*.h.
    export CC="$cc"
    export CFLAGS="${CFLAGS:+$CFLAGS }-fsanitize=address,fuzzer-no-link -fno-omit-frame-pointer \
-fsanitize-address-use-after-scope -DUSE_ASSERT_CHECKING -DUSE_VALGRIND -I$(pwd)/pg-asan"
    target_dir=${target_dir:-target-asan}
fi
echo "$target: $(ls "$seeds" | wc -l) seed files, ${seconds}s, sanitizer $sanitizer"
exec cargo +nightly fuzz run --sanitizer "$sanitizer" ${target_dir:+--target-dir "$target_dir"} \
    "$target" "$corpus" "$seeds" -- \
    -artifact_prefix="$work/artifacts/$target/" -dict=sql.dict -max_len=65536 -max_total_time="$seconds" -print_final_stats=1 "$@"
