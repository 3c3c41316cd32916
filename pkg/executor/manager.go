package executor

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"

	"github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
	"github.com/hourglass-xp/crossplane-hourglass/internal/names"
)

const (
	errNoNamespace     = "a namespace is required"
	errNoExecutor      = "an executor name is required"
	errNoImage         = "an image is required"
	errFmtPullPolicy   = "image pull policy %q is not one of Always, Never, IfNotPresent"
	errNoClient        = "a Kubernetes client is required"
	errNewClientK8s    = "cannot create Kubernetes client"
	errScheme          = "cannot build the client scheme"
	errFmtGet          = "cannot get performer %s/%s"
	errFmtCreate       = "cannot create performer %s/%s"
	errFmtPatch        = "cannot patch performer %s/%s"
	errFmtDelete       = "cannot delete performer %s/%s"
	errFmtList         = "cannot list performers of executor %s in namespace %s"
	errFmtNotOurs      = "performer %s/%s exists but belongs to executor %q and AVS %q, not executor %q and AVS %q"
	errFmtAmbiguous    = "%d performers of executor %s serve AVS %s in namespace %s; expected one"
	errFmtDeleting     = "performer %s/%s is being deleted; start it again once it is gone"
	errFmtNotFound     = "no performer of executor %s serves AVS %s in namespace %s"
	errFmtGetOwner     = "cannot get StatefulSet %s/%s to own performers"
	errFmtUpgradeReady = "performer %s/%s runs version %s, but new calls cannot switch over to it"
)

// Defaults of ManagerOptions.
const (
	DefaultStartTimeout   = 5 * time.Minute
	DefaultUpgradeTimeout = 15 * time.Minute
	DefaultStopTimeout    = 5 * time.Minute
)

// ManagerOptions configure a KubernetesPerformerManager.
type ManagerOptions struct {
	// Namespace the executor runs performers in; its Role grants nothing
	// elsewhere.
	Namespace string

	// Executor names this executor. Performer names are derived from it
	// and the AVS address, and Performers are labelled with it: an
	// executor restarted under the same name adopts its performers. Use
	// something stable, e.g. the StatefulSet pod's name.
	Executor string

	// Owner, when set, becomes the owner reference of every Performer
	// (e.g. the executor's StatefulSet, see OwnerStatefulSet), so deleting
	// the executor deletes its performers. It does not block the owner's
	// deletion.
	Owner *metav1.OwnerReference

	// DefaultScheduling is used for performers whose request has no
	// scheduling of its own.
	DefaultScheduling *v1alpha1.SchedulingConfig

	// DefaultImagePullPolicy is used for performers whose request has no
	// image pull policy of its own; empty leaves Kubernetes' default.
	DefaultImagePullPolicy corev1.PullPolicy

	// ServicePattern, when set, validates every endpoint read from a
	// Performer (see ServicePattern). It never builds one.
	ServicePattern string

	// StartTimeout bounds StartPerformer's wait for a running performer;
	// zero takes DefaultStartTimeout, negative does not wait.
	StartTimeout time.Duration

	// UpgradeTimeout bounds UpgradePerformer's wait; zero takes
	// DefaultUpgradeTimeout.
	UpgradeTimeout time.Duration

	// StopTimeout bounds StopPerformer's wait for the Performer to be gone;
	// zero takes DefaultStopTimeout, negative does not wait.
	StopTimeout time.Duration

	// Pool, when set, holds the gRPC connections; otherwise the manager
	// makes one from Client.
	Pool *Pool

	// Client configures the gRPC connections when Pool is nil.
	Client ClientOptions
}

// PerformerRequest asks for a performer.
type PerformerRequest struct {
	// AVSAddress is the AVS the performer serves; with the executor's name
	// it names the Performer.
	AVSAddress string

	// Image and Version of the performer. Version must equal the image's
	// tag when the image has one.
	Image   string
	Version string

	// Spec holds the rest of the Performer spec: the image pull policy,
	// config (environment variables from config.environment,
	// config.environmentFrom and config.env, each name in one of them
	// only), resources, scheduling, hardware requirements, pull secrets,
	// and in Crossplane the Composition (revision or channel) to compose
	// with. Its AVSAddress, Image and Version are replaced by the fields
	// above. Of Crossplane, only the fields set are written: Crossplane
	// sets the others itself.
	Spec v1alpha1.PerformerSpec

	// Labels are added to the Performer, beside the executor's own.
	Labels map[string]string
}

