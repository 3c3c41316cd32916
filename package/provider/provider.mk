# The thin provider (issue 5): its managed resource API, generated code and
# CRDs, and its tests. Included by the Makefile (package/*/*.mk), which
# exports TOOLS_BIN, TOOLS_CACHE and PATH.
#
#   make generate-provider   deepcopy, angryjet method sets, CRDs into package/provider/crds
#   make test-provider       unit tests and the envtest reconciler tests (needs etcd, kube-apiserver)
#   make provider-bin        the provider binary for this machine, in _output/bin

PROVIDER_APIS := ./apis/observe/...
PROVIDER_CRDS := package/provider/crds
PROVIDER_BIN  := $(OUTPUT)/bin/provider-hourglass

GENERATE_TARGETS += generate-provider
TEST_TARGETS     += test-provider

.PHONY: generate-provider test-provider provider-bin

generate-provider: tool-controller-gen tool-angryjet ## Regenerate the provider's method sets and CRDs.
	controller-gen object paths=$(PROVIDER_APIS)
	angryjet generate-methodsets $(PROVIDER_APIS)
	@rm -rf $(PROVIDER_CRDS)
	controller-gen crd paths=$(PROVIDER_APIS) output:crd:dir=$(PROVIDER_CRDS)

# envtest runs a real kube-apiserver and etcd from TOOLS_BIN; with
# HOURGLASS_REQUIRE_TOOLS=1 a missing binary fails the tests instead of
# skipping them.
test-provider: tool-etcd tool-kubernetes ## Provider tests against a real API server (envtest).
	KUBEBUILDER_ASSETS=$(TOOLS_BIN) HOURGLASS_REQUIRE_TOOLS=1 $(GO) test -count=1 ./internal/provider/... ./internal/endpoint/... ./apis/observe/...

provider-bin: ## Build the provider binary.
	CGO_ENABLED=0 $(GO) build -trimpath -o $(PROVIDER_BIN) ./cmd/provider
