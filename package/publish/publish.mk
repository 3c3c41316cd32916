# Publishing the packages (issue 8). Included by the Makefile
# (package/*/*.mk), which exports TOOLS_BIN, TOOLS_CACHE and PATH.
#
#   make publish                       dry run: build the packages, print every tag and digest a push would write
#   make publish PUBLISH=1             push them (Function and Provider as linux/amd64+arm64 indexes, then the Configuration)
#   make publish REGISTRY=127.0.0.1:5000 ORG=team VERSION=v0.2.0
#   make test-publish                  publisher tests (local OCI registry, fake Upbound API), ~1 s after builds
#
# Credentials come from the environment only, never from make variables, so
# they never appear in make's output:
#   UP_TOKEN                               Upbound API token (personal or robot); for xpkg.upbound.io it both
#                                          creates the repositories and logs in to the registry
#   REGISTRY_USERNAME, REGISTRY_PASSWORD   any registry (win over UP_TOKEN)
#   otherwise the Docker config (docker login / crane auth login)
#
# For the Upbound registry the repositories are created or updated first
# (UP_VISIBILITY=public|private, UP_DRAFT=1 keeps versions as drafts;
# UP_REPOSITORIES=auto|always|never).

REGISTRY        ?= xpkg.upbound.io
ORG             ?= hourglass-xp
PUBLISH         ?= 0
UP_VISIBILITY   ?= public
UP_DRAFT        ?= 0
UP_REPOSITORIES ?= auto

# One version for every package: VERSION on the command line, else the
# VERSION file. Setting it here, before cluster/cluster.mk and
# package/provider/provider.mk are read, makes their `?=` keep it, so the
# packages are built with the version they are published under.
ifneq ($(origin VERSION),undefined)
XPKG_VERSION := $(VERSION)
PROVIDER_VER := $(VERSION)
endif
PUBLISH_VERSION = $(or $(VERSION),$(shell cat VERSION 2>/dev/null))

PUBLISH_BIN := $(OUTPUT)/bin/hourglass-publish

TEST_TARGETS += test-publish

.PHONY: publish test-publish

$(PUBLISH_BIN): $(shell find cmd/publish internal/publish -name '*.go' -not -name '*_test.go' 2>/dev/null) go.mod go.sum
	CGO_ENABLED=0 $(GO) build -trimpath -o $@ ./cmd/publish

publish: xpkg xpkg-provider $(PUBLISH_BIN) ## Push the packages to REGISTRY/ORG:VERSION (dry run unless PUBLISH=1).
	$(PUBLISH_BIN) --dir=$(OUTPUT)/xpkg --registry=$(REGISTRY) --org=$(ORG) --version=$(PUBLISH_VERSION) \
	  --ensure-repositories=$(UP_REPOSITORIES) --visibility=$(UP_VISIBILITY) \
	  $(if $(filter 1,$(UP_DRAFT)),--draft) $(if $(filter 1,$(PUBLISH)),--push)

# The push test runs the local OCI registry binary, the GitOps and docs
# tests the crossplane CLI (resource validate); with
# HOURGLASS_REQUIRE_TOOLS=1 their absence fails instead of skipping.
PUBLISH_TEST_PKGS := ./internal/publish ./cmd/publish ./examples/gitops ./examples/monitoring ./docs
PHASE_PKGS        += $(PUBLISH_TEST_PKGS)
test-publish: tool-registry tool-crossplane-cli ## Publisher, GitOps health checks, monitoring example and docs tests.
	TOOLS_BIN=$(TOOLS_BIN) HOURGLASS_REQUIRE_TOOLS=1 $(GO) test -count=1 $(PUBLISH_TEST_PKGS)
