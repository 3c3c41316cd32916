#!/usr/bin/env bash
# Kill and restart the composition function process of the local stack
# (cluster/stack.sh), for the live tests that show an upgrade survives a
# function crash. The function runs inside the stack's private network, mount
# and PID namespace; this script enters those namespaces (nsenter, so it needs
# the same privileges as the stack: root) and never touches anything outside.
#
#   function-process.sh kill    SIGKILL the function (a crash, no clean exit)
#   function-process.sh start   start it again exactly as the stack did
#                               (same binary, arguments and environment)
#   function-process.sh status  print "running <pid>" or "stopped"
#
# STATE_DIR is the stack's state directory (default: _output/cluster, or the
# directory "cluster" beside $KUBECONFIG when that is set).
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
if [[ -z "${STATE_DIR:-}" ]]; then
  if [[ -n "${KUBECONFIG:-}" ]]; then STATE_DIR="$(cd "$(dirname "$KUBECONFIG")" && pwd)/cluster"; else STATE_DIR="$root/_output/cluster"; fi
fi
state="$STATE_DIR"
die() { echo "function-process: $*" >&2; exit 1; }

[[ -f "$state/stack.pid" ]] || die "no stack in $state (stack.pid missing)"
unshare_pid=$(cat "$state/stack.pid")
kill -0 "$unshare_pid" 2>/dev/null || die "stack process $unshare_pid is not running"
# The namespace's first process is unshare's only child.
init=$(cat "/proc/$unshare_pid/task/$unshare_pid/children" 2>/dev/null | awk '{print $1}')
[[ -n "$init" ]] || die "cannot find the stack namespace's first process (child of $unshare_pid)"

# inside CMD...: run CMD in the stack's network, mount and PID namespaces,
# where /proc is the namespace's own and PIDs are the ones stack.sh wrote.
inside() { nsenter --target "$init" --net --mount --pid -- "$@"; }

case "${1:-}" in
  kill)
    # Save the command line and environment first: start replays them.
    inside bash -euc '
      state=$1; pid=$(cat "$state/function.pid")
      kill -0 "$pid" 2>/dev/null || { echo "function-process: function $pid not running" >&2; exit 1; }
      cp "/proc/$pid/cmdline" "$state/function.cmdline"
      cp "/proc/$pid/environ" "$state/function.environ"
      kill -KILL "$pid"
      while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
      echo "killed $pid"' _ "$state"
    ;;
  start)
    [[ -f "$state/function.cmdline" ]] || die "no saved command line; kill it with this script first"
    inside bash -euc '
      state=$1
      if pid=$(cat "$state/function.pid" 2>/dev/null) && kill -0 "$pid" 2>/dev/null; then
        echo "function-process: already running ($pid)" >&2; exit 1
      fi
      mapfile -d "" -t argv <"$state/function.cmdline"
      mapfile -d "" -t envv <"$state/function.environ"
      # setsid: the function outlives this shell; the namespace reaps it.
      setsid env -i "${envv[@]}" "${argv[@]}" >>"$state/logs/function.log" 2>&1 </dev/null &
      echo $! >"$state/function.pid"
      echo "started $!"' _ "$state"
    ;;
  status)
    inside bash -euc '
      state=$1; pid=$(cat "$state/function.pid" 2>/dev/null || true)
      if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then echo "running $pid"; else echo stopped; fi' _ "$state"
    ;;
  *) echo "usage: $0 kill|start|status" >&2; exit 2 ;;
esac
