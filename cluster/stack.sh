#!/usr/bin/env bash
# The local stack: a real control plane (etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler) with kwok's fake nodes, Crossplane
# core, an OCI registry, and the composition function, all inside a private
# network + mount + PID namespace. Crossplane installs the packages from the
# registry through its package manager. A forwarder on a host loopback port
# lets kubectl and `crossplane resource trace` reach the API server from a
# normal shell; nothing outside the namespace ever dials a pod IP or ClusterIP.
#
#   stack.sh run    start, print performers and a trace, wait for Ctrl-C, stop
#   stack.sh up     start in the background; kubeconfig in $KUBECONFIG_OUT
#   stack.sh down   stop every process it started (by PID) and remove state
#   stack.sh status say whether the stack is up
#   stack.sh version   print the Crossplane version the stack up runs
#   stack.sh diagnose  print performers, packages, events and log tails
#
# Crossplane runs as a Helm install would run it: the ServiceAccounts,
# ClusterRoles, bindings and Secrets of its official chart (rendered with
# `helm template`), core and the RBAC manager each with its own
# ServiceAccount's token. What the project asks a platform team to apply
# (README, "Install on an existing cluster") is applied here, in that order.
# Namespaces with performers enforce Pod Security "restricted".
#
# Inputs (the Makefile passes them): TOOLS_BIN, FORWARD_BIN, FUNCTION_BIN (a
# static function binary for this machine), XPKG_DIR (the .xpkg files),
# CROSSPLANE_CRDS (core's CRDs), CROSSPLANE_CHART (its Helm chart),
# CROSSPLANE_VERSION and CROSSPLANE_CORE_BIN (core's version and binary),
# PKG_VERSION, API_PORT, APPLY_EXAMPLES, INSTALL_CONFIGURATION (0: the
# Function and Provider only, no Performer API); CROSSPLANE_ARGS adds flags to
# `crossplane core start` (benchmarks try e.g. --max-reconcile-rate).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
# shellcheck source=kwok/kwokctl-config.sh
source "$here/kwok/kwokctl-config.sh"
: "${OUTPUT:=$root/_output}"
: "${TOOLS_BIN:=$OUTPUT/bin}"
: "${FORWARD_BIN:=$OUTPUT/bin/hourglass-forward}"
: "${XPKG_DIR:=$OUTPUT/xpkg}"
: "${PKG_VERSION:=v0.1.0}"
: "${API_PORT:=26443}"
: "${APPLY_EXAMPLES:=1}"
: "${INSTALL_CONFIGURATION:=1}"
: "${CROSSPLANE_ARGS:=}"
: "${STACK_TIMEOUT:=600}"
: "${FUNCTION_NAME:=hourglass-xp-function-performer}"
: "${PKG_PREFIX:=xpkg.upbound.io/hourglass-xp}"
: "${CROSSPLANE_CORE_BIN:=$TOOLS_BIN/crossplane-core}"
: "${CROSSPLANE_VERSION:=unknown}"
state="${STATE_DIR:-$OUTPUT/cluster}"
kubeconfig_out="${KUBECONFIG_OUT:-$OUTPUT/kubeconfig}"
export PATH="$TOOLS_BIN:$PATH"
# The Crossplane CLI writes caches under XDG_CACHE_HOME.
export XDG_CACHE_HOME="${XDG_CACHE_HOME:-$OUTPUT/cache}"

t0=$(date +%s.%N)
last=$t0 current=""
# phase NAME: close the current phase (printing how long it took and the time
# since the start) and open the next one.
phase() {
  local now; now=$(date +%s.%N)
  if [[ -n "$current" ]]; then
    awk -v n="$now" -v s="$t0" -v l="$last" -v m="$current" 'BEGIN { printf "[%6.1fs] done in %5.1fs: %s\n", n - s, n - l, m }'
  fi
  echo "==> $*"
  current="$*" last=$now
}
die() { echo "stack: $*" >&2; exit 1; }

# until_ok SECONDS DESCRIPTION CMD...: retry CMD every half second.
until_ok() {
  local deadline=$(( $(date +%s) + $1 )) what="$2"; shift 2
  until "$@" >/dev/null 2>&1; do
    (( $(date +%s) < deadline )) || { echo "stack: timed out waiting for $what" >&2; "$@" >&2 || true; return 1; }
    sleep 0.5
  done
}

alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

# sa_kubeconfig NAMESPACE SERVICEACCOUNT FILE: write a kubeconfig that
# authenticates with a bound token of the ServiceAccount, as a pod's
# projected token would, and holds nothing of the admin identity.
sa_kubeconfig() {
  local ns="$1" sa="$2" out="$3" server ca token
  server=$(kubectl config view --minify -o jsonpath='{.clusters[0].cluster.server}')
  ca=$(kubectl config view --minify --raw --flatten -o jsonpath='{.clusters[0].cluster.certificate-authority-data}')
  token=$(kubectl -n "$ns" create token "$sa" --duration="${TOKEN_TTL:-48h}")
  (umask 077 && cat >"$out" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: hourglass
  cluster: {server: "$server", certificate-authority-data: "$ca"}
users:
- name: $ns/$sa
  user: {token: "$token"}
contexts:
- name: $sa
  context: {cluster: hourglass, user: $ns/$sa}
current-context: $sa
EOF
  )
}

# ---- outside the namespace ---------------------------------------------------

cmd_up() {
  if alive "$state/stack.pid"; then die "already up (pid $(cat "$state/stack.pid")); run 'make cluster-down' first"; fi
  rm -rf "$state" && mkdir -p "$state/logs"
  for b in kwokctl kwok etcd kube-apiserver kube-controller-manager kube-scheduler kubectl registry crane crossplane helm; do
    [[ -x "$TOOLS_BIN/$b" ]] || die "missing tool $TOOLS_BIN/$b (run 'make tools')"
  done
  [[ -x "$CROSSPLANE_CORE_BIN" ]] || die "missing Crossplane core $CROSSPLANE_CORE_BIN (run 'make tools')"
  # Core runs as crossplane-core whatever its version, as its pod would.
  mkdir -p "$state/bin" && ln -s "$CROSSPLANE_CORE_BIN" "$state/bin/crossplane-core"
  echo "$CROSSPLANE_VERSION" >"$state/crossplane-version"
  [[ -x "$FORWARD_BIN" ]] || die "missing $FORWARD_BIN"
  [[ -x "${FUNCTION_BIN:-}" ]] || die "missing function binary FUNCTION_BIN=${FUNCTION_BIN:-}"
  [[ -d "${CROSSPLANE_CRDS:-}" ]] || die "missing Crossplane CRDs dir CROSSPLANE_CRDS=${CROSSPLANE_CRDS:-}"
  [[ -f "${CROSSPLANE_CHART:-}/Chart.yaml" ]] || die "missing Crossplane's Helm chart CROSSPLANE_CHART=${CROSSPLANE_CHART:-}"
  ls "$XPKG_DIR"/*.xpkg >/dev/null 2>&1 || die "no packages in $XPKG_DIR (run 'make xpkg')"

  # setsid: Ctrl-C in the terminal reaches this script, which stops the stack
  # in order, rather than every process at once. --kill-child: if unshare
  # dies, the namespace's first process (and with it every process in the
  # PID namespace) dies too.
  setsid unshare --net --mount --pid --fork --mount-proc --kill-child=SIGTERM \
    env STACK_T0="$t0" bash "$here/stack.sh" inner >"$state/logs/stack.log" 2>&1 </dev/null &
  echo $! >"$state/stack.pid"

  # Host side of the API server forwarder: loopback port -> Unix socket.
  setsid "$FORWARD_BIN" -listen "tcp:127.0.0.1:$API_PORT" -to "unix:$state/apiserver.sock" \
    >"$state/logs/forward-host.log" 2>&1 </dev/null &
  echo $! >"$state/forward.pid"
  sleep 0.3
  if ! alive "$state/forward.pid"; then
    cat "$state/logs/forward-host.log" >&2
    echo "stack: cannot listen on 127.0.0.1:$API_PORT (set API_PORT to a free port)" >&2
    cmd_down >/dev/null 2>&1 || true
    return 1
  fi

  local shown=0 deadline=$(( $(date +%s) + STACK_TIMEOUT ))
  while [[ ! -f "$state/ready" ]]; do
    # Relay the inner log as it grows, so phases show up live.
    local n; n=$(wc -l <"$state/logs/stack.log")
    if (( n > shown )); then sed -n "$((shown + 1)),${n}p" "$state/logs/stack.log"; shown=$n; fi
    if ! alive "$state/stack.pid" || [[ -f "$state/failed" ]]; then
      sed -n "$((shown + 1)),\$p" "$state/logs/stack.log"
      local f
      for f in core rbac-manager function; do
        [[ -f "$state/logs/$f.log" ]] && { echo "---- tail of $f.log"; tail -20 "$state/logs/$f.log"; }
      done
      echo "stack: failed to start; logs in $state.last-logs" >&2
      cmd_down >/dev/null 2>&1 || true
      return 1
    fi
    if (( $(date +%s) > deadline )); then
      echo "stack: not ready after ${STACK_TIMEOUT}s; logs in $state.last-logs" >&2
      cmd_down >/dev/null 2>&1 || true
      return 1
    fi
    sleep 0.3
  done
  sed -n "$((shown + 1)),\$p" "$state/logs/stack.log"
  sed "s#server: https://127.0.0.1:[0-9]*#server: https://127.0.0.1:$API_PORT#" "$state/kubeconfig.inner" >"$kubeconfig_out"
  cp "$kubeconfig_out" "$state/kubeconfig"
  if ! KUBECONFIG="$kubeconfig_out" until_ok 30 "the API server through the forwarder" kubectl get --raw=/readyz; then
    cat "$state/logs/forward-host.log" >&2
    echo "stack: the forwarder on 127.0.0.1:$API_PORT does not work (port taken? set API_PORT)" >&2
    cmd_down >/dev/null 2>&1 || true
    return 1
  fi
  phase "stack up: KUBECONFIG=$kubeconfig_out"
}

cmd_down() {
  local pids=() p
  if alive "$state/forward.pid"; then
    p=$(cat "$state/forward.pid"); pids+=("$p"); kill -TERM "$p" 2>/dev/null || true
  fi
  if alive "$state/stack.pid"; then
    # unshare blocks SIGTERM while it waits for its child: signal the child,
    # the namespace's first process, which exits and takes the rest along.
    p=$(cat "$state/stack.pid"); pids+=("$p")
    local child
    for child in $(cat "/proc/$p/task/$p/children" 2>/dev/null); do kill -TERM "$child" 2>/dev/null || true; done
  fi
  # The namespace's processes die with its first process; wait for them all.
  local deadline=$(( $(date +%s) + 30 ))
  for p in ${pids[@]+"${pids[@]}"}; do
    while kill -0 "$p" 2>/dev/null; do
      if (( $(date +%s) > deadline )); then kill -KILL "$p" 2>/dev/null || true; fi
      sleep 0.2
    done
  done
  # Keep the last run's logs for a post-mortem; everything else goes.
  if [[ -d "$state/logs" ]]; then rm -rf "$state.last-logs" && mv "$state/logs" "$state.last-logs"; fi
  rm -rf "$state" "$kubeconfig_out"
  echo "stack: down (logs of this run: $state.last-logs)"
}

# cmd_version prints the Crossplane version the stack up runs.
cmd_version() {
  cmd_status >/dev/null && cat "$state/crossplane-version"
}

cmd_status() {
  if alive "$state/stack.pid" && [[ -f "$state/ready" ]]; then echo "up: KUBECONFIG=$kubeconfig_out"; else echo "down"; return 1; fi
}

# cmd_diagnose prints what explains a failure: packages, performers, composed
# resources, recent events and the tails of the processes' logs.
cmd_diagnose() {
  echo "==== diagnose: packages, performers, composed resources"
  if [[ -f "$kubeconfig_out" ]]; then
    local k=(kubectl --kubeconfig "$kubeconfig_out" --request-timeout=10s)
    "${k[@]}" get configurations,functions,providers,imageconfigs 2>&1 || true
    "${k[@]}" get performers,deployments,services,pods,performerendpoints -A -o wide 2>&1 | grep -v kube-system || true
    # The connection Secrets and NetworkPolicies the function composes (their
    # labels; not every Secret of the cluster).
    "${k[@]}" get secrets,networkpolicies -A -l app=performer 2>&1 || true
    echo "==== diagnose: recent events"
    "${k[@]}" get events -A --sort-by=.lastTimestamp 2>&1 | tail -40 || true
  fi
  local f
  for f in stack core rbac-manager function provider performers registry; do
    [[ -f "$state/logs/$f.log" ]] || continue
    echo "==== diagnose: tail of $f.log"
    tail -30 "$state/logs/$f.log"
  done
}

cmd_run() {
  trap 'echo; echo "stack: stopping"; cmd_down; exit 0' INT TERM
  cmd_up || exit 1
  export KUBECONFIG="$kubeconfig_out"
  echo
  echo "\$ kubectl get performers -A"
  kubectl get performers -A -o wide || true
  local performer
  performer=$(kubectl get performers -A -o jsonpath='{range .items[0]}{.metadata.namespace}/{.metadata.name}{end}' 2>/dev/null || true)
  if [[ -n "$performer" ]]; then
    echo
    echo "\$ crossplane resource trace -n ${performer%/*} performer ${performer#*/}"
    crossplane resource trace -n "${performer%/*}" performer "${performer#*/}" || true
  fi
  cat <<EOF

