# The local stack, packages and live e2e tests (issue 4). Included by the
# Makefile, which exports TOOLS_BIN, TOOLS_CACHE and PATH.
#
#   make xpkg          runtime images (linux/amd64, linux/arm64) and xpkgs
#   make run           the whole stack in the foreground until Ctrl-C
#   make cluster-up    the stack in the background; kubeconfig in _output/kubeconfig
#   make cluster-down  stop it (by PID) and remove its state
#   make e2e           live tests against the stack (started and stopped if not up)

XPKG_VERSION   ?= $(shell cat VERSION 2>/dev/null || echo v0.0.0-dev)
XPKG_DIR       := $(OUTPUT)/xpkg
XPKG_WORK      := $(OUTPUT)/xpkg-work
XPKG_ARCHES    := amd64 arm64
HOST_ARCH      := $(shell $(GO) env GOARCH)
FUNCTION_PKG   := function-performer
CONFIG_PKG     := configuration-performer
# The function binary the stack runs as a process (the package's runtime
# image holds the same binary; kwok only pretends to run the image).
FUNCTION_BIN   := $(XPKG_WORK)/$(FUNCTION_PKG)/linux-$(HOST_ARCH)/function
FORWARD_BIN    := $(OUTPUT)/bin/hourglass-forward
# The real gRPC performer the stack runs behind every fake performer pod
# (cluster/stack.d/20-performers.sh).
TESTPERFORMER_BIN := $(OUTPUT)/bin/hourglass-testperformer
IMGBUILD_BIN   := $(OUTPUT)/bin/hourglass-imgbuild
# Below the kernel's ephemeral range (32768+), where no outgoing connection or
# :0 listener can be holding it when the forwarder binds.
API_PORT       ?= 26443
E2E_FLAGS      ?=

# Crossplane core the stack runs: CROSSPLANE_VERSION, by default the
# version of cluster/tools/crossplane-core (the render engine's too). Every
# other tested version is its own wrapper module,
# cluster/tools/crossplane-core/vX.Y.Z, built as tool crossplane-core-vX.Y.Z.
# The supported ones (CROSSPLANE_VERSIONS, oldest first) are those the
# packages accept: at least the floor in crossplane.yaml's
# spec.crossplane.version; the older ones stay to re-check why they fail
# (README, "Crossplane versions").
CROSSPLANE_DEFAULT  := $(shell awk '$$1=="require" && $$2=="github.com/crossplane/crossplane/v2" {print $$3}' cluster/tools/crossplane-core/go.mod)
CROSSPLANE_OLDER    := $(notdir $(patsubst %/go.mod,%,$(wildcard cluster/tools/crossplane-core/v*/go.mod)))
CROSSPLANE_FLOOR    := $(shell awk '/^  crossplane:/ {c=1} c && $$1=="version:" {gsub(/[">=]/, "", $$2); print $$2; exit}' crossplane.yaml)
CROSSPLANE_VERSIONS := $(shell for v in $(CROSSPLANE_OLDER) $(CROSSPLANE_DEFAULT); do \
	[[ $$(printf '%s\n' $(CROSSPLANE_FLOOR) $$v | sort -V | head -1) == $(CROSSPLANE_FLOOR) ]] && echo $$v; done | sort -V)
CROSSPLANE_OLDEST   := $(firstword $(CROSSPLANE_VERSIONS))
CROSSPLANE_VERSION  ?= $(CROSSPLANE_DEFAULT)
ifeq ($(CROSSPLANE_VERSION),$(CROSSPLANE_DEFAULT))
CORE_TOOL := crossplane-core
CORE_DIR  := cluster/tools/crossplane-core
else ifneq ($(filter $(CROSSPLANE_VERSION),$(CROSSPLANE_OLDER)),)
CORE_TOOL := crossplane-core-$(CROSSPLANE_VERSION)
CORE_DIR  := cluster/tools/crossplane-core/$(CROSSPLANE_VERSION)
else
$(error CROSSPLANE_VERSION=$(CROSSPLANE_VERSION) has no wrapper module; supported: $(CROSSPLANE_VERSIONS))
endif

