#!/usr/bin/env bash
# Releases the hold a stopped Hourglass operator keeps on what it made, so
# that the platform can take its performers over (docs/migration.md). Run it
# after the operator is stopped and before the platform is installed;
# running it again is harmless.
#
# For every Performer (in every namespace, or in the namespaces given):
#   1. its finalizer hourglass.eigenlayer.io/performer-finalizer is removed.
#      Only the operator removes it, so with the operator gone a deleted
#      Performer would never go away. The JSON patch tests that the list is
#      exactly that finalizer before it removes it: nothing else is touched.
#   2. the field managers of its Service performer-{name} (the one it
#      controls) are cleared.
#      The operator wrote the Service client-side; its entry would keep
#      owning the Service's port after the platform stops applying it, so a
#      change of the performer's gRPC port would leave the old port beside
#      the new one, both named grpc, which the API server refuses. Until
#      this is done the platform's function keeps traffic on the operator's
#      pod when the port would change, and says so (TakeoverBlocked).
#      Clearing field managers changes nothing of the Service itself
#      (Crossplane does the same when it moves an object from client-side
#      to server-side apply).
#   3. a Performer without spec.config.grpcPort gets the port its pod
#      listened on: the operator used 8080 when spec.config was absent,
#      where the Performer API's default is 9090. Pinned, the Service keeps
#      the port every executor dials.
#
# Usage: release-hourglass-operator.sh [namespace...]   (KUBECONFIG as kubectl uses it)
set -euo pipefail

kubectl="${KUBECTL:-kubectl}"
finalizer=hourglass.eigenlayer.io/performer-finalizer

if (( $# )); then scopes=("$@"); else scopes=(""); fi
for scope in "${scopes[@]}"; do
  if [[ -n "$scope" ]]; then where=(-n "$scope"); else where=(-A); fi
  "$kubectl" get performers.hourglass.eigenlayer.io "${where[@]}" \
    -o jsonpath='{range .items[*]}{.metadata.namespace}{" "}{.metadata.name}{" "}{.metadata.finalizers}{"\n"}{end}' |
  while read -r ns name finalizers; do
    if [[ "$finalizers" == "[\"$finalizer\"]" ]]; then
      "$kubectl" -n "$ns" patch performers.hourglass.eigenlayer.io "$name" --type=json \
        -p "[{\"op\":\"test\",\"path\":\"/metadata/finalizers\",\"value\":[\"$finalizer\"]},{\"op\":\"remove\",\"path\":\"/metadata/finalizers\"}]" >/dev/null
      echo "performer $ns/$name: removed finalizer $finalizer"
    elif [[ "$finalizers" == *"$finalizer"* ]]; then
      echo "performer $ns/$name: has $finalizer among other finalizers ($finalizers); remove it by hand" >&2
      exit 1
    fi
    port=$("$kubectl" -n "$ns" get performers.hourglass.eigenlayer.io "$name" -o jsonpath='{.spec.config.grpcPort}')
    if [[ -z "$port" ]]; then
      served=$("$kubectl" -n "$ns" get pod "performer-$name" -o jsonpath='{.spec.containers[0].ports[?(@.name=="grpc")].containerPort}' 2>/dev/null || true)
      "$kubectl" -n "$ns" patch performers.hourglass.eigenlayer.io "$name" --type=merge \
        -p "{\"spec\":{\"config\":{\"grpcPort\":${served:-8080}}}}" >/dev/null
      echo "performer $ns/$name: pinned spec.config.grpcPort to ${served:-8080}, the port the operator served on"
    fi
    # Only the Performer's own Service: one another controller manages is
    # not the operator's, and the platform refuses to take it over.
    uid=$("$kubectl" -n "$ns" get performers.hourglass.eigenlayer.io "$name" -o jsonpath='{.metadata.uid}')
    controller=$("$kubectl" -n "$ns" get service "performer-$name" -o jsonpath='{.metadata.ownerReferences[?(@.controller==true)].uid}' 2>/dev/null || true)
    if [[ -n "$controller" && "$controller" == "$uid" ]]; then
      "$kubectl" -n "$ns" patch service "performer-$name" --type=json \
        -p '[{"op":"replace","path":"/metadata/managedFields","value":[{}]}]' >/dev/null
      echo "service $ns/performer-$name: cleared its field managers"
    fi
  done
done
