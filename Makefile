# Sluice: `make run` lints the example migrations, `make test` runs the whole suite.
# Missing system packages are installed with apt-get (through sudo when not root).

CARGO ?= cargo
SLUICE := target/release/sluice
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps build run test check fmt clippy bench clean

all: build

# pg_query's build script generates bindings with bindgen, which needs libclang.
deps:
	@command -v $(CARGO) >/dev/null || { echo "cargo not found: install Rust from https://rustup.rs first"; exit 1; }
	@if ! ls /usr/lib/llvm-*/lib/libclang*.so* /usr/lib/*/libclang*.so* >/dev/null 2>&1 && [ -z "$$LIBCLANG_PATH" ]; then \
	  echo "libclang is missing (needed to build pg_query): installing libclang-dev"; \
	  if command -v apt-get >/dev/null && { [ "$$(id -u)" = 0 ] || command -v sudo >/dev/null; }; then \
	    $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libclang-dev; \
	  else \
	    echo "cannot install it here; run: sudo apt-get install libclang-dev  (or set LIBCLANG_PATH)"; exit 1; \
	  fi; \
	fi

build: deps
	$(CARGO) build --release --locked -p sluice

# Lints the shipped examples. Findings (exit 1) are the point of the demo; only errors fail.
run: build
	@status=0; $(SLUICE) lint fixtures/examples || status=$$?; [ $$status -le 1 ]

test: deps
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings
	$(CARGO) test --locked --workspace

fmt:
	$(CARGO) fmt --all

bench: deps
	$(CARGO) bench --locked -p sluice --bench lint

clean:
	$(CARGO) clean
