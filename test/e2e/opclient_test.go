//go:build e2e

package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// An executor-shaped client: the Hourglass executor's Kubernetes mode as the
// issue describes it from the outside (never from its source). It writes
// Performers in the original operator's wire format, reads them into a Go
// struct that knows only the operator's fields, and writes that struct back
// whole. What it writes is spelled out here, not taken from this project's
// packages: the test must notice if the project drifts from it.
const (
	opLabelApp       = "app"
	opAppValue       = "hourglass-performer"
	opLabelAVS       = "hourglass.eigenlayer.io/avs"
	opLabelPerformer = "hourglass.eigenlayer.io/performer"
	opGRPCPort       = 8080
	// The executor polls status.ready every 5 s for up to 5 minutes.
	opPoll    = 5 * time.Second
	opPollFor = 5 * time.Minute
)

// opPerformer is the operator's Performer: every field the executor's
// struct has, and nothing else. A GET into it drops spec.crossplane and any
// field the operator did not have; an Update of it writes exactly this.
type opPerformer struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              opSpec   `json:"spec"`
	Status            opStatus `json:"status,omitempty"`
}

type opSpec struct {
	AVSAddress           string                        `json:"avsAddress"`
	Image                string                        `json:"image"`
	ImagePullPolicy      corev1.PullPolicy             `json:"imagePullPolicy,omitempty"`
	Version              string                        `json:"version,omitempty"`
	Config               opConfig                      `json:"config,omitempty"`
	Resources            *corev1.ResourceRequirements  `json:"resources,omitempty"`
	Scheduling           *opScheduling                 `json:"scheduling,omitempty"`
	HardwareRequirements *opHardware                   `json:"hardwareRequirements,omitempty"`
	ImagePullSecrets     []corev1.LocalObjectReference `json:"imagePullSecrets,omitempty"`
}

type opConfig struct {
	GRPCPort           int32             `json:"grpcPort,omitempty"`
	Environment        map[string]string `json:"environment,omitempty"`
	EnvironmentFrom    []opEnvFrom       `json:"environmentFrom,omitempty"`
	ServiceAccountName string            `json:"serviceAccountName,omitempty"`
}

type opEnvFrom struct {
	Name      string      `json:"name"`
	ValueFrom opValueFrom `json:"valueFrom"`
}

type opValueFrom struct {
	SecretKeyRef    *opKeyRef `json:"secretKeyRef,omitempty"`
	ConfigMapKeyRef *opKeyRef `json:"configMapKeyRef,omitempty"`
}

type opKeyRef struct {
	Name string `json:"name"`
	Key  string `json:"key"`
}

type opScheduling struct {
	NodeSelector      map[string]string   `json:"nodeSelector,omitempty"`
	Tolerations       []corev1.Toleration `json:"tolerations,omitempty"`
	Affinity          *corev1.Affinity    `json:"affinity,omitempty"`
	RuntimeClass      *string             `json:"runtimeClass,omitempty"`
	PriorityClassName *string             `json:"priorityClassName,omitempty"`
}

type opHardware struct {
	GPUType      string            `json:"gpuType,omitempty"`
	GPUCount     int32             `json:"gpuCount,omitempty"`
	TEERequired  bool              `json:"teeRequired,omitempty"`
	TEEType      string            `json:"teeType,omitempty"`
	CustomLabels map[string]string `json:"customLabels,omitempty"`
}

// opStatus is the operator's status; conditions are read as metav1.Condition.
type opStatus struct {
	Phase        string             `json:"phase,omitempty"`
	Ready        bool               `json:"ready,omitempty"`
	PodName      string             `json:"podName,omitempty"`
	ServiceName  string             `json:"serviceName,omitempty"`
	GRPCEndpoint string             `json:"grpcEndpoint,omitempty"`
	Conditions   []metav1.Condition `json:"conditions,omitempty"`
	LastUpgrade  *metav1.Time       `json:"lastUpgrade,omitempty"`
	ReadyTime    *metav1.Time       `json:"readyTime,omitempty"`
}

