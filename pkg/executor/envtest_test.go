package executor

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	extv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"

	"github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
	"github.com/hourglass-xp/crossplane-hourglass/internal/testtools"
)

// The manager's tests run against a real kube-apiserver and etcd (envtest)
// with the Performer claim CRD Crossplane derives from the committed
// definition. No Crossplane runs: the tests write the status the platform
// would write, which is what the manager's waiting logic reads.

const (
	xrdPath = "../../package/xrd/xperformers.hourglass.eigenlayer.io.yaml"
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
	crd, err := testtools.ClaimCRD(xrdPath)
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

// waitClaim waits until the claim exists and returns it.
func (pl *platform) waitClaim(name string) *v1alpha1.Performer {
	pl.t.Helper()
	p := &v1alpha1.Performer{}
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := pl.c.Get(context.Background(), types.NamespacedName{Namespace: pl.ns, Name: name}, p)
		if err == nil {
			return p
		}
		if !kerrors.IsNotFound(err) || time.Now().After(deadline) {
			pl.t.Fatalf("claim %s/%s: %v", pl.ns, name, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitSpec waits until the claim's spec satisfies ok.
func (pl *platform) waitSpec(name string, ok func(*v1alpha1.Performer) bool) {
	pl.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !ok(pl.waitClaim(name)) {
		if time.Now().After(deadline) {
			pl.t.Fatalf("claim %s/%s: spec never reached the expected state", pl.ns, name)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// setStatus changes the claim's status as the platform would.
func (pl *platform) setStatus(name string, fn func(s *v1alpha1.PerformerStatus)) {
	pl.t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		p := pl.waitClaim(name)
		fn(&p.Status)
		return pl.c.Status().Update(context.Background(), p)
	})
	if err != nil {
		pl.t.Fatalf("write status of %s/%s: %v", pl.ns, name, err)
	}
}

// serviceEndpoint is what the platform writes to status.grpcEndpoint for a
// claim. Only the platform stand-in formats it; the manager reads it.
func serviceEndpoint(ns, name string) string {
	return fmt.Sprintf("performer-%s.%s.svc.cluster.local:9090", name, ns)
}

func condition(typ, reason, msg string, at time.Time) metav1.Condition {
	return metav1.Condition{Type: typ, Status: metav1.ConditionTrue, Reason: reason, Message: msg, LastTransitionTime: metav1.NewTime(at)}
}
