package main

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"sigs.k8s.io/yaml"

	"github.com/crossplane/function-sdk-go/logging"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"

	"github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
	"github.com/hourglass-xp/crossplane-hourglass/internal/names"
)

// The states a performer is benchmarked in: what Crossplane sends the
// function over a performer's life.
const (
	// benchNew: the performer was just applied; nothing is observed yet.
	benchNew = "new"
	// benchRunning: the Deployment is available, the Service has a cluster
	// IP, the pod is ready and the XR carries the status the function wrote.
	// The steady state, and by far the call Crossplane makes most.
	benchRunning = "running"
	// benchUpgrading: the image changed; the old revision serves, the new
	// Deployment exists but its pod is not ready yet.
	benchUpgrading = "upgrading"
)

// compositionFile is the Composition whose function input the benchmarks
// send, as Crossplane does.
const compositionFile = "../../compositions/performer.yaml"

// benchCase is one request of the benchmarks: an example performer in a state.
type benchCase struct {
	example string
	state   string
	// phase is the status.phase the function must report for it, and
	// deployments how many Deployments it must compose.
	phase       string
	deployments int
	req         *fnv1.RunFunctionRequest
}

func (c benchCase) name() string { return c.example + "/" + c.state }

// benchFunction is the function as it is served: the real clock, so the
// in-process and gRPC benchmarks (whose server uses time.Now) build and
// answer the same requests, and an upgrade started "now" is within its
// deadline for the whole run.
func benchFunction() *Function {
	return &Function{log: logging.NewNopLogger(), now: time.Now}
}

// benchCases builds every example in every state, sorted, by running the
// function on its own output the way Crossplane's reconcile loop does.
func benchCases(tb testing.TB) []benchCase {
	tb.Helper()
	input := benchInput(tb)
	var out []benchCase
	for _, ex := range benchExamples(tb) {
		out = append(out, benchStates(tb, ex.name, ex.performer, input)...)
	}
	slices.SortFunc(out, func(a, b benchCase) int { return strings.Compare(a.name(), b.name()) })
	return out
}

// benchStates builds the three states of one example.
func benchStates(tb testing.TB, example string, performer, input map[string]any) []benchCase {
	tb.Helper()
	xr := xrOf(tb, performer)
	newReq := benchRequest(tb, xr, nil, nil, input)
	created := benchRun(tb, newReq)

	// Everything created comes up: one call to let the function see it
	// and write its status, which the next call finds on the XR.
	observed := benchObserve(tb, created, nil)
	pods := benchPods(tb, observed, true)
	up := benchRun(tb, benchRequest(tb, xr, observed, pods, input))
	xr["status"] = up.GetDesired().GetComposite().GetResource().AsMap()["status"]
	runningReq := benchRequest(tb, xr, observed, pods, input)

	// A new image: the next call composes the new revision beside the
	// serving one; Crossplane creates it and its pod starts, not ready yet.
	xr = benchUpgrade(tb, xr)
	started := benchRun(tb, benchRequest(tb, xr, observed, pods, input))
	xr["status"] = started.GetDesired().GetComposite().GetResource().AsMap()["status"]
	both := benchObserve(tb, started, observed)
	upgradingReq := benchRequest(tb, xr, both, benchPods(tb, both, false), input)

	return []benchCase{
		{example: example, state: benchNew, phase: v1alpha1.PhasePending, deployments: 1, req: newReq},
		{example: example, state: benchRunning, phase: v1alpha1.PhaseRunning, deployments: 1, req: runningReq},
		{example: example, state: benchUpgrading, phase: v1alpha1.PhaseUpgrading, deployments: 2, req: upgradingReq},
	}
}

// benchExample is one example performer.
type benchExample struct {
	name      string
	performer map[string]any
}