// KubernetesPerformerManager runs an executor's performers as Performers
// (namespaced Crossplane composites) in one namespace and keeps a gRPC
// client for each.
type KubernetesPerformerManager struct {
	client     client.WithWatch
	namespace  string
	executor   string
	owner      *metav1.OwnerReference
	defaults   *v1alpha1.SchedulingConfig
	pullPolicy corev1.PullPolicy
	pattern    *ServicePattern
	pool       *Pool

	startTimeout, upgradeTimeout, stopTimeout time.Duration

	// now is the clock; tests replace it.
	now func() time.Time

	mu         sync.Mutex
	performers map[string]*KubernetesAVSPerformer // by lowercased AVS address
}

// Scheme returns a scheme with every type the manager reads: Performers,
// Secrets, Services and StatefulSets.
func Scheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		return nil, errors.Wrap(err, errScheme)
	}
	return s, errors.Wrap(v1alpha1.AddToScheme(s), errScheme)
}

// NewForConfig returns a manager talking to the API server of cfg.
func NewForConfig(cfg *rest.Config, o ManagerOptions) (*KubernetesPerformerManager, error) {
	s, err := Scheme()
	if err != nil {
		return nil, err
	}
	c, err := client.NewWithWatch(cfg, client.Options{Scheme: s})
	if err != nil {
		return nil, errors.Wrap(err, errNewClientK8s)
	}
	return NewKubernetesPerformerManager(c, o)
}

// NewKubernetesPerformerManager returns a manager using c, whose scheme must
// know the Performer types (see Scheme).
func NewKubernetesPerformerManager(c client.WithWatch, o ManagerOptions) (*KubernetesPerformerManager, error) {
	switch {
	case c == nil:
		return nil, errors.New(errNoClient)
	case o.Namespace == "":
		return nil, errors.New(errNoNamespace)
	case o.Executor == "":
		return nil, errors.New(errNoExecutor)
	}
	if err := validatePullPolicy(o.DefaultImagePullPolicy); err != nil {
		return nil, err
	}
	m := &KubernetesPerformerManager{
		client:         c,
		namespace:      o.Namespace,
		executor:       o.Executor,
		owner:          o.Owner,
		defaults:       o.DefaultScheduling,
		pullPolicy:     o.DefaultImagePullPolicy,
		pool:           o.Pool,
		startTimeout:   orDefault(o.StartTimeout, DefaultStartTimeout),
		upgradeTimeout: orDefault(o.UpgradeTimeout, DefaultUpgradeTimeout),
		stopTimeout:    orDefault(o.StopTimeout, DefaultStopTimeout),
		now:            time.Now,
		performers:     map[string]*KubernetesAVSPerformer{},
	}
	if o.ServicePattern != "" {
		sp, err := ParseServicePattern(o.ServicePattern)
		if err != nil {
			return nil, err
		}
		m.pattern = sp
	}
	if m.pool == nil {
		p, err := NewPool(o.Client)
		if err != nil {
			return nil, err
		}
		m.pool = p
	}
	return m, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// OwnerStatefulSet returns an owner reference to the named StatefulSet, for
// ManagerOptions.Owner. It needs get on that StatefulSet (the example Role
// grants it for the executor's own StatefulSet only).
func OwnerStatefulSet(ctx context.Context, c client.Reader, namespace, name string) (*metav1.OwnerReference, error) {
	ss := &appsv1.StatefulSet{}
	if err := c.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, ss); err != nil {
		return nil, errors.Wrapf(err, errFmtGetOwner, namespace, name)
	}
	return &metav1.OwnerReference{
		APIVersion: appsv1.SchemeGroupVersion.String(),
		Kind:       "StatefulSet",
		Name:       ss.Name,
		UID:        ss.UID,
		// Blocking the owner's deletion would need update on its
		// finalizers, which an executor should not have.
		BlockOwnerDeletion: ptr.To(false),
	}, nil
}

// Pool is the gRPC connection pool of the manager's performers.
func (m *KubernetesPerformerManager) Pool() *Pool { return m.pool }

