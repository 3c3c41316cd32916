#!/usr/bin/env bash
# Live smoke test of the provider against a real (kwok) cluster, without
# Crossplane: a private network, mount and PID namespace holds kube-apiserver,
# etcd, kube-controller-manager (EndpointSlices), kube-scheduler, the kwok
# controller with the stack's fault stages and fake nodes, a real gRPC
# performer (cmd/testperformer) bound to a fake pod's IP, and the provider
# binary running as its ServiceAccount with package/provider/rbac.yaml. It
# applies performers that are fine, short of GPUs, asking for hardware no node
# has, short of CPU, unable to pull their image, crash-looping, and ready but
# not answering gRPC, and checks the reason the provider reports for each,
# the connection Secret, and recovery when the performer stops and restarts.
#
# The namespace holds only lo (10.77.0.0/16 on it, a default route via it), so
# the provider's health checks of 10.77.x pod IPs never leave it. Everything
# dies with the namespace's first process.
#
#   bash package/provider/live-smoke.sh      (as root; needs the tools in _output/bin)
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# shellcheck source=../../cluster/kwok/kwokctl-config.sh
source "$root/cluster/kwok/kwokctl-config.sh"
: "${OUTPUT:=$root/_output}"
: "${TOOLS_BIN:=$OUTPUT/bin}"
work="$OUTPUT/provider-live"
export PATH="$TOOLS_BIN:$PATH"

die() { echo "live-smoke: $*" >&2; exit 1; }
phase() { printf '[%5.1fs] %s\n' "$(( $(date +%s%N) / 1000000 - t0 ))e-3" "$*"; }
t0=$(( $(date +%s%N) / 1000000 ))

# until_ok SECONDS WHAT CMD...: retry CMD until it succeeds.
until_ok() {
  local secs=$1 what=$2; shift 2
  local deadline=$(( $(date +%s) + secs ))
  until "$@" >/dev/null 2>&1; do
    (( $(date +%s) < deadline )) || { echo "live-smoke: timed out waiting for $what" >&2; return 1; }
    sleep 0.5
  done
}

outer() {
  for b in kwokctl kwok etcd kube-apiserver kube-controller-manager kube-scheduler kubectl; do
    [[ -x "$TOOLS_BIN/$b" ]] || die "missing $TOOLS_BIN/$b (make tools)"
  done
  rm -rf "$work" && mkdir -p "$work/logs"
  (cd "$root" && CGO_ENABLED=0 go build -o "$work/provider" ./cmd/provider && CGO_ENABLED=0 go build -o "$work/testperformer" ./cmd/testperformer)
  unshare --net --mount --pid --fork --mount-proc --kill-child=SIGTERM bash "$0" inner
}

# reason NAME: the reason the provider reports for PerformerEndpoint NAME.
reason() { kubectl -n perf get performerendpoint "$1" -o jsonpath='{.status.atProvider.reason}'; }
expect() {
  local name=$1 want=$2 secs=${3:-90}
  if until_ok "$secs" "$name: $want" bash -c "[[ \"\$(kubectl -n perf get performerendpoint $name -o jsonpath='{.status.atProvider.reason}')\" == $want ]]"; then
    phase "ok   $name: $want — $(kubectl -n perf get performerendpoint "$name" -o jsonpath='{.status.atProvider.message}')"
  else
    phase "FAIL $name: want $want, got '$(reason "$name")' — $(kubectl -n perf get performerendpoint "$name" -o jsonpath='{.status.atProvider.message}')"
    failed=1
  fi
}

# performer NAME IMAGE [RESOURCES-JSON] [NODESELECTOR-JSON]: a Deployment,
# Service and PerformerEndpoint labelled as the function labels them.
performer() {
  local name=$1 image=$2 resources=${3:-'{}'} selector=${4:-'{}'}
  kubectl apply -f - >/dev/null <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: performer-$name, namespace: perf, labels: {app: performer, performer-name: $name}}
spec:
  replicas: 1
  selector: {matchLabels: {app: performer, performer-name: $name}}
  template:
    metadata: {labels: {app: performer, performer-name: $name}}
    spec:
      nodeSelector: $selector
      tolerations: [{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}]
      containers: [{name: performer, image: "$image", ports: [{name: grpc, containerPort: 9090}], resources: $resources}]
---
apiVersion: v1
kind: Service
metadata: {name: performer-$name, namespace: perf, labels: {app: performer, performer-name: $name}}
spec:
  selector: {app: performer, performer-name: $name}
  ports: [{name: grpc, port: 9090, targetPort: 9090}]
---
apiVersion: observe.hourglass.eigenlayer.io/v1alpha1
kind: PerformerEndpoint
metadata: {name: performer-$name, namespace: perf}
spec:
  writeConnectionSecretToRef: {name: performer-$name-endpoint}
  forProvider:
    serviceName: performer-$name
    selector: {app: performer, performer-name: $name}
    port: 9090
    healthCheck: {timeoutSeconds: 1}
YAML
}

