package executor

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	extv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
	"github.com/hourglass-xp/crossplane-hourglass/internal/names"
	"github.com/hourglass-xp/crossplane-hourglass/internal/testtools"
)

// The manager's tests run against a real kube-apiserver and etcd (envtest)
// with the Performer CRD Crossplane derives from the committed definition.
// No Crossplane runs: the tests write the status the platform would write,
// which is what the manager's waiting logic reads, and play the garbage
// collector's part in a foreground deletion.

const (
	xrdPath = "../../" + testtools.PerformerXRD
	// envRequireTools makes missing binaries a failure instead of a skip.
	envRequireTools = "HOURGLASS_REQUIRE_TOOLS"
)

var (
	// apiServer is the shared control plane; nil when the binaries are
	// missing, and then skipReason says why.
	apiServer  *rest.Config
	skipReason string
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	env, err := startEnv()
	if err != nil {
		skipReason = err.Error()
		return m.Run()
	}
	defer func() { _ = env.Stop() }()
	apiServer = env.Config
	return m.Run()
}

// assetsDir is KUBEBUILDER_ASSETS, or the repository's _output/bin where
// cluster/tools/build.sh puts etcd and kube-apiserver.
func assetsDir() string {
	if d := os.Getenv("KUBEBUILDER_ASSETS"); d != "" {
		return d
	}
	d, _ := filepath.Abs("../../_output/bin")
	return d
}

func startEnv() (*envtest.Environment, error) {
	dir := assetsDir()
	for _, b := range []string{"etcd", "kube-apiserver"} {
		if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
			return nil, errors.Errorf("no %s in %s (KUBEBUILDER_ASSETS); build it with: bash cluster/tools/build.sh etcd; bash cluster/tools/build.sh kubernetes", b, dir)
		}
	}
	crd, err := testtools.PerformerCRD(xrdPath)
	if err != nil {
		return nil, err
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory: dir,
		CRDs:                  []*extv1.CustomResourceDefinition{crd},
		// Never talk to whatever cluster the environment points at.
		UseExistingCluster:       ptr.To(false),
		ControlPlaneStartTimeout: 2 * time.Minute,
	}
	if _, err := env.Start(); err != nil {
		return nil, errors.Wrap(err, "cannot start envtest")
	}
	return env, nil
}

// needAPIServer skips the test when envtest could not start, or fails it
// under HOURGLASS_REQUIRE_TOOLS=1.
func needAPIServer(t *testing.T) *rest.Config {
	t.Helper()
	if apiServer != nil {
		return rest.CopyConfig(apiServer)
	}
	if os.Getenv(envRequireTools) == "1" {
		t.Fatalf("%s=1 but the API server is not available: %s", envRequireTools, skipReason)
	}
	t.Skipf("API server not available: %s", skipReason)
	return nil
}

func newClient(t *testing.T, cfg *rest.Config) client.WithWatch {
	t.Helper()
	s, err := Scheme()
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.NewWithWatch(cfg, client.Options{Scheme: s})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newNamespace(t *testing.T, c client.Client, prefix string) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: prefix + "-"}}
	if err := c.Create(t.Context(), ns); err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	return ns.Name
}

// platform plays the part of Crossplane and the composition function: it
// writes the status they would write. Writing status by hand is what lets
// these tests reach every state the manager waits for, failures included.
type platform struct {
	t  *testing.T
	c  client.Client
	ns string
}

// waitPerformer waits until the Performer exists and returns it.
func (pl *platform) waitPerformer(name string) *v1alpha1.Performer {
	pl.t.Helper()
	p := &v1alpha1.Performer{}
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := pl.c.Get(context.Background(), types.NamespacedName{Namespace: pl.ns, Name: name}, p)
		if err == nil {
			return p
		}
		if !kerrors.IsNotFound(err) || time.Now().After(deadline) {
			pl.t.Fatalf("performer %s/%s: %v", pl.ns, name, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitSpec waits until the Performer's spec satisfies ok.
func (pl *platform) waitSpec(name string, ok func(*v1alpha1.Performer) bool) {
	pl.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !ok(pl.waitPerformer(name)) {
		if time.Now().After(deadline) {
			pl.t.Fatalf("performer %s/%s: spec never reached the expected state", pl.ns, name)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// setStatus changes the Performer's status as the platform would.
func (pl *platform) setStatus(name string, fn func(s *v1alpha1.PerformerStatus)) {
	pl.t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		p := pl.waitPerformer(name)
		fn(&p.Status)
		return pl.c.Status().Update(context.Background(), p)
	})
	if err != nil {
		pl.t.Fatalf("write status of %s/%s: %v", pl.ns, name, err)
	}
}

// collect plays the garbage collector for a Performer deleted in the
// foreground: it waits until the Performer is being deleted and holds the
// foregroundDeletion finalizer, then removes it, as the collector does once
// every composed object blocking the deletion is gone (none exists here).
// A Performer deleted without foreground propagation fails the test.
func (pl *platform) collect(name string) {
	pl.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		p := &v1alpha1.Performer{}
		err := pl.c.Get(context.Background(), types.NamespacedName{Namespace: pl.ns, Name: name}, p)
		if kerrors.IsNotFound(err) {
			pl.t.Fatalf("performer %s/%s was deleted without foreground propagation: nothing composed would have blocked it", pl.ns, name)
		}
		if err != nil {
			pl.t.Fatalf("performer %s/%s: %v", pl.ns, name, err)
		}
		if p.DeletionTimestamp != nil {
			if !slices.Contains(p.Finalizers, metav1.FinalizerDeleteDependents) {
				pl.t.Fatalf("performer %s/%s is being deleted without the %s finalizer: got %v", pl.ns, name, metav1.FinalizerDeleteDependents, p.Finalizers)
			}
			p.Finalizers = slices.DeleteFunc(p.Finalizers, func(f string) bool { return f == metav1.FinalizerDeleteDependents })
			err := pl.c.Update(context.Background(), p)
			if err == nil || kerrors.IsNotFound(err) {
				return
			}
			if !kerrors.IsConflict(err) {
				pl.t.Fatalf("remove the %s finalizer of %s/%s: %v", metav1.FinalizerDeleteDependents, pl.ns, name, err)
			}
		}
		if time.Now().After(deadline) {
			pl.t.Fatalf("performer %s/%s was never deleted", pl.ns, name)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// serviceEndpoint is what the platform writes to status.grpcEndpoint for a
// Performer. Only the platform stand-in builds it; the manager reads it.
func serviceEndpoint(ns, name string) string {
	return names.Endpoint(names.Service(name), ns, 9090)
}

// setReady writes readiness as the platform does: status.ready from the
// function, and Crossplane's Ready condition, both on the Performer.
func setReady(s *v1alpha1.PerformerStatus, ready bool) {
	s.Ready = ready
	c := metav1.Condition{Type: string(xpv2.TypeReady), Status: metav1.ConditionTrue, Reason: string(xpv2.ReasonAvailable)}
	if !ready {
		c.Status, c.Reason = metav1.ConditionFalse, string(xpv2.ReasonUnavailable)
	}
	meta.SetStatusCondition(&s.Conditions, c)
}

func condition(typ, reason, msg string, at time.Time) metav1.Condition {
	return metav1.Condition{Type: typ, Status: metav1.ConditionTrue, Reason: reason, Message: msg, LastTransitionTime: metav1.NewTime(at)}
}