.PHONY: $(addprefix tool-crossplane-core-,$(CROSSPLANE_OLDER))
$(addprefix tool-crossplane-core-,$(CROSSPLANE_OLDER)): tool-crossplane-core-%:
	@bash cluster/tools/build.sh crossplane-core/$*
# make test runs the compact check on the oldest: build it with the others.
tools: $(addprefix tool-crossplane-core-,$(filter $(CROSSPLANE_OLDER),$(CROSSPLANE_OLDEST)))

# Tools the stack needs, each built once into TOOLS_CACHE.
CLUSTER_TOOLS := etcd kubernetes kwok registry crossplane-cli $(CORE_TOOL) helm

# Sources that make the packages; a change rebuilds them.
GO_SOURCES     = $(shell find apis functions internal -name '*.go' -not -name '*_test.go' 2>/dev/null) go.mod go.sum
FUNCTION_META  = $(wildcard package/function/crossplane.yaml package/function/input/*.yaml)
CONFIG_META    = $(wildcard crossplane.yaml package/xrd/*.yaml compositions/*.yaml)

.PHONY: cluster-tools xpkg run cluster-up cluster-down cluster-status cluster-diagnose e2e e2e-takeover

cluster-tools: $(addprefix tool-,$(CLUSTER_TOOLS)) $(FORWARD_BIN) $(IMGBUILD_BIN) ## Build the tools the local stack needs (cached).

$(FORWARD_BIN): cluster/forward/main.go
	CGO_ENABLED=0 $(GO) build -trimpath -o $@ ./cluster/forward

$(IMGBUILD_BIN): cluster/imgbuild/main.go go.mod go.sum
	CGO_ENABLED=0 $(GO) build -trimpath -o $@ ./cluster/imgbuild

$(TESTPERFORMER_BIN): $(wildcard cmd/testperformer/*.go internal/testperformer/*.go internal/names/*.go) go.mod go.sum
	CGO_ENABLED=0 $(GO) build -trimpath -o $@ ./cmd/testperformer

# ---- packages -----------------------------------------------------------------

xpkg: $(addprefix $(XPKG_DIR)/$(FUNCTION_PKG)-,$(addsuffix .xpkg,$(XPKG_ARCHES))) $(XPKG_DIR)/$(CONFIG_PKG).xpkg ## Build the Function (amd64, arm64) and Configuration xpkgs.

# A static function binary per platform.
$(XPKG_WORK)/$(FUNCTION_PKG)/linux-%/function: $(GO_SOURCES)
	@mkdir -p $(@D)
	CGO_ENABLED=0 GOOS=linux GOARCH=$* $(GO) build -trimpath -ldflags "-s -w" -o $@ ./functions/performer

# Its runtime image: empty base, one layer, non-root, port 9443.
$(XPKG_WORK)/$(FUNCTION_PKG)/linux-%/image.tar: $(XPKG_WORK)/$(FUNCTION_PKG)/linux-%/function $(IMGBUILD_BIN)
	$(IMGBUILD_BIN) -binary $< -arch $* -port 9443 \
	  -tag xpkg.upbound.io/hourglass-xp/$(FUNCTION_PKG):$(XPKG_VERSION)-$* -o $@

# The Function package with that image embedded. xpkg build walks the whole
# package root, so it gets a staging directory with only the package files.
$(XPKG_DIR)/$(FUNCTION_PKG)-%.xpkg: $(XPKG_WORK)/$(FUNCTION_PKG)/linux-%/image.tar $(FUNCTION_META) | tool-crossplane-cli
	@test -f package/function/crossplane.yaml || { echo "missing package/function/crossplane.yaml"; exit 1; }
	rm -rf $(XPKG_WORK)/$(FUNCTION_PKG)/root-$* && mkdir -p $(XPKG_WORK)/$(FUNCTION_PKG)/root-$* $(@D)
	cp package/function/crossplane.yaml $(wildcard package/function/input/*.yaml) $(XPKG_WORK)/$(FUNCTION_PKG)/root-$*/
	XDG_CACHE_HOME=$(CROSSPLANE_CACHE) crossplane xpkg build --package-root=$(XPKG_WORK)/$(FUNCTION_PKG)/root-$* \
	  --examples-root=$(XPKG_WORK)/$(FUNCTION_PKG)/root-$*/no-examples --embed-runtime-image-tarball=$< -o $@

# The valid examples (not examples/invalid/) travel in the package as its examples.
$(XPKG_DIR)/$(CONFIG_PKG).xpkg: $(CONFIG_META) $(wildcard examples/*.yaml) | tool-crossplane-cli
	@ls package/xrd/*.yaml compositions/*.yaml >/dev/null || { echo "missing the XRD or the Composition"; exit 1; }
	rm -rf $(XPKG_WORK)/$(CONFIG_PKG) && mkdir -p $(XPKG_WORK)/$(CONFIG_PKG)/root $(XPKG_WORK)/$(CONFIG_PKG)/examples $(@D)
	cp crossplane.yaml package/xrd/*.yaml compositions/*.yaml $(XPKG_WORK)/$(CONFIG_PKG)/root/
	cp $(wildcard examples/*.yaml) $(XPKG_WORK)/$(CONFIG_PKG)/examples/
	XDG_CACHE_HOME=$(CROSSPLANE_CACHE) crossplane xpkg build --package-root=$(XPKG_WORK)/$(CONFIG_PKG)/root \
	  --examples-root=$(XPKG_WORK)/$(CONFIG_PKG)/examples -o $@

# ---- the stack -------------------------------------------------------------------

# Core's own CRDs and its official Helm chart ship in the module the core
# binary is built from.
CROSSPLANE_MODULE = $(shell cd $(CORE_DIR) && GOFLAGS=-mod=mod $(GO) list -m -f '{{.Dir}}' github.com/crossplane/crossplane/v2)

STACK_ENV = env OUTPUT=$(OUTPUT) TOOLS_BIN=$(TOOLS_BIN) FORWARD_BIN=$(FORWARD_BIN) FUNCTION_BIN=$(FUNCTION_BIN) \
	PROVIDER_BIN=$(PROVIDER_HOST_BIN) TESTPERFORMER_BIN=$(TESTPERFORMER_BIN) \
	XPKG_DIR=$(XPKG_DIR) PKG_VERSION=$(XPKG_VERSION) API_PORT=$(API_PORT) \
	XDG_CACHE_HOME=$(CROSSPLANE_CACHE) CROSSPLANE_VERSION=$(CROSSPLANE_VERSION) \
	CROSSPLANE_CORE_BIN=$(TOOLS_BIN)/$(CORE_TOOL)
STACK = $(STACK_ENV) bash cluster/stack.sh
STACK_START = $(STACK_ENV) CROSSPLANE_CRDS=$(CROSSPLANE_MODULE)/cluster/crds \
	CROSSPLANE_CHART=$(CROSSPLANE_MODULE)/cluster/charts/crossplane bash cluster/stack.sh

# The Configuration depends on the Function and the Provider packages; the
# stack pushes both and runs their binaries as processes.
STACK_DEPS = cluster-tools xpkg xpkg-provider $(FUNCTION_BIN) $(PROVIDER_HOST_BIN) $(TESTPERFORMER_BIN)

# What a stack runs, as a target: other .mk files depend on stack-deps, not
# on $(STACK_DEPS), which is empty in a file make reads before this one
# (bench-e2e.mk is: its benchmarks ran binaries built hours earlier).
.PHONY: stack-deps
stack-deps: $(STACK_DEPS)

run: $(STACK_DEPS) ## Start the local stack, apply the examples, wait for Ctrl-C, tear down.
	@$(STACK_START) run

cluster-up: $(STACK_DEPS) ## Start the local stack in the background (kubeconfig: _output/kubeconfig).
	@APPLY_EXAMPLES=$${APPLY_EXAMPLES:-1} $(STACK_START) up

cluster-down: ## Stop every process of the local stack and remove its state.
	@$(STACK) down

cluster-status: ## Say whether the local stack is up.
	@$(STACK) status

cluster-diagnose: ## Print the stack's performers, packages, events and log tails.
	@$(STACK) diagnose

# The live tests. They start the stack when it is not up, and then stop it.
# They spend their time waiting on the cluster, not on the CPU: run more of
# them at once than go test's default (GOMAXPROCS, 2 here).
E2E_PARALLEL ?= 8
e2e: $(STACK_DEPS) ## Run the live e2e tests against the local stack (CROSSPLANE_VERSION: core's version).
	@started=; \
	if ! $(STACK) status >/dev/null 2>&1; then \
	  APPLY_EXAMPLES=0 $(STACK_START) up; started=1; \
	elif [[ "$$($(STACK) version)" != "$(CROSSPLANE_VERSION)" ]]; then \
	  echo "e2e: the stack up runs Crossplane $$($(STACK) version), not $(CROSSPLANE_VERSION); run 'make cluster-down' first" >&2; exit 1; \
	fi; \
	rc=0; KUBECONFIG=$(OUTPUT)/kubeconfig REPO_ROOT=$(ROOT) $(GO) test -tags e2e -count=1 -timeout 30m -parallel $(E2E_PARALLEL) -v ./test/e2e/... $(E2E_FLAGS) || rc=$$?; \
	if (( rc != 0 )); then $(STACK) diagnose || true; fi; \
	if [[ -n "$$started" ]]; then $(STACK) down; fi; \
	exit $$rc

# The takeover of a running Hourglass operator (docs/migration.md) needs a
# cluster the platform is not installed on yet: its own stack, with the
# Function and Provider but not the Configuration, which the test installs
# over the operator's CRD. It runs after e2e, on the same port.
e2e-takeover: $(STACK_DEPS) ## Live test of taking over a running Hourglass operator (its own stack).
	@if $(STACK) status >/dev/null 2>&1; then echo "e2e-takeover: a stack is up; it needs its own (make cluster-down, or set API_PORT/STATE_DIR)" >&2; exit 1; fi
	@APPLY_EXAMPLES=0 INSTALL_CONFIGURATION=0 $(STACK_START) up; \
	rc=0; HOURGLASS_E2E_STACK=operator KUBECONFIG=$(OUTPUT)/kubeconfig REPO_ROOT=$(ROOT) $(GO) test -tags e2e -count=1 -timeout 20m -run '^TestTakeover$$' -v ./test/e2e/... $(E2E_FLAGS) || rc=$$?; \
	if (( rc != 0 )); then $(STACK) diagnose || true; fi; \
	$(STACK) down; \
	exit $$rc

# Keep the per-platform binaries and images: they are the slow steps.
.SECONDARY: $(foreach a,$(XPKG_ARCHES),$(XPKG_WORK)/$(FUNCTION_PKG)/linux-$(a)/function $(XPKG_WORK)/$(FUNCTION_PKG)/linux-$(a)/image.tar)

# The compact check (test/e2e/compat_test.go) alone, on a fresh stack of
# each supported Crossplane version in turn, oldest first. Every version
# runs even when one fails; the summary says which passed and how long each
# took (core's build included when it is cold).
COMPAT_FLAGS := -run TestCompat
.PHONY: e2e-compat e2e-matrix
e2e-compat: ## The compact live check on the oldest supported Crossplane (fresh stack).
	@if $(STACK) status >/dev/null 2>&1; then echo "e2e-compat: a stack is up; run 'make cluster-down' first" >&2; exit 1; fi
	@$(MAKE) --no-print-directory e2e CROSSPLANE_VERSION=$(CROSSPLANE_OLDEST) E2E_FLAGS="$(COMPAT_FLAGS)"

e2e-matrix: ## The compact live check on every supported Crossplane version, each on a fresh stack.
	@if $(STACK) status >/dev/null 2>&1; then echo "e2e-matrix: a stack is up; run 'make cluster-down' first" >&2; exit 1; fi
	@summary=(); failed=0; \
	for v in $(CROSSPLANE_VERSIONS); do \
	  s=$$(date +%s); \
	  if $(MAKE) --no-print-directory e2e CROSSPLANE_VERSION=$$v E2E_FLAGS="$(COMPAT_FLAGS)"; then r=pass; else r=FAIL; failed=1; fi; \
	  summary+=("e2e-matrix: Crossplane $$v $$r in $$(( $$(date +%s) - s ))s"); \
	done; \
	printf '%s\n' "$${summary[@]}"; exit $$failed

# make test runs the live tests on the default core, the takeover of a
# running operator, then the compact check on the oldest supported core.
TEST_TARGETS += e2e e2e-takeover e2e-compat
