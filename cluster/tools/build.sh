#!/usr/bin/env bash
# Builds one pinned tool from its wrapper module under cluster/tools/<name>/
# into a content-addressed cache directory and links its binaries into
# $TOOLS_BIN. A tool is rebuilt only when its wrapper module (the pin) or this
# script changes, so a warm machine relinks nothing and a cold one builds once.
set -euo pipefail

name="$1"
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
wrapper="$here/$name"
: "${TOOLS_CACHE:=${XDG_CACHE_HOME:-$HOME/.cache}/crossplane-hourglass/tools}"
: "${TOOLS_BIN:=$root/_output/bin}"

[[ -f "$wrapper/go.mod" ]] || { echo "build.sh: no wrapper module for $name" >&2; exit 1; }

version_of() { awk -v m="$1" '$1==m {print $2; exit} $2==m {print $3; exit}' "$wrapper/go.mod"; }

# pkgs: the main packages to build, each "import/path" (binary named after its
# last element) or "import/path=name" (built alone, to that name: etcd's and
# etcdctl's main packages are both module roots and would both be "v3");
# ldflags: version stamping where servers or Crossplane compare versions at run time.
ldflags="-s -w"
case "$name" in
  crossplane-cli)
    pkgs=(github.com/crossplane/cli/v2/cmd/crossplane)
    v="$(version_of github.com/crossplane/cli/v2)"
    ldflags+=" -X github.com/crossplane/crossplane-runtime/v2/pkg/version.version=$v"
    ;;
  crossplane-core|crossplane-core/v*)
    # crossplane-core is the default version's wrapper; crossplane-core/vX.Y.Z
    # are the older minors the compact live check runs on, each its own
    # wrapper module and binary (crossplane-core-vX.Y.Z).
    pkgs=(github.com/crossplane/crossplane/v2/cmd/crossplane)
    out_name=${name/\//-}
    v="$(version_of github.com/crossplane/crossplane/v2)"
    # Core keeps its version in crossplane-runtime from v2.3 on, in its own
    # internal/version before; the linker ignores the one a version lacks.
    ldflags+=" -X github.com/crossplane/crossplane-runtime/v2/pkg/version.version=$v"
    ldflags+=" -X github.com/crossplane/crossplane/v2/internal/version.version=$v"
    ;;
  controller-gen)
    pkgs=(sigs.k8s.io/controller-tools/cmd/controller-gen)
    ;;
  etcd)
    pkgs=(go.etcd.io/etcd/server/v3=etcd go.etcd.io/etcd/etcdctl/v3=etcdctl)
    ;;
  kubernetes)
    pkgs=(k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager
          k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl)
    v="$(version_of k8s.io/kubernetes)"
    major="${v#v}"; major="${major%%.*}"; minor="${v#v*.}"; minor="${minor%%.*}"
    for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      ldflags+=" -X $p.gitVersion=$v -X $p.gitMajor=$major -X $p.gitMinor=$minor"
      ldflags+=" -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
    done
    ;;
  kwok)
    pkgs=(sigs.k8s.io/kwok/cmd/kwok sigs.k8s.io/kwok/cmd/kwokctl)
    ;;
  registry)
    pkgs=(github.com/google/go-containerregistry/cmd/registry github.com/google/go-containerregistry/cmd/crane)
    ;;
  *)
    pkgs=()
    while read -r p; do pkgs+=("$p"); done < "$wrapper/packages"
    ;;
esac

# The key covers the pin and how it is built, not unrelated edits to this script.
hash="$( { cat "$wrapper/go.mod" "$wrapper/go.sum"; echo "${pkgs[*]} $ldflags ${out_name:-}"; } | sha256sum | cut -c1-16)"
dest="$TOOLS_CACHE/${name//\//-}-$hash"
mkdir -p "$TOOLS_CACHE"
# Two sessions (or make -j) building the same tool wait for each other.
exec 9>"$dest.lock"
flock 9
if [[ ! -f "$dest/.done" ]]; then
  start=$(date +%s)
  echo "tools: building $name into $dest" >&2
  rm -rf "$dest.tmp" && mkdir -p "$dest.tmp"
  plain=() named=()
  for p in "${pkgs[@]}"; do if [[ "$p" == *=* ]]; then named+=("$p"); else plain+=("$p"); fi; done
  gobuild() { (cd "$wrapper" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "$ldflags" "$@"); }
  if (( ${#plain[@]} )); then gobuild -o "$dest.tmp/" "${plain[@]}"; fi
  for p in ${named[@]+"${named[@]}"}; do gobuild -o "$dest.tmp/${p#*=}" "${p%%=*}"; done
  if [[ -n "${out_name:-}" ]]; then mv "$dest.tmp/crossplane" "$dest.tmp/$out_name"; fi
  touch "$dest.tmp/.done"
  rm -rf "$dest" && mv "$dest.tmp" "$dest"
  echo "tools: built $name in $(( $(date +%s) - start ))s" >&2
fi
mkdir -p "$TOOLS_BIN"
for f in "$dest"/*; do ln -sfn "$f" "$TOOLS_BIN/$(basename "$f")"; done
