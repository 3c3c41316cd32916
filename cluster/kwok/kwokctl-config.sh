# kwokctl_config TOOLS_BIN STAGES: print the kwokctl configuration of a
# loopback control plane made of the pinned binaries in TOOLS_BIN, with the
# kwok Stages in the file STAGES. Sourced by cluster/stack.sh and
# package/provider/live-smoke.sh, so both clusters are the same.
kwokctl_config() {
  local bin="$1" stages="$2"
  cat <<EOF
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokctlConfiguration
options:
  runtime: binary
  kubeVersion: v1.34.4
  etcdVersion: 3.6.8
  bindAddress: 127.0.0.1
  kubeApiserverPort: 6443
  kubeApiserverBinary: $bin/kube-apiserver
  kubeControllerManagerBinary: $bin/kube-controller-manager
  kubeSchedulerBinary: $bin/kube-scheduler
  kubectlBinary: $bin/kubectl
  etcdBinary: $bin/etcd
  etcdctlBinary: $bin/etcdctl
  kwokControllerBinary: $bin/kwok
  disableQPSLimits: true
# Kubernetes' default node monitor period (kwokctl passes 25 s, and its
# option for it does not reach the flag), so a node reported NotReady is
# tainted, and its pods evicted, as soon as on a real cluster. The grace
# period stays kwokctl's 200 s: kwok's heartbeats come every 20-45 s.
componentsPatches:
- name: kube-controller-manager
  extraArgs:
  - key: node-monitor-period
    value: 5s
---
EOF
  cat "$stages"
}