// Namespace is where the manager runs performers.
func (m *KubernetesPerformerManager) Namespace() string { return m.namespace }

// Executor is the name the manager's Performers are labelled with.
func (m *KubernetesPerformerManager) Executor() string { return m.executor }

func (m *KubernetesPerformerManager) labels(avs string) map[string]string {
	return map[string]string{
		LabelExecutor: names.LabelValue(m.executor),
		LabelAVS:      names.LabelValue(strings.ToLower(avs)),
	}
}

// owns reports whether the Performer was made by this executor for avs.
func (m *KubernetesPerformerManager) owns(p *v1alpha1.Performer, avs string) bool {
	return p.Labels[LabelExecutor] == names.LabelValue(m.executor) && strings.EqualFold(p.Spec.AVSAddress, avs)
}

func (m *KubernetesPerformerManager) desiredSpec(req PerformerRequest) (v1alpha1.PerformerSpec, error) {
	if err := validateAddress(req.AVSAddress); err != nil {
		return v1alpha1.PerformerSpec{}, err
	}
	if req.Image == "" {
		return v1alpha1.PerformerSpec{}, errors.New(errNoImage)
	}
	if req.Version != "" {
		if err := validateVersion(req.Version); err != nil {
			return v1alpha1.PerformerSpec{}, err
		}
	}
	s := *req.Spec.DeepCopy()
	s.AVSAddress, s.Image, s.Version = req.AVSAddress, req.Image, req.Version
	if s.Scheduling == nil && m.defaults != nil {
		s.Scheduling = m.defaults.DeepCopy()
	}
	if s.ImagePullPolicy == "" {
		s.ImagePullPolicy = m.pullPolicy
	}
	return s, nil
}

// validatePullPolicy checks an executor-wide default when the executor
// starts rather than at its first performer; empty is valid (Kubernetes'
// default). A request's own policy is left to the API server.
func validatePullPolicy(p corev1.PullPolicy) error {
	switch p {
	case "", corev1.PullAlways, corev1.PullNever, corev1.PullIfNotPresent:
		return nil
	}
	return errors.Errorf(errFmtPullPolicy, p)
}

// StartPerformer creates the executor's Performer for req.AVSAddress, or
// patches its spec when it exists, then waits (up to StartTimeout) until
// the performer serves: status.ready and the Ready condition are true and
// it has an endpoint. It fails at once with a ConditionError when the
// performer reports Degraded during the wait. A spec change to a serving
// performer rolls out by blue-green in the background while the previous
// revision keeps serving; use UpgradePerformer to wait for a new version.
func (m *KubernetesPerformerManager) StartPerformer(ctx context.Context, req PerformerRequest) (*KubernetesAVSPerformer, error) {
	spec, err := m.desiredSpec(req)
	if err != nil {
		return nil, err
	}
	name := PerformerName(m.executor, req.AVSAddress)
	since := m.now()

	p := &v1alpha1.Performer{}
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		err := m.client.Get(ctx, types.NamespacedName{Namespace: m.namespace, Name: name}, p)
		if kerrors.IsNotFound(err) {
			p = m.newPerformer(name, spec, req.Labels)
			err = m.client.Create(ctx, p)
			if kerrors.IsAlreadyExists(err) {
				// Made by another instance of this executor in the
				// meantime: patch it instead.
				return kerrors.NewConflict(v1alpha1.SchemeGroupVersion.WithResource("performers").GroupResource(), name, err)
			}
			// Everything this Performer reports belongs to this start.
			since = time.Time{}
			return errors.Wrapf(err, errFmtCreate, m.namespace, name)
		}
		if err != nil {
			return errors.Wrapf(err, errFmtGet, m.namespace, name)
		}
		if !m.owns(p, req.AVSAddress) {
			return errors.Errorf(errFmtNotOurs, m.namespace, name, p.Labels[LabelExecutor], p.Spec.AVSAddress, m.executor, req.AVSAddress)
		}
		if p.DeletionTimestamp != nil {
			// Patching a Performer on its way out would not bring it back.
			return errors.Errorf(errFmtDeleting, m.namespace, name)
		}
		before := p.DeepCopy()
		if !m.update(p, spec, req.Labels) {
			return nil
		}
		return errors.Wrapf(m.patch(ctx, before, p), errFmtPatch, m.namespace, name)
	})
	if err != nil {
		return nil, err
	}

	if m.startTimeout > 0 {
		got, err := m.waitFor(ctx, name, m.startTimeout, waitStart, running(since))
		if err != nil {
			return nil, err
		}
		p = got
	}
	return m.track(p), nil
}

