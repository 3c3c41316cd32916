#!/usr/bin/env bash
# Kill and restart a process of the local stack (cluster/stack.sh): the
# composition function or Crossplane core, for the live tests that show an
# upgrade survives a crash. Both run inside the stack's private network, mount
# and PID namespace; this script enters those namespaces (nsenter, so it needs
# the same privileges as the stack: root) and never touches anything outside.
#
#   stack-process.sh kill PROCESS    SIGKILL it (a crash, no clean exit)
#   stack-process.sh stop PROCESS    SIGTERM it and wait (a clean exit, as a
#                                    rolling update would)
#   stack-process.sh start PROCESS   start it again exactly as the stack did
#                                    (same binary, arguments, environment)
#   stack-process.sh status PROCESS  print "running <pid>" or "stopped"
#
# PROCESS is function, core, provider or performers (the pod server): the
# stack writes their PIDs (as seen inside
# the namespace) to $STATE_DIR/PROCESS.pid and their logs to
# $STATE_DIR/logs/PROCESS.log.
#
# STATE_DIR is the stack's state directory (default: _output/cluster, or the
# directory "cluster" beside $KUBECONFIG when that is set).
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
if [[ -z "${STATE_DIR:-}" ]]; then
  if [[ -n "${KUBECONFIG:-}" ]]; then STATE_DIR="$(cd "$(dirname "$KUBECONFIG")" && pwd)/cluster"; else STATE_DIR="$root/_output/cluster"; fi
fi
state="$STATE_DIR"
die() { echo "stack-process: $*" >&2; exit 1; }
verb="${1:-}" proc="${2:-}"
case "$proc" in
  function|core|provider|performers) ;;
  *) echo "usage: $0 kill|stop|start|status function|core|provider|performers" >&2; exit 2 ;;
esac

[[ -f "$state/stack.pid" ]] || die "no stack in $state (stack.pid missing)"
unshare_pid=$(cat "$state/stack.pid")
kill -0 "$unshare_pid" 2>/dev/null || die "stack process $unshare_pid is not running"
# The namespace's first process is unshare's only child.
init=$(cat "/proc/$unshare_pid/task/$unshare_pid/children" 2>/dev/null | awk '{print $1}')
[[ -n "$init" ]] || die "cannot find the stack namespace's first process (child of $unshare_pid)"

# inside CMD...: run CMD in the stack's network, mount and PID namespaces,
# where /proc is the namespace's own and PIDs are the ones stack.sh wrote.
inside() { nsenter --target "$init" --net --mount --pid -- "$@"; }

case "$verb" in
  kill|stop)
    # Save the command line and environment first: start replays them.
    sig=KILL; [[ "$verb" == stop ]] && sig=TERM
    inside bash -euc '
      state=$1 proc=$2 sig=$3; pid=$(cat "$state/$proc.pid")
      kill -0 "$pid" 2>/dev/null || { echo "stack-process: $proc $pid not running" >&2; exit 1; }
      cp "/proc/$pid/cmdline" "$state/$proc.cmdline"
      cp "/proc/$pid/environ" "$state/$proc.environ"
      kill -"$sig" "$pid"
      for _ in $(seq 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
      kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
      while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
      echo "stopped $proc $pid (SIG$sig)"' _ "$state" "$proc" "$sig"
    ;;
  start)
    [[ -f "$state/$proc.cmdline" ]] || die "no saved command line for $proc; kill or stop it with this script first"
    inside bash -euc '
      state=$1 proc=$2
      if pid=$(cat "$state/$proc.pid" 2>/dev/null) && kill -0 "$pid" 2>/dev/null; then
        echo "stack-process: $proc already running ($pid)" >&2; exit 1
      fi
      mapfile -d "" -t argv <"$state/$proc.cmdline"
      mapfile -d "" -t envv <"$state/$proc.environ"
      # setsid: it outlives this shell; the namespace reaps it at stack down.
      setsid env -i "${envv[@]}" "${argv[@]}" >>"$state/logs/$proc.log" 2>&1 </dev/null &
      echo $! >"$state/$proc.pid"
      echo "started $proc $!"' _ "$state" "$proc"
    ;;
  status)
    inside bash -euc '
      state=$1 proc=$2; pid=$(cat "$state/$proc.pid" 2>/dev/null || true)
      if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then echo "running $pid"; else echo stopped; fi' _ "$state" "$proc"
    ;;
  *) echo "usage: $0 kill|stop|start|status function|core|provider|performers" >&2; exit 2 ;;
esac
