package publish

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
)

const (
	errFmtEnsureMode = "unknown repository mode %q: want auto, always or never"
	errFmtVisibility = "unknown visibility %q: want public or private"
)

// When to make sure Upbound repositories exist before pushing.
const (
	EnsureAuto   = "auto"   // when the registry is xpkg.upbound.io
	EnsureAlways = "always" // whatever the registry (tests, Upbound-compatible registries)
	EnsureNever  = "never"
)

// Options of a publish run.
type Options struct {
	// Dir holds the .xpkg files `make xpkg` writes.
	Dir      string
	Registry string
	Org      string
	Version  string
	Packages []Package

	// Push writes to the registry; without it the run is a dry run.
	Push bool

	// EnsureRepositories says when to create or update the Upbound
	// repositories first: EnsureAuto, EnsureAlways or EnsureNever.
	EnsureRepositories string
	Visibility         Visibility
	// PublishPolicy publishes versions to the Marketplace listing;
	// without it they stay drafts.
	PublishPolicy bool
	UpboundAPI    string
	// HTTPClient talks to the Upbound API; nil for a default one.
	HTTPClient *http.Client

	// Getenv reads credentials; os.Getenv outside tests.
	Getenv func(string) string
	// RemoteOptions are added to every registry call (transport, jobs).
	RemoteOptions []remote.Option
}

// Run loads and checks the packages, then either prints the plan (dry run)
// or ensures the Upbound repositories and pushes. w receives the plan and
// progress; credentials never reach it.
func Run(ctx context.Context, w io.Writer, o Options) error {
	ensure, err := ensureRepositories(o)
	if err != nil {
		return err
	}
	if o.Visibility != Public && o.Visibility != Private {
		return errors.Errorf(errFmtVisibility, o.Visibility)
	}
	as, err := Load(o.Dir, o.Packages, o.Registry, o.Org, o.Version)
	if err != nil {
		return err
	}
	// A Configuration whose dependsOn rejects the versions published with
	// it would never install: stop before pushing anything.
	warnings, err := CheckDependencies(as, o.Version)
	if err != nil {
		return err
	}
	policy := "draft"
	if o.PublishPolicy {
		policy = "publish"
	}

	if !o.Push {
		fmt.Fprintf(w, "publish: dry run, nothing is written (PUBLISH=1 or --push pushes)\n")
		warn(w, warnings)
		if ensure {
			token := "not set: a push would fail"
			if o.Getenv(EnvUpboundToken) != "" {
				token = "set"
			}
			fmt.Fprintf(w, "would make sure these Upbound repositories exist (%s, %s policy; API %s; %s %s):\n", o.Visibility, policy, o.UpboundAPI, EnvUpboundToken, token)
			for _, a := range as {
				fmt.Fprintf(w, "  repository %s/%s\n", o.Org, a.Package.Name)
			}
		}
		fmt.Fprintf(w, "would push, in this order:\n")
		Describe(w, as)
		return nil
	}

	warn(w, warnings)
	if ensure {
		fmt.Fprintf(w, "publish: making sure the Upbound repositories exist (%s, %s policy)\n", o.Visibility, policy)
		c, err := NewUpboundClient(ctx, o.UpboundAPI, o.Getenv(EnvUpboundToken), o.HTTPClient)
		if err != nil {
			return err
		}
		pkgs := make([]Package, 0, len(as))
		for _, a := range as {
			pkgs = append(pkgs, a.Package)
		}
		if err := EnsureRepositories(ctx, w, c, o.Org, pkgs, o.Visibility, o.PublishPolicy); err != nil {
			return err
		}
	}
	kc, err := Keychain(o.Registry, o.Getenv)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "publish: pushing\n")
	Describe(w, as)
	return Push(ctx, w, as, append([]remote.Option{remote.WithAuthFromKeychain(kc)}, o.RemoteOptions...)...)
}

func warn(w io.Writer, warnings []string) {
	for _, msg := range warnings {
		fmt.Fprintf(w, "warning: %s\n", msg)
	}
}

func ensureRepositories(o Options) (bool, error) {
	switch o.EnsureRepositories {
	case EnsureAuto, "":
		return IsUpbound(o.Registry), nil
	case EnsureAlways:
		return true, nil
	case EnsureNever:
		return false, nil
	}
	return false, errors.Errorf(errFmtEnsureMode, o.EnsureRepositories)
}
