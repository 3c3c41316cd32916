# The thin provider (issue 5): its managed resource API, generated code and
# CRDs, and its tests. Included by the Makefile (package/*/*.mk), which
# exports TOOLS_BIN, TOOLS_CACHE and PATH.
#
#   make generate-provider   deepcopy, angryjet method sets, CRDs into package/provider/crds
#   make test-provider       unit, envtest reconciler and provider binary tests (need etcd, kube-apiserver)
#   make provider-bin        the provider binary for this machine, in _output/bin
#   make test-provider-live  the binary against a private kwok cluster (root, unshare; ~20 s after builds)

PROVIDER_APIS := ./apis/observe/...
PROVIDER_CRDS := package/provider/crds
PROVIDER_BIN  := $(OUTPUT)/bin/provider-hourglass

GENERATE_TARGETS += generate-provider
TEST_TARGETS     += test-provider

.PHONY: generate-provider test-provider test-provider-live provider-bin

generate-provider: tool-controller-gen tool-angryjet ## Regenerate the provider's method sets and CRDs.
	controller-gen object paths=$(PROVIDER_APIS)
	angryjet generate-methodsets $(PROVIDER_APIS)
	@rm -rf $(PROVIDER_CRDS)
	controller-gen crd paths=$(PROVIDER_APIS) output:crd:dir=$(PROVIDER_CRDS)

# envtest runs a real kube-apiserver and etcd from TOOLS_BIN; with
# HOURGLASS_REQUIRE_TOOLS=1 a missing binary fails the tests instead of
# skipping them.
PROVIDER_TEST_PKGS := ./internal/provider ./internal/podstatus ./apis/observe/v1alpha1 ./cmd/provider
PHASE_PKGS         += $(PROVIDER_TEST_PKGS)
test-provider: tool-etcd tool-kubernetes ## Provider tests against a real API server (envtest).
	KUBEBUILDER_ASSETS=$(TOOLS_BIN) HOURGLASS_REQUIRE_TOOLS=1 $(GO) test -count=1 $(PROVIDER_TEST_PKGS)

# Real scheduler messages, EndpointSlice controller, kwok fault stages and a
# real gRPC performer behind a fake pod IP, all inside a private network
# namespace (see the script).
test-provider-live: tool-etcd tool-kubernetes tool-kwok ## Provider smoke test on a private kwok cluster.
	bash package/provider/live-smoke.sh

provider-bin: ## Build the provider binary.
	CGO_ENABLED=0 $(GO) build -trimpath -o $(PROVIDER_BIN) ./cmd/provider

# ---- package ------------------------------------------------------------------
#
#   make xpkg-provider   provider-hourglass-{amd64,arm64}.xpkg in _output/xpkg
#
# Like the Function package (cluster/cluster.mk): a static binary per
# platform, a runtime image (empty base, one layer, non-root) and the xpkg
# built from a staging root holding only crossplane.yaml and the CRDs (the
# RBAC and runtime config beside them are for the platform, not the package).

PROVIDER_PKG   := provider-hourglass
PROVIDER_WORK  := $(OUTPUT)/xpkg-work/$(PROVIDER_PKG)
PROVIDER_ARCH  := amd64 arm64
PROVIDER_VER   ?= $(shell cat VERSION 2>/dev/null || echo v0.0.0-dev)
PROVIDER_SRCS   = $(shell find apis/observe cmd/provider internal -name '*.go' -not -name '*_test.go' 2>/dev/null) go.mod go.sum

.PHONY: xpkg-provider
xpkg-provider: $(addprefix $(OUTPUT)/xpkg/$(PROVIDER_PKG)-,$(addsuffix .xpkg,$(PROVIDER_ARCH))) ## Build the Provider xpkgs (amd64, arm64).

$(PROVIDER_WORK)/linux-%/provider: $(PROVIDER_SRCS)
	@mkdir -p $(@D)
	CGO_ENABLED=0 GOOS=linux GOARCH=$* $(GO) build -trimpath -ldflags "-s -w" -o $@ ./cmd/provider

# The image exposes the metrics port; the binary is its entrypoint.
$(PROVIDER_WORK)/linux-%/image.tar: $(PROVIDER_WORK)/linux-%/provider $(OUTPUT)/bin/hourglass-imgbuild
	$(OUTPUT)/bin/hourglass-imgbuild -binary $< -arch $* -port 8080 -path /provider \
	  -tag xpkg.upbound.io/hourglass-xp/$(PROVIDER_PKG):$(PROVIDER_VER)-$* -o $@

$(OUTPUT)/xpkg/$(PROVIDER_PKG)-%.xpkg: $(PROVIDER_WORK)/linux-%/image.tar package/provider/crossplane.yaml $(wildcard $(PROVIDER_CRDS)/*.yaml) | tool-crossplane-cli
	rm -rf $(PROVIDER_WORK)/root-$* && mkdir -p $(PROVIDER_WORK)/root-$*/crds $(@D)
	cp package/provider/crossplane.yaml $(PROVIDER_WORK)/root-$*/
	cp $(PROVIDER_CRDS)/*.yaml $(PROVIDER_WORK)/root-$*/crds/
	XDG_CACHE_HOME=$(OUTPUT)/cache crossplane xpkg build --package-root=$(PROVIDER_WORK)/root-$* \
	  --examples-root=$(PROVIDER_WORK)/root-$*/no-examples --embed-runtime-image-tarball=$< -o $@

# Keep the binaries and images: the local stack runs the host one as a
# process (PROVIDER_HOST_BIN), and rebuilding them is the slow part.
.PRECIOUS: $(PROVIDER_WORK)/linux-%/provider $(PROVIDER_WORK)/linux-%/image.tar
PROVIDER_HOST_BIN := $(PROVIDER_WORK)/linux-$(shell $(GO) env GOARCH)/provider
