# SmartLLMServe: `make run` simulates the embedded sample; `make test` runs every test.
# Both install what a fresh machine lacks (libedit-dev, tmux, librsvg2-bin, zlib1g-dev) through `make setup`.
SWIFT ?= swift
BIN := .build/release/smartserve

.PHONY: setup build release run test test-slurm bench bench-baseline bench-compare dataset plugins plugin-fixtures fuzz fuzz-build fuzz-smoke clean install uninstall man

# libedit-dev for the shell's line editing; tmux for the tests that drive the real shell;
# librsvg2-bin (rsvg-convert) and zlib1g-dev for the tests that render the SVG charts and read the pixels.
setup:
	@missing=""; \
	[ -f /usr/include/editline/readline.h ] || missing="$$missing libedit-dev"; \
	command -v pkg-config >/dev/null || missing="$$missing pkg-config"; \
	command -v tmux >/dev/null || missing="$$missing tmux"; \
	command -v rsvg-convert >/dev/null || missing="$$missing librsvg2-bin"; \
	[ -f /usr/include/zlib.h ] || missing="$$missing zlib1g-dev"; \
	if [ -n "$$missing" ]; then \
		echo "installing$$missing"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

build: setup
	$(SWIFT) build

release: setup
	$(SWIFT) build -c release --product smartserve

run: release
	$(BIN) run

# `make install PREFIX=~/.local`: the binary, the contract library every plugin links
# (libServeAPI.so, found through the binary's $ORIGIN/../lib run path), shell completions from
# the argument parser, and man pages from its generate-manual plugin. The Swift runtime stays
# the toolchain's (plugins share it with the host).
PREFIX ?= /usr/local
MAN_DIR := .build/man

# The argument parser's generate-manual tool, run on smartserve alone (its package plugin would
# also try smartserve-bench, which is no argument-parser tool).
man: release
	$(SWIFT) build --product generate-manual
	rm -rf $(MAN_DIR) && mkdir -p $(MAN_DIR)
	.build/debug/generate-manual $(BIN) --multi-page --output-directory $(MAN_DIR)

install: release man
	install -d $(PREFIX)/bin $(PREFIX)/lib $(PREFIX)/share/man/man1 \
		$(PREFIX)/share/bash-completion/completions $(PREFIX)/share/zsh/site-functions $(PREFIX)/share/fish/vendor_completions.d
	install -m 755 $(BIN) $(PREFIX)/bin/smartserve
	install -m 644 .build/release/libServeAPI.so $(PREFIX)/lib/libServeAPI.so
	install -m 644 $(MAN_DIR)/*.1 $(PREFIX)/share/man/man1/
	$(BIN) --generate-completion-script bash > $(PREFIX)/share/bash-completion/completions/smartserve
	$(BIN) --generate-completion-script zsh > $(PREFIX)/share/zsh/site-functions/_smartserve
	$(BIN) --generate-completion-script fish > $(PREFIX)/share/fish/vendor_completions.d/smartserve.fish
	@echo "installed smartserve in $(PREFIX)/bin (man smartserve; completions for bash, zsh and fish)"

uninstall:
	rm -f $(PREFIX)/bin/smartserve $(PREFIX)/lib/libServeAPI.so $(PREFIX)/share/man/man1/smartserve*.1 \
		$(PREFIX)/share/bash-completion/completions/smartserve $(PREFIX)/share/zsh/site-functions/_smartserve \
		$(PREFIX)/share/fish/vendor_completions.d/smartserve.fish

# Example plugins (Plugins/Examples/*), each its own package against Plugins/ServeAPI;
# smartserve finds them in their .build/release folders (see docs/PLUGINS.md).
plugins: setup
	@for p in Plugins/Examples/*/; do echo "building $$p"; $(SWIFT) build -c release --package-path $$p || exit 1; done

# Deliberately broken plugins the tests load.
plugin-fixtures: setup
	$(SWIFT) build -c release --package-path Tests/Fixtures/BrokenPlugins

# The XCTest suites, then the property-based engine checks (Swift Testing, Tests/PropertyTests);
# each run closes on its own count.
test: setup plugins plugin-fixtures
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --disable-swift-testing
	$(SWIFT) test --skip-build --disable-xctest

# A sweep emitted for Slurm and run through a real single-node Slurm (installed if missing);
# about a minute here, so CI leaves it out.
test-slurm: build
	Tests/Slurm/test-slurm.sh

# The standard harness (package-benchmark: wall time, CPU, instructions where the CPU counts them,
# mallocs, peak memory) over Benchmarks/, then the figures against their targets (smartserve-bench).
# bench-baseline records the harness's results as baseline 'main'; bench-compare runs again and
# prints each metric's change against it (record one before a change, compare after).
BENCH := SMARTSERVE_BENCHMARKS=1 $(SWIFT) package --allow-writing-to-package-directory benchmark

bench: setup
	$(BENCH)
	$(SWIFT) build -c release --product smartserve-bench
	.build/release/smartserve-bench

bench-baseline: setup
	$(BENCH) baseline update main

bench-compare: setup
	$(BENCH) baseline compare main

# Regenerates the shipped samples bit-identically (see dataset/README.md).
dataset: release
	$(BIN) dataset generate --requests 100 --arrivals poisson:rate=10 --prompt-len lognormal:median=180,sigma=1,max=2048 --output-len lognormal:median=150,sigma=0.9,max=1024 --seed 42 --out dataset/sharegpt-like-100.tsv
	$(BIN) dataset generate --requests 500 --arrivals onoff:on_rate=20,off_rate=0.5,on=5,off=40 --prompt-len zipf:s=1.2,min=16,max=4096 --output-len lognormal:median=120,sigma=1,max=2048 --seed 7 --format burstgpt --out dataset/bursty-500.burstgpt.csv

# libFuzzer over every trace parser, the series CSV reader, the tokenizer and the shell's command
# parser (Sources/Workbench/Support/FuzzTargets.swift). FUZZ_SECONDS per target; seeds come from
# dataset/, the example sessions and small generated files; a crash input lands in
# Tests/FuzzRegressions/<target>/, which the tests replay.
FUZZ_SECONDS ?= 60
FUZZ_DIR := .build-fuzz
FUZZ_BIN := $(FUZZ_DIR)/debug/smartserve-fuzz

fuzz-build: setup
	$(SWIFT) build --product smartserve-fuzz --scratch-path $(FUZZ_DIR) -Xswiftc -sanitize=fuzzer -Xswiftc -DFUZZING -Xswiftc -use-ld=lld

fuzz: fuzz-build build
	@bash Tests/fuzz-run.sh $(FUZZ_BIN) .build/debug/smartserve $(FUZZ_DIR) $(FUZZ_SECONDS)

# A short run of every target, for CI (about half a minute of fuzzing in all).
fuzz-smoke:
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=8

clean:
	rm -rf .build $(FUZZ_DIR) Plugins/*/.build Plugins/Examples/*/.build Tests/Fixtures/*/.build
