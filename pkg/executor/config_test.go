package executor

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	"github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
)

const fullConfig = `
performer_mode: kubernetes
kubernetes:
  namespace: from-file
  executor_name: executor-0
  owner_statefulset: executor
  service_pattern: "performer-{name}.{namespace}.svc.cluster.local:{port}"
  start_timeout: 2m
  default_image_pull_policy: IfNotPresent
  default_scheduling:
    nodeSelector:
      node.kubernetes.io/os: bottlerocket
    runtimeClass: gvisor
  grpc:
    transport: plaintext
`

func TestParseConfig(t *testing.T) {
	type want struct {
		cfg    Config
		err    bool
		fields []string
	}
	cases := map[string]struct {
		reason string
		yaml   string
		env    map[string]string
		want   want
	}{
		"FileOnly": {
			reason: "The file's shape follows the Hourglass executor: performer_mode, then kubernetes with namespace and default_scheduling.",
			yaml:   fullConfig,
			want: want{cfg: Config{PerformerMode: ModeKubernetes, Kubernetes: &KubernetesConfig{
				Namespace: "from-file", ExecutorName: "executor-0", OwnerStatefulSet: "executor",
				ServicePattern:         "performer-{name}.{namespace}.svc.cluster.local:{port}",
				StartTimeout:           "2m",
				DefaultImagePullPolicy: corev1.PullIfNotPresent,
				DefaultScheduling: &v1alpha1.SchedulingConfig{
					NodeSelector: map[string]string{"node.kubernetes.io/os": "bottlerocket"},
					RuntimeClass: ptr.To("gvisor"),
				},
				GRPC: GRPCConfig{Transport: TransportNamePlaintext},
			}}},
		},
		"EnvOverrides": {
			reason: "DEPLOYMENT_MODE, KUBERNETES_NAMESPACE, PERFORMER_SERVICE_PATTERN and EXECUTOR_NAME override the file.",
			yaml:   fullConfig,
			env: map[string]string{
				EnvDeploymentMode: "kubernetes", EnvNamespace: "from-env", EnvExecutorName: "executor-1",
				EnvServicePattern: "perf-{name}.{namespace}.svc.example.org:{port}",
			},
			want: want{cfg: Config{PerformerMode: ModeKubernetes, Kubernetes: &KubernetesConfig{
				Namespace: "from-env", ExecutorName: "executor-1", OwnerStatefulSet: "executor",
				ServicePattern:         "perf-{name}.{namespace}.svc.example.org:{port}",
				StartTimeout:           "2m",
				DefaultImagePullPolicy: corev1.PullIfNotPresent,
				DefaultScheduling: &v1alpha1.SchedulingConfig{
					NodeSelector: map[string]string{"node.kubernetes.io/os": "bottlerocket"},
					RuntimeClass: ptr.To("gvisor"),
				},
				GRPC: GRPCConfig{Transport: TransportNamePlaintext},
			}}},
		},
		"EnvOnlyNeedsTransport": {
			reason: "The environment alone cannot choose the transport: it must be explicit.",
			env:    map[string]string{EnvDeploymentMode: "kubernetes", EnvNamespace: "ns", EnvExecutorName: "e"},
			want: want{
				cfg:    Config{PerformerMode: ModeKubernetes, Kubernetes: &KubernetesConfig{Namespace: "ns", ExecutorName: "e"}},
				fields: []string{"kubernetes.grpc.transport"},
			},
		},
		"Docker": {
			reason: "In docker mode nothing else is checked: the executor uses its Docker performers.",
			env:    map[string]string{EnvDeploymentMode: "docker"},
			want:   want{cfg: Config{PerformerMode: ModeDocker}},
		},
		"Invalid": {
			reason: "Every problem is reported with its path.",
			yaml: `
performer_mode: kubernetes
kubernetes:
  service_pattern: "performer-{name}:{port}"
  upgrade_timeout: soon
  default_image_pull_policy: Sometimes
  grpc:
    transport: plaintext
    ca_file: /etc/ca.pem
`,
			want: want{
				cfg: Config{PerformerMode: ModeKubernetes, Kubernetes: &KubernetesConfig{
					ServicePattern: "performer-{name}:{port}", UpgradeTimeout: "soon",
					DefaultImagePullPolicy: "Sometimes",
					GRPC:                   GRPCConfig{Transport: TransportNamePlaintext, CAFile: "/etc/ca.pem"},
				}},
				fields: []string{
					"kubernetes.default_image_pull_policy", "kubernetes.executor_name", "kubernetes.grpc.ca_file",
					"kubernetes.namespace", "kubernetes.service_pattern", "kubernetes.upgrade_timeout",
				},
			},
		},
		"UnknownField": {
			reason: "A misspelt key is an error, not silently ignored.",
			yaml:   "performer_mode: kubernetes\nkubernetes:\n  namespaces: x\n",
			want:   want{err: true},
		},
		"UnknownMode": {
			reason: "performer_mode is docker or kubernetes.",
			yaml:   "performer_mode: podman\n",
			want:   want{cfg: Config{PerformerMode: "podman"}, fields: []string{"performer_mode"}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := ParseConfig([]byte(tc.yaml))
			if gotErr := err != nil; gotErr != tc.want.err {
				t.Fatalf("%s\nParseConfig(...): want error %t, got %v", tc.reason, tc.want.err, err)
			}
			if err != nil {
				return
			}
			got.ApplyEnv(func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok })
			if diff := cmp.Diff(tc.want.cfg, got); diff != "" {
				t.Errorf("%s\nParseConfig+ApplyEnv: -want, +got:\n%s", tc.reason, diff)
			}
			var fields []string
			for _, e := range got.Validate() {
				fields = append(fields, e.Field)
			}
			if diff := cmp.Diff(tc.want.fields, fields, cmpopts.SortSlices(func(a, b string) bool { return a < b }), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("%s\nValidate(): -want fields, +got fields:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestManagerOptions(t *testing.T) {
	c, err := ParseConfig([]byte(fullConfig))
	if err != nil {
		t.Fatal(err)
	}
	o, err := c.ManagerOptions()
	if err != nil {
		t.Fatalf("ManagerOptions: %v", err)
	}
	if o.Namespace != "from-file" || o.Executor != "executor-0" || o.StartTimeout != 2*time.Minute || o.DefaultScheduling == nil || o.DefaultImagePullPolicy != corev1.PullIfNotPresent {
		t.Errorf("ManagerOptions: got %+v", o)
	}
	if o.Client.Transport != Plaintext() {
		t.Errorf("ManagerOptions: want the plaintext transport the file chose, got %+v", o.Client.Transport)
	}
	if _, err := (Config{PerformerMode: ModeDocker}).ManagerOptions(); err == nil {
		t.Errorf("ManagerOptions in docker mode: want an error, got none")
	}
}