inner() {
  ip link set lo up
  ip addr add 10.77.0.0/16 dev lo
  ip route add default dev lo
  local kc="$work/kubeconfig"
  export KUBECONFIG="$kc"

  phase "control plane: kwokctl create cluster"
  kwokctl_config "$TOOLS_BIN" "$root/cluster/kwok/stages.yaml" >"$work/kwokctl.yaml"
  KWOK_WORKDIR="$work/kwok" kwokctl create cluster --name hgprovider --config "$work/kwokctl.yaml" \
    --kubeconfig "$kc" --wait 2m >"$work/logs/kwokctl.log" 2>&1 || { cat "$work/logs/kwokctl.log"; exit 1; }
  until_ok 60 "the API server" kubectl get --raw=/readyz
  kubectl apply -f "$root/cluster/kwok/nodes.yaml" >/dev/null
  until_ok 60 "nodes Ready" kubectl wait --for=condition=Ready nodes --all --timeout=1s

  phase "provider: CRD, RBAC, ServiceAccount kubeconfig"
  kubectl create namespace crossplane-system >/dev/null
  kubectl create namespace perf >/dev/null
  kubectl apply -f "$root/package/provider/crds/" >/dev/null
  kubectl apply -f "$root/package/provider/rbac.yaml" >/dev/null
  until_ok 30 "the CRD" kubectl wait --for=condition=Established crd/performerendpoints.observe.hourglass.eigenlayer.io --timeout=1s
  cp "$kc" "$work/provider.kubeconfig"
  KUBECONFIG="$work/provider.kubeconfig" kubectl config set-credentials provider-hourglass \
    --token="$(kubectl -n crossplane-system create token provider-hourglass --duration=1h)" >/dev/null
  KUBECONFIG="$work/provider.kubeconfig" kubectl config set-context --current --user=provider-hourglass >/dev/null

  phase "performers: ok, no-gpu, no-b200, no-cpu, bad-image, crash, silent"
  performer ok example/performer:v1
  performer no-gpu example/performer:v1 '{"limits": {"nvidia.com/gpu": "64"}}'
  performer no-b200 example/performer:v1 '{}' '{"nvidia.com/gpu.product": "NVIDIA-B200"}'
  performer no-cpu example/performer:v1 '{"requests": {"cpu": "1000"}}'
  performer bad-image example/kwok-fault-image-pull-error:v1
  performer crash example/kwok-fault-crash-loop:v1
  performer silent example/performer:v1

  phase "testperformer: behind the ok pod's IP"
  until_ok 60 "the ok pod's IP" bash -c "[[ -n \"\$(kubectl -n perf get pods -l performer-name=ok -o jsonpath='{.items[0].status.podIP}')\" ]]"
  local ip; ip=$(kubectl -n perf get pods -l performer-name=ok -o jsonpath='{.items[0].status.podIP}')
  "$work/testperformer" -address "$ip:9090" -name ok >"$work/logs/testperformer.log" 2>&1 &
  local tp=$!

  phase "provider: starting (health checks limited to 10.77.0.0/16)"
  KUBECONFIG="$work/provider.kubeconfig" "$work/provider" --leader-election --namespace=crossplane-system \
    --health-check-cidr=10.77.0.0/16 --poll=5s --poll-fast=1s \
    --metrics-address=127.0.0.1:8380 --probe-address=127.0.0.1:8381 >"$work/logs/provider.log" 2>&1 &

  failed=0
  expect performer-ok ServiceReady
  expect performer-no-gpu HardwareUnavailable
  expect performer-no-b200 HardwareUnavailable
  expect performer-no-cpu SchedulingFailed
  expect performer-bad-image ImagePullFailed
  expect performer-crash CrashLoopBackOff
  expect performer-silent HealthCheckFailed

  local ep; ep=$(kubectl -n perf get secret performer-ok-endpoint -o jsonpath='{.data.endpoint}' | base64 -d)
  if [[ "$ep" == "performer-ok.perf.svc.cluster.local:9090" ]]; then phase "ok   connection Secret endpoint $ep"; else phase "FAIL connection Secret endpoint '$ep'"; failed=1; fi

  phase "the ok performer stops, then comes back"
  kill "$tp"; wait "$tp" 2>/dev/null || true
  expect performer-ok HealthCheckFailed 30
  "$work/testperformer" -address "$ip:9090" -name ok >>"$work/logs/testperformer.log" 2>&1 &
  expect performer-ok ServiceReady 30

  kubectl -n perf get performerendpoints -o wide
  if curl -sf http://127.0.0.1:8381/readyz >/dev/null; then phase "ok   /readyz"; else phase "FAIL /readyz"; failed=1; fi
  curl -sf http://127.0.0.1:8380/metrics | grep '^hourglass_provider_health_checks_total' || { phase "FAIL no health check metrics"; failed=1; }
  (( failed == 0 )) || { echo "--- provider log"; tail -50 "$work/logs/provider.log"; exit 1; }
  phase "live smoke test passed"
}

case "${1:-}" in
  inner) inner ;;
  *) outer ;;
esac
