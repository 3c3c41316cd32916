package main

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/durationpb"
	"sigs.k8s.io/yaml"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
)

// minimalXR is the seed's minimal Performer as Crossplane passes it.
func minimalXR(t testing.TB) map[string]any {
	return xrOf(t, map[string]any{
		"metadata": map[string]any{"name": "minimal-performer", "namespace": "my-avs-project"},
		"spec": map[string]any{
			"avsAddress": "0x1234567890abcdef1234567890abcdef12345678",
			"image":      "myavs/performer:latest",
		},
	})
}

// minimalRevision is the revision of minimalXR's pod template.
const minimalRevision = "26e7f23bd2"

// observedDeployment is the Deployment the function composes for xr as the
// API server would report it, available or not.
func observedDeployment(t testing.TB, xr map[string]any, ready bool) map[string]any {
	t.Helper()
	rsp, err := newTestFunction().RunFunction(context.Background(), newRequest(t, xr, nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	for name, r := range rsp.GetDesired().GetResources() {
		if !strings.HasPrefix(name, resourceDeploymentPfx) {
			continue
		}
		d := r.GetResource().AsMap()
		d["metadata"].(map[string]any)["generation"] = float64(1)
		st := map[string]any{"observedGeneration": float64(1), "replicas": float64(1)}
		if ready {
			st["updatedReplicas"] = float64(1)
			st["availableReplicas"] = float64(1)
			st["readyReplicas"] = float64(1)
			st["conditions"] = []any{map[string]any{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"}}
		}
		d["status"] = st
		return d
	}
	t.Fatal("no Deployment composed")
	return nil
}

// observedService is the Service the function composes for xr as the API
// server would report it, with a cluster IP when one is given.
func observedService(t testing.TB, xr map[string]any, clusterIP string) map[string]any {
	t.Helper()
	rsp, err := newTestFunction().RunFunction(context.Background(), newRequest(t, xr, nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	s := rsp.GetDesired().GetResources()[ResourceService].GetResource().AsMap()
	if clusterIP != "" {
		s["spec"].(map[string]any)["clusterIP"] = clusterIP
	}
	return s
}

func fromYAMLFile(t testing.TB, path string) *fnv1.RunFunctionResponse {
	t.Helper()
	y, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	j, err := yaml.YAMLToJSON(y)
	if err != nil {
		t.Fatal(err)
	}
	rsp := &fnv1.RunFunctionResponse{}
	if err := protojson.Unmarshal(j, rsp); err != nil {
		t.Fatal(err)
	}
	return rsp
}

func toYAMLFile(t testing.TB, path string, rsp *fnv1.RunFunctionResponse) {
	t.Helper()
	j, err := protojson.Marshal(rsp)
	if err != nil {
		t.Fatal(err)
	}
	y, err := yaml.JSONToYAML(j)
	if err != nil {
		t.Fatal(err)
	}
	// The file's leading comment says what it shows; it stays.
	var header []byte
	if old, err := os.ReadFile(path); err == nil { //nolint:gosec // A test file path.
		for line := range strings.Lines(string(old)) {
			if !strings.HasPrefix(line, "#") {
				break
			}
			header = append(header, line...)
		}
	}
	if err := os.WriteFile(path, append(header, y...), 0o600); err != nil {
		t.Fatal(err)
	}
}

// fatalResponse is the whole response to a request the function refuses:
// a Fatal result and the Degraded condition with the same message, both on
// the composite, and nothing desired.
func fatalResponse(reason, msg string) *fnv1.RunFunctionResponse {
	return &fnv1.RunFunctionResponse{
		Meta: &fnv1.ResponseMeta{Tag: "t", Ttl: durationpb.New(SteadyTTL)},
		Results: []*fnv1.Result{{
			Severity: fnv1.Severity_SEVERITY_FATAL,
			Message:  msg,
			Target:   fnv1.Target_TARGET_COMPOSITE.Enum(),
		}},
		Conditions: []*fnv1.Condition{{
			Type: "Degraded", Status: fnv1.Status_STATUS_CONDITION_TRUE, Reason: reason,
			Message: new(msg), Target: fnv1.Target_TARGET_COMPOSITE.Enum(),
		}},
	}
}

func TestRunFunction(t *testing.T) {
	type args struct {
		req *fnv1.RunFunctionRequest
	}
	type want struct {
		rsp *fnv1.RunFunctionResponse
	}
	xr := minimalXR(t)
	noNamespace := minimalXR(t)
	delete(noNamespace["metadata"].(map[string]any), "namespace")
	twice := minimalXR(t)
	twice["spec"].(map[string]any)["config"] = map[string]any{
		"environment": map[string]any{"RPC_URL": "http://rpc"},
		"env":         []any{map[string]any{"name": "RPC_URL", "value": "http://other"}},
	}
	gpu := minimalXR(t)
	gpu["spec"].(map[string]any)["hardwareRequirements"] = map[string]any{"gpuType": "nvidia-quantum-9000", "gpuCount": float64(1)}

	const (
		errNoNamespace = "metadata.namespace: Required value: a Performer is composed into its own namespace"
		errTwice       = "cannot compose the performer: spec.config.env[0].name: Duplicate value: \"RPC_URL is also set by spec.config.environment[RPC_URL]: set each variable in one place\""
		errUnknownGPU  = `cannot compose the performer: spec.hardwareRequirements.gpuType: Unsupported value: "nvidia-quantum-9000": supported values: ` +
			`"nvidia-a100", "nvidia-a100-80gb", "nvidia-h100", "nvidia-h100-80gb", "nvidia-h200", "nvidia-l4", "nvidia-tesla-a100", "nvidia-tesla-t4", "nvidia-tesla-v100"`
		errLax = `invalid function input: security.profile: Unsupported value: "Lax": supported values: "Restricted", "Unconfined"`
	)
	cases := map[string]struct {
		reason string
		args   args
		want   want
		// golden, when set, is the file want.rsp was read from: -update
		// rewrites it.
		golden string
	}{
		"NoNamespace": {
			reason: "A composite without a namespace (a cluster-scoped definition, a render without one) has nowhere to compose: Fatal, naming metadata.namespace, also as a Degraded condition.",
			args:   args{req: newRequest(t, noNamespace, nil, nil)},
			want:   want{rsp: fatalResponse("InvalidSpec", errNoNamespace)},
		},
		"VariableSetTwice": {
			reason: "A variable set in two places (admission refuses it; a composite made without the CRD may not) is Fatal, naming both places.",
			args:   args{req: newRequest(t, twice, nil, nil)},
			want:   want{rsp: fatalResponse("InvalidSpec", errTwice)},
		},
		"UnknownGPUType": {
			reason: "A gpuType without a profile is Fatal, naming the field and the known types; the Performer says so in Degraded.",
			args:   args{req: newRequest(t, gpu, nil, nil)},
			want:   want{rsp: fatalResponse("InvalidSpec", errUnknownGPU)},
		},
		"InvalidInput": {
			reason: "A bad platform input is Fatal, naming the input field.",
			args: args{req: newRequest(t, xr, nil, map[string]any{
				"apiVersion": "performer.fn.hourglass.eigenlayer.io/v1beta1", "kind": "Input",
				"security": map[string]any{"profile": "Lax"},
			})},
			want: want{rsp: fatalResponse("InvalidInput", errLax)},
		},
		"Created": {
			reason: "A new performer gets its revision's Deployment and the Service, neither ready yet; phase Pending.",
			args:   args{req: newRequest(t, xr, nil, nil)},
			want:   want{rsp: fromYAMLFile(t, "testdata/runfunction/minimal-created.yaml")},
			golden: "testdata/runfunction/minimal-created.yaml",
		},
		"Running": {
			reason: "Once the Deployment is available and the Service has a cluster IP, both are ready, the performer Running and readyTime set.",
			args: args{req: newRequest(t, xr, map[string]map[string]any{
				"deployment-" + minimalRevision: observedDeployment(t, xr, true),
				ResourceService:                 observedService(t, xr, "10.96.0.17"),
			}, nil)},
			want:   want{rsp: fromYAMLFile(t, "testdata/runfunction/minimal-running.yaml")},
			golden: "testdata/runfunction/minimal-running.yaml",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			rsp, err := newTestFunction().RunFunction(context.Background(), tc.args.req)
			if err != nil {
				t.Fatalf("%s\nf.RunFunction(...): unexpected error: %v", tc.reason, err)
			}
			if *update && tc.golden != "" {
				toYAMLFile(t, tc.golden, rsp)
				return
			}
			if diff := cmp.Diff(tc.want.rsp, rsp, protocmp.Transform()); diff != "" {
				t.Errorf("%s\nf.RunFunction(...): -want rsp, +got rsp:\n%s", tc.reason, diff)
			}
		})
	}
}

// TestRunFunctionDeterministic checks that the same request gives the same
// response, byte for byte, so Crossplane writes nothing when nothing changed.
func TestRunFunctionDeterministic(t *testing.T) {
	for _, f := range []string{"minimal.yaml", "env.yaml", "gpu.yaml", "tee.yaml", "complex.yaml"} {
		t.Run(f, func(t *testing.T) {
			req := newRequest(t, xrOf(t, readPerformer(t, f)), nil, nil)
			var first []byte
			for i := range 5 {
				rsp, err := newTestFunction().RunFunction(context.Background(), req)
				if err != nil {
					t.Fatal(err)
				}
				b, err := proto.MarshalOptions{Deterministic: true}.Marshal(rsp)
				if err != nil {
					t.Fatal(err)
				}
				if i == 0 {
					first = b
					continue
				}
				if diff := cmp.Diff(string(first), string(b)); diff != "" {
					t.Fatalf("call %d differs from the first: -first, +now:\n%s", i, diff)
				}
			}
		})
	}
}

// TestRunFunctionNetworkPolicy checks that the NetworkPolicy follows the
// platform default and the Performer's override, and that switching it off
// removes it: it is simply no longer desired, so Crossplane deletes it.
func TestRunFunctionNetworkPolicy(t *testing.T) {
	on := map[string]any{"apiVersion": "performer.fn.hourglass.eigenlayer.io/v1beta1", "kind": "Input", "networkPolicy": map[string]any{"enabled": true}}
	optOut := minimalXR(t)
	optOut["spec"].(map[string]any)["networkPolicy"] = map[string]any{"enabled": false}
	observedNP := map[string]map[string]any{ResourceNetworkPolicy: {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": map[string]any{"name": "performer-minimal-performer", "namespace": "my-avs-project"}}}
	cases := map[string]struct {
		reason string
		req    *fnv1.RunFunctionRequest
		want   bool
	}{
		"DefaultOff":       {reason: "Off unless the platform turns it on.", req: newRequest(t, minimalXR(t), nil, nil), want: false},
		"PlatformOn":       {reason: "The platform's input turns it on.", req: newRequest(t, minimalXR(t), nil, on), want: true},
		"PerformerOptsOut": {reason: "A Performer can turn it off; the observed one is no longer desired.", req: newRequest(t, optOut, observedNP, on), want: false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			rsp, err := newTestFunction().RunFunction(context.Background(), tc.req)
			if err != nil {
				t.Fatal(err)
			}
			_, got := rsp.GetDesired().GetResources()[ResourceNetworkPolicy]
			if got != tc.want {
				t.Errorf("%s\nNetworkPolicy desired: want %v, got %v (results %v)", tc.reason, tc.want, got, rsp.GetResults())
			}
		})
	}
}

// TestRunFunctionNoEnvValuesInLogs checks that neither logs nor results carry
// env values, on the success path and on a Fatal one.
func TestRunFunctionNoEnvValuesInLogs(t *testing.T) {
	const secret = "s3cr3t-value-do-not-log"
	for name, mutate := range map[string]func(map[string]any){
		"Success": func(map[string]any) {},
		"Fatal": func(s map[string]any) {
			s["hardwareRequirements"] = map[string]any{"gpuType": "unknown-gpu", "gpuCount": float64(1)}
		},
	} {
		t.Run(name, func(t *testing.T) {
			xr := minimalXR(t)
			spec := xr["spec"].(map[string]any)
			spec["config"] = map[string]any{"env": []any{map[string]any{"name": "API_KEY", "value": secret}}}
			mutate(spec)
			var lines []string
			f := &Function{log: recorder{lines: &lines}, now: newTestFunction().now}
			rsp, err := f.RunFunction(context.Background(), newRequest(t, xr, nil, nil))
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range lines {
				if strings.Contains(l, secret) {
					t.Errorf("a log line carries an env value: %s", l)
				}
			}
			for _, r := range rsp.GetResults() {
				if strings.Contains(r.GetMessage(), secret) {
					t.Errorf("a result carries an env value: %s", r.GetMessage())
				}
			}
		})
	}
}

// TestObjectOf checks that an object is read whole but for its managed
// fields, which the function never reads.
func TestObjectOf(t *testing.T) {
	obj := map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{
			"name": "d", "labels": map[string]any{"app": "performer"}, "generation": float64(2),
			"managedFields": []any{map[string]any{"manager": "kube-controller-manager", "operation": "Update"}},
		},
		"spec":   map[string]any{"replicas": float64(1)},
		"status": map[string]any{"availableReplicas": float64(1)},
	}
	want := map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "d", "labels": map[string]any{"app": "performer"}, "generation": float64(2)},
		"spec":     map[string]any{"replicas": float64(1)},
		"status":   map[string]any{"availableReplicas": float64(1)},
	}
	if diff := cmp.Diff(want, objectOf(mustStruct(t, obj))); diff != "" {
		t.Errorf("objectOf(...): -want, +got:\n%s", diff)
	}
	if diff := cmp.Diff(map[string]any{}, objectOf(nil)); diff != "" {
		t.Errorf("objectOf(nil): -want, +got:\n%s", diff)
	}
}
