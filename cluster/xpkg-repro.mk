# Reproducible packages: the same inputs must give the same digests, or a
# published tag could not be rebuilt and checked. Builds every xpkg twice into
# separate output trees (Go's build cache makes the second build cheap) and
# compares the files byte for byte; `crossplane xpkg build` lints each
# package on the way.

.PHONY: test-xpkg-repro
test-xpkg-repro: ## Build the Configuration, Function and Provider xpkgs twice and require identical digests.
	@rm -rf $(OUTPUT)/repro-1 $(OUTPUT)/repro-2
	@for n in 1 2; do \
	  $(MAKE) --no-print-directory OUTPUT=$(OUTPUT)/repro-$$n xpkg xpkg-provider >$(OUTPUT)/repro-$$n.log 2>&1 \
	    || { cat $(OUTPUT)/repro-$$n.log >&2; exit 1; }; \
	done
	@cd $(OUTPUT)/repro-1/xpkg && ls *.xpkg | sort > ../files
	@cd $(OUTPUT)/repro-2/xpkg && ls *.xpkg | sort > ../files
	@diff $(OUTPUT)/repro-1/files $(OUTPUT)/repro-2/files || { echo "test-xpkg-repro: different package sets" >&2; exit 1; }
	@test "$$(wc -l < $(OUTPUT)/repro-1/files)" -ge 5 || { echo "test-xpkg-repro: want at least 5 packages (Configuration, Function and Provider per platform)" >&2; exit 1; }
	@cd $(OUTPUT)/repro-1/xpkg && sha256sum *.xpkg > ../sums
	@cd $(OUTPUT)/repro-2/xpkg && sha256sum -c ../../repro-1/sums
	@rm -rf $(OUTPUT)/repro-1 $(OUTPUT)/repro-2 $(OUTPUT)/repro-*.log
	@echo "test-xpkg-repro: every package has the same digest when built twice"

TEST_TARGETS += test-xpkg-repro
