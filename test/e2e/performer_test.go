//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/hourglass-xp/crossplane-hourglass/internal/names"
)

const (
	labelGPU    = "nvidia.com/gpu.present"
	labelNFD    = "feature.node.kubernetes.io/cpu-security."
	taintTEE    = "hourglass.eigenlayer.io/tee"
	defaultPort = 9090
)

// TestExamples applies every example performer and checks that each becomes
// Ready and stays Ready, runs on the node its hardware asks for, and reports
// the documented status; then that kubectl shows them and trace works.
func TestExamples(t *testing.T) {
	t.Parallel()
	e := setup(t)
	performers := readManifests(t, filepath.Join(e.root, "examples", "*.yaml"))
	for _, c := range performers {
		e.apply(t, c)
	}
	// The performers settle together; the checks that read all of them run after.
	t.Run("performers", func(t *testing.T) {
		for _, c := range performers {
			t.Run(c.name(), func(t *testing.T) {
				t.Parallel()
				u := e.readyAndStable(t, c.namespace(), c.name())
				e.checkStatus(t, c, u)
				e.checkPlacement(t, c)
			})
		}
	})

	t.Run("kubectl get performers -A", func(t *testing.T) {
		out := e.mustKubectl(t, nil, "get", "performers", "-A")
		t.Logf("\n%s", out)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		header := strings.Fields(lines[0])
		for _, col := range []string{"NAMESPACE", "NAME", "SYNCED", "READY", "PHASE", "ENDPOINT"} {
			if !contains(header, col) {
				t.Errorf("kubectl get performers -A: no %s column in %q", col, lines[0])
			}
		}
		for _, c := range performers {
			port := grpcPort(c)
			endpoint := names.Endpoint(names.Service(c.name()), c.namespace(), int32(port))
			re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(c.namespace()) + `\s+` + regexp.QuoteMeta(c.name()) +
				`\s.*\bRunning\s+` + regexp.QuoteMeta(endpoint) + `\s`)
			if !re.MatchString(out) {
				t.Errorf("kubectl get performers -A: no row for %s showing Running and %s", c, endpoint)
			}
		}
	})

	t.Run("crossplane resource trace", func(t *testing.T) {
		c := performers[0]
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		out, errs, err := e.run(ctx, nil, "crossplane", "resource", "trace", "-n", c.namespace(), "performer", c.name())
		if err != nil {
			t.Fatalf("crossplane resource trace: %v\n%s%s", err, out, errs)
		}
		t.Logf("\n%s", out)
		// The Performer is the composite: the tree's root, and the parent of
		// everything the function composes. No claim, no XR between.
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) < 2 || !strings.HasPrefix(strings.TrimSpace(lines[1]), "Performer/"+c.name()+" ") {
			t.Errorf("crossplane resource trace: the first resource is not Performer/%s", c.name())
		}
		u, err := e.existing(ctx, c.namespace(), c.name())
		if err != nil {
			t.Fatal(err)
		}
		active, _, _ := unstructured.NestedString(u.Object, "status", "active", "deployment")
		for _, want := range []string{"Deployment/" + active + " ", "Service/" + names.Service(c.name()) + " ",
			"Secret/" + names.ConnectionSecret(c.name()) + " ", "PerformerEndpoint/"} {
			if !strings.Contains(out, want) {
				t.Errorf("crossplane resource trace: no %q in the tree", want)
			}
		}
		if strings.Contains(out, "XPerformer") {
			t.Errorf("crossplane resource trace: an XPerformer in the tree")
		}
	})
}