func (m *KubernetesPerformerManager) newPerformer(name string, spec v1alpha1.PerformerSpec, extra map[string]string) *v1alpha1.Performer {
	p := &v1alpha1.Performer{
		ObjectMeta: metav1.ObjectMeta{Namespace: m.namespace, Name: name, Labels: map[string]string{}},
		Spec:       spec,
	}
	for k, v := range extra {
		p.Labels[k] = v
	}
	for k, v := range m.labels(spec.AVSAddress) {
		p.Labels[k] = v
	}
	if m.owner != nil {
		p.OwnerReferences = []metav1.OwnerReference{*m.owner}
	}
	return p
}

// update sets the desired spec and labels on an existing Performer,
// keeping the fields Crossplane sets, and reports whether anything changed.
func (m *KubernetesPerformerManager) update(p *v1alpha1.Performer, spec v1alpha1.PerformerSpec, extra map[string]string) bool {
	before := p.DeepCopy()
	// The API server defaults the gRPC port; leave it alone when the
	// request does not say, so an unchanged request writes nothing.
	if spec.Config.GRPCPort == 0 {
		spec.Config.GRPCPort = p.Spec.Config.GRPCPort
	}
	// An address in other letter case (EIP-55 checksum or not) is the
	// same AVS: keep the spelling the Performer has.
	if strings.EqualFold(spec.AVSAddress, p.Spec.AVSAddress) {
		spec.AVSAddress = p.Spec.AVSAddress
	}
	spec.Crossplane = overlayCrossplane(p.Spec.Crossplane, spec.Crossplane)
	p.Spec = spec
	if p.Labels == nil {
		p.Labels = map[string]string{}
	}
	for k, v := range extra {
		p.Labels[k] = v
	}
	for k, v := range m.labels(spec.AVSAddress) {
		p.Labels[k] = v
	}
	return !equality.Semantic.DeepEqual(before.Spec, p.Spec) || !equality.Semantic.DeepEqual(before.Labels, p.Labels)
}

// overlayCrossplane returns have with the fields want sets. Crossplane
// fills spec.crossplane itself (the Composition and, under the Automatic
// update policy, the revision it resolved), so a field a request leaves
// unset keeps Crossplane's value rather than clearing it.
func overlayCrossplane(have, want *v1alpha1.CrossplaneFields) *v1alpha1.CrossplaneFields {
	if want == nil {
		return have
	}
	out := &v1alpha1.CrossplaneFields{}
	if have != nil {
		out = have.DeepCopy()
	}
	w := want.DeepCopy()
	if w.CompositionRef != nil {
		out.CompositionRef = w.CompositionRef
	}
	if w.CompositionSelector != nil {
		out.CompositionSelector = w.CompositionSelector
	}
	if w.CompositionRevisionRef != nil {
		out.CompositionRevisionRef = w.CompositionRevisionRef
	}
	if w.CompositionRevisionSelector != nil {
		out.CompositionRevisionSelector = w.CompositionRevisionSelector
	}
	if w.CompositionUpdatePolicy != nil {
		out.CompositionUpdatePolicy = w.CompositionUpdatePolicy
	}
	return out
}

// patch writes what changed from before to p as a JSON merge patch guarded
// by before's resourceVersion (a conflict, retried by the callers, when
// someone wrote in between). Only the changed fields are sent: what this
// client's types do not know, like the composed resource references
// Crossplane keeps in spec.crossplane.resourceRefs, is never touched.
func (m *KubernetesPerformerManager) patch(ctx context.Context, before, p *v1alpha1.Performer) error {
	return m.client.Patch(ctx, p, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{}))
}

