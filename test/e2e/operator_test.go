//go:build e2e

package e2e

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/hourglass-xp/crossplane-hourglass/internal/names"
)

// What the original Hourglass operator (hourglass-operator in
// Layr-Labs/hourglass-monorepo) leaves in a cluster, written from what its
// source does, for the takeover test: its chart's CRD, and per Performer
// the finalizer, a bare pod and a Service, both controlled by the
// Performer, and the status its controller writes. Everything is written
// as a controller-runtime operator writes it: client-side, with its
// binary's name ("manager", as kubebuilder builds it) as field manager.

// operatorFieldManager is the field manager of every write the operator
// makes.
const operatorFieldManager = "manager"

// operatorCRD is the operator chart's CRD, as far as a takeover sees it:
// the same name, group, kind, scope, version and subresource; the spec and
// status fields the operator reads and writes (the nested Kubernetes types
// under scheduling and resources left open, as the generated schema's
// detail does not matter here); the operator's defaults (grpcPort 9090
// when spec.config is present, imagePullPolicy IfNotPresent) and printer
// columns.
const operatorCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: performers.hourglass.eigenlayer.io
  annotations:
    controller-gen.kubebuilder.io/version: v0.16.1
spec:
  group: hourglass.eigenlayer.io
  names: {kind: Performer, listKind: PerformerList, plural: performers, singular: performer}
  scope: Namespaced
  versions:
  - name: v1alpha1
    served: true
    storage: true
    subresources: {status: {}}
    additionalPrinterColumns:
    - {jsonPath: .spec.avsAddress, name: AVS, type: string}
    - {jsonPath: .spec.image, name: Image, type: string}
    - {jsonPath: .status.phase, name: Phase, type: string}
    - {jsonPath: .status.grpcEndpoint, name: Endpoint, type: string}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          apiVersion: {type: string}
          kind: {type: string}
          metadata: {type: object}
          spec:
            type: object
            required: [avsAddress, image]
            properties:
              avsAddress: {type: string}
              image: {type: string}
              imagePullPolicy: {type: string, default: IfNotPresent}
              version: {type: string}
              imagePullSecrets:
                type: array
                items: {type: object, x-kubernetes-preserve-unknown-fields: true}
              config:
                type: object
                properties:
                  grpcPort: {type: integer, format: int32, default: 9090}
                  environment: {type: object, additionalProperties: {type: string}}
                  args: {type: array, items: {type: string}}
                  command: {type: array, items: {type: string}}
                  serviceAccountName: {type: string}
              resources: {type: object, x-kubernetes-preserve-unknown-fields: true}
              scheduling: {type: object, x-kubernetes-preserve-unknown-fields: true}
              hardwareRequirements:
                type: object
                properties:
                  gpuCount: {type: integer, format: int32}
                  gpuType: {type: string}
                  teeRequired: {type: boolean}
                  teeType: {type: string}
                  customLabels: {type: object, additionalProperties: {type: string}}
          status:
            type: object
            properties:
              phase: {type: string}
              podName: {type: string}
              serviceName: {type: string}
              grpcEndpoint: {type: string}
              ready: {type: boolean}
              readyTime: {type: string, format: date-time}
              lastUpgrade: {type: string, format: date-time}
              conditions:
                type: array
                items: {type: object, x-kubernetes-preserve-unknown-fields: true}