// grpcPort is the performer's spec.config.grpcPort or the API's default. YAML
// numbers decode as float64 or int64 depending on the decoder.
func grpcPort(c manifest) int64 {
	v, ok, _ := unstructured.NestedFieldNoCopy(c.obj.Object, "spec", "config", "grpcPort")
	if !ok {
		return defaultPort
	}
	switch p := v.(type) {
	case int64:
		return p
	case float64:
		return int64(p)
	}
	return defaultPort
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// checkStatus checks phase, podName, serviceName and grpcEndpoint.
func (e *env) checkStatus(t *testing.T, c manifest, u *unstructured.Unstructured) {
	t.Helper()
	port := grpcPort(c)
	svc := names.Service(c.name())
	want := map[string]string{
		"phase":        "Running",
		"serviceName":  svc,
		"grpcEndpoint": names.Endpoint(svc, c.namespace(), int32(port)),
	}
	for k, v := range want {
		if got, _, _ := unstructured.NestedString(u.Object, "status", k); got != v {
			t.Errorf("status.%s = %q, want %q", k, got, v)
		}
	}
	pod, _, _ := unstructured.NestedString(u.Object, "status", "podName")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pods, err := e.pods(ctx, c.namespace(), c.name())
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range pods {
		found = found || p.Name == pod
	}
	if !found {
		t.Errorf("status.podName = %q, not one of the performer's pods (%d)", pod, len(pods))
	}
	s := &corev1.Service{}
	if err := e.c.Get(ctx, client.ObjectKey{Namespace: c.namespace(), Name: svc}, s); err != nil {
		t.Errorf("Service %s: %v", svc, err)
	}
}

// checkPlacement checks that every pod of the performer is Running on a node
// that has the hardware the performer asks for, and plain performers never land
// on GPU or TEE nodes.
func (e *env) checkPlacement(t *testing.T, c manifest) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pods, err := e.pods(ctx, c.namespace(), c.name())
	if err != nil {
		t.Fatal(err)
	}
	if len(pods) == 0 {
		t.Fatalf("no pods labelled %s=%s", names.LabelPerformerName, c.name())
	}
	gpuType, _, _ := unstructured.NestedString(c.obj.Object, "spec", "hardwareRequirements", "gpuType")
	teeType, _, _ := unstructured.NestedString(c.obj.Object, "spec", "hardwareRequirements", "teeType")
	for _, p := range pods {
		if p.Status.Phase != corev1.PodRunning || p.Spec.NodeName == "" {
			t.Errorf("pod %s: phase %s on node %q, want Running on a node", p.Name, p.Status.Phase, p.Spec.NodeName)
			continue
		}
		n := &corev1.Node{}
		if err := e.c.Get(ctx, client.ObjectKey{Name: p.Spec.NodeName}, n); err != nil {
			t.Fatal(err)
		}
		l := n.Labels
		tee := ""
		for k, v := range l {
			if strings.HasPrefix(k, labelNFD) && v == "true" {
				tee = k
			}
		}
		switch {
		case gpuType != "" && l[labelGPU] != "true":
			t.Errorf("pod %s asks for GPU %s but runs on %s, which has no GPU", p.Name, gpuType, n.Name)
		case teeType != "" && l[labelNFD+strings.ReplaceAll(teeType, "-", ".")+".enabled"] != "true":
			t.Errorf("pod %s asks for TEE %s but runs on %s (labels %v)", p.Name, teeType, n.Name, l)
		case gpuType == "" && l[labelGPU] == "true":
			t.Errorf("pod %s asks for no GPU but runs on GPU node %s", p.Name, n.Name)
		case teeType == "" && tee != "":
			t.Errorf("pod %s asks for no TEE but runs on TEE node %s (%s)", p.Name, n.Name, tee)
		}
	}
}

