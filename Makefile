# Thin wrapper around meson. `make check` is what CI runs.
BUILD      ?= build
ASAN_BUILD ?= build-asan
MESON      ?= meson

.PHONY: all build deps check check-fast demo install e2e bench clean

all: build

deps:
	@scripts/install-deps

$(BUILD)/build.ninja:
	$(MESON) setup $(BUILD)

$(ASAN_BUILD)/build.ninja:
	$(MESON) setup $(ASAN_BUILD) -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug

build: $(BUILD)/build.ninja
	ninja -C $(BUILD)

# Installs what is missing, builds normally and with ASan+UBSan, runs every
# suite, and ends with one line: N passed, N failed, N skipped.
check: deps
	@$(MAKE) --no-print-directory build
	@$(MAKE) --no-print-directory $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD)
	@scripts/run-checks $(BUILD) $(ASAN_BUILD)

# The unit and integration suites of the normal build only.
check-fast: build
	@scripts/run-checks $(BUILD)

demo: deps
	@$(MAKE) --no-print-directory build
	@scripts/demo $(BUILD)

# Benchmarks print figures (median of several runs); see bench/.
bench: build
	ninja -C $(BUILD) bench/bench-api
	$(BUILD)/bench/bench-api $(BUILD)/daemon/hvd
	python3 bench/restart.py $(BUILD)/daemon/hvd $(BUILD)/tests/guest/test-guest.elf
	python3 bench/density.py $(BUILD)/daemon/hvd $(BUILD)/tests/guest/test-guest.elf
	python3 bench/clone.py $(BUILD)/daemon/hvd $(BUILD)/tests/guest/test-guest.elf
	python3 bench/snapshot.py $(BUILD)/daemon/hvd $(BUILD)/tests/guest/test-guest.elf
	bench/boot || [ $$? = 77 ]

install: build
	$(MESON) install -C $(BUILD)

# End-to-end tests in the nested testbed (also run by make check).
e2e: build
	meson test -C $(BUILD) --no-rebuild --print-errorlogs --suite e2e

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
