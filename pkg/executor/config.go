package executor

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"os"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"

	"github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
)

// Performer modes of the executor configuration.
const (
	ModeDocker     = "docker"
	ModeKubernetes = "kubernetes"
)

// Transports of the executor configuration.
const (
	TransportNamePlaintext = "plaintext"
	TransportNameTLS       = "tls"
)

// Environment variables an executor's StatefulSet sets; they override the
// configuration file.
const (
	// EnvDeploymentMode is performer_mode: docker or kubernetes.
	EnvDeploymentMode = "DEPLOYMENT_MODE"
	// EnvNamespace is kubernetes.namespace, usually the executor pod's own
	// namespace from the downward API.
	EnvNamespace = "KUBERNETES_NAMESPACE"
	// EnvServicePattern is kubernetes.service_pattern; see ServicePattern.
	EnvServicePattern = "PERFORMER_SERVICE_PATTERN"
	// EnvExecutorName is kubernetes.executor_name, usually the pod's name.
	EnvExecutorName = "EXECUTOR_NAME"
	// EnvOwnerStatefulSet is kubernetes.owner_statefulset.
	EnvOwnerStatefulSet = "EXECUTOR_STATEFULSET"
)

const (
	errParseConfig   = "cannot parse executor configuration"
	errReadConfig    = "cannot read executor configuration"
	errInvalidConfig = "invalid executor configuration"
	errNotKubernetes = "performer_mode is not kubernetes"
	errReadCA        = "cannot read the performers' CA file"
	errNoCACerts     = "the performers' CA file holds no PEM certificate"
	errReadCert      = "cannot load the executor's client certificate"
	errResolveOwner  = "cannot resolve the executor's owner"
	errNewManager    = "cannot create the performer manager"
)

// Config is the part of an executor's configuration about performers, in
// the shape of the Hourglass executor's: performer_mode picks Docker or
// Kubernetes, and kubernetes holds the rest.
type Config struct {
	PerformerMode string            `json:"performer_mode" yaml:"performer_mode"`
	Kubernetes    *KubernetesConfig `json:"kubernetes,omitempty" yaml:"kubernetes,omitempty"`
}

// KubernetesConfig configures the Kubernetes performer mode.
type KubernetesConfig struct {
	// Namespace the executor runs performers in.
	Namespace string `json:"namespace" yaml:"namespace"`

	// ExecutorName names the executor; see ManagerOptions.Executor.
	ExecutorName string `json:"executor_name" yaml:"executor_name"`

	// OwnerStatefulSet, when set, names the executor's StatefulSet, made
	// the owner of every Performer.
	OwnerStatefulSet string `json:"owner_statefulset,omitempty" yaml:"owner_statefulset,omitempty"`

	// DefaultScheduling applies to performers started without scheduling.
	DefaultScheduling *v1alpha1.SchedulingConfig `json:"default_scheduling,omitempty" yaml:"default_scheduling,omitempty"`

	// DefaultImagePullPolicy applies to performers started without an
	// image pull policy: Always, Never or IfNotPresent.
	DefaultImagePullPolicy corev1.PullPolicy `json:"default_image_pull_policy,omitempty" yaml:"default_image_pull_policy,omitempty"`

	// ServicePattern validates endpoints; see ServicePattern.
	ServicePattern string `json:"service_pattern,omitempty" yaml:"service_pattern,omitempty"`

	// StartTimeout, UpgradeTimeout and StopTimeout bound the manager's
	// waits, as Go durations ("5m").
	StartTimeout   string `json:"start_timeout,omitempty" yaml:"start_timeout,omitempty"`
	UpgradeTimeout string `json:"upgrade_timeout,omitempty" yaml:"upgrade_timeout,omitempty"`
	StopTimeout    string `json:"stop_timeout,omitempty" yaml:"stop_timeout,omitempty"`

	// GRPC configures the connections to performers.
	GRPC GRPCConfig `json:"grpc" yaml:"grpc"`
}

