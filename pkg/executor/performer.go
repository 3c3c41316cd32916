package executor

import (
	"context"
	"sync"

	performerv1 "github.com/Layr-Labs/protocol-apis/gen/protos/eigenlayer/hourglass/v1/performer"
	"google.golang.org/grpc"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"

	"github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
)

const (
	errPerformerClosed = "performer client is closed"
	errExecuteTask     = "cannot execute task"
	errStartSync       = "cannot start sync"
)

// AVSPerformer is what an executor needs of a running performer, whatever
// runs it.
type AVSPerformer interface {
	// ExecuteTask runs one task on the performer.
	ExecuteTask(ctx context.Context, req *performerv1.TaskRequest) (*performerv1.TaskResponse, error)
	// StartSync asks the performer to start syncing.
	StartSync(ctx context.Context, req *performerv1.StartSyncRequest) (*performerv1.StartSyncResponse, error)
	// Health returns nil when the performer reports SERVING.
	Health(ctx context.Context) error
	// Close releases the client's connections; the performer keeps running.
	Close() error
}

var _ AVSPerformer = &KubernetesAVSPerformer{}

// KubernetesAVSPerformer is the gRPC client of one performer run by a
// Performer. Its connections come from a Pool shared by every
// performer of the executor. Calls are retried on UNAVAILABLE; after an
// upgrade, SwitchOver moves new calls to a fresh connection while calls in
// flight finish on the old one.
type KubernetesAVSPerformer struct {
	pool *Pool

	// resolve finds the endpoint when none is known yet, e.g. for a
	// performer rehydrated before its status had one.
	resolve func(ctx context.Context) (string, error)

	mu        sync.RWMutex
	endpoint  string
	performer *v1alpha1.Performer
	closed    bool
}

// NewAVSPerformer returns a client of the performer serving at endpoint,
// for executors that learn the endpoint some other way than through a
// KubernetesPerformerManager (e.g. a Performer applied by GitOps).
func NewAVSPerformer(pool *Pool, endpoint string) *KubernetesAVSPerformer {
	k := &KubernetesAVSPerformer{pool: pool, endpoint: endpoint}
	if endpoint != "" {
		pool.ref(endpoint)
	}
	return k
}

// Endpoint is the endpoint new calls go to; empty until known.
func (k *KubernetesAVSPerformer) Endpoint() string {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.endpoint
}

// Performer is the Performer as last seen by the manager, or nil for a
// client made with NewAVSPerformer.
func (k *KubernetesAVSPerformer) Performer() *v1alpha1.Performer {
	k.mu.RLock()
	defer k.mu.RUnlock()
	if k.performer == nil {
		return nil
	}
	return k.performer.DeepCopy()
}

// AVSAddress is the AVS the performer serves, from its Performer; empty for a
// client made with NewAVSPerformer.
func (k *KubernetesAVSPerformer) AVSAddress() string {
	if p := k.Performer(); p != nil {
		return p.Spec.AVSAddress
	}
	return ""
}

func (k *KubernetesAVSPerformer) isClosed() bool {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.closed
}

func (k *KubernetesAVSPerformer) setPerformer(p *v1alpha1.Performer) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.performer = p.DeepCopy()
}

// currentEndpoint returns the endpoint calls go to, asking the manager when
// none is known yet.
func (k *KubernetesAVSPerformer) currentEndpoint(ctx context.Context) (string, error) {
	k.mu.RLock()
	ep, closed, resolve := k.endpoint, k.closed, k.resolve
	k.mu.RUnlock()
	if closed {
		return "", errors.New(errPerformerClosed)
	}
	if ep != "" || resolve == nil {
		return ep, nil
	}
	ep, err := resolve(ctx)
	if err != nil {
		return "", err
	}
	k.setEndpoint(ep)
	return ep, nil
}

// setEndpoint moves the client to endpoint; the old endpoint's connection
// drains once no client uses it.
func (k *KubernetesAVSPerformer) setEndpoint(ep string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closed || ep == k.endpoint {
		return
	}
	if ep != "" {
		k.pool.ref(ep)
	}
	if k.endpoint != "" {
		k.pool.unref(k.endpoint)
	}
	k.endpoint = ep
}

// ExecuteTask runs a task on the performer, retrying UNAVAILABLE.
func (k *KubernetesAVSPerformer) ExecuteTask(ctx context.Context, req *performerv1.TaskRequest) (*performerv1.TaskResponse, error) {
	var rsp *performerv1.TaskResponse
	err := k.pool.invoke(ctx, k.currentEndpoint, func(ctx context.Context, cc *grpc.ClientConn) error {
		var err error
		rsp, err = performerv1.NewPerformerServiceClient(cc).ExecuteTask(ctx, req)
		return err
	})
	return rsp, errors.Wrap(err, errExecuteTask)
}

// StartSync asks the performer to start syncing, retrying UNAVAILABLE.
func (k *KubernetesAVSPerformer) StartSync(ctx context.Context, req *performerv1.StartSyncRequest) (*performerv1.StartSyncResponse, error) {
	var rsp *performerv1.StartSyncResponse
	err := k.pool.invoke(ctx, k.currentEndpoint, func(ctx context.Context, cc *grpc.ClientConn) error {
		var err error
		rsp, err = performerv1.NewPerformerServiceClient(cc).StartSync(ctx, req)
		return err
	})
	return rsp, errors.Wrap(err, errStartSync)
}

// Health returns nil when the performer reports SERVING on grpc.health.v1,
// a NotServingError when it answers otherwise, and the call's error when it
// cannot be reached.
func (k *KubernetesAVSPerformer) Health(ctx context.Context) error {
	ep, err := k.currentEndpoint(ctx)
	if err != nil {
		return err
	}
	return k.pool.Health(ctx, ep)
}

// SwitchOver moves new calls to a fresh, healthy connection to endpoint
// (the performer's current one; empty keeps the endpoint in use), while
// calls in flight finish on the old connection. Call it after an upgrade
// switched the performer's Service to a new revision.
func (k *KubernetesAVSPerformer) SwitchOver(ctx context.Context, endpoint string) error {
	if endpoint == "" {
		ep, err := k.currentEndpoint(ctx)
		if err != nil {
			return err
		}
		endpoint = ep
	}
	// Hold a reference to the new endpoint while switching, so its fresh
	// connection is not dropped as unused before the client moves to it.
	k.pool.ref(endpoint)
	defer k.pool.unref(endpoint)
	if err := k.pool.SwitchOver(ctx, endpoint); err != nil {
		return err
	}
	k.setEndpoint(endpoint)
	return nil
}

// Close stops the client; its connections close once no other client of
// the same endpoint uses them. The performer keeps running: stop it with
// KubernetesPerformerManager.StopPerformer.
func (k *KubernetesAVSPerformer) Close() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closed {
		return nil
	}
	k.closed = true
	if k.endpoint != "" {
		k.pool.unref(k.endpoint)
	}
	return nil
}
