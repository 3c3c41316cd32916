// Package main is the thin Hourglass provider: it reconciles
// PerformerEndpoint managed resources, observing performer pods, Services
// and EndpointSlices, checking performers with grpc.health.v1, and
// publishing their endpoints as connection Secrets.
package main

import (
	"context"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/alecthomas/kong"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/crossplane/crossplane-runtime/v2/pkg/controller"
	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	"github.com/crossplane/crossplane-runtime/v2/pkg/event"
	"github.com/crossplane/crossplane-runtime/v2/pkg/feature"
	"github.com/crossplane/crossplane-runtime/v2/pkg/logging"
	"github.com/crossplane/crossplane-runtime/v2/pkg/ratelimiter"
	"github.com/crossplane/crossplane-runtime/v2/pkg/reconciler/managed"
	"github.com/crossplane/crossplane-runtime/v2/pkg/statemetrics"

	hourglass "github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
	"github.com/hourglass-xp/crossplane-hourglass/apis/observe/v1alpha1"
	"github.com/hourglass-xp/crossplane-hourglass/internal/provider"
)

const (
	errRESTConfig  = "cannot get API server REST config"
	errManager     = "cannot create controller manager"
	errScheme      = "cannot add APIs to scheme"
	errSelector    = "cannot parse --watch-selector"
	errSetup       = "cannot set up PerformerEndpoint controller"
	errAccessCheck = "cannot set up the check of Crossplane's access"

	errFmtServiceAccount  = "--crossplane-service-account %q: want NAMESPACE/NAME"
	errFmtHealthCheckCIDR = "cannot parse --health-check-cidr %q"
	errCachesNotSynced    = "informer caches not synced"
	errStart              = "cannot start controller manager"
	errMetrics            = "cannot register metrics"
	errHealthz            = "cannot add health checks"
	leaderElection        = "crossplane-leader-election-provider-hourglass"
)

// CLI of the provider.
type CLI struct {
	Debug bool `help:"Emit debug logs, controller-runtime's included." short:"d"`

	LeaderElection bool   `env:"LEADER_ELECTION" help:"Use leader election, so only one replica reconciles at a time." short:"l"`
	Namespace      string `default:"crossplane-system" env:"POD_NAMESPACE" help:"Namespace of the leader election Lease."`

	Sync            time.Duration `default:"1h"  help:"How often the informer caches resync." short:"s"`
	Poll            time.Duration `default:"1m"  help:"How often a Ready PerformerEndpoint is observed again."`
	PollFast        time.Duration `default:"5s"  help:"How often a PerformerEndpoint whose ready pod fails its gRPC health check is observed again (other states are announced by watches)."`
	PollStateMetric time.Duration `default:"5s"  help:"How often the managed resource state metrics are recorded."`

	// 10, the usual provider default, is used up by 600 Ready performers at
	// the 1 m poll alone, and every new performer needs about three
	// observations (no pods, pending, ready): 500 performers at once queued
	// for minutes (docs/benchmarks.md). An observation is a few cache reads
	// and one gRPC health check, so 50 is cheap.
	MaxReconcileRate int `default:"50"  help:"Maximum reconciles per second, across all PerformerEndpoints (also the number of concurrent ones)."`

	WatchSelector string `default:"app=performer" help:"Label selector of the pods, Services and EndpointSlices the provider caches; PerformerEndpoints only see objects it selects."`

	HealthCheck     bool     `default:"true" help:"Check ready pods with grpc.health.v1 (dialling pod IPs). --no-health-check turns it off for every PerformerEndpoint, for clusters where the provider cannot reach pods." negatable:""`
	HealthCheckCIDR []string `help:"Only dial pod IPs inside these CIDRs (repeatable); any pod IP when unset." placeholder:"10.0.0.0/8"`

	CrossplaneServiceAccount string        `default:"crossplane-system/crossplane" help:"Crossplane's ServiceAccount (NAMESPACE/NAME), whose permission to compose each Performer that is not Ready is checked."`
	AccessCheck              time.Duration `default:"30s" help:"How often Performers that are not Ready are checked for permissions Crossplane lacks (a Warning event CrossplaneAccessDenied on each names them); 0 turns the check off."`

	MetricsAddress string `default:":8080" env:"METRICS_ADDRESS" help:"Address of the Prometheus metrics endpoint; 0 disables it."`
	ProbeAddress   string `default:":8081" env:"PROBE_ADDRESS"   help:"Address of the /healthz and /readyz endpoints; 0 disables them."`
}