// find returns the executor's Performer for avs: by its derived name, or by
// labels for a Performer named otherwise (e.g. by an earlier naming rule).
func (m *KubernetesPerformerManager) find(ctx context.Context, avs string) (*v1alpha1.Performer, error) {
	if err := validateAddress(avs); err != nil {
		return nil, err
	}
	name := PerformerName(m.executor, avs)
	p := &v1alpha1.Performer{}
	err := m.client.Get(ctx, types.NamespacedName{Namespace: m.namespace, Name: name}, p)
	switch {
	case err == nil && m.owns(p, avs):
		return p, nil
	case err == nil:
		return nil, errors.Errorf(errFmtNotOurs, m.namespace, name, p.Labels[LabelExecutor], p.Spec.AVSAddress, m.executor, avs)
	case !kerrors.IsNotFound(err):
		return nil, errors.Wrapf(err, errFmtGet, m.namespace, name)
	}
	l := &v1alpha1.PerformerList{}
	if err := m.client.List(ctx, l, client.InNamespace(m.namespace), client.MatchingLabels(m.labels(avs))); err != nil {
		return nil, errors.Wrapf(err, errFmtList, m.executor, m.namespace)
	}
	var found []*v1alpha1.Performer
	for i := range l.Items {
		if m.owns(&l.Items[i], avs) {
			found = append(found, &l.Items[i])
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return nil, kerrors.NewNotFound(v1alpha1.SchemeGroupVersion.WithResource("performers").GroupResource(),
			errors.Errorf(errFmtNotFound, m.executor, avs, m.namespace).Error())
	default:
		return nil, errors.Errorf(errFmtAmbiguous, len(found), m.executor, avs, m.namespace)
	}
}

// StopPerformer deletes the executor's Performer for avsAddress and waits
// (up to StopTimeout) until it is gone. The delete propagates in the
// foreground: everything Crossplane composed blocks its owner's deletion, so
// the Performer outlives it and a finished StopPerformer means the performer
// is really removed. The performer's client is closed. Stopping a performer
// that does not exist succeeds.
func (m *KubernetesPerformerManager) StopPerformer(ctx context.Context, avsAddress string) error {
	p, err := m.find(ctx, avsAddress)
	if kerrors.IsNotFound(err) {
		m.forget(avsAddress)
		return nil
	}
	if err != nil {
		return err
	}
	err = m.client.Delete(ctx, p, client.Preconditions{UID: &p.UID}, client.PropagationPolicy(metav1.DeletePropagationForeground))
	if kerrors.IsNotFound(err) || kerrors.IsConflict(err) {
		// Gone already, or replaced: a new Performer is not ours to delete.
		err = nil
	}
	if err != nil {
		return errors.Wrapf(err, errFmtDelete, m.namespace, p.Name)
	}
	m.forget(avsAddress)
	if m.stopTimeout < 0 {
		return nil
	}
	_, err = m.waitFor(ctx, p.Name, m.stopTimeout, waitStop, nil)
	return err
}

// UpgradePerformer sets the version of the executor's performer for
// avsAddress (and the image's tag to match), then waits (up to
// UpgradeTimeout) for the blue-green upgrade to finish: Running and ready,
// the active revision at newVersion and lastUpgrade advanced. A failed upgrade returns
// the performer's own reason as a ConditionError; the previous version keeps
// serving then. On success the performer's client switches new calls over to
// a fresh connection, which reaches the new revision.
func (m *KubernetesPerformerManager) UpgradePerformer(ctx context.Context, avsAddress, newVersion string) error {
	return m.upgrade(ctx, avsAddress, "", newVersion)
}

// UpgradePerformerImage is UpgradePerformer with a new image as well, e.g.
// for images pinned by digest.
func (m *KubernetesPerformerManager) UpgradePerformerImage(ctx context.Context, avsAddress, image, version string) error {
	if image == "" {
		return errors.New(errNoImage)
	}
	return m.upgrade(ctx, avsAddress, image, version)
}

func (m *KubernetesPerformerManager) upgrade(ctx context.Context, avs, image, version string) error {
	if err := validateVersion(version); err != nil {
		return err
	}
	var p *v1alpha1.Performer
	var before *v1alpha1.PerformerStatus
	changed := false
	since := m.now()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var err error
		if p, err = m.find(ctx, avs); err != nil {
			return err
		}
		before = p.Status.DeepCopy()
		img := image
		if img == "" {
			if img, err = imageWithVersion(p.Spec.Image, version); err != nil {
				return err
			}
		}
		if p.Spec.Image == img && p.Spec.Version == version {
			// Asked before, e.g. by this executor before a restart:
			// wait for that upgrade rather than start one.
			return nil
		}
		old := p.DeepCopy()
		p.Spec.Image, p.Spec.Version = img, version
		changed = true
		return errors.Wrapf(m.patch(ctx, old, p), errFmtPatch, m.namespace, p.Name)
	})
	if err != nil {
		return err
	}
	// lastUpgrade must move when this call switched versions; an upgrade
	// asked earlier may have finished already.
	mustAdvance := changed && (before.Active == nil || before.Active.Version != version)
	got, err := m.waitFor(ctx, p.Name, m.upgradeTimeout, fmt.Sprintf(waitUpgradeFmt, version),
		upgraded(version, since, before.LastUpgrade, mustAdvance))
	if err != nil {
		return err
	}
	m.mu.Lock()
	k, ok := m.performers[strings.ToLower(avs)]
	m.mu.Unlock()
	if !ok {
		return nil
	}
	k.setPerformer(got)
	ep, err := m.endpoint(ctx, got)
	if err != nil {
		return err
	}
	return errors.Wrapf(k.SwitchOver(ctx, ep), errFmtUpgradeReady, m.namespace, got.Name, version)
}

