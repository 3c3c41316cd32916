# Targets of the performer composition function (included by the Makefile).

FN_DIR     := functions/performer
FN_PKG     := ./$(FN_DIR)
FN_BIN     := $(OUTPUT)/function-performer
FUZZTIME   ?= 20s

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

fuzz-function: ## Fuzz the function briefly (FUZZTIME, default 20s per target).
	$(GO) test $(FN_PKG) -run '^$$' -fuzz '^FuzzRunFunction$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/names -run '^$$' -fuzz '^FuzzDNSLabel$$' -fuzztime $(FUZZTIME)

bench-function: ## Benchmark RunFunction on the complex example, running state (make bench runs all).
	$(GO) test $(FN_PKG) -run '^$$' -bench '^BenchmarkRunFunction$$/^complex$$/^running$$' -benchmem -count 5

function-bin: ## Build the function as a static linux/amd64 binary into _output/.
	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 $(GO) build -trimpath -ldflags '-s -w' -o $(FN_BIN) $(FN_PKG)
