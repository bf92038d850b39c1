#!/bin/sh
# Runs one cargo-fuzz target for a bounded time with seeds gathered at run time.
#
#   fuzz/run.sh TARGET [SECONDS] [extra libFuzzer flags...]
#
# TARGET is lint_postgres, lint_mysql, config or suppression. The corpus that libFuzzer grows
# lives in fuzz/corpus/TARGET; seeds are copied into fuzz/corpus/TARGET-seeds from fuzz/seeds/,
# fixtures/ and, when present, ../shared/corpus/ (never committed). Crashing inputs land in
# fuzz/artifacts/TARGET/. Needs a nightly toolchain and cargo-fuzz.
set -eu
target=${1:?usage: fuzz/run.sh TARGET [SECONDS] [libFuzzer flags...]}
seconds=${2:-60}
[ $# -ge 2 ] && shift 2 || shift $#
cd "$(dirname "$0")"
root=..
shared=${SLUICE_SHARED_CORPUS:-$root/../shared/corpus}
seeds=corpus/$target-seeds
rm -rf "$seeds"
mkdir -p "corpus/$target" "$seeds"

# copy DIR PATTERN: every file named PATTERN under DIR, flattened into the seed directory.
copy() {
    [ -d "$1" ] || return 0
    find "$1" -type f -name "$2" -size -256k | while IFS= read -r f; do
        cp "$f" "$seeds/$(printf '%s' "$f" | tr '/' '_' | sed 's/^[._]*//')"
    done
}

cp seeds/"$target"/* "$seeds"/
case $target in
    lint_postgres)
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
echo "$target: $(ls "$seeds" | wc -l) seed files, ${seconds}s"
exec cargo +nightly fuzz run "$target" "corpus/$target" "$seeds" -- \
    -dict=sql.dict -max_len=65536 -max_total_time="$seconds" -print_final_stats=1 "$@"