// TestInvalidExamplesRefused creates every examples/invalid/ performer and
// expects the live API server to refuse it with the message its
// "# expect:" header lines give.
func TestInvalidExamplesRefused(t *testing.T) {
	t.Parallel()
	e := setup(t)
	files, err := filepath.Glob(filepath.Join(e.root, "examples", "invalid", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatal("no examples/invalid/*.yaml")
	}
	for _, c := range readManifests(t, filepath.Join(e.root, "examples", "invalid", "*.yaml")) {
		e.ensureNamespace(t, c.namespace())
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".yaml"), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var expect []string
			for _, line := range strings.Split(string(b), "\n") {
				if m, ok := strings.CutPrefix(line, "# expect:"); ok {
					expect = append(expect, strings.TrimSpace(m))
				}
			}
			if len(expect) == 0 {
				t.Fatalf("%s has no '# expect:' line", f)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			out, errs, err := e.kubectl(ctx, nil, "create", "-f", f)
			if err == nil {
				// Do not leave it behind.
				_, _, _ = e.kubectl(ctx, nil, "delete", "--wait=false", "-f", f)
				t.Fatalf("the API server accepted %s:\n%s", filepath.Base(f), out)
			}
			// kube-apiserver 1.34 renders a CEL rule's failure on an object
			// as `Invalid value: "object": <message>`; 1.35, which the
			// offline schema tests use, leaves the value out. Same message.
			errs = strings.ReplaceAll(errs, `Invalid value: "object": `, "Invalid value: ")
			for _, want := range expect {
				if !strings.Contains(errs, want) {
					t.Errorf("refusal does not say %q:\n%s", want, errs)
				}
			}
		})
	}
}

// TestLifecycle edits a performer and checks the edit reaches the Deployment,
// deletes composed objects and checks they are repaired, then deletes the
// performer and checks everything it composed is gone. The Deployment's
// repair comes after the connection Secret's: its burst of PerformerEndpoint
// events can open Crossplane's watch circuit breaker on the performer (the
// Responsive condition), after which repairs wait for Crossplane's poll.
func TestLifecycle(t *testing.T) {
	t.Parallel()
	e := setup(t)
	const ns, name = "e2e-lifecycle", "lifecycle"
	c := newPerformer(ns, name, map[string]any{
		"avsAddress": "0x00000000000000000000000000000000000000e2",
		"image":      "example.com/e2e/performer:v1.0.0",
		"config":     map[string]any{"grpcPort": int64(9090)},
	})
	e.apply(t, c)
	e.readyAndStable(t, ns, name)

	t.Run("edit reaches the Deployment", func(t *testing.T) {
		spec := c.obj.Object["spec"].(map[string]any)
		spec["config"] = map[string]any{"grpcPort": int64(9090), "env": []any{map[string]any{"name": "E2E_EDIT", "value": "1"}}}
		spec["resources"] = map[string]any{"requests": map[string]any{"cpu": "250m", "memory": "64Mi"}}
		spec["scheduling"] = map[string]any{"nodeSelector": map[string]any{"kubernetes.io/arch": "amd64"}}
		e.apply(t, c)
		eventually(t, 2*time.Minute, "the edit in the Deployment", func(ctx context.Context) error {
			ds, err := e.deployments(ctx, ns, name)
			if err != nil {
				return err
			}
			for _, d := range ds {
				if hasEdit(d) {
					return nil
				}
			}
			return fmt.Errorf("no Deployment of %d has env E2E_EDIT=1, cpu request 250m and the nodeSelector", len(ds))
		})
		e.readyAndStable(t, ns, name)
	})

	t.Run("deleted connection Secret is repaired", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		old := &corev1.Secret{}
		if err := e.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: names.ConnectionSecret(name)}, old); err != nil {
			t.Fatal(err)
		}
		if err := e.c.Delete(ctx, old); err != nil {
			t.Fatal(err)
		}
		t0 := time.Now()
		eventually(t, 2*time.Minute, "a new connection Secret with the endpoint", func(ctx context.Context) error {
			s := &corev1.Secret{}
			if err := e.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: old.Name}, s); err != nil {
				return err
			}
			if s.UID == old.UID {
				return fmt.Errorf("still the old Secret")
			}
			if got, want := string(s.Data[names.ConnectionEndpoint]), names.Endpoint(names.Service(name), ns, 9090); got != want {
				return fmt.Errorf("%s = %q, want %q", names.ConnectionEndpoint, got, want)
			}
			return nil
		})
		t.Logf("connection Secret re-created %.1fs after its deletion", time.Since(t0).Seconds())
		e.readyAndStable(t, ns, name)
		t.Logf("Ready and stable %.1fs after its deletion", time.Since(t0).Seconds())
	})

	t.Run("deleted Deployment is repaired", func(t *testing.T) {
		// The active revision's Deployment: an edit may have left the
		// previous one draining, and that one is meant to go away.
		u := e.readyAndStable(t, ns, name)
		active, _, _ := unstructured.NestedString(u.Object, "status", "active", "deployment")
		if active == "" {
			t.Fatalf("status.active.deployment is empty; status:\n%s", describe(u))
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		old := appsv1.Deployment{}
		if err := e.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: active}, &old); err != nil {
			t.Fatalf("active Deployment %s: %v", active, err)
		}
		if err := e.c.Delete(ctx, &old); err != nil {
			t.Fatal(err)
		}
		eventually(t, 2*time.Minute, "a new Deployment", func(ctx context.Context) error {
			d := &appsv1.Deployment{}
			if err := e.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: old.Name}, d); err != nil {
				return err
			}
			if d.UID == old.UID {
				return fmt.Errorf("still the old Deployment")
			}
			return nil
		})
		e.readyAndStable(t, ns, name)
	})

	t.Run("deleted Service is repaired", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		old := &corev1.Service{}
		if err := e.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: names.Service(name)}, old); err != nil {
			t.Fatal(err)
		}
		if err := e.c.Delete(ctx, old); err != nil {
			t.Fatal(err)
		}
		eventually(t, 2*time.Minute, "a new Service", func(ctx context.Context) error {
			s := &corev1.Service{}
			if err := e.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: old.Name}, s); err != nil {
				return err
			}
			if s.UID == old.UID {
				return fmt.Errorf("still the old Service")
			}
			return nil
		})
		e.readyAndStable(t, ns, name)
	})

	t.Run("performer deletion removes everything", func(t *testing.T) {
		e.deletePerformer(t, ns, name)
	})
}

