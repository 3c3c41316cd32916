package xrdgen_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	extv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
	"github.com/hourglass-xp/crossplane-hourglass/internal/testtools"
)

// startAPIServer starts a real kube-apiserver and etcd (envtest), stopped
// when the test ends.
func startAPIServer(t *testing.T) *rest.Config {
	t.Helper()
	te := &envtest.Environment{
		BinaryAssetsDirectory: testtools.KubebuilderAssets(t),
		// Never talk to whatever cluster the environment points at.
		UseExistingCluster:       ptr.To(false),
		ControlPlaneStartTimeout: 2 * time.Minute,
	}
	cfg, err := te.Start()
	t.Cleanup(func() { _ = te.Stop() })
	if err != nil {
		t.Fatalf("cannot start envtest: %v", err)
	}
	return cfg
}

// TestAPIServer installs the CRD Crossplane derives from the committed
// definition into a real kube-apiserver, as Crossplane does when the
// package is installed: the API server estimates the cost of every CEL
// rule and message expression and refuses a CRD over its limits, which
// only a real one shows for certain. The Performers then meet the real
// admission chain: the examples are stored as written, the invalid ones
// refused with their messages, the environment rules within the runtime
// CEL budget and refusing with theirs, and the status the function writes
// kept.
func TestAPIServer(t *testing.T) {
	cfg := startAPIServer(t)
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, extv1.AddToScheme} {
		if err := add(s); err != nil {
			t.Fatal(err)
		}
	}
	kube, err := client.New(cfg, client.Options{Scheme: s})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()

	crd := performerCRD(t)
	if err := kube.Create(ctx, crd); err != nil {
		t.Fatalf("kube-apiserver refused the CRD Crossplane derives from %s: %v", xrdPath, err)
	}
	if err := envtest.WaitForCRDs(cfg, []*extv1.CustomResourceDefinition{crd}, envtest.CRDInstallOptions{MaxTime: time.Minute, PollInterval: 100 * time.Millisecond}); err != nil {
		t.Fatalf("the Performer CRD is not served: %v", err)
	}

	namespaces := map[string]bool{}
	ensureNamespace := func(t *testing.T, ns string) {
		t.Helper()
		if namespaces[ns] {
			return
		}
		if err := kube.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil && !kerrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
		namespaces[ns] = true
	}

	t.Run("ValidExamples", func(t *testing.T) {
		for _, d := range readDocuments(t, examplesDir) {
			ensureNamespace(t, d.meta("namespace"))
			u := &unstructured.Unstructured{Object: runtime.DeepCopyJSON(d.obj)}
			if err := kube.Create(ctx, u); err != nil {
				t.Errorf("%s: cannot create %s %s: %v", d.path, d.kind(), d.meta("name"), err)
				continue
			}
			if d.kind() != v1alpha1.PerformerKind {
				continue
			}
			got := &unstructured.Unstructured{}
			got.SetGroupVersionKind(u.GroupVersionKind())
			if err := kube.Get(ctx, client.ObjectKeyFromObject(u), got); err != nil {
				t.Fatal(err)
			}
			// Only defaults added, nothing the example says pruned.
			want := withDefaults(d.obj)
			if diff := cmp.Diff(normalise(t, want)["spec"], normalise(t, got.Object)["spec"]); diff != "" {
				t.Errorf("%s: stored spec differs from what was applied: -applied, +stored:\n%s", d.path, diff)
			}
			if diff := cmp.Diff(d.obj["metadata"].(map[string]any)["labels"], normalise(t, got.Object)["metadata"].(map[string]any)["labels"]); diff != "" {
				t.Errorf("%s: stored labels differ: -applied, +stored:\n%s", d.path, diff)
			}
		}
	})

	t.Run("InvalidExamples", func(t *testing.T) {
		for _, d := range performers(readDocuments(t, invalidDir)) {
			t.Run(d.meta("name"), func(t *testing.T) {
				ensureNamespace(t, d.meta("namespace"))
				err := kube.Create(ctx, &unstructured.Unstructured{Object: runtime.DeepCopyJSON(d.obj)})
				if !kerrors.IsInvalid(err) {
					t.Fatalf("want refused as invalid, got %v", err)
				}
				if !strings.Contains(err.Error(), d.expect) {
					t.Errorf("want the refusal to contain %q, got:\n%v", d.expect, err)
				}
			})
		}
	})

	t.Run("EnvironmentNamedTwice", func(t *testing.T) {
		ensureNamespace(t, "ns")
		cases := map[string]struct {
			reason string
			config map[string]any
			// want are the messages of the refusal's causes on spec.config.
			want []string
		}{
			"EnvAndEnvironment": {
				reason: "A variable in env and environment is refused, the message naming both places.",
				config: envSources([]string{"A", "B"}, []string{"B"}, nil),
				want:   []string{duplicate("env", "environment")},
			},
			"EnvAndEnvironmentFrom": {
				reason: "A variable in env and environmentFrom is refused, the message naming both places.",
				config: envSources([]string{"A", "B"}, nil, []string{"B"}),
				want:   []string{duplicate("env", "environmentFrom")},
			},
			"EnvironmentAndEnvironmentFrom": {
				reason: "A variable in environment and environmentFrom is refused, the message naming both places.",
				config: envSources(nil, []string{"A", "B"}, []string{"B"}),
				want:   []string{duplicate("environment", "environmentFrom")},
			},
			"AllThree": {
				reason: "A variable in all three places breaks all three rules.",
				config: envSources([]string{"X"}, []string{"X"}, []string{"X"}),
				want: []string{
					duplicate("env", "environment"),
					duplicate("env", "environmentFrom"),
					duplicate("environment", "environmentFrom"),
				},
			},
			"LastOfManyNamedTwice": {
				reason: "A repeat found only at the end of the largest lists is refused within the API server's runtime CEL budget.",
				config: limitsOf(t, crd).largest(true),
				want:   []string{duplicate("env", "environmentFrom")},
			},
		}
		for name, tc := range cases {
			t.Run(name, func(t *testing.T) {
				err := kube.Create(ctx, &unstructured.Unstructured{Object: performer(map[string]any{"config": tc.config})})
				var se *kerrors.StatusError
				if !errors.As(err, &se) || !kerrors.IsInvalid(err) || se.ErrStatus.Details == nil {
					t.Fatalf("%s\nwant refused as invalid with causes, got %v", tc.reason, err)
				}
				var got []string
				for _, c := range se.ErrStatus.Details.Causes {
					if c.Field == "spec.config" {
						got = append(got, c.Message)
					}
				}
				if len(got) != len(tc.want) {
					t.Errorf("%s\nwant %d causes on spec.config, got %d: %q", tc.reason, len(tc.want), len(got), got)
				}
				for _, m := range got {
					if strings.Contains(m, costExceeded) {
						t.Errorf("%s\nrefused for the CEL cost of a rule, not by the rule: %s", tc.reason, m)
					}
				}
				for _, w := range tc.want {
					if !slices.ContainsFunc(got, func(m string) bool { return strings.Contains(m, w) }) {
						t.Errorf("%s\nno cause on spec.config says %q; got %q", tc.reason, w, got)
					}
				}
			})
		}
	})

	t.Run("LargestConfig", func(t *testing.T) {
		// The API server also bounds the CEL cost of each request: the
		// environment rules must fit it at their limits.
		ensureNamespace(t, "ns")
		u := &unstructured.Unstructured{Object: performer(map[string]any{"config": limitsOf(t, crd).largest(false)})}
		u.SetName("largest")
		if err := kube.Create(ctx, u); err != nil {
			t.Errorf("as many distinct variables of the longest name as each place may hold: want admitted, got %v", err)
		}
	})

	t.Run("StatusKept", func(t *testing.T) {
		ensureNamespace(t, "ns")
		u := &unstructured.Unstructured{Object: performer(nil)}
		u.SetName("status-kept")
		if err := kube.Create(ctx, u); err != nil {
			t.Fatal(err)
		}
		want := fullStatus(t)
		u.Object["status"] = runtime.DeepCopyJSONValue(want)
		if err := kube.Status().Update(ctx, u); err != nil {
			t.Fatalf("cannot write the status the function writes: %v", err)
		}
		got := &unstructured.Unstructured{}
		got.SetGroupVersionKind(u.GroupVersionKind())
		if err := kube.Get(ctx, client.ObjectKeyFromObject(u), got); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(normalise(t, map[string]any{"status": want}), normalise(t, map[string]any{"status": got.Object["status"]})); diff != "" {
			t.Errorf("the API server dropped or changed status the function writes: -written, +stored:\n%s", diff)
		}
	})
}
