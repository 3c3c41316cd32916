# crossplane-hourglass — every entry point a developer or CI needs.
# Pinned tools are built from the Go module proxy by cluster/tools/build.sh into
# $(TOOLS_CACHE) (outside the clone, so fresh clones on one machine share them)
# and linked into $(TOOLS_BIN).

SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

ROOT        := $(abspath .)
OUTPUT      := $(ROOT)/_output
TOOLS_BIN   := $(OUTPUT)/bin
TOOLS_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/crossplane-hourglass/tools
export TOOLS_BIN TOOLS_CACHE
export PATH := $(TOOLS_BIN):$(PATH)
# The CLI writes its caches under XDG_CACHE_HOME; keep them in _output.
CROSSPLANE_CACHE := $(OUTPUT)/cache

GO ?= go

# Parts of the project add to these lists in their own .mk files.
GENERATE_TARGETS :=
TEST_TARGETS     :=
# Packages a dedicated phase of make test runs (with its tools required,
# not skipped when missing); test-unit runs every other package, so no test
# runs twice in make test.
PHASE_PKGS       :=

-include functions/*.mk package/*/*.mk cluster/*.mk

.PHONY: help
help: ## Show the targets.
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

# ---- tools ---------------------------------------------------------------

TOOL_NAMES := $(notdir $(patsubst %/go.mod,%,$(wildcard cluster/tools/*/go.mod)))
.PHONY: tools $(addprefix tool-,$(TOOL_NAMES))
tools: $(addprefix tool-,$(TOOL_NAMES)) ## Build every pinned tool (cached).
$(addprefix tool-,$(TOOL_NAMES)): tool-%:
	@bash cluster/tools/build.sh $*


# ---- generate and verify ------------------------------------------------------

XRD := package/xrd/performers.hourglass.eigenlayer.io.yaml

.PHONY: generate generate-apis verify
generate: generate-apis $(GENERATE_TARGETS) ## Regenerate every generated file from its source.

generate-apis: tool-controller-gen
	controller-gen object paths=./apis/...
	@rm -rf $(OUTPUT)/gen/crds
	controller-gen crd paths=./apis/... output:crd:dir=$(OUTPUT)/gen/crds
	$(GO) run ./cmd/xrdgen -crd $(OUTPUT)/gen/crds/hourglass.eigenlayer.io_performers.yaml -out $(XRD)

verify: generate ## Fail when generated files differ from the committed ones.
	@if [[ -n "$$(git status --porcelain --untracked-files=all -- apis package functions examples compositions internal cmd go.mod go.sum)" ]]; then \
	  echo "verify: generated files differ from the committed ones; run 'make generate' and commit:" >&2; \
	  git status --porcelain --untracked-files=all -- apis package functions examples compositions internal cmd go.mod go.sum >&2; \
	  git --no-pager diff --stat >&2; exit 1; fi
	@echo "verify: generated files are up to date"

# ---- lint and test ------------------------------------------------------------

.PHONY: lint test test-unit test-examples
lint: tool-golangci-lint ## golangci-lint (go vet, staticcheck, gofmt, goimports and more; see .golangci.yml), e2e-tagged tests included.
	golangci-lint run --timeout 15m ./...

ALL_PKGS = $(shell $(GO) list ./... | sed 's|^github.com/hourglass-xp/crossplane-hourglass|.|')
test-unit: ## Go unit and schema tests of the packages no other phase of make test runs.
	$(GO) test -count=1 $(filter-out $(PHASE_PKGS),$(ALL_PKGS))

PHASE_PKGS += ./examples
test-examples: tool-crossplane-cli ## Validate every example with the real crossplane CLI.
	HOURGLASS_REQUIRE_TOOLS=1 $(GO) test -count=1 ./examples

# The definition's schema: admission in process, and the CRD Crossplane
# derives installed into a real kube-apiserver, which checks CEL costs itself.
.PHONY: test-schema
test-schema: tool-etcd tool-kubernetes ## The definition against the apiserver's own validation (envtest) and every example.
	HOURGLASS_REQUIRE_TOOLS=1 KUBEBUILDER_ASSETS=$(TOOLS_BIN) $(GO) test -count=1 ./internal/xrdgen
TEST_TARGETS += test-schema
PHASE_PKGS   += ./internal/xrdgen

.PHONY: test-executor
test-executor: tool-etcd tool-kubernetes ## Executor client: envtest (etcd + kube-apiserver) and loopback gRPC performers, race detector on.
	HOURGLASS_REQUIRE_TOOLS=1 KUBEBUILDER_ASSETS=$(TOOLS_BIN) $(GO) test -race -count=1 ./pkg/executor
TEST_TARGETS += test-executor
PHASE_PKGS   += ./pkg/executor

# The one command that runs every test; .ci/run calls exactly this. Tools
# are built first, two at a time (each build is itself parallel, but
# downloads and links are not); then each phase runs in turn and prints how
# long it took, so a slow CI run says where its time went.
TEST_PHASES = verify lint test-unit test-examples $(TEST_TARGETS)
test: ## Run every test.
	@s=$$(date +%s); $(MAKE) --no-print-directory -j2 tools; echo "test: phase tools took $$(( $$(date +%s) - s ))s"
	@for p in $(TEST_PHASES); do \
	  s=$$(date +%s); \
	  $(MAKE) --no-print-directory $$p || { echo "test: phase $$p FAILED after $$(( $$(date +%s) - s ))s" >&2; exit 1; }; \
	  echo "test: phase $$p took $$(( $$(date +%s) - s ))s"; \
	done
	@echo "test: all passed"
