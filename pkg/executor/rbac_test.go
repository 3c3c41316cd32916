package executor

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"

	"github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
	"github.com/hourglass-xp/crossplane-hourglass/internal/names"
	"github.com/hourglass-xp/crossplane-hourglass/internal/testperformer"
)

const (
	rbacExample        = "../../examples/executor/rbac.yaml"
	statefulSetExample = "../../examples/executor/statefulset.yaml"
	exampleNamespace   = "my-avs-project"
)

// readManifests reads a multi-document YAML file, moving every object from
// the example's namespace to ns.
func readManifests(t *testing.T, path, ns string) []*unstructured.Unstructured {
	t.Helper()
	b, err := os.ReadFile(path) //nolint:gosec // Fixtures of this repository.
	if err != nil {
		t.Fatal(err)
	}
	d := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(b), 4096)
	var out []*unstructured.Unstructured
	for {
		u := &unstructured.Unstructured{}
		if err := d.Decode(&u.Object); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			t.Fatalf("decode %s: %v", path, err)
		}
		if len(u.Object) == 0 {
			continue
		}
		if u.GetNamespace() != exampleNamespace {
			t.Fatalf("%s: %s %s is in namespace %q, want %q: the executor needs nothing outside its namespace", path, u.GetKind(), u.GetName(), u.GetNamespace(), exampleNamespace)
		}
		u.SetNamespace(ns)
		if u.GetKind() == "RoleBinding" {
			subjects, _, _ := unstructured.NestedSlice(u.Object, "subjects")
			for _, s := range subjects {
				s.(map[string]any)["namespace"] = ns
			}
			_ = unstructured.SetNestedSlice(u.Object, subjects, "subjects")
		}
		out = append(out, u)
	}
	return out
}