The stack is up. From another shell:
  export KUBECONFIG=$kubeconfig_out
  kubectl get performers -A
Logs: $state/logs. Press Ctrl-C to stop everything.
EOF
  sleep infinity &
  wait $!
}

# ---- inside the namespace ------------------------------------------------------

cmd_inner() {
  t0="${STACK_T0:-$t0}" last="${STACK_T0:-$t0}"
  # The core binary of the version asked for, under its usual name.
  export PATH="$state/bin:$PATH"
  # PID 1 ignores signals it does not handle: handle them, and exit, which
  # makes the kernel kill every other process of the namespace.
  trap 'exit 0' TERM INT
  trap '[[ -f "$state/ready" ]] || touch "$state/failed"' EXIT
  phase "namespace: private network, mount and PID namespace (pid $$)"

  # Loopback only; the pod CIDR on lo so fake pods' IPs are local; a default
  # route via lo because kube-apiserver needs one, and it keeps every stray
  # packet inside.
  ip link set lo up
  ip addr add 10.77.0.0/16 dev lo
  ip route add default dev lo
  # The function's Service name resolves to the function process on loopback.
  printf '127.0.0.1 localhost\n::1 localhost\n127.0.0.1 %s.crossplane-system %s.crossplane-system.svc %s.crossplane-system.svc.cluster.local\n' \
    "$FUNCTION_NAME" "$FUNCTION_NAME" "$FUNCTION_NAME" >"$state/hosts"
  mount --bind "$state/hosts" /etc/hosts

  local kc="$state/kubeconfig.inner"
  export KUBECONFIG="$kc"

  phase "registry: starting on localhost:5000"
  registry -port 5000 >"$state/logs/registry.log" 2>&1 &
  echo $! >"$state/registry.pid"

  phase "control plane: kwokctl create cluster"
  kwokctl_config "$TOOLS_BIN" "$here/kwok/stages.yaml" >"$state/kwokctl.yaml"
  KWOK_WORKDIR="$state/kwok" kwokctl create cluster --name hourglass --config "$state/kwokctl.yaml" \
    --kubeconfig "$kc" --wait 2m >"$state/logs/kwokctl.log" 2>&1 || { cat "$state/logs/kwokctl.log"; exit 1; }
  until_ok 60 "the API server" kubectl get --raw=/readyz

  # The host-side forwarder connects here.
  "$FORWARD_BIN" -listen "unix:$state/apiserver.sock" -to tcp:127.0.0.1:6443 >"$state/logs/forward-inner.log" 2>&1 &

  phase "nodes: fake CPU, GPU and TEE nodes; RuntimeClasses, PriorityClasses"
  kubectl apply -f "$here/kwok/nodes.yaml" -f "$here/kwok/runtimeclasses.yaml" -f "$here/kwok/priorityclasses.yaml" >/dev/null
  # kubectl wait's timeout covers all the nodes, checked one after another:
  # 1 s was too short for the ten nodes once the drain pool was added.
  until_ok 60 "nodes Ready" kubectl wait --for=condition=Ready nodes --all --timeout=10s

  phase "crossplane: the $CROSSPLANE_VERSION chart's ServiceAccounts, RBAC and Secrets (helm template)"
  # What `helm install crossplane` creates, less the two Deployments (core
  # and the RBAC manager run below as processes with the same identities)
  # and the webhook Service (webhooks are off: no pod network to reach them).
  kubectl create namespace crossplane-system >/dev/null
  helm template crossplane "$CROSSPLANE_CHART" --namespace crossplane-system >"$state/crossplane-chart.yaml"
  yq -y 'select(.kind != "Deployment" and .kind != "Service")' "$state/crossplane-chart.yaml" | kubectl apply -f - >/dev/null
  sa_kubeconfig crossplane-system crossplane "$state/core.kubeconfig"
  sa_kubeconfig crossplane-system rbac-manager "$state/rbac-manager.kubeconfig"

  # The chart's ClusterRole aggregates its rules: the aggregation controller
  # fills it a moment after the apply. Wait, as a pod restart would.
  until_ok 60 "Crossplane's ClusterRole aggregated" kubectl auth can-i get secrets -n crossplane-system \
    --as=system:serviceaccount:crossplane-system:crossplane

  phase "crossplane: core init (ServiceAccount crossplane)"
  mkdir -p "$state/core/xpkg" "$state/core/xfn" "$state/core/tls"
  local -a core_env=(KUBECONFIG="$state/core.kubeconfig" CRDS_PATH="$CROSSPLANE_CRDS" POD_NAMESPACE=crossplane-system
    POD_SERVICE_ACCOUNT=crossplane TLS_CA_SECRET_NAME=crossplane-root-ca TLS_CLIENT_SECRET_NAME=crossplane-tls-client
    TLS_SERVER_SECRET_NAME=crossplane-tls-server)
  # The first init races its own CRDs' establishment; it is idempotent.
  # --webhook-enabled: the one spelling every v2 core knows (v2.0's init
  # has no --enable-webhooks; later ones keep the old name as an alias).
  local i
  for i in 1 2 3 4 5; do
    if env "${core_env[@]}" crossplane-core core init --webhook-enabled=false --activation='*' >>"$state/logs/core-init.log" 2>&1; then break; fi
    (( i < 5 )) || die "crossplane core init failed; see $state/logs/core-init.log"
    kubectl wait --for=condition=Established crd --all --timeout=30s >/dev/null 2>&1 || true
  done
  local k
  for k in ca.crt tls.crt tls.key; do
    kubectl -n crossplane-system get secret crossplane-tls-client -o "jsonpath={.data.${k//./\\.}}" | base64 -d >"$state/core/tls/$k"
  done

  phase "crossplane: RBAC manager (ServiceAccount rbac-manager, its own network namespace)"
  # As in the chart: rbac init, then rbac start with the chart's allowed
  # provider permissions. It grants core the XRD and provider CRDs' kinds
  # (and providers their own), which nothing else here does. Its own network
  # namespace, as its pod would have: its fixed metrics port (:8080) would
  # otherwise collide with the performers' ports on the pod network. It
  # reaches the API server through the forwarder's Unix socket.
  KUBECONFIG="$state/rbac-manager.kubeconfig" crossplane-core rbac init >"$state/logs/rbac-manager.log" 2>&1 \
    || die "crossplane rbac init failed; see $state/logs/rbac-manager.log"
  KUBECONFIG="$state/rbac-manager.kubeconfig" LEADER_ELECTION=false unshare --net bash -c '
    ip link set lo up
    "$1" -listen tcp:127.0.0.1:6443 -to "unix:$2" >>"$3" 2>&1 &
    exec crossplane-core rbac start --provider-clusterrole=crossplane:allowed-provider-permissions' \
    _ "$FORWARD_BIN" "$state/apiserver.sock" "$state/logs/forward-rbac-manager.log" >>"$state/logs/rbac-manager.log" 2>&1 &
  echo $! >"$state/rbac-manager.pid"

  phase "crossplane: core start (ServiceAccount crossplane)"
  local -a core_args
  read -ra core_args <<<"$CROSSPLANE_ARGS"
  env "${core_env[@]}" TLS_CLIENT_CERTS_DIR="$state/core/tls" XPKG_CACHE_DIR="$state/core/xpkg" \
    XFN_CACHE_DIR="$state/core/xfn" METRICS_PORT=8180 HEALTH_PROBE_PORT=8181 WEBHOOK_PORT=9444 \
    crossplane-core core start --webhook-enabled=false --package-runtime=Deployment "${core_args[@]}" \
    >"$state/logs/core.log" 2>&1 &
  echo $! >"$state/core.pid"

  phase "registry: pushing packages"
  until_ok 30 "the registry" crane catalog localhost:5000
  push_packages

  phase "install: what README's install section applies, in its order"
  # 1. Crossplane composes NetworkPolicies and reads pods for the function.
  kubectl apply -f "$root/package/rbac/crossplane-rbac.yaml" >/dev/null
  # 2. The provider's ServiceAccount, its reads of pods, Services and
  #    EndpointSlices, and the runtime config that runs it as that account.
  kubectl apply -f "$root/package/provider/rbac.yaml" -f "$root/package/provider/runtimeconfig.yaml" >/dev/null
  # 3. The Provider with that runtime config (it then satisfies the
  #    Configuration's dependency), then the Configuration. The ImageConfig
  #    is this stack's own: the packages come from the local registry.
  kubectl apply -f - >/dev/null <<EOF
apiVersion: pkg.crossplane.io/v1beta1
kind: ImageConfig
metadata:
  name: hourglass-xp-local-registry
spec:
  matchImages:
  - type: Prefix
    prefix: $PKG_PREFIX
  rewriteImage:
    prefix: localhost:5000/hourglass-xp
---
apiVersion: pkg.crossplane.io/v1
kind: Provider
metadata:
  name: hourglass-xp-provider-hourglass
spec:
  package: $PKG_PREFIX/provider-hourglass:$PKG_VERSION
  runtimeConfigRef:
    name: provider-hourglass
EOF
  if [[ "$INSTALL_CONFIGURATION" == 1 ]]; then
    kubectl apply -f - >/dev/null <<EOF
apiVersion: pkg.crossplane.io/v1
kind: Configuration
metadata:
  name: hourglass-xp-configuration-performer
spec:
  package: $PKG_PREFIX/configuration-performer:$PKG_VERSION
EOF
  else
    # A cluster the platform is about to be installed on (the takeover of
    # a running Hourglass operator, test/e2e/takeover_test.go): the
    # Function and Provider, no Performer definition. The Function is the
    # package the Configuration depends on, so installing the
    # Configuration later finds its dependency in place.
    kubectl apply -f - >/dev/null <<EOF
apiVersion: pkg.crossplane.io/v1
kind: Function
metadata:
  name: $FUNCTION_NAME
spec:
  package: $PKG_PREFIX/function-performer:$PKG_VERSION
EOF
  fi
  until_ok 180 "Function $FUNCTION_NAME installed" kubectl wait --for=condition=Installed "function.pkg.crossplane.io/$FUNCTION_NAME" --timeout=1s
  phase "function: waiting for its TLS secret"
  # Crossplane writes the certificate and key first and the CA a moment
  # later: wait for all three, or the function refuses to serve.
  function_secret_complete() {
    [[ $(kubectl -n crossplane-system get secret "$FUNCTION_NAME-tls-server" \
      -o 'jsonpath={.data.ca\.crt}{"\n"}{.data.tls\.crt}{"\n"}{.data.tls\.key}{"\n"}' | grep -c .) == 3 ]]
  }
  until_ok 120 "secret $FUNCTION_NAME-tls-server with ca.crt, tls.crt and tls.key" function_secret_complete
  mkdir -p "$state/function/tls"
  for k in ca.crt tls.crt tls.key; do
    kubectl -n crossplane-system get secret "$FUNCTION_NAME-tls-server" -o "jsonpath={.data.${k//./\\.}}" | base64 -d >"$state/function/tls/$k"
  done
  phase "function: starting $FUNCTION_BIN on 127.0.0.1:9443"
  TLS_SERVER_CERTS_DIR="$state/function/tls" METRICS_ADDRESS=127.0.0.1:8080 "$FUNCTION_BIN" --address=127.0.0.1:9443 ${FUNCTION_ARGS:-} \
    >"$state/logs/function.log" 2>&1 &
  echo $! >"$state/function.pid"
  until_ok 30 "the function listening on 127.0.0.1:9443" bash -c 'kill -0 "$1" && : </dev/tcp/127.0.0.1/9443' _ "$(cat "$state/function.pid")" \
    || die "the function did not start; see $state/logs/function.log"
  phase "packages: waiting for Function and Configuration Healthy, the XRD Established"
  until_ok 120 "Function $FUNCTION_NAME healthy" kubectl wait --for=condition=Healthy "function.pkg.crossplane.io/$FUNCTION_NAME" --timeout=1s
  if [[ "$INSTALL_CONFIGURATION" == 1 ]]; then
    until_ok 180 "Configuration healthy" kubectl wait --for=condition=Healthy configuration.pkg.crossplane.io/hourglass-xp-configuration-performer --timeout=1s
    until_ok 120 "XRD established" kubectl wait --for=condition=Established xrd --all --timeout=1s
    until_ok 60 "the performers API" kubectl get performers -A
  fi

  # Hooks: cluster/stack.d/*.sh run here, inside the namespace, with the
  # packages installed and the helpers above (phase, until_ok, $state,
  # $KUBECONFIG). A provider process, for one, starts from a hook.
  local hook
  for hook in "$here"/stack.d/*.sh; do
    [[ -f "$hook" ]] || continue
    phase "hook: $(basename "$hook")"
    # shellcheck disable=SC1090
    source "$hook"
  done

  if [[ "$APPLY_EXAMPLES" == 1 && "$INSTALL_CONFIGURATION" == 1 ]] && ls "$root"/examples/*.yaml >/dev/null 2>&1; then
    phase "examples: applying examples/*.yaml"
    local f
    for f in "$root"/examples/*.yaml; do
      # Examples name their namespaces; create them so the performers apply,
      # enforcing Pod Security "restricted" as a careful platform would.
      yq -r 'select(.metadata.namespace != null) | .metadata.namespace' "$f" | sort -u | while read -r ns; do
        kubectl create namespace "$ns" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
        kubectl label --overwrite namespace "$ns" pod-security.kubernetes.io/enforce=restricted >/dev/null
      done
      kubectl apply -f "$f" >/dev/null
    done
    phase "examples: waiting for every performer to be Ready and stay Ready for 5s"
    # Crossplane flaps Ready while it settles: wait for a stable Ready.
    local since=0 deadline=$(( $(date +%s) + 180 ))
    while (( $(date +%s) < deadline )); do
      if [[ -z "$(kubectl get performers -A -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -v '^True$')" ]]; then
        (( since > 0 )) || since=$(date +%s)
        (( $(date +%s) - since >= 5 )) && break
      else
        since=0
      fi
      sleep 0.5
    done
    (( since > 0 && $(date +%s) - since >= 5 )) || echo "stack: not every example is Ready and stable (see kubectl get performers -A)"
  fi

  phase "ready"
  touch "$state/ready"
  sleep infinity &
  wait $!
}

# push_packages pushes every .xpkg under XPKG_DIR to the local registry.
# NAME-ARCH.xpkg files of one package become a multi-platform index NAME:TAG.
push_packages() {
  local f base name arch
  declare -A archs=()
  for f in "$XPKG_DIR"/*.xpkg; do
    base=$(basename "$f" .xpkg)
    if [[ "$base" =~ ^(.*)-(amd64|arm64)$ ]]; then
      name=${BASH_REMATCH[1]} arch=${BASH_REMATCH[2]}
      crane push "$f" "localhost:5000/hourglass-xp/$name:$PKG_VERSION-$arch" >/dev/null 2>>"$state/logs/crane.log"
      archs[$name]+=" -m localhost:5000/hourglass-xp/$name:$PKG_VERSION-$arch"
    else
      crane push "$f" "localhost:5000/hourglass-xp/$base:$PKG_VERSION" >/dev/null 2>>"$state/logs/crane.log"
    fi
  done
  for name in "${!archs[@]}"; do
    # shellcheck disable=SC2086
    crane index append ${archs[$name]} -t "localhost:5000/hourglass-xp/$name:$PKG_VERSION" >/dev/null 2>>"$state/logs/crane.log"
  done
  crane catalog localhost:5000 | sed 's/^/  /'
}

case "${1:-}" in
  run) cmd_run ;;
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  version) cmd_version ;;
  diagnose) cmd_diagnose ;;
  inner) cmd_inner ;;
  *) echo "usage: $0 run|up|down|status|version|diagnose" >&2; exit 2 ;;
esac
