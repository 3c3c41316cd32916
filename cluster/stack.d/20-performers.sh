# shellcheck shell=bash
# Sourced by stack.sh inside the stack's namespace: a real gRPC performer
# behind every fake performer pod. kwok only pretends to run containers;
# `testperformer -serve-pods` watches the pods labelled app=performer (or
# app=hourglass-performer, the original Hourglass operator's, for the
# takeover test) and binds a test performer (PerformerService + grpc.health.v1) to
# podIP:grpcPort of each Running one, stopping it when the pod goes. Pod IPs
# are in 10.77.0.0/16 on lo, so binding works here, and only here: it
# refuses any IP outside that range.
#
# A pod that plays a kwok fault (image kwok-fault-…) gets no server; the
# annotation hourglass-xp.io/health=serving|not-serving|down, or an image
# containing grpc-fault-not-serving / grpc-fault-down, sets what its server
# answers. At most POD_SERVER_MAX (1200) servers: enough for make
# bench-e2e's 1000 performers. Log: $state/logs/performers.log; PID: $state/performers.pid.

[[ -x "${TESTPERFORMER_BIN:-}" ]] || die "missing TESTPERFORMER_BIN=${TESTPERFORMER_BIN:-}"
# Not admin either: a ServiceAccount that may only watch pods.
kubectl apply -f "$here/kwok/pod-server.yaml" >/dev/null
sa_kubeconfig kube-system hourglass-pod-server "$state/pod-server.kubeconfig"
# One listener per pod: allow the file descriptors (the hard limit).
ulimit -n "$(ulimit -Hn)"
"$TESTPERFORMER_BIN" -serve-pods -selector 'app in (performer,hourglass-performer)' -kubeconfig "$state/pod-server.kubeconfig" -cidr 10.77.0.0/16 -max-pods "${POD_SERVER_MAX:-1200}" \
  >"$state/logs/performers.log" 2>&1 </dev/null &
echo $! >"$state/performers.pid"
until_ok 30 "the pod server watching" grep -q 'serving pods' "$state/logs/performers.log"