// Run the provider until it is told to stop.
func (c *CLI) Run() error {
	log := c.logger()
	sel, err := labels.Parse(c.WatchSelector)
	if err != nil {
		return errors.Wrap(err, errSelector)
	}
	prefixes, err := c.healthCheckPrefixes()
	if err != nil {
		return err
	}
	mgr, err := c.manager(sel)
	if err != nil {
		return err
	}
	mrMetrics, stateMetrics, err := registerMetrics()
	if err != nil {
		return err
	}
	if err := addProbes(mgr); err != nil {
		return errors.Wrap(err, errHealthz)
	}
	log.Info("Starting", "watch-selector", sel.String(), "health-check", c.HealthCheck, "health-check-cidr", c.HealthCheckCIDR)
	if err := provider.Setup(mgr, c.controllerOptions(log, mrMetrics, stateMetrics), c.providerConfig(prefixes)); err != nil {
		return errors.Wrap(err, errSetup)
	}
	if err := c.addAccessCheck(mgr, log); err != nil {
		return err
	}
	return errors.Wrap(mgr.Start(ctrl.SetupSignalHandler()), errStart)
}

// logger is the provider's logger. controller-runtime logs only with
// --debug: it is very chatty at info level.
func (c *CLI) logger() logging.Logger {
	zl := zap.New(zap.UseDevMode(c.Debug))
	if c.Debug {
		ctrl.SetLogger(zl)
	} else {
		ctrl.SetLogger(zap.New(zap.WriteTo(io.Discard)))
	}
	return logging.NewLogrLogger(zl.WithName("provider-hourglass"))
}

// healthCheckPrefixes parses --health-check-cidr.
func (c *CLI) healthCheckPrefixes() ([]netip.Prefix, error) {
	prefixes := make([]netip.Prefix, 0, len(c.HealthCheckCIDR))
	for _, s := range c.HealthCheckCIDR {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, errors.Wrapf(err, errFmtHealthCheckCIDR, s)
		}
		prefixes = append(prefixes, p)
	}
	return prefixes, nil
}

// manager is the controller manager, caching only the objects sel selects.
func (c *CLI) manager(sel labels.Selector) (ctrl.Manager, error) {
	cfg, err := ctrl.GetConfig()
	if err != nil {
		return nil, errors.Wrap(err, errRESTConfig)
	}
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, v1alpha1.AddToScheme, hourglass.AddToScheme} {
		if err := add(s); err != nil {
			return nil, errors.Wrap(err, errScheme)
		}
	}
	// Leases only, long ones: crossplane providers lose leadership under
	// load with controller-runtime's 15 s default.
	lease, renew := 60*time.Second, 50*time.Second
	mgr, err := ctrl.NewManager(ratelimiter.LimitRESTConfig(cfg, c.MaxReconcileRate), ctrl.Options{
		Scheme:                     s,
		Cache:                      provider.CacheOptions(sel, &c.Sync),
		Client:                     provider.ClientOptions(),
		LeaderElection:             c.LeaderElection,
		LeaderElectionID:           leaderElection,
		LeaderElectionNamespace:    c.Namespace,
		LeaderElectionResourceLock: resourcelock.LeasesResourceLock,
		// The process exits when the manager stops, so handing the Lease
		// back at once is safe and lets a restarted provider lead at once
		// instead of after a whole lease duration.
		LeaderElectionReleaseOnCancel: true,
		LeaseDuration:                 &lease,
		RenewDeadline:                 &renew,
		Metrics:                       metricsserver.Options{BindAddress: c.MetricsAddress},
		HealthProbeBindAddress:        c.ProbeAddress,
	})
	return mgr, errors.Wrap(err, errManager)
}

