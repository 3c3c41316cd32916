# shellcheck shell=bash
# Sourced by stack.sh inside the stack's namespace once the packages are
# healthy: runs provider-hourglass as a process. Crossplane installed the
# Provider package (its CRD, its revision's Deployment, which kwok only
# pretends to run, as ServiceAccount provider-hourglass because the Provider
# names runtime config provider-hourglass); this starts the real binary
# beside it with a token of that ServiceAccount, so it has exactly the
# permissions a cluster would give it: the RBAC manager's for its own kinds,
# package/provider/rbac.yaml's (applied at install) for what it observes.
#
# Its health checks dial pod IPs, limited to the stack's pod network
# (10.77.0.0/16 on lo): nothing leaves the namespace. Metrics and probes on
# loopback. It dies with the namespace at stack down; PROVIDER_ARGS adds
# flags. Log: $state/logs/provider.log; PID: $state/provider.pid.

: "${PROVIDER_NAME:=hourglass-xp-provider-hourglass}"
[[ -x "${PROVIDER_BIN:-}" ]] || die "missing provider binary PROVIDER_BIN=${PROVIDER_BIN:-} (make xpkg-provider)"

until_ok 180 "Provider $PROVIDER_NAME healthy" kubectl wait --for=condition=Healthy "provider.pkg.crossplane.io/$PROVIDER_NAME" --timeout=1s
until_ok 60 "the PerformerEndpoint CRD" kubectl wait --for=condition=Established crd/performerendpoints.observe.hourglass.eigenlayer.io --timeout=1s
sa_kubeconfig crossplane-system provider-hourglass "$state/provider.kubeconfig"

# Ready performers are observed again every 10 s (a server that stops
# answering is noticed within that; the production default is 1 m), and
# every second while a ready pod fails its health check; Performers that
# are not Ready are checked for permissions Crossplane lacks every 10 s
# (30 s).
# shellcheck disable=SC2086
KUBECONFIG="$state/provider.kubeconfig" POD_NAMESPACE=crossplane-system "$PROVIDER_BIN" --leader-election \
  --health-check-cidr=10.77.0.0/16 --poll=10s --poll-fast=1s --access-check=10s \
  --metrics-address=127.0.0.1:8380 --probe-address=127.0.0.1:8381 ${PROVIDER_ARGS:-} \
  >"$state/logs/provider.log" 2>&1 </dev/null &
echo $! >"$state/provider.pid"
until_ok 60 "the provider ready (/readyz)" curl -sf http://127.0.0.1:8381/readyz