// TestExampleRBAC runs the manager with exactly the identity of the example
// ServiceAccount and Role: every call it makes passes, and calls outside the
// Role are refused.
func TestExampleRBAC(t *testing.T) {
	e := newManagerEnv(t)
	cfg := needAPIServer(t)

	objs := readManifests(t, rbacExample, e.ns)
	kinds := map[string]int{}
	for _, u := range objs {
		kinds[u.GetKind()]++
		if strings.HasPrefix(u.GetKind(), "Cluster") {
			t.Errorf("%s: %s %s is cluster-wide; the executor must need nothing cluster-wide", rbacExample, u.GetKind(), u.GetName())
		}
		if err := e.admin.Create(t.Context(), u); err != nil {
			t.Fatalf("create %s %s: %v", u.GetKind(), u.GetName(), err)
		}
	}
	for _, k := range []string{"ServiceAccount", "Role", "RoleBinding"} {
		if kinds[k] != 1 {
			t.Errorf("%s: want one %s, got %d", rbacExample, k, kinds[k])
		}
	}

	// The executor's own StatefulSet, and another one it may not read.
	for _, n := range []string{"executor", "someone-else"} {
		ss := &appsv1.StatefulSet{
			ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: n},
			Spec: appsv1.StatefulSetSpec{
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": n}},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": n}},
					Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "example.org/c:v1"}}},
				},
			},
		}
		if err := e.admin.Create(t.Context(), ss); err != nil {
			t.Fatal(err)
		}
	}

	sa := rest.CopyConfig(cfg)
	sa.Impersonate = rest.ImpersonationConfig{
		UserName: "system:serviceaccount:" + e.ns + ":executor",
		Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:" + e.ns, "system:authenticated"},
	}
	c := newClient(t, sa)

	owner, err := OwnerStatefulSet(t.Context(), c, e.ns, "executor")
	if err != nil {
		t.Fatalf("OwnerStatefulSet with the executor's Role: %v", err)
	}
	other := newNamespace(t, e.admin, "other")
	s := startPerformer(t, "127.0.0.1:0", testperformer.Options{Name: "rbac"})
	m := e.manager(t, c, ManagerOptions{Owner: owner})
	name := PerformerName("executor-0", avsA)
	endpoint := serviceEndpoint(e.ns, name)
	e.lb.Map(endpoint, s.Address())

	t.Run("ManagerCallsPass", func(t *testing.T) {
		started := run(func() error {
			_, err := m.StartPerformer(t.Context(), PerformerRequest{AVSAddress: avsA, Image: "myavs/performer:v1", Version: "v1"})
			return err
		})
		e.pl.waitPerformer(name)
		e.pl.setStatus(name, func(s *v1alpha1.PerformerStatus) {
			s.Phase = v1alpha1.PhaseRunning
			s.GRPCEndpoint = endpoint
			s.Active = &v1alpha1.RevisionStatus{Revision: "r1", Image: "myavs/performer:v1", Version: "v1"}
			setReady(s, true)
		})
		if err := wait(t, started, "StartPerformer"); err != nil {
			t.Fatalf("StartPerformer: %v", err)
		}
		p := e.pl.waitPerformer(name)
		if len(p.OwnerReferences) != 1 || p.OwnerReferences[0].UID != owner.UID {
			t.Errorf("the Performer's owner references: got %+v, want the executor's StatefulSet", p.OwnerReferences)
		}

		upgrading := run(func() error { return m.UpgradePerformer(t.Context(), avsA, "v2") })
		e.pl.waitSpec(name, func(p *v1alpha1.Performer) bool { return p.Spec.Version == "v2" })
		e.pl.setStatus(name, func(s *v1alpha1.PerformerStatus) {
			s.Active = &v1alpha1.RevisionStatus{Revision: "r2", Image: "myavs/performer:v2", Version: "v2"}
			s.LastUpgrade = ptr.To(metav1.NewTime(time.Now().Add(time.Second)))
		})
		if err := wait(t, upgrading, "UpgradePerformer"); err != nil {
			t.Fatalf("UpgradePerformer: %v", err)
		}

		ks, err := m.ListPerformers(t.Context())
		if err != nil || len(ks) != 1 {
			t.Fatalf("ListPerformers: got %d performers, %v; want 1", len(ks), err)
		}

		// The Secret fallback: a second performer without status.
		nostatus := e.manager(t, c, ManagerOptions{StartTimeout: -1})
		if _, err := nostatus.StartPerformer(t.Context(), PerformerRequest{AVSAddress: avsB, Image: "myavs/performer:v1"}); err != nil {
			t.Fatalf("StartPerformer without waiting: %v", err)
		}
		nameB := PerformerName("executor-0", avsB)
		secret := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: names.ConnectionSecret(nameB)},
			Data:       names.Connection(names.Service(nameB), e.ns, 9090),
		}
		if err := e.admin.Create(t.Context(), secret); err != nil {
			t.Fatal(err)
		}
		if _, err := nostatus.GetPerformerEndpoint(t.Context(), avsB); err != nil {
			t.Errorf("GetPerformerEndpoint from the connection Secret: %v", err)
		}

		for _, avs := range []string{avsA, avsB} {
			stopped := run(func() error { return m.StopPerformer(t.Context(), avs) })
			e.pl.collect(PerformerName("executor-0", avs))
			if err := wait(t, stopped, "StopPerformer"); err != nil {
				t.Errorf("StopPerformer(%s): %v", avs, err)
			}
		}
	})

	// The API reference's executor Role, on performers; kubectl and GitOps
	// users of the executor's identity need patch and update beside what
	// the client itself uses.
	referenceVerbs := []string{"create", "delete", "get", "list", "patch", "update", "watch"}
	t.Run("GrantsWhatTheReferenceGrants", func(t *testing.T) {
		for _, ns := range []string{e.ns, other} {
			for _, verb := range referenceVerbs {
				sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
					User:   sa.Impersonate.UserName,
					Groups: sa.Impersonate.Groups,
					ResourceAttributes: &authorizationv1.ResourceAttributes{
						Namespace: ns, Verb: verb, Group: v1alpha1.Group, Resource: "performers",
					},
				}}
				if err := e.admin.Create(t.Context(), sar); err != nil {
					t.Fatal(err)
				}
				if want := ns == e.ns; sar.Status.Allowed != want {
					t.Errorf("%s performers in namespace %s: want allowed %t, got %t (%s)", verb, ns, want, sar.Status.Allowed, sar.Status.Reason)
				}
			}
		}
	})

	cases := map[string]struct {
		reason string
		call   func() error
	}{
		"ListPerformersElsewhere": {
			reason: "The Role is namespaced: performers of other namespaces are out of reach.",
			call:   func() error { return c.List(t.Context(), &v1alpha1.PerformerList{}, client.InNamespace(other)) },
		},
		"ListPerformersClusterWide": {
			reason: "Nothing cluster-wide.",
			call:   func() error { return c.List(t.Context(), &v1alpha1.PerformerList{}) },
		},
		"StartPerformerElsewhere": {
			reason: "A manager pointed at another namespace cannot create Performers there.",
			call: func() error {
				mo := e.manager(t, c, ManagerOptions{Namespace: other, StartTimeout: -1})
				_, err := mo.StartPerformer(t.Context(), PerformerRequest{AVSAddress: avsA, Image: "myavs/performer:v1"})
				return err
			},
		},
		"WriteStatus": {
			reason: "Only the platform writes a performer's status.",
			call: func() error {
				p := &v1alpha1.Performer{
					ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: "status-probe"},
					Spec:       v1alpha1.PerformerSpec{AVSAddress: avsA, Image: "myavs/performer:v1"},
				}
				if err := c.Create(t.Context(), p); err != nil {
					return err
				}
				p.Status.Phase = v1alpha1.PhaseRunning
				return c.Status().Update(t.Context(), p)
			},
		},
		"DeleteService": {
			reason: "Services are read-only to the executor.",
			call: func() error {
				svc := &corev1.Service{
					ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: "performer-x"},
					Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 9090}}},
				}
				if err := e.admin.Create(t.Context(), svc); err != nil {
					return err
				}
				return c.Delete(t.Context(), svc)
			},
		},
		"ListSecrets": {
			reason: "Secrets can be read one by one, never listed in bulk.",
			call:   func() error { return c.List(t.Context(), &corev1.SecretList{}, client.InNamespace(e.ns)) },
		},
		"OtherStatefulSet": {
			reason: "Only the executor's own StatefulSet can be read.",
			call: func() error {
				return c.Get(t.Context(), types.NamespacedName{Namespace: e.ns, Name: "someone-else"}, &appsv1.StatefulSet{})
			},
		},
		"GrantItself": {
			reason: "The executor cannot widen its own permissions.",
			call: func() error {
				return c.Create(t.Context(), &rbacv1.Role{
					ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: "more"},
					Rules:      []rbacv1.PolicyRule{{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"*"}}},
				})
			},
		},
	}
	for name, tc := range cases {
		t.Run("Refused/"+name, func(t *testing.T) {
			err := tc.call()
			if !kerrors.IsForbidden(err) {
				t.Errorf("%s\nwant Forbidden, got %v", tc.reason, err)
			}
		})
	}
}

