package executor

import (
	"context"
	"fmt"
	"net"
	"regexp"
	"strings"

	corev1 "k8s.io/api/core/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"

	"github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
	"github.com/hourglass-xp/crossplane-hourglass/internal/names"
)

// Keys of a Performer's connection Secret (see ConnectionSecretName), for
// executors that cannot import the platform's internal naming rules.
const (
	ConnectionKeyEndpoint = names.ConnectionEndpoint
	ConnectionKeyHost     = names.ConnectionHost
	ConnectionKeyPort     = names.ConnectionPort
)

const (
	errFmtGetSecret       = "cannot get connection Secret %s/%s of performer %s"
	errFmtNotReady        = "performer %s/%s has no endpoint yet: neither status.grpcEndpoint nor its connection Secret has one"
	errFmtPatternMismatch = "endpoint %q of a performer in namespace %s does not match the service pattern %q"
	errFmtBadPattern      = "service pattern %q must contain {name}, {namespace} and {port} and nothing else in braces"
)

// EndpointNotReadyError is returned while a performer has no endpoint.
type EndpointNotReadyError struct {
	Namespace, Name string
}

func (e *EndpointNotReadyError) Error() string {
	return fmt.Sprintf(errFmtNotReady, e.Namespace, e.Name)
}

// endpoint reads a Performer's endpoint: status.grpcEndpoint, which the
// function writes from its first composition on, else the connection Secret
// it composes (key endpoint, or host and port), which may be applied before
// the status is written. It is never assembled from a name pattern.
func (m *KubernetesPerformerManager) endpoint(ctx context.Context, p *v1alpha1.Performer) (string, error) {
	if ep := p.Status.GRPCEndpoint; ep != "" {
		return ep, m.validate(p, ep)
	}
	name := p.Status.ConnectionSecretName
	if name == "" {
		name = names.ConnectionSecret(p.Name)
	}
	s := &corev1.Secret{}
	err := m.client.Get(ctx, types.NamespacedName{Namespace: p.Namespace, Name: name}, s)
	if kerrors.IsNotFound(err) {
		return "", &EndpointNotReadyError{Namespace: p.Namespace, Name: p.Name}
	}
	if err != nil {
		return "", errors.Wrapf(err, errFmtGetSecret, p.Namespace, name, p.Name)
	}
	ep := string(s.Data[ConnectionKeyEndpoint])
	if ep == "" {
		host, port := string(s.Data[ConnectionKeyHost]), string(s.Data[ConnectionKeyPort])
		if host == "" || port == "" {
			return "", &EndpointNotReadyError{Namespace: p.Namespace, Name: p.Name}
		}
		ep = net.JoinHostPort(host, port)
	}
	return ep, m.validate(p, ep)
}

func (m *KubernetesPerformerManager) validate(p *v1alpha1.Performer, ep string) error {
	if m.pattern == nil {
		return nil
	}
	return m.pattern.Validate(ep, p.Namespace)
}

// ServicePattern is the executor's PERFORMER_SERVICE_PATTERN, e.g.
// "performer-{name}.{namespace}.svc.cluster.local:{port}". The manager uses
// it only to validate endpoints read from Performers, catching an executor
// pointed at a cluster whose platform composes Services differently. It
// never builds an endpoint: the platform may shorten long Service names, and
// only the Performer's status says what it composed.
type ServicePattern struct {
	raw string
}

var placeholderRE = regexp.MustCompile(`\{[^}]*\}`)

// ParseServicePattern parses a pattern with the placeholders {name},
// {namespace} and {port}.
func ParseServicePattern(s string) (*ServicePattern, error) {
	seen := map[string]bool{}
	for _, ph := range placeholderRE.FindAllString(s, -1) {
		switch ph {
		case "{name}", "{namespace}", "{port}":
			seen[ph] = true
		default:
			return nil, errors.Errorf(errFmtBadPattern, s)
		}
	}
	if len(seen) != 3 || strings.ContainsAny(placeholderRE.ReplaceAllString(s, ""), "{}") {
		return nil, errors.Errorf(errFmtBadPattern, s)
	}
	return &ServicePattern{raw: s}, nil
}

// String is the pattern as given.
func (sp *ServicePattern) String() string { return sp.raw }

// Validate checks that endpoint fits the pattern for a performer in
// namespace: {name} any DNS label characters (the Service name may be a
// shortened form), {namespace} exactly namespace, {port} a port number.
func (sp *ServicePattern) Validate(endpoint, namespace string) error {
	var b strings.Builder
	b.WriteString("^")
	last := 0
	for _, loc := range placeholderRE.FindAllStringIndex(sp.raw, -1) {
		b.WriteString(regexp.QuoteMeta(sp.raw[last:loc[0]]))
		switch sp.raw[loc[0]:loc[1]] {
		case "{name}":
			b.WriteString(`[a-z0-9]([-a-z0-9]*[a-z0-9])?`)
		case "{namespace}":
			b.WriteString(regexp.QuoteMeta(namespace))
		case "{port}":
			b.WriteString(`[0-9]{1,5}`)
		}
		last = loc[1]
	}
	b.WriteString(regexp.QuoteMeta(sp.raw[last:]))
	b.WriteString("$")
	re, err := regexp.Compile(b.String())
	if err != nil || !re.MatchString(endpoint) {
		return errors.Errorf(errFmtPatternMismatch, endpoint, namespace, sp.raw)
	}
	return nil
}