func hasEdit(d appsv1.Deployment) bool {
	ps := d.Spec.Template.Spec
	if ps.NodeSelector["kubernetes.io/arch"] != "amd64" {
		return false
	}
	for _, ctr := range ps.Containers {
		env := false
		for _, v := range ctr.Env {
			env = env || (v.Name == "E2E_EDIT" && v.Value == "1")
		}
		cpu := ctr.Resources.Requests[corev1.ResourceCPU]
		if env && cpu.String() == "250m" {
			return true
		}
	}
	return false
}

// TestUnschedulableHardware asks for a GPU no node has: the performer must stay
// Pending, not Ready, and say why, instead of looping.
func TestUnschedulableHardware(t *testing.T) {
	t.Parallel()
	e := setup(t)
	const ns, name = "e2e-unschedulable", "no-such-gpu"
	c := newPerformer(ns, name, map[string]any{
		"avsAddress": "0x00000000000000000000000000000000000000e3",
		"image":      "example.com/e2e/performer:v1.0.0",
		"hardwareRequirements": map[string]any{
			"gpuType": "nvidia-h200", "gpuCount": int64(1),
		},
		"upgrade": map[string]any{"progressDeadlineSeconds": int64(10)},
	})
	e.apply(t, c)
	defer e.deletePerformer(t, ns, name)

	reasons := []string{"SchedulingFailed", "HardwareUnavailable"}
	steadily(t, 3*time.Minute, 2*stable, "performer Pending with a reason", func(ctx context.Context) error {
		u, err := e.get(ctx, ns, name)
		if err != nil {
			return fmt.Errorf("performer: %w", err)
		}
		if u == nil {
			return fmt.Errorf("performer %s/%s does not exist", ns, name)
		}
		if s, _, _ := condition(u, "Ready"); s == "True" {
			return fmt.Errorf("performer is Ready")
		}
		if err := notReady(u); err != nil {
			return err
		}
		if p, _, _ := unstructured.NestedString(u.Object, "status", "phase"); p != "Pending" {
			return fmt.Errorf("phase %q, want Pending; status:\n%s", p, describe(u))
		}
		if !anyConditionReason(u, reasons) {
			return fmt.Errorf("no condition with reason %v; status:\n%s", reasons, describe(u))
		}
		return nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pods, err := e.pods(ctx, ns, name)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pods {
		if p.Spec.NodeName != "" {
			t.Errorf("pod %s was scheduled to %s", p.Name, p.Spec.NodeName)
		}
	}
}

// notReady returns nil when status.ready is written and false: executors
// poll it, so it must say false, not be absent, while nothing serves.
func notReady(u *unstructured.Unstructured) error {
	ready, ok, err := unstructured.NestedBool(u.Object, "status", "ready")
	if err != nil {
		return fmt.Errorf("status.ready: %w", err)
	}
	if !ok || ready {
		return fmt.Errorf("status.ready is %t (written: %t), want false", ready, ok)
	}
	return nil
}

func anyConditionReason(u *unstructured.Unstructured, reasons []string) bool {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if r, _ := m["reason"].(string); contains(reasons, r) {
			return true
		}
	}
	return false
}

// TestPodFaults uses kwok's fault stages (cluster/kwok/stages.yaml): the
// image names one, so the performer's pod fails to pull, crash-loops or never
// becomes ready, as on a real cluster. The performer must never report Ready.
func TestPodFaults(t *testing.T) {
	t.Parallel()
	e := setup(t)
	const ns = "e2e-faults"
	faults := map[string]string{
		"image-pull-error": "ErrImagePull",
		"crash-loop":       "CrashLoopBackOff",
		"not-ready":        "",
	}
	for fault := range faults {
		c := newPerformer(ns, fault, map[string]any{
			"avsAddress": "0x00000000000000000000000000000000000000e4",
			"image":      "example.com/e2e/kwok-fault-" + fault + ":v1.0.0",
			"upgrade":    map[string]any{"progressDeadlineSeconds": int64(10)},
		})
		e.apply(t, c)
	}
	for fault, waiting := range faults {
		t.Run(fault, func(t *testing.T) {
			t.Parallel()
			defer e.deletePerformer(t, ns, fault)
			eventually(t, 2*time.Minute, "the pod plays the fault", func(ctx context.Context) error {
				pods, err := e.pods(ctx, ns, fault)
				if err != nil {
					return err
				}
				for _, p := range pods {
					for _, cs := range p.Status.ContainerStatuses {
						if cs.Ready {
							return fmt.Errorf("container %s of %s is ready", cs.Name, p.Name)
						}
						if waiting == "" && cs.State.Running != nil {
							return nil
						}
						if cs.State.Waiting != nil && cs.State.Waiting.Reason == waiting {
							return nil
						}
					}
				}
				return fmt.Errorf("no pod of %d shows the fault", len(pods))
			})
			steadily(t, 2*time.Minute, 2*stable, "performer not Ready", func(ctx context.Context) error {
				u, err := e.get(ctx, ns, fault)
				if err != nil {
					return fmt.Errorf("performer: %w", err)
				}
				if u == nil {
					return fmt.Errorf("performer %s/%s does not exist", ns, fault)
				}
				if s, _, _ := condition(u, "Ready"); s == "True" {
					return fmt.Errorf("performer is Ready although its pod is not")
				}
				if err := notReady(u); err != nil {
					return err
				}
				if p, _, _ := unstructured.NestedString(u.Object, "status", "phase"); p == "Running" {
					return fmt.Errorf("phase Running although the pod is not ready")
				}
				return nil
			})
		})
	}
}