// opName is a name as the executor makes them: performer-{6 hex}-{8 hex}.
func opName(t *testing.T) string {
	t.Helper()
	b := make([]byte, 7)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	h := hex.EncodeToString(b)
	return "performer-" + h[:6] + "-" + h[6:]
}

// opEndpoint is the endpoint the executor computes from the name, without
// reading any status.
func opEndpoint(name, ns string) string {
	return fmt.Sprintf("performer-%s.%s.svc.cluster.local:%d", name, ns, opGRPCPort)
}

// newOpPerformer is the Performer the executor creates for an AVS and an
// image repository:tag.
func newOpPerformer(ns, name, avs, repo, tag string, env map[string]string, from []opEnvFrom) *opPerformer {
	return &opPerformer{
		TypeMeta: metav1.TypeMeta{APIVersion: performerGVK.GroupVersion().String(), Kind: performerGVK.Kind},
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: ns,
			Labels: map[string]string{opLabelApp: opAppValue, opLabelAVS: avs, opLabelPerformer: name},
		},
		Spec: opSpec{
			AVSAddress:      avs,
			Image:           repo + ":" + tag,
			ImagePullPolicy: corev1.PullIfNotPresent,
			Version:         tag,
			Config:          opConfig{GRPCPort: opGRPCPort, Environment: env, EnvironmentFrom: from},
		},
	}
}

// opClient talks to the API server as the executor does: whole objects,
// JSON in and out of its struct.
type opClient struct {
	c client.Client
}

func newOpClient(t *testing.T, cfg *rest.Config) opClient {
	t.Helper()
	c, err := client.New(cfg, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return opClient{c: c}
}

// toUnstructured is what goes over the wire for p.
func (p *opPerformer) toUnstructured() (*unstructured.Unstructured, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{}
	return u, json.Unmarshal(b, &u.Object)
}

func (o opClient) create(ctx context.Context, p *opPerformer) error {
	u, err := p.toUnstructured()
	if err != nil {
		return err
	}
	return o.c.Create(ctx, u)
}

// get reads the performer into the operator's struct: what the executor's
// struct does not know is gone from here on.
func (o opClient) get(ctx context.Context, ns, name string) (*opPerformer, error) {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(performerGVK)
	if err := o.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, u); err != nil {
		return nil, err
	}
	b, err := json.Marshal(u.Object)
	if err != nil {
		return nil, err
	}
	p := &opPerformer{}
	return p, json.Unmarshal(b, p)
}

// update PUTs p whole and returns what the API server stored.
func (o opClient) update(ctx context.Context, p *opPerformer) (*unstructured.Unstructured, error) {
	u, err := p.toUnstructured()
	if err != nil {
		return nil, err
	}
	return u, o.c.Update(ctx, u)
}

// delete is a plain Delete: no propagation policy, no preconditions.
func (o opClient) delete(ctx context.Context, ns, name string) error {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(performerGVK)
	u.SetNamespace(ns)
	u.SetName(name)
	return o.c.Delete(ctx, u)
}

// waitReady polls as the executor does: a GET every opPoll until
// status.ready is true, for at most opPollFor. It returns the performer as
// the executor last read it and how long that took.
func (o opClient) waitReady(ctx context.Context, ns, name string) (*opPerformer, time.Duration, error) {
	t0 := time.Now()
	ctx, cancel := context.WithTimeout(ctx, opPollFor)
	defer cancel()
	for {
		p, err := o.get(ctx, ns, name)
		if err == nil && p.Status.Ready {
			return p, time.Since(t0), nil
		}
		select {
		case <-ctx.Done():
			if err == nil {
				err = fmt.Errorf("status.ready still false; phase %q, conditions %+v", p.Status.Phase, p.Status.Conditions)
			}
			return nil, time.Since(t0), fmt.Errorf("performer %s/%s not ready within %s: %w", ns, name, opPollFor, err)
		case <-time.After(opPoll):
		}
	}
}
