# DVS front door.  `make` installs what is missing and builds; `make check`
# runs every test.  Programs end up in build/bin/.

BUILD      ?= build
ASAN_BUILD ?= build-asan
MESON      ?= meson
WERROR     ?= true

PREFIX     ?= /usr/local
DESTDIR    ?=

.PHONY: all deps build check check-asan lint demo demo-cluster bench fmt fuzz clean help install

all: deps build

help:
	@echo "make             install missing Debian packages, build into $(BUILD)/bin"
	@echo "make check       build and run every test (last line: N passed, N failed)"
	@echo "make check-asan  the same tests built with ASan and UBSan"
	@echo "make lint        clang-tidy with the checks of .clang-tidy (about 2 minutes)"
	@echo "make demo        run the main job on a one-node DVS"
	@echo "make demo-cluster  the same over a 3-node local cluster (root)"
	@echo "make bench       run the benchmarks (JSON in $(BUILD)/bench/)"
	@echo "make install     install into PREFIX (default /usr/local), under DESTDIR if set"
	@echo "make fmt         format the sources with clang-format"
	@echo "make clean       remove build directories"

deps:
	@bash scripts/install-deps.sh

$(BUILD)/build.ninja:
	$(MESON) setup $(BUILD) -Dwerror=$(WERROR)

build: $(BUILD)/build.ninja
	$(MESON) compile -C $(BUILD)
	@bash scripts/link-bin.sh $(BUILD)

check: deps build
	@bash scripts/run-tests.sh $(BUILD)

$(ASAN_BUILD)/build.ninja:
	CC=clang $(MESON) setup $(ASAN_BUILD) -Dwerror=$(WERROR) \
		-Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug \
		-Dfuzz=true

check-asan: deps $(ASAN_BUILD)/build.ninja
	$(MESON) compile -C $(ASAN_BUILD)
	@bash scripts/link-bin.sh $(ASAN_BUILD)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	 DVS_TEST_ARGS="--timeout-multiplier 3 $(DVS_TEST_ARGS)" \
	 bash scripts/run-tests.sh $(ASAN_BUILD)

# clang-tidy on every file of the build (its compile_commands.json), with
# the checks and reasons of .clang-tidy; any finding fails.  Not part of
# `make check`: it takes a few minutes.
lint: deps build
	@run-clang-tidy -p $(BUILD) -j $$(nproc) -quiet >$(BUILD)/lint.log 2>&1; \
	 rc=$$?; sed 's/\x1b\[[0-9;]*m//g' $(BUILD)/lint.log | \
	 grep -E '(warning|error): ' | sort -u; \
	 if [ $$rc -ne 0 ]; then echo "lint: findings above (full log: $(BUILD)/lint.log)"; exit 1; fi; \
	 echo "lint: clean"

install: all
	$(MESON) configure $(BUILD) -Dprefix=$(PREFIX)
	$(MESON) install -C $(BUILD) $(if $(DESTDIR),--destdir $(DESTDIR),)

demo: all
	@bash scripts/demo.sh $(BUILD)

demo-cluster: all
	@bash scripts/demo-cluster.sh $(BUILD)

bench: all
	@mkdir -p $(BUILD)/bench
	@bash scripts/bench.sh $(BUILD)

fmt:
	@git ls-files '*.c' '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