// TestExampleStatefulSet creates the example executor in the API server,
// which validates it, and checks that the configuration it mounts and the
// environment it sets make a valid Kubernetes configuration.
func TestExampleStatefulSet(t *testing.T) {
	e := newManagerEnv(t)
	objs := readManifests(t, statefulSetExample, e.ns)
	var ss *appsv1.StatefulSet
	var cm *corev1.ConfigMap
	for _, u := range objs {
		if err := e.admin.Create(t.Context(), u); err != nil {
			t.Fatalf("create %s %s: %v", u.GetKind(), u.GetName(), err)
		}
		switch u.GetKind() {
		case "StatefulSet":
			ss = &appsv1.StatefulSet{}
			if err := e.admin.Get(t.Context(), types.NamespacedName{Namespace: e.ns, Name: u.GetName()}, ss); err != nil {
				t.Fatal(err)
			}
		case "ConfigMap":
			cm = &corev1.ConfigMap{}
			if err := e.admin.Get(t.Context(), types.NamespacedName{Namespace: e.ns, Name: u.GetName()}, cm); err != nil {
				t.Fatal(err)
			}
		}
	}
	if ss == nil || cm == nil {
		t.Fatalf("%s: want a StatefulSet and a ConfigMap", statefulSetExample)
	}
	pod := ss.Spec.Template
	if pod.Spec.ServiceAccountName != "executor" {
		t.Errorf("the executor runs as %q, want the example ServiceAccount executor", pod.Spec.ServiceAccountName)
	}
	if pod.Labels["hourglass.eigenlayer.io/role"] != "executor" {
		t.Errorf("the executor pods lack the label the performers' NetworkPolicy admits")
	}

	cfg, err := ParseConfig([]byte(cm.Data["executor.yaml"]))
	if err != nil {
		t.Fatal(err)
	}
	// What the kubelet would put in the environment of executor-0.
	env := map[string]string{}
	for _, ev := range pod.Spec.Containers[0].Env {
		switch {
		case ev.ValueFrom == nil:
			env[ev.Name] = ev.Value
		case ev.ValueFrom.FieldRef != nil && ev.ValueFrom.FieldRef.FieldPath == "metadata.namespace":
			env[ev.Name] = e.ns
		case ev.ValueFrom.FieldRef != nil && ev.ValueFrom.FieldRef.FieldPath == "metadata.name":
			env[ev.Name] = ss.Name + "-0"
		default:
			t.Fatalf("unexpected env var source for %s", ev.Name)
		}
	}
	cfg.ApplyEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if errs := cfg.Validate(); len(errs) > 0 {
		t.Fatalf("the example's configuration is invalid: %v", errs.ToAggregate())
	}
	o, err := cfg.ManagerOptions()
	if err != nil {
		t.Fatal(err)
	}
	if o.Namespace != e.ns || o.Executor != "executor-0" || cfg.Kubernetes.OwnerStatefulSet != ss.Name || o.DefaultImagePullPolicy != corev1.PullIfNotPresent {
		t.Errorf("the example's configuration: namespace %q, executor %q, owner %q, default image pull policy %q",
			o.Namespace, o.Executor, cfg.Kubernetes.OwnerStatefulSet, o.DefaultImagePullPolicy)
	}
}