// GRPCConfig configures the connections to performers.
type GRPCConfig struct {
	// Transport is plaintext or tls, and must be given: there is no
	// default.
	Transport string `json:"transport" yaml:"transport"`

	// CAFile is a PEM bundle of the CAs that sign performers'
	// certificates; empty trusts the system roots. TLS only.
	CAFile string `json:"ca_file,omitempty" yaml:"ca_file,omitempty"`

	// ServerName overrides the name checked in performers' certificates;
	// empty checks the endpoint's host, the Service's DNS name. TLS only.
	ServerName string `json:"server_name,omitempty" yaml:"server_name,omitempty"`

	// CertFile and KeyFile are the executor's client certificate, for
	// performers that require mutual TLS. TLS only.
	CertFile string `json:"cert_file,omitempty" yaml:"cert_file,omitempty"`
	KeyFile  string `json:"key_file,omitempty" yaml:"key_file,omitempty"`
}

// ParseConfig parses YAML or JSON, rejecting unknown fields.
func ParseConfig(b []byte) (Config, error) {
	c := Config{}
	return c, errors.Wrap(yaml.UnmarshalStrict(b, &c), errParseConfig)
}

// LoadConfig reads the configuration file at path (none when path is
// empty), applies the environment over it and validates the result.
func LoadConfig(path string) (Config, error) {
	c := Config{}
	if path != "" {
		b, err := os.ReadFile(path) //nolint:gosec // The operator chooses the file.
		if err != nil {
			return c, errors.Wrap(err, errReadConfig)
		}
		if c, err = ParseConfig(b); err != nil {
			return c, err
		}
	}
	c.ApplyEnv(os.LookupEnv)
	if errs := c.Validate(); len(errs) > 0 {
		return c, errors.Wrap(errs.ToAggregate(), errInvalidConfig)
	}
	return c, nil
}

// ApplyEnv overrides the configuration with the executor's environment:
// DEPLOYMENT_MODE, KUBERNETES_NAMESPACE, PERFORMER_SERVICE_PATTERN,
// EXECUTOR_NAME and EXECUTOR_STATEFULSET. Variables set to the empty string
// count as set.
func (c *Config) ApplyEnv(lookup func(string) (string, bool)) {
	if v, ok := lookup(EnvDeploymentMode); ok {
		c.PerformerMode = v
	}
	k := c.Kubernetes
	if k == nil {
		k = &KubernetesConfig{}
	}
	set := false
	for env, dst := range map[string]*string{
		EnvNamespace:        &k.Namespace,
		EnvServicePattern:   &k.ServicePattern,
		EnvExecutorName:     &k.ExecutorName,
		EnvOwnerStatefulSet: &k.OwnerStatefulSet,
	} {
		if v, ok := lookup(env); ok {
			*dst, set = v, true
		}
	}
	if c.Kubernetes != nil || set {
		c.Kubernetes = k
	}
}

// Validate returns every problem of the configuration, with its path.
func (c Config) Validate() field.ErrorList {
	var errs field.ErrorList
	root := field.NewPath("performer_mode")
	switch c.PerformerMode {
	case ModeKubernetes:
	case ModeDocker:
		return nil
	default:
		return append(errs, field.NotSupported(root, c.PerformerMode, []string{ModeDocker, ModeKubernetes}))
	}
	kp := field.NewPath("kubernetes")
	k := c.Kubernetes
	if k == nil {
		return append(errs, field.Required(kp, "required when performer_mode is kubernetes"))
	}
	if k.Namespace == "" {
		errs = append(errs, field.Required(kp.Child("namespace"), "or set "+EnvNamespace))
	}
	if k.ExecutorName == "" {
		errs = append(errs, field.Required(kp.Child("executor_name"), "or set "+EnvExecutorName))
	}
	if validatePullPolicy(k.DefaultImagePullPolicy) != nil {
		errs = append(errs, field.NotSupported(kp.Child("default_image_pull_policy"), k.DefaultImagePullPolicy,
			[]corev1.PullPolicy{corev1.PullAlways, corev1.PullNever, corev1.PullIfNotPresent}))
	}
	if k.ServicePattern != "" {
		if _, err := ParseServicePattern(k.ServicePattern); err != nil {
			errs = append(errs, field.Invalid(kp.Child("service_pattern"), k.ServicePattern, err.Error()))
		}
	}
	for name, v := range map[string]string{"start_timeout": k.StartTimeout, "upgrade_timeout": k.UpgradeTimeout, "stop_timeout": k.StopTimeout} {
		if v == "" {
			continue
		}
		if _, err := time.ParseDuration(v); err != nil {
			errs = append(errs, field.Invalid(kp.Child(name), v, err.Error()))
		}
	}
	gp := kp.Child("grpc")
	switch k.GRPC.Transport {
	case TransportNamePlaintext:
		for name, v := range map[string]string{"ca_file": k.GRPC.CAFile, "server_name": k.GRPC.ServerName, "cert_file": k.GRPC.CertFile, "key_file": k.GRPC.KeyFile} {
			if v != "" {
				errs = append(errs, field.Forbidden(gp.Child(name), "only with transport tls"))
			}
		}
	case TransportNameTLS:
		if (k.GRPC.CertFile == "") != (k.GRPC.KeyFile == "") {
			errs = append(errs, field.Required(gp.Child("key_file"), "cert_file and key_file go together"))
		}
	default:
		errs = append(errs, field.NotSupported(gp.Child("transport"), k.GRPC.Transport, []string{TransportNamePlaintext, TransportNameTLS}))
	}
	return errs
}

