package main

import (
	"github.com/hourglass-xp/crossplane-hourglass/internal/testtools"

	"bytes"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"sigs.k8s.io/yaml"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
)

// update rewrites the golden files instead of comparing with them:
// go test ./functions/performer -run TestRender -update (make generate-function).
var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

const (
	xrdFile     = "../../package/xrd/performers.hourglass.eigenlayer.io.yaml"
	endpointCRD = "../../package/provider/crds/observe.hourglass.eigenlayer.io_performerendpoints.yaml"
	composition = "../../compositions/performer.yaml"
	goldenDir   = "testdata/golden"
)

// serve runs the function in this process on a loopback port, with the
// tests' fixed clock so rendered output does not depend on when it ran, and
// returns the Function manifest that points render at it.
func serve(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	fnv1.RegisterFunctionRunnerServiceServer(srv, newTestFunction())
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)

	fn := map[string]any{
		"apiVersion": "pkg.crossplane.io/v1",
		"kind":       "Function",
		"metadata": map[string]any{
			"name": "hourglass-xp-function-performer",
			"annotations": map[string]any{
				"render.crossplane.io/runtime":                    "Development",
				"render.crossplane.io/runtime-development-target": lis.Addr().String(),
			},
		},
		"spec": map[string]any{"package": "xpkg.upbound.io/hourglass-xp/function-performer:v0.1.0"},
	}
	return writeYAML(t, t.TempDir(), "functions.yaml", fn)
}

func writeYAML(t *testing.T, dir, name string, docs ...any) string {
	t.Helper()
	var buf bytes.Buffer
	for _, d := range docs {
		b, err := yaml.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		buf.WriteString("---\n")
		buf.Write(b)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// render runs `crossplane composition render` with the real render engine
// (Crossplane core) and returns its output.
func render(t *testing.T, fns, xr, comp, observed string, extra ...string) []byte {
	t.Helper()
	args := []string{"composition", "render", xr, comp, fns,
		"--crossplane-binary=" + testtools.Bin(t, "crossplane-core"), "--xrd=" + xrdFile, "--include-full-xr", "--timeout=30s"}
	if observed != "" {
		args = append(args, "--observed-resources="+observed)
	}
	args = append(args, extra...)
	cmd := exec.Command(testtools.Bin(t, "crossplane"), args...)
	cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+t.TempDir())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("crossplane composition render: %v\n%s", err, stderr.String())
	}
	return out
}

// validate runs `crossplane resource validate` offline on rendered output:
// the XR against the XRD, PerformerEndpoints against the provider's CRD,
// everything else against Kubernetes' built-in schemas.
func validate(t *testing.T, rendered string) {
	t.Helper()
	cache, schemas := t.TempDir(), t.TempDir()
	files := []string{xrdFile}
	if b, err := os.ReadFile(rendered); err == nil && bytes.Contains(b, []byte("kind: PerformerEndpoint")) {
		files = append(files, endpointCRD)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(schemas, filepath.Base(f)), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(testtools.Bin(t, "crossplane"), "resource", "validate", "--crossplane-image=", "--cache-dir="+cache,
		"--error-on-missing-schemas", "--skip-success-results", schemas, rendered)
	cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+cache)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("crossplane resource validate %s: %v\n%s", rendered, err, out)
	}
}

// docs splits rendered YAML into objects.
func docs(t *testing.T, b []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, d := range strings.Split(string(b), "\n---") {
		m := map[string]any{}
		if err := yaml.Unmarshal([]byte(d), &m); err != nil {
			t.Fatal(err)
		}
		if len(m) > 0 {
			out = append(out, m)
		}
	}
	return out
}

// examplePerformers reads every Performer under examples/ (not the
// invalid ones), keyed by file name and, for files with several, its name.
func examplePerformers(t *testing.T) map[string]map[string]any {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(examplesDir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples in %s: %v", examplesDir, err)
	}
	out := map[string]map[string]any{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var performers []map[string]any
		for _, d := range docs(t, b) {
			if d["kind"] == "Performer" && d["apiVersion"] == "hourglass.eigenlayer.io/v1alpha1" {
				performers = append(performers, d)
			}
		}
		base := strings.TrimSuffix(filepath.Base(f), ".yaml")
		for _, c := range performers {
			key := base
			if len(performers) > 1 {
				key += "-" + c["metadata"].(map[string]any)["name"].(string)
			}
			out[key] = c
		}
	}
	return out
}

// observe turns rendered composed resources into what the API server would
// report once they are up: Deployments available at their generation, the
// Service with a cluster IP, PerformerEndpoints as the provider reports a
// revision whose pod answers gRPC health (Ready once it names the Service).
func observe(t *testing.T, rendered []byte) []any {
	t.Helper()
	var out []any
	for _, d := range docs(t, rendered) {
		if serving(d) {
			out = append(out, d)
		}
	}
	return out
}