// GetPerformerEndpoint returns the gRPC endpoint of the executor's
// performer for avsAddress, from the Performer's status or its connection
// Secret (ConnectionSecretName). It returns an EndpointNotReadyError while
// neither has one.
func (m *KubernetesPerformerManager) GetPerformerEndpoint(ctx context.Context, avsAddress string) (string, error) {
	p, err := m.find(ctx, avsAddress)
	if err != nil {
		return "", err
	}
	return m.endpoint(ctx, p)
}

// ListPerformers returns a client for every performer of this executor in
// its namespace, sorted by name. An executor calls it after a restart
// to adopt the performers it started before; the clients dial nothing until
// used.
func (m *KubernetesPerformerManager) ListPerformers(ctx context.Context) ([]*KubernetesAVSPerformer, error) {
	l := &v1alpha1.PerformerList{}
	if err := m.client.List(ctx, l, client.InNamespace(m.namespace), client.MatchingLabels{LabelExecutor: names.LabelValue(m.executor)}); err != nil {
		return nil, errors.Wrapf(err, errFmtList, m.executor, m.namespace)
	}
	sort.Slice(l.Items, func(i, j int) bool { return l.Items[i].Name < l.Items[j].Name })
	out := make([]*KubernetesAVSPerformer, 0, len(l.Items))
	for i := range l.Items {
		p := &l.Items[i]
		if !m.owns(p, p.Spec.AVSAddress) || p.DeletionTimestamp != nil {
			continue
		}
		out = append(out, m.track(p))
	}
	return out, nil
}

// track returns the client of a Performer, made once per AVS and kept up
// to date with the Performer's endpoint.
func (m *KubernetesPerformerManager) track(p *v1alpha1.Performer) *KubernetesAVSPerformer {
	avs := strings.ToLower(p.Spec.AVSAddress)
	m.mu.Lock()
	k, ok := m.performers[avs]
	if !ok || k.isClosed() {
		k = &KubernetesAVSPerformer{pool: m.pool}
		k.resolve = func(ctx context.Context) (string, error) { return m.GetPerformerEndpoint(ctx, avs) }
		m.performers[avs] = k
	}
	m.mu.Unlock()
	k.setPerformer(p)
	if ep := p.Status.GRPCEndpoint; ep != "" && m.validate(p, ep) == nil {
		k.setEndpoint(ep)
	}
	return k
}

func (m *KubernetesPerformerManager) forget(avs string) {
	m.mu.Lock()
	k, ok := m.performers[strings.ToLower(avs)]
	delete(m.performers, strings.ToLower(avs))
	m.mu.Unlock()
	if ok {
		_ = k.Close()
	}
}

// Close closes every performer client and the connection pool. The
// performers keep running.
func (m *KubernetesPerformerManager) Close() error {
	m.mu.Lock()
	ks := m.performers
	m.performers = map[string]*KubernetesAVSPerformer{}
	m.mu.Unlock()
	for _, k := range ks {
		_ = k.Close()
	}
	return m.pool.Close()
}