`

// operatorPerformer is one performer as the operator made it.
type operatorPerformer struct {
	name, image string
	// podImage is what the operator's pod runs when the Performer was
	// edited after the operator stopped (it runs image otherwise).
	podImage string
	// foreignService makes the Service performer-{name} another
	// controller's (a ConfigMap's, standing for anything else), as if a
	// platform team had made one of that name by hand.
	foreignService bool
	// config is spec.config; nil leaves it out, and the operator's pod
	// then listens on 8080.
	config map[string]any
}

// port is what the operator's pod and Service listen on.
func (op operatorPerformer) port() int32 {
	if op.config == nil {
		return 8080
	}
	if p, ok := op.config["grpcPort"].(int64); ok {
		return int32(p)
	}
	return 9090
}

// installOperatorCRD installs the operator's CRD and waits for it.
func (e *env) installOperatorCRD(t *testing.T) {
	t.Helper()
	e.mustKubectl(t, []byte(operatorCRD), "apply", "--field-manager=helm", "-f", "-")
	e.mustKubectl(t, nil, "wait", "--for=condition=Established", "crd/performers.hourglass.eigenlayer.io", "--timeout=60s")
}

// operatorFootprint makes what the operator makes for a Performer: the
// Performer as the executor applied it, the finalizer, the pod and Service
// controlled by it, and its status. It returns the Performer's UID.
func (e *env) operatorFootprint(t *testing.T, ns string, op operatorPerformer) *unstructured.Unstructured {
	t.Helper()
	ctx := t.Context()
	c := client.WithFieldOwner(e.c, operatorFieldManager)
	spec := map[string]any{"avsAddress": "0x00000000000000000000000000000000000000aa", "image": op.image}
	if op.config != nil {
		spec["config"] = op.config
	}
	p := &unstructured.Unstructured{Object: map[string]any{"spec": spec}}
	p.SetGroupVersionKind(performerGVK)
	p.SetNamespace(ns)
	p.SetName(op.name)
	if err := c.Create(ctx, p); err != nil {
		t.Fatalf("create performer %s/%s: %v", ns, op.name, err)
	}
	// The operator adds its finalizer first, in an update of its own.
	p.SetFinalizers([]string{names.OperatorFinalizer})
	if err := c.Update(ctx, p); err != nil {
		t.Fatalf("add the operator's finalizer to %s/%s: %v", ns, op.name, err)
	}
	owner := []metav1.OwnerReference{{
		APIVersion: performerGVK.GroupVersion().String(), Kind: performerGVK.Kind, Name: op.name, UID: p.GetUID(),
		Controller: new(true), BlockOwnerDeletion: new(true),
	}}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: names.OperatorPod(op.name), Namespace: ns, OwnerReferences: owner,
			Labels: map[string]string{
				names.LabelApp: names.AppOperatorPerformer, names.LabelOperatorPerformer: op.name,
				names.LabelAVS: "0x00000000000000000000000000000000000000aa",
			},
		},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "performer", Image: cmp.Or(op.podImage, op.image), ImagePullPolicy: corev1.PullIfNotPresent,
			Ports: []corev1.ContainerPort{{Name: "grpc", ContainerPort: op.port(), Protocol: corev1.ProtocolTCP}},
			Env:   operatorEnv(op.config),
		}}},
	}
	if err := c.Create(ctx, pod); err != nil {
		t.Fatalf("create the operator's pod for %s/%s: %v", ns, op.name, err)
	}
	svcOwner := owner
	if op.foreignService {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "someone-else", Namespace: ns}}
		if err := c.Create(ctx, cm); client.IgnoreAlreadyExists(err) != nil {
			t.Fatal(err)
		}
		if err := e.c.Get(ctx, client.ObjectKeyFromObject(cm), cm); err != nil {
			t.Fatal(err)
		}
		svcOwner = []metav1.OwnerReference{{APIVersion: "v1", Kind: "ConfigMap", Name: cm.Name, UID: cm.UID, Controller: new(true)}}
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: names.Service(op.name), Namespace: ns, OwnerReferences: svcOwner},
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeClusterIP,
			Selector: map[string]string{names.LabelOperatorPerformer: op.name},
			Ports:    []corev1.ServicePort{{Name: "grpc", Port: op.port(), TargetPort: intstr.FromString("grpc"), Protocol: corev1.ProtocolTCP}},
		},
	}
	if err := c.Create(ctx, svc); err != nil {
		t.Fatalf("create the operator's Service for %s/%s: %v", ns, op.name, err)
	}
	eventually(t, 2*time.Minute, fmt.Sprintf("the operator's pod of %s/%s ready", ns, op.name), func(ctx context.Context) error {
		got := &corev1.Pod{}
		if err := e.c.Get(ctx, client.ObjectKeyFromObject(pod), got); err != nil {
			return err
		}
		if !podReady(*got) {
			return fmt.Errorf("pod %s not ready: %s", got.Name, got.Status.Phase)
		}
		return nil
	})
	// The status the operator's controller writes once its pod runs.
	if err := e.c.Get(ctx, client.ObjectKeyFromObject(p), p); err != nil {
		t.Fatal(err)
	}
	st := map[string]any{
		"phase": "Running", "podName": pod.Name, "ready": true, "readyTime": time.Now().UTC().Format(time.RFC3339),
		"serviceName": svc.Name, "grpcEndpoint": fmt.Sprintf("%s.%s.svc.cluster.local", svc.Name, ns),
	}
	if err := unstructured.SetNestedField(p.Object, st, "status"); err != nil {
		t.Fatal(err)
	}
	if err := c.Status().Update(ctx, p); err != nil {
		t.Fatalf("write the operator's status of %s/%s: %v", ns, op.name, err)
	}
	return p
}

// operatorEnv is the env the operator gives its pod from
// spec.config.environment.
func operatorEnv(config map[string]any) []corev1.EnvVar {
	env, _ := config["environment"].(map[string]any)
	var out []corev1.EnvVar
	for _, k := range slices.Sorted(maps.Keys(env)) {
		out = append(out, corev1.EnvVar{Name: k, Value: fmt.Sprint(env[k])})
	}
	return out
}
