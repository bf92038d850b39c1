# Sluice: `make run` lints the example migrations, `make test` runs the whole suite.
# Missing system packages are installed with apt-get (through sudo when not root).

CARGO ?= cargo
SLUICE := $(or $(CARGO_TARGET_DIR),target)/release/sluice
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps test-deps build run test check fmt clippy bench bench-lsp vscode clean

all: build

# pg_query's build script generates bindings with bindgen, which needs libclang itself (libclang-cpp,
# which some images ship alone, is not enough).
deps:
	@command -v $(CARGO) >/dev/null || { echo "cargo not found: install Rust from https://rustup.rs first"; exit 1; }
	@if ! ls /usr/lib/llvm-*/lib/libclang.so* /usr/lib/llvm-*/lib/libclang-[0-9]*.so* /usr/lib/*/libclang-[0-9]*.so* >/dev/null 2>&1 && [ -z "$$LIBCLANG_PATH" ]; then \
	  echo "libclang is missing (needed to build pg_query): installing libclang-dev"; \
	  if command -v apt-get >/dev/null && { [ "$$(id -u)" = 0 ] || command -v sudo >/dev/null; }; then \
	    $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libclang-dev; \
	  else \
	    echo "cannot install it here; run: sudo apt-get install libclang-dev  (or set LIBCLANG_PATH)"; exit 1; \
	  fi; \
	fi

# Neovim runs the language server end-to-end test (cli/tests/lsp_neovim.rs); it is skipped without it.
# The PostgreSQL server runs the `sluice trace` tests (cli/tests/trace.rs, runner/tests/); skipped without it.
# The MariaDB server runs the `sluice trace --dialect mysql` tests (runner/tests/mariadb*.rs); skipped without it.
test-deps: deps
	@if ! command -v nvim >/dev/null; then \
	  echo "nvim is missing (used by the language server end-to-end test): installing neovim"; \
	  if command -v apt-get >/dev/null && { [ "$$(id -u)" = 0 ] || command -v sudo >/dev/null; }; then \
	    $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq neovim \
	      || echo "could not install neovim: the Neovim test will be skipped"; \
	  else \
	    echo "cannot install it here; run: sudo apt-get install neovim  (the Neovim test is skipped meanwhile)"; \
	  fi; \
	fi
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null && [ -z "$$SLUICE_PG_BINDIR" ]; then \
	  echo "the PostgreSQL server is missing (sluice trace tests start throwaway clusters): installing postgresql"; \
	  if command -v apt-get >/dev/null && { [ "$$(id -u)" = 0 ] || command -v sudo >/dev/null; }; then \
	    $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql \
	      || echo "could not install postgresql: the trace tests will be skipped"; \
	  else \
	    echo "cannot install it here; run: sudo apt-get install postgresql  (the trace tests are skipped meanwhile)"; \
	  fi; \
	fi
	@if ! command -v mariadbd >/dev/null && [ ! -x /usr/sbin/mariadbd ] && [ -z "$$SLUICE_MARIADB_BINDIR" ]; then \
	  echo "the MariaDB server is missing (sluice trace --dialect mysql tests start throwaway servers): installing mariadb-server"; \
	  if command -v apt-get >/dev/null && { [ "$$(id -u)" = 0 ] || command -v sudo >/dev/null; }; then \
	    $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mariadb-server \
	      || echo "could not install mariadb-server: the MariaDB trace tests will be skipped"; \
	  else \
	    echo "cannot install it here; run: sudo apt-get install mariadb-server  (the MariaDB trace tests are skipped meanwhile)"; \
	  fi; \
	fi

build: deps
	$(CARGO) build --release --locked -p sluice

# Lints the shipped examples. Findings (exit 1) are the point of the demo; only errors fail.
run: build
	@status=0; $(SLUICE) lint fixtures/examples || status=$$?; [ $$status -le 1 ]

test: test-deps
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings
	$(CARGO) test --locked --workspace

fmt:
	$(CARGO) fmt --all

# `sluice lint` (release binary) over the PostgreSQL corpus at 1x, 4x and 16x, MySQL at 4x and a
# 10,000-file migration directory, against the bare parser, plus the language server latency;
# prints a table and appends it to BENCHMARKS.md (SLUICE_BENCH_APPEND=0 to skip). About five
# minutes on two cores.
bench: deps
	$(CARGO) build --locked --release -p sluice
	mkdir -p $(or $(CARGO_TARGET_DIR),target)
	$(CARGO) bench --locked -p sluice-lsp --bench lsp_latency | tee $(or $(CARGO_TARGET_DIR),target)/bench-lsp.txt
	SLUICE_BENCH_LSP=$(abspath $(or $(CARGO_TARGET_DIR),target)/bench-lsp.txt) $(CARGO) bench --locked -p sluice --bench lint

# didChange -> publishDiagnostics latency of the language server (2,000 statements, 200 edits).
bench-lsp: deps
	$(CARGO) bench --locked -p sluice-lsp --bench lsp_latency

# Each cargo-fuzz target for FUZZ_SECONDS (needs a nightly toolchain and `cargo install cargo-fuzz`);
# seeds come from fuzz/seeds, fixtures/ and ../shared/corpus/. FUZZ_SANITIZER=address adds
# AddressSanitizer to the Rust code and, compiled with clang, to libpg_query. See docs/fuzzing.md.
FUZZ_SECONDS ?= 60
FUZZ_SANITIZER ?= none
.PHONY: fuzz
fuzz:
	for t in lint_postgres pg_encoder lint_mysql config suppression; do FUZZ_SANITIZER=$(FUZZ_SANITIZER) fuzz/run.sh $$t $(FUZZ_SECONDS) || exit 1; done

# Builds the VS Code extension and packages it as editors/vscode/sluice.vsix (needs npm).
vscode:
	@command -v npm >/dev/null || { echo "npm not found: install Node.js 18+ first"; exit 1; }
	cd editors/vscode && npm ci && npm run build && npm run package

clean:
	$(CARGO) clean