// ManagerOptions turns a validated Kubernetes configuration into manager
// options; Owner is left for NewManagerFromConfig to resolve.
func (c Config) ManagerOptions() (ManagerOptions, error) {
	if c.PerformerMode != ModeKubernetes || c.Kubernetes == nil {
		return ManagerOptions{}, errors.New(errNotKubernetes)
	}
	if errs := c.Validate(); len(errs) > 0 {
		return ManagerOptions{}, errors.Wrap(errs.ToAggregate(), errInvalidConfig)
	}
	k := c.Kubernetes
	t, err := k.GRPC.transport()
	if err != nil {
		return ManagerOptions{}, err
	}
	o := ManagerOptions{
		Namespace:              k.Namespace,
		Executor:               k.ExecutorName,
		DefaultScheduling:      k.DefaultScheduling,
		DefaultImagePullPolicy: k.DefaultImagePullPolicy,
		ServicePattern:         k.ServicePattern,
		Client:                 ClientOptions{Transport: t},
	}
	// Validate has parsed the durations.
	o.StartTimeout, _ = parseDuration(k.StartTimeout)
	o.UpgradeTimeout, _ = parseDuration(k.UpgradeTimeout)
	o.StopTimeout, _ = parseDuration(k.StopTimeout)
	return o, nil
}

func parseDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	return time.ParseDuration(s)
}

func (g GRPCConfig) transport() (Transport, error) {
	if g.Transport == TransportNamePlaintext {
		return Plaintext(), nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: g.ServerName}
	if g.CAFile != "" {
		pem, err := os.ReadFile(g.CAFile)
		if err != nil {
			return Transport{}, errors.Wrap(err, errReadCA)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return Transport{}, errors.New(errNoCACerts)
		}
	}
	if g.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(g.CertFile, g.KeyFile)
		if err != nil {
			return Transport{}, errors.Wrap(err, errReadCert)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return TLS(cfg), nil
}

// NewManagerFromConfig returns a manager for a Kubernetes configuration,
// talking to the API server of rc (in a pod: rest.InClusterConfig()). It
// resolves the owner StatefulSet when one is configured.
func NewManagerFromConfig(ctx context.Context, rc *rest.Config, c Config) (*KubernetesPerformerManager, error) {
	o, err := c.ManagerOptions()
	if err != nil {
		return nil, err
	}
	s, err := Scheme()
	if err != nil {
		return nil, err
	}
	kc, err := client.NewWithWatch(rc, client.Options{Scheme: s})
	if err != nil {
		return nil, errors.Wrap(err, errNewClientK8s)
	}
	if name := c.Kubernetes.OwnerStatefulSet; name != "" {
		if o.Owner, err = OwnerStatefulSet(ctx, kc, o.Namespace, name); err != nil {
			return nil, errors.Wrap(err, errResolveOwner)
		}
	}
	m, err := NewKubernetesPerformerManager(kc, o)
	return m, errors.Wrap(err, errNewManager)
}