// registerMetrics registers the managed resource metrics and the
// provider's own with the Prometheus registry the manager serves.
func registerMetrics() (*managed.MRMetricRecorder, *statemetrics.MRStateMetrics, error) {
	mrMetrics := managed.NewMRMetricRecorder()
	stateMetrics := statemetrics.NewMRStateMetrics()
	for _, c := range []prometheus.Collector{mrMetrics, stateMetrics} {
		if err := metrics.Registry.Register(c); err != nil {
			return nil, nil, errors.Wrap(err, errMetrics)
		}
	}
	return mrMetrics, stateMetrics, errors.Wrap(provider.RegisterMetrics(metrics.Registry), errMetrics)
}

// addProbes makes the provider live once the process serves and ready once
// the informer caches have synced, so a restarted provider is not ready
// before it can observe.
func addProbes(mgr ctrl.Manager) error {
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return err
	}
	return mgr.AddReadyzCheck("caches", func(r *http.Request) error {
		ctx, cancel := context.WithTimeout(r.Context(), time.Second)
		defer cancel()
		if !mgr.GetCache().WaitForCacheSync(ctx) {
			return errors.New(errCachesNotSynced)
		}
		return nil
	})
}

// controllerOptions are the PerformerEndpoint controller's options: the
// reconcile rate bounds concurrency and the API client alike.
func (c *CLI) controllerOptions(log logging.Logger, mr *managed.MRMetricRecorder, state *statemetrics.MRStateMetrics) controller.Options {
	return controller.Options{
		Logger:                  log,
		MaxConcurrentReconciles: c.MaxReconcileRate,
		PollInterval:            c.Poll,
		GlobalRateLimiter:       ratelimiter.NewGlobal(c.MaxReconcileRate),
		Features:                &feature.Flags{},
		MetricOptions: &controller.MetricOptions{
			PollStateMetricInterval: c.PollStateMetric,
			MRMetrics:               mr,
			MRStateMetrics:          state,
		},
	}
}

// providerConfig is what the provider's reconciler needs beside the
// controller options: the gRPC health checker, unless turned off.
func (c *CLI) providerConfig(prefixes []netip.Prefix) provider.Config {
	pc := provider.Config{FastPollInterval: c.PollFast}
	if c.HealthCheck {
		pc.Health = provider.InstrumentedHealthChecker{HealthChecker: provider.GRPCHealthChecker{Resolve: provider.PodIPResolver(prefixes...)}}
	}
	return pc
}

func main() {
	ctx := kong.Parse(&CLI{}, kong.Name("provider-hourglass"),
		kong.Description("Observes Hourglass performers: pods, Services, EndpointSlices and gRPC health; publishes their endpoints."))
	ctx.FatalIfErrorf(ctx.Run())
}

// addAccessCheck adds the check of Crossplane's permissions, unless it is
// turned off.
func (c *CLI) addAccessCheck(mgr ctrl.Manager, log logging.Logger) error {
	if c.AccessCheck <= 0 {
		return nil
	}
	ns, name, ok := strings.Cut(c.CrossplaneServiceAccount, "/")
	if !ok || ns == "" || name == "" {
		return errors.Errorf(errFmtServiceAccount, c.CrossplaneServiceAccount)
	}
	return errors.Wrap(mgr.Add(&provider.AccessChecker{
		Reader:   mgr.GetAPIReader(),
		Reviewer: provider.SubjectAccessReviewer{Client: mgr.GetClient()},
		Record:   event.NewAPIRecorder(mgr.GetEventRecorderFor("provider-hourglass")), //nolint:staticcheck // crossplane-runtime's recorder takes the core/v1 EventRecorder.
		Log:      log.WithValues("controller", "crossplane-access"),
		User:     provider.ServiceAccountUser(types.NamespacedName{Namespace: ns, Name: name}),
		Need:     provider.ComposeAccess,
		Interval: c.AccessCheck,
	}), errAccessCheck)
}
