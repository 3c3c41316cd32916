# Targets of the performer composition function (included by the Makefile).

FN_DIR     := functions/performer
FN_PKG     := ./$(FN_DIR)
FN_BIN     := $(OUTPUT)/function-performer
# Fuzzing runs a number of inputs, not a duration: Go 1.26's coordinator can
# fail a -fuzztime=<duration> run at its deadline with a bare "context
# deadline exceeded" and no crasher (golang/go#75804, fixed in Go 1.27).
FUZZ_EXECS_FN  ?= 40000x
FUZZ_EXECS_DNS ?= 300000x

GENERATE_TARGETS += generate-function
TEST_TARGETS     += test-function

.PHONY: generate-function test-function fuzz-function bench-function function-bin

generate-function: tool-controller-gen tool-crossplane-cli tool-crossplane-core ## Regenerate the function input's deepcopy and CRD, and the render golden files.
	$(GO) generate -tags generate $(FN_PKG)/input/...
	HOURGLASS_REQUIRE_TOOLS=1 $(GO) test -count=1 $(FN_PKG) -run '^TestRender' -update

# The render tests need the pinned CLI and core; HOURGLASS_REQUIRE_TOOLS turns
# their absence into a failure instead of a skip.
FN_TEST_PKGS := $(FN_PKG) $(FN_PKG)/input/v1beta1 ./internal/names
PHASE_PKGS   += $(FN_TEST_PKGS)
test-function: tool-crossplane-cli tool-crossplane-core fuzz-function ## Function unit, render golden and validate tests, and a short fuzz run.
	HOURGLASS_REQUIRE_TOOLS=1 $(GO) test -count=1 $(FN_TEST_PKGS)

fuzz-function: ## Fuzz the function briefly (FUZZ_EXECS_FN, FUZZ_EXECS_DNS inputs; about 20 s each here).
	$(GO) test $(FN_PKG) -run '^$$' -fuzz '^FuzzRunFunction$$' -fuzztime $(FUZZ_EXECS_FN) -fuzzminimizetime 10s
	$(GO) test ./internal/names -run '^$$' -fuzz '^FuzzDNSLabel$$' -fuzztime $(FUZZ_EXECS_DNS) -fuzzminimizetime 10s

bench-function: ## Benchmark RunFunction on the complex example, running state (make bench runs all).
	$(GO) test $(FN_PKG) -run '^$$' -bench '^BenchmarkRunFunction$$/^complex$$/^running$$' -benchmem -count 5

function-bin: ## Build the function as a static linux/amd64 binary into _output/.
	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 $(GO) build -trimpath -ldflags '-s -w' -o $(FN_BIN) $(FN_PKG)