// benchExamples reads every Performer of examples/*.yaml, named after
// the file and, in files with several, the performer.
func benchExamples(tb testing.TB) []benchExample {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(examplesDir, "*.yaml"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no examples in %s: %v", examplesDir, err)
	}
	var out []benchExample
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		var performers []map[string]any
		for _, d := range strings.Split(string(b), "\n---") {
			m := map[string]any{}
			if err := yaml.Unmarshal([]byte(d), &m); err != nil {
				tb.Fatal(err)
			}
			if m["kind"] == "Performer" && m["apiVersion"] == "hourglass.eigenlayer.io/v1alpha1" {
				performers = append(performers, m)
			}
		}
		base := strings.TrimSuffix(filepath.Base(f), ".yaml")
		for _, c := range performers {
			name := base
			if len(performers) > 1 {
				name += "-" + c["metadata"].(map[string]any)["name"].(string)
			}
			out = append(out, benchExample{name: name, performer: c})
		}
	}
	return out
}

// benchInput is the function input of the Composition.
func benchInput(tb testing.TB) map[string]any {
	tb.Helper()
	b, err := os.ReadFile(compositionFile)
	if err != nil {
		tb.Fatal(err)
	}
	c := map[string]any{}
	if err := yaml.Unmarshal(b, &c); err != nil {
		tb.Fatal(err)
	}
	return c["spec"].(map[string]any)["pipeline"].([]any)[0].(map[string]any)["input"].(map[string]any)
}

// benchRequest is what Crossplane sends: the observed XR, its observed
// composed resources, the pods the function asked for, and the input. Every
// object carries managed fields, as the API server returns it and
// Crossplane passes it on.
func benchRequest(tb testing.TB, xr map[string]any, observed map[string]map[string]any, pods []map[string]any, input map[string]any) *fnv1.RunFunctionRequest {
	tb.Helper()
	const composite, composed = "apiextensions.crossplane.io/composite", "apiextensions.crossplane.io/composed"
	var withFields map[string]map[string]any
	if observed != nil {
		withFields = make(map[string]map[string]any, len(observed))
		for name, o := range observed {
			status := map[any]string{"Deployment": "kube-controller-manager", "PerformerEndpoint": "provider-hourglass"}[o["kind"]]
			withFields[name] = withManagedFields(o, composed, status)
		}
	}
	req := newRequest(tb, withManagedFields(xr, composite, composite), withFields, input)
	if observed != nil {
		items := make([]*fnv1.Resource, 0, len(pods))
		for _, p := range pods {
			items = append(items, &fnv1.Resource{Resource: mustStruct(tb, withManagedFields(p, "kube-controller-manager", "kubelet"))})
		}
		req.RequiredResources = map[string]*fnv1.Resources{RequiredPods: {Items: items}}
	}
	return req
}

// withManagedFields is a copy of obj with the managed fields the API
// server keeps for it: an entry of the manager that wrote it (its labels,
// spec and the like) and, when it has a status and a status manager is
// given, one of the status writer. Their content follows obj's own shape,
// so a bigger object has bigger managed fields, as on a cluster.
func withManagedFields(obj map[string]any, manager, statusManager string) map[string]any {
	out := maps.Clone(obj)
	meta := maps.Clone(obj["metadata"].(map[string]any))
	owned := map[string]any{}
	for k, v := range obj {
		if k != "status" && k != "metadata" && k != "apiVersion" && k != "kind" {
			owned["f:"+k] = fieldsOf(v)
		}
	}
	if l, ok := meta["labels"]; ok {
		owned["f:metadata"] = map[string]any{"f:labels": fieldsOf(l)}
	}
	entry := func(m, op string, fields map[string]any) map[string]any {
		return map[string]any{"manager": m, "operation": op, "apiVersion": obj["apiVersion"], "time": "2026-11-22T12:00:00Z", "fieldsType": "FieldsV1", "fieldsV1": fields}
	}
	entries := []any{entry(manager, "Apply", owned)}
	if st, ok := obj["status"]; ok && statusManager != "" {
		e := entry(statusManager, "Update", map[string]any{"f:status": fieldsOf(st)})
		e["subresource"] = "status"
		entries = append(entries, e)
	}
	meta["managedFields"] = entries
	out["metadata"] = meta
	return out
}

