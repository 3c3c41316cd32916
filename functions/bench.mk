# Benchmarks of the performer function (included by the Makefile; issue 9,
# docs/benchmarks.md). None of them runs in `make test` except bench-smoke,
# which runs every benchmark once to prove the harness works, timing nothing.
# RunFunction is measured in one place, functions/performer's go test
# benchmarks: in process, and over gRPC on loopback through the function's
# own server (insecure and mTLS).

BENCH_DIR   := $(OUTPUT)/bench
# Which benchmarks (go test -bench regexp), how often and how long each.
# Six rounds are what benchstat needs to call a difference significant.
BENCH       ?= .
BENCH_COUNT ?= 6
BENCH_TIME  ?= 0.5s

BENCH_GO_TEST = $(GO) test $(FN_PKG) -run '^$$' -bench '$(BENCH)' -benchmem -count $(BENCH_COUNT) -benchtime $(BENCH_TIME)

TEST_TARGETS += bench-smoke

.PHONY: bench benchstat bench-smoke

# The machine's load goes into the results as '#' lines, which benchstat
# ignores: figures taken while other work ran must say so.
define bench_load
echo "# $(1): $$(date -u +%FT%TZ) nproc=$$(nproc) loadavg=$$(cut -d' ' -f1-3 /proc/loadavg) commit=$$(git rev-parse --short HEAD)$$(git diff --quiet HEAD -- functions || echo +dirty)"
endef

bench: ## Benchmark RunFunction in process and over gRPC on loopback, every example and state; writes _output/bench/new.txt.
	@mkdir -p $(BENCH_DIR)
	@{ $(call bench_load,start); $(BENCH_GO_TEST); $(call bench_load,end); } | tee $(BENCH_DIR)/new.txt.tmp
	@mv $(BENCH_DIR)/new.txt.tmp $(BENCH_DIR)/new.txt
	@echo "bench: wrote $(BENCH_DIR)/new.txt; compare with: make benchstat OLD=<file or commit>"

# OLD is a results file, compared with new.txt of `make bench`; or a
# commit, benchmarked from a detached worktree under _output/bench
# round by round with this tree (BENCH_COUNT rounds of -count 1, old then
# new), so a change in the machine's load hits both sides alike; that
# rewrites new.txt too.
BENCH_ROUND = $(GO) test $(FN_PKG) -run '^$$' -bench '$(BENCH)' -benchmem -count 1 -benchtime $(BENCH_TIME)

benchstat: tool-benchstat ## Compare with OLD: a results file (vs. make bench's new.txt), or a commit (both benchmarked now, interleaved).
	@[[ -n "$(OLD)" ]] || { echo "benchstat: set OLD to a results file or a commit" >&2; exit 1; }
	@mkdir -p $(BENCH_DIR); old="$(OLD)"; new=$(BENCH_DIR)/new.txt; \
	if [[ ! -f "$$old" ]]; then \
	  rev=$$(git rev-parse --short "$(OLD)^{commit}"); wt=$(BENCH_DIR)/worktree-$$rev; old=$(BENCH_DIR)/old-$$rev.txt; \
	  [[ -d $$wt ]] || git worktree add --detach $$wt $$rev >/dev/null; \
	  trap 'git worktree remove --force '$$wt EXIT; \
	  $(call bench_load,start) | tee $$old.tmp > $$new.tmp; echo "# old: $$rev" >> $$old.tmp; \
	  for i in $$(seq $(BENCH_COUNT)); do \
	    echo "benchstat: round $$i/$(BENCH_COUNT): $$rev, then this tree" >&2; \
	    (cd $$wt && $(BENCH_ROUND)) >> $$old.tmp; \
	    $(BENCH_ROUND) >> $$new.tmp; \
	  done; \
	  $(call bench_load,end) | tee -a $$old.tmp >> $$new.tmp; \
	  mv $$old.tmp $$old; mv $$new.tmp $$new; \
	fi; \
	[[ -f $$new ]] || { echo "benchstat: run 'make bench' first" >&2; exit 1; }; \
	benchstat "$$old" $$new

# Every benchmark once, and the benchmark cases checked against the state
# each is named after: proves the harness builds and runs. Times nothing.
bench-smoke: ## Run every benchmark once (no timing; part of make test).
	$(GO) test -count=1 $(FN_PKG) -run '^TestBenchCases$$' -bench . -benchtime 1x