// serving gives a composed resource the status it has once its performer
// serves; false for kinds that are not composed resources.
func serving(d map[string]any) bool {
	switch d["kind"] {
	case "Deployment":
		d["metadata"].(map[string]any)["generation"] = 1
		d["status"] = map[string]any{
			"observedGeneration": 1, "replicas": 1, "updatedReplicas": 1, "readyReplicas": 1, "availableReplicas": 1,
			"conditions": []any{map[string]any{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"}},
		}
	case "Service":
		d["spec"].(map[string]any)["clusterIP"] = "10.96.0.17"
	case "NetworkPolicy":
	case "PerformerEndpoint":
		d["status"] = endpointStatus(d)
	default:
		return false
	}
	return true
}

// endpointStatus is what provider-hourglass reports for a PerformerEndpoint
// whose pod is ready and answers SERVING.
func endpointStatus(d map[string]any) map[string]any {
	fp := d["spec"].(map[string]any)["forProvider"].(map[string]any)
	ready, reason := "False", "PodReady"
	at := map[string]any{
		"podName":   d["metadata"].(map[string]any)["name"].(string) + "-pod",
		"pods":      map[string]any{"total": 1, "scheduled": 1, "ready": 1, "serving": 1},
		"scheduled": true, "healthy": true, "health": "Serving", "reason": reason,
	}
	if svc, ok := fp["serviceName"].(string); ok {
		ready, reason = "True", "ServiceReady"
		at["reason"], at["serviceReady"], at["readyEndpoints"] = reason, true, 1
		at["endpoint"] = fmt.Sprintf("%s.%s.svc.cluster.local:%v", svc, d["metadata"].(map[string]any)["namespace"], fp["port"])
	}
	return map[string]any{
		"atProvider": at,
		"conditions": []any{
			map[string]any{"type": "Ready", "status": ready, "reason": reason, "lastTransitionTime": "2026-01-01T00:00:00Z"},
			map[string]any{"type": "Synced", "status": "True", "reason": "ReconcileSuccess", "lastTransitionTime": "2026-01-01T00:00:00Z"},
		},
	}
}

func golden(t *testing.T, name string, got []byte) string {
	t.Helper()
	p := filepath.Join(goldenDir, name+".yaml")
	if *update {
		if err := os.MkdirAll(goldenDir, 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, got, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v: run `make generate-function` to create it", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("crossplane composition render: -%s, +got (regenerate with `make generate-function` if intended):\n%s", p, diff)
	}
	return p
}

// TestRender renders every example Performer with the real CLI and render
// engine, first as created (nothing observed yet) and then as running (its
// Deployment available, its Service with a cluster IP), and compares with
// the golden files; every rendered file must also pass
// `crossplane resource validate`.
func TestRender(t *testing.T) {
	fns := serve(t)
	for name, performer := range examplePerformers(t) {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			xr := writeYAML(t, dir, "xr.yaml", xrOf(t, performer))
			created := render(t, fns, xr, composition, "")
			validate(t, golden(t, name+"-created", created))

			observed := writeYAML(t, dir, "observed.yaml", observe(t, created)...)
			running := render(t, fns, xr, composition, observed)
			validate(t, golden(t, name+"-running", running))
		})
	}
}

// withInput writes a copy of the Composition whose function input has the
// given fields.
func withInput(t *testing.T, dir string, fields map[string]any) string {
	t.Helper()
	b, err := os.ReadFile(composition)
	if err != nil {
		t.Fatal(err)
	}
	c := map[string]any{}
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	in := c["spec"].(map[string]any)["pipeline"].([]any)[0].(map[string]any)["input"].(map[string]any)
	for k, v := range fields {
		in[k] = v
	}
	return writeYAML(t, dir, "composition.yaml", c)
}

// TestRenderScenarios renders what the examples alone do not show: a
// NetworkPolicy switched on by the platform, and a blue-green upgrade in
// its three steps (new revision beside the serving one, traffic switched
// once it is ready, the old one kept to drain). Render merges the desired
// XR status into the input XR's, so in the switched output status.target and
// upgradeStartTime linger from the input; on a cluster Crossplane applies the
// status server-side and the fields the function stopped writing go away.
func TestRenderScenarios(t *testing.T) {
	fns := serve(t)

	t.Run("networkpolicy", func(t *testing.T) {
		dir := t.TempDir()
		xr := writeYAML(t, dir, "xr.yaml", xrOf(t, readPerformer(t, "minimal.yaml")))
		comp := withInput(t, dir, map[string]any{"networkPolicy": map[string]any{"enabled": true}})
		validate(t, golden(t, "minimal-networkpolicy", render(t, fns, xr, comp, "")))
	})

	t.Run("no-endpoint", func(t *testing.T) {
		// Without the provider: no PerformerEndpoint; Ready means the
		// Deployment is available and the Service has a cluster IP.
		dir := t.TempDir()
		xr := writeYAML(t, dir, "xr.yaml", xrOf(t, readPerformer(t, "tee.yaml")))
		comp := withInput(t, dir, map[string]any{"endpoint": map[string]any{"enabled": false}})
		created := render(t, fns, xr, comp, "")
		observed := writeYAML(t, dir, "observed.yaml", observe(t, created)...)
		validate(t, golden(t, "tee-no-endpoint", render(t, fns, xr, comp, observed)))
	})

	t.Run("unschedulable", func(t *testing.T) {
		// The pod of a GPU performer no node can take: the function asks
		// for the performer's pods and reports why it does not run.
		dir := t.TempDir()
		xr := writeYAML(t, dir, "xr.yaml", xrOf(t, readPerformer(t, "gpu.yaml")))
		created := render(t, fns, xr, composition, "")
		var labels map[string]any
		for _, d := range docs(t, created) {
			if d["kind"] == "Deployment" {
				labels = d["spec"].(map[string]any)["template"].(map[string]any)["metadata"].(map[string]any)["labels"].(map[string]any)
			}
		}
		pod := map[string]any{
			"apiVersion": "v1", "kind": "Pod",
			"metadata": map[string]any{"name": "performer-gpu-performer-pod", "namespace": "ml-workloads", "labels": labels},
			"spec":     map[string]any{"containers": []any{map[string]any{"name": "performer", "image": "myavs/ml-performer:v3.0.0"}}},
			"status": map[string]any{"phase": "Pending", "conditions": []any{map[string]any{
				"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
				"message": "0/4 nodes are available: 2 Insufficient nvidia.com/gpu, 2 node(s) didn't match Pod's node affinity/selector.",
			}}},
		}
		up := observe(t, created)
		for _, d := range up {
			if d.(map[string]any)["kind"] == "Deployment" {
				// Created, but its pod never became available.
				d.(map[string]any)["status"] = map[string]any{"observedGeneration": 1, "replicas": 1, "updatedReplicas": 1, "unavailableReplicas": 1}
			}
		}
		observed := writeYAML(t, dir, "observed.yaml", up...)
		got := render(t, fns, xr, composition, observed, "--required-resources="+writeYAML(t, dir, "pods.yaml", pod))
		validate(t, golden(t, "gpu-unschedulable", got))
	})

	t.Run("upgrade", func(t *testing.T) {
		dir := t.TempDir()
		performer := readPerformer(t, "gpu.yaml")
		xr := xrOf(t, performer)
		xrFile := writeYAML(t, dir, "xr.yaml", xr)
		v1 := render(t, fns, xrFile, composition, "")
		running := observe(t, v1)

		// The running revision's status, as the XR carries it.
		var status map[string]any
		for _, d := range docs(t, render(t, fns, xrFile, composition, writeYAML(t, dir, "v1.yaml", running...))) {
			if d["kind"] == "Performer" {
				status = d["status"].(map[string]any)
			}
		}
		spec := xr["spec"].(map[string]any)
		spec["image"], spec["version"] = "myavs/ml-performer:v3.1.0", "v3.1.0"
		xr["status"] = status
		xrFile = writeYAML(t, dir, "xr-v2.yaml", xr)

		// Step 2: the new revision is composed; the old one still serves.
		started := render(t, fns, xrFile, composition, writeYAML(t, dir, "v1.yaml", running...))
		validate(t, golden(t, "gpu-upgrade-started", started))

		// Step 3: the new revision is ready; traffic switches to it.
		both := observe(t, started)
		for _, d := range docs(t, started) {
			if d["kind"] == "Performer" {
				xr["status"] = d["status"]
			}
		}
		xrFile = writeYAML(t, dir, "xr-v2-started.yaml", xr)
		validate(t, golden(t, "gpu-upgrade-switched", render(t, fns, xrFile, composition, writeYAML(t, dir, "both.yaml", both...))))
	})
}

// TestCompositionInput validates the Composition's function input against
// the generated input CRD, as Crossplane never does: a typo in a platform
// knob would otherwise only show as a Fatal result on every performer.
func TestCompositionInput(t *testing.T) {
	b, err := os.ReadFile(composition)
	if err != nil {
		t.Fatal(err)
	}
	c := map[string]any{}
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	var inputs []any
	for _, s := range c["spec"].(map[string]any)["pipeline"].([]any) {
		step := s.(map[string]any)
		if step["functionRef"].(map[string]any)["name"] != "hourglass-xp-function-performer" {
			continue
		}
		in := step["input"].(map[string]any)
		// The input is not an object in the API server: give it the name
		// validation expects.
		in["metadata"] = map[string]any{"name": step["step"]}
		inputs = append(inputs, in)
	}
	if len(inputs) == 0 {
		t.Fatal("the Composition has no step running hourglass-xp-function-performer")
	}
	file := writeYAML(t, t.TempDir(), "input.yaml", inputs...)
	cache := t.TempDir()
	cmd := exec.Command(testtools.Bin(t, "crossplane"), "resource", "validate", "--crossplane-image=", "--cache-dir="+cache,
		"--error-on-missing-schemas", "../../package/function/input", file)
	cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+cache)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("the Composition's function input does not validate: %v\n%s", err, out)
	}
}