// fieldsOf is the FieldsV1 set of a value: a key per map field, a key per
// list item (lists of scalars are atomic).
func fieldsOf(v any) map[string]any {
	out := map[string]any{}
	switch t := v.(type) {
	case map[string]any:
		for k, c := range t {
			out["f:"+k] = fieldsOf(c)
		}
	case []any:
		for i, c := range t {
			if _, ok := c.(map[string]any); ok {
				out[fmt.Sprintf(`k:{"index":%d}`, i)] = fieldsOf(c)
			}
		}
	}
	return out
}

// benchRun calls the function and fails on anything but a normal result.
func benchRun(tb testing.TB, req *fnv1.RunFunctionRequest) *fnv1.RunFunctionResponse {
	tb.Helper()
	rsp, err := benchFunction().RunFunction(context.Background(), req)
	if err != nil {
		tb.Fatal(err)
	}
	for _, r := range rsp.GetResults() {
		if r.GetSeverity() == fnv1.Severity_SEVERITY_FATAL {
			tb.Fatalf("fatal result: %s", r.GetMessage())
		}
	}
	return rsp
}

// benchObserve turns the desired composed resources of rsp into what the
// API server reports: resources already in before keep their observed
// state; new Deployments are created (their pod not available yet) when
// before is given and available otherwise, and so are PerformerEndpoints
// (with the Composition's endpoint.enabled); Services get a cluster IP.
func benchObserve(tb testing.TB, rsp *fnv1.RunFunctionResponse, before map[string]map[string]any) map[string]map[string]any {
	tb.Helper()
	out := map[string]map[string]any{}
	for name, r := range rsp.GetDesired().GetResources() {
		if o, ok := before[name]; ok {
			out[name] = o
			continue
		}
		d := r.GetResource().AsMap()
		switch d["kind"] {
		case "Deployment":
			d["metadata"].(map[string]any)["generation"] = float64(1)
			st := map[string]any{"observedGeneration": float64(1), "replicas": float64(1), "updatedReplicas": float64(1), "unavailableReplicas": float64(1)}
			if before == nil {
				st = map[string]any{
					"observedGeneration": float64(1), "replicas": float64(1), "updatedReplicas": float64(1),
					"readyReplicas": float64(1), "availableReplicas": float64(1),
					"conditions": []any{map[string]any{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"}},
				}
			}
			d["status"] = st
		case "Service":
			d["spec"].(map[string]any)["clusterIP"] = "10.96.0.17"
		case "PerformerEndpoint":
			d["status"] = benchEndpointStatus(d, before == nil)
		}
		out[name] = d
	}
	return out
}

// benchEndpointStatus is what provider-hourglass reports for a
// PerformerEndpoint: its pod answering SERVING (Ready when it names the
// Service), or not ready yet.
func benchEndpointStatus(d map[string]any, healthy bool) map[string]any {
	meta := d["metadata"].(map[string]any)
	fp := d["spec"].(map[string]any)["forProvider"].(map[string]any)
	at := map[string]any{"podName": meta["name"].(string) + "-pod", "scheduled": true, "healthy": false, "reason": "PodNotReady", "health": "NotServing"}
	ready := "False"
	if healthy {
		at["healthy"], at["reason"], at["health"] = true, "PodReady", "Serving"
		if svc, ok := fp["serviceName"].(string); ok {
			ready = "True"
			at["reason"], at["serviceReady"], at["readyEndpoints"] = "ServiceReady", true, float64(1)
			port, _ := fp["port"].(float64)
			at["endpoint"] = names.Endpoint(svc, meta["namespace"].(string), int32(port))
		}
	}
	return map[string]any{
		"atProvider": at,
		"conditions": []any{
			map[string]any{"type": "Ready", "status": ready, "reason": at["reason"], "lastTransitionTime": "2026-11-22T12:00:00Z"},
			map[string]any{"type": "Synced", "status": "True", "reason": "ReconcileSuccess", "lastTransitionTime": "2026-11-22T12:00:00Z"},
		},
	}
}

// benchPods is a running pod per observed Deployment, ready when the
// Deployment is available (or when ready is set).
func benchPods(tb testing.TB, observed map[string]map[string]any, ready bool) []map[string]any {
	tb.Helper()
	var pods []map[string]any
	for _, name := range slices.Sorted(maps.Keys(observed)) {
		d := observed[name]
		if d["kind"] != "Deployment" {
			continue
		}
		meta := d["metadata"].(map[string]any)
		tmpl := d["spec"].(map[string]any)["template"].(map[string]any)
		available := ready || d["status"].(map[string]any)["availableReplicas"] != nil
		status := "False"
		if available {
			status = "True"
		}
		pods = append(pods, map[string]any{
			"apiVersion": "v1", "kind": "Pod",
			"metadata": map[string]any{
				"name": meta["name"].(string) + "-5d9c8b7f4-x2x7q", "namespace": meta["namespace"],
				"labels": tmpl["metadata"].(map[string]any)["labels"],
			},
			"spec": tmpl["spec"],
			"status": map[string]any{"phase": "Running", "conditions": []any{
				map[string]any{"type": "PodScheduled", "status": "True"},
				map[string]any{"type": "ContainersReady", "status": status},
				map[string]any{"type": "Ready", "status": status},
			}},
		})
	}
	return pods
}

// benchUpgrade is xr with a new image tag (and version, when it has one).
func benchUpgrade(tb testing.TB, xr map[string]any) map[string]any {
	tb.Helper()
	next := proto.Clone(mustStruct(tb, xr)).(*structpb.Struct).AsMap()
	spec := next["spec"].(map[string]any)
	image := spec["image"].(string)
	if i := strings.LastIndex(image, ":"); i > strings.LastIndex(image, "/") {
		image = image[:i]
	}
	spec["image"] = image + ":bench-next"
	if _, ok := spec["version"]; ok {
		spec["version"] = "bench-next"
	}
	return next
}

// cpuTime is the CPU time the process has used, user and system: unlike
// wall time, it does not grow while the benchmark waits for a core the
// machine's other work holds.
func cpuTime(tb testing.TB) time.Duration {
	tb.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestBenchCases checks that every benchmark request is the state it is
// named after, so the benchmarks measure the paths their names say (and
// `go test` compiles and exercises their set-up).
func TestBenchCases(t *testing.T) {
	for _, c := range benchCases(t) {
		t.Run(c.name(), func(t *testing.T) {
			rsp := benchRun(t, c.req)
			st, _ := rsp.GetDesired().GetComposite().GetResource().AsMap()["status"].(map[string]any)
			if got := st["phase"]; got != c.phase {
				t.Errorf("status.phase: want %q, got %q", c.phase, got)
			}
			deployments := 0
			for name := range rsp.GetDesired().GetResources() {
				if strings.HasPrefix(name, resourceDeploymentPfx) {
					deployments++
				}
			}
			if deployments != c.deployments {
				t.Errorf("Deployments: want %d, got %d", c.deployments, deployments)
			}
		})
	}
}

// BenchmarkRunFunction measures one RunFunction call in process for every
// example in every state (see benchCases), with allocations and the CPU
// time per call (cpu-ns/op, all goroutines, GC included).
//
//	go test ./functions/performer -run '^$' -bench BenchmarkRunFunction -benchmem
func BenchmarkRunFunction(b *testing.B) {
	f := benchFunction()
	ctx := context.Background()
	for _, c := range benchCases(b) {
		b.Run(c.name(), func(b *testing.B) {
			b.ReportAllocs()
			start := cpuTime(b)
			for b.Loop() {
				if _, err := f.RunFunction(ctx, c.req); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(cpuTime(b)-start)/float64(b.N), "cpu-ns/op")
		})
	}
}
