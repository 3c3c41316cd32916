# The live benchmark (issue 9, docs/benchmarks.md): cmd/benche2e against
# the local stack. Included by the Makefile. Not part of make test: a run
# takes minutes (bench-e2e-smoke proves the harness builds and its pure
# logic passes, in seconds).
#
#   make bench-e2e                          every phase, sizes 100 500 1000, each size on a fresh stack
#   make bench-e2e BENCH_E2E_SIZES=100      a quick run: 100 performers only
#   make bench-e2e BENCH_E2E_LABEL=after    name the run (results of every label are kept side by side)
#   make bench-e2e-report                   re-render results.md and latency.png from the saved runs
#
# Each size runs on its own stack, started and stopped here, so one size's
# performers, informers and peak RSS do not carry into the next. The stack is
# the one of make cluster-up (API_PORT, STATE_DIR and KUBECONFIG_OUT apply,
# so a benchmark can run beside another stack). Results: BENCH_E2E_OUT/LABEL-SIZE.json,
# BENCH_E2E_OUT/results.md (a markdown table of every run) and latency.png.

BENCH_E2E_OUT     ?= $(OUTPUT)/bench-e2e
BENCH_E2E_LABEL   ?= run
BENCH_E2E_SIZES   ?= 100 500 1000
BENCH_E2E_N       ?= 30
BENCH_E2E_UPGRADE ?= 100
# Each wait's limit: 500 claims (before performers were one object) took
# 11 minutes on 2 busy cores.
BENCH_E2E_TIMEOUT ?= 45m
BENCH_E2E_FLAGS   ?=
BENCHE2E_BIN      := $(OUTPUT)/bin/benche2e
BENCH_E2E_STATE   := $(or $(STATE_DIR),$(OUTPUT)/cluster)
BENCH_E2E_KC      := $(or $(KUBECONFIG_OUT),$(OUTPUT)/kubeconfig)

.PHONY: bench-e2e bench-e2e-report bench-e2e-smoke $(BENCHE2E_BIN)

$(BENCHE2E_BIN):
	CGO_ENABLED=0 $(GO) build -trimpath -o $@ ./cmd/benche2e

# The first size also runs the latency phase and the upgrade; every size
# its floor, performers at once and steady state. The stack is stopped however
# the run ends.
bench-e2e: stack-deps $(BENCHE2E_BIN) ## Live benchmark on the local stack: latency, floor, 100/500/1000 performers, upgrade; _output/bench-e2e/results.md.
	@if $(STACK) status >/dev/null 2>&1; then echo "bench-e2e: a stack is up at $(BENCH_E2E_STATE); stop it (make cluster-down) or set STATE_DIR/API_PORT" >&2; exit 1; fi
	@mkdir -p $(BENCH_E2E_OUT); first=1; \
	for n in $(BENCH_E2E_SIZES); do \
	  phases=floor,scale; [[ -n "$$first" ]] && phases=latency,floor,scale,upgrade; \
	  APPLY_EXAMPLES=0 $(STACK_START) up || exit 1; \
	  rc=0; KUBECONFIG=$(BENCH_E2E_KC) $(BENCHE2E_BIN) run --state-dir $(BENCH_E2E_STATE) --out $(BENCH_E2E_OUT) \
	    --label $(BENCH_E2E_LABEL)-$$n --phases $$phases --sizes $$n -n $(BENCH_E2E_N) --upgrade $(BENCH_E2E_UPGRADE) --timeout $(BENCH_E2E_TIMEOUT) \
	    $(BENCH_E2E_FLAGS) >/dev/null || rc=$$?; \
	  $(STACK) down >/dev/null; \
	  (( rc == 0 )) || { echo "bench-e2e: size $$n failed" >&2; exit $$rc; }; \
	  first=; \
	done; \
	$(BENCHE2E_BIN) report --out $(BENCH_E2E_OUT)

bench-e2e-report: $(BENCHE2E_BIN) ## Re-render _output/bench-e2e/results.md and latency.png from the saved runs.
	$(BENCHE2E_BIN) report --out $(BENCH_E2E_OUT)

# Seconds: builds the harness and runs the tests of its logic (no stack).
bench-e2e-smoke: ## Build cmd/benche2e and test internal/benche2e (no cluster).
	$(GO) build -o /dev/null ./cmd/benche2e
	$(GO) test -count=1 ./internal/benche2e/...
