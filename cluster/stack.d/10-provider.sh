# shellcheck shell=bash
# Sourced by stack.sh inside the stack's namespace once the packages are
# healthy: runs provider-hourglass as a process. Crossplane installed the
# Provider package as the Configuration's dependency (its CRD, its
# revision's Deployment, which kwok only pretends to run); this starts the
# real binary beside it, as the ServiceAccount package/provider/rbac.yaml
# binds, with a kubeconfig made from that ServiceAccount's token, so it has
# exactly the permissions a cluster would give it.
#
# Its health checks dial pod IPs, limited to the stack's pod network
# (10.77.0.0/16 on lo): nothing leaves the namespace. Metrics and probes on
# loopback. It dies with the namespace at stack down; PROVIDER_ARGS adds
# flags. Log: $state/logs/provider.log; PID: $state/provider.pid.

: "${PROVIDER_NAME:=hourglass-xp-provider-hourglass}"
[[ -x "${PROVIDER_BIN:-}" ]] || die "missing provider binary PROVIDER_BIN=${PROVIDER_BIN:-} (make xpkg-provider)"

until_ok 180 "Provider $PROVIDER_NAME healthy" kubectl wait --for=condition=Healthy "provider.pkg.crossplane.io/$PROVIDER_NAME" --timeout=1s
until_ok 60 "the PerformerEndpoint CRD" kubectl wait --for=condition=Established crd/performerendpoints.observe.hourglass.eigenlayer.io --timeout=1s
kubectl apply -f "$root/package/provider/rbac.yaml" >/dev/null

# A kubeconfig that authenticates as the provider's ServiceAccount.
cp "$KUBECONFIG" "$state/provider.kubeconfig"
KUBECONFIG="$state/provider.kubeconfig" kubectl config set-credentials provider-hourglass \
  --token="$(kubectl -n crossplane-system create token provider-hourglass --duration=48h)" >/dev/null
KUBECONFIG="$state/provider.kubeconfig" kubectl config set-context --current --user=provider-hourglass >/dev/null

# Ready performers are observed again every 10 s (a server that stops
# answering is noticed within that; the production default is 1 m), and
# every second while a ready pod fails its health check.
# shellcheck disable=SC2086
KUBECONFIG="$state/provider.kubeconfig" POD_NAMESPACE=crossplane-system "$PROVIDER_BIN" --leader-election \
  --health-check-cidr=10.77.0.0/16 --poll=10s --poll-fast=1s \
  --metrics-address=127.0.0.1:8380 --probe-address=127.0.0.1:8381 ${PROVIDER_ARGS:-} \
  >"$state/logs/provider.log" 2>&1 </dev/null &
echo $! >"$state/provider.pid"
until_ok 60 "the provider ready (/readyz)" curl -sf http://127.0.0.1:8381/readyz
