#!/usr/bin/env bash
# Releases the hold a stopped Hourglass operator keeps on what it made, so
# that the platform can take its performers over (docs/migration.md). Run it
# after the operator is stopped and before the platform is installed;
# running it again is harmless.
#
# For every Performer (in every namespace, or in the namespaces given):
#   1. its finalizer hourglass.eigenlayer.io/performer-finalizer is removed.
#      Only the operator removes it, so with the operator gone a deleted
#      Performer would never go away. The JSON patch tests that the entry it
#      removes is that finalizer (a concurrent change fails the patch rather
#      than removing another one): nothing else is touched.
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
#   3. spec.config.grpcPort is pinned to the port its Service serves on,
#      when they differ: the operator used 8080 when spec.config was
#      absent, where the Performer API's default is 9090. Pinned, the
#      Service keeps the port every executor dials (change it after the
#      takeover if you mean to).
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
    # finalizers is a JSON list of names without commas in them.
    IFS=, read -r -a list <<<"$(tr -d '[]"' <<<"$finalizers")"
    for i in "${!list[@]}"; do
      [[ "${list[$i]}" == "$finalizer" ]] || continue
      "$kubectl" -n "$ns" patch performers.hourglass.eigenlayer.io "$name" --type=json \
        -p "[{\"op\":\"test\",\"path\":\"/metadata/finalizers/$i\",\"value\":\"$finalizer\"},{\"op\":\"remove\",\"path\":\"/metadata/finalizers/$i\"}]" >/dev/null
      echo "performer $ns/$name: removed finalizer $finalizer"
    done
    # Only the Performer's own Service: one another controller manages is
    # not the operator's, and the platform refuses to take it over.
    uid=$("$kubectl" -n "$ns" get performers.hourglass.eigenlayer.io "$name" -o jsonpath='{.metadata.uid}')
    controller=$("$kubectl" -n "$ns" get service "performer-$name" -o jsonpath='{.metadata.ownerReferences[?(@.controller==true)].uid}' 2>/dev/null || true)
    [[ -n "$controller" && "$controller" == "$uid" ]] || continue
    # The port executors dial is the Service's; the Performer's own may be
    # missing (the operator used 8080 without spec.config) or, once the
    # platform's definition has taken the CRD over, its 9090 default.
    port=$("$kubectl" -n "$ns" get performers.hourglass.eigenlayer.io "$name" -o jsonpath='{.spec.config.grpcPort}')
    served=$("$kubectl" -n "$ns" get service "performer-$name" -o jsonpath='{.spec.ports[?(@.name=="grpc")].port}' 2>/dev/null || true)
    if [[ -n "$served" && "$port" != "$served" ]]; then
      "$kubectl" -n "$ns" patch performers.hourglass.eigenlayer.io "$name" --type=merge \
        -p "{\"spec\":{\"config\":{\"grpcPort\":$served}}}" >/dev/null
      echo "performer $ns/$name: pinned spec.config.grpcPort to $served, the port its Service serves on"
    fi
    "$kubectl" -n "$ns" patch service "performer-$name" --type=json \
      -p '[{"op":"replace","path":"/metadata/managedFields","value":[{}]}]' >/dev/null
    echo "service $ns/performer-$name: cleared its field managers"
  done
done
