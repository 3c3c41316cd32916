package publish

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
)

const (
	errFmtPush   = "cannot push %s"
	errFmtVerify = "cannot read back %s after pushing it"
	errFmtDiffer = "%s has digest %s in the registry, want %s"
)

// Environment variables that hold registry credentials. Their values are
// never printed, logged or put in an error.
const (
	EnvRegistryUsername = "REGISTRY_USERNAME"
	EnvRegistryPassword = "REGISTRY_PASSWORD"
	EnvUpboundToken     = "UP_TOKEN"
)

// Push writes every artifact in order (the order Load returns puts
// dependencies first), then reads each tag back and checks it resolves to
// the digest that was planned, so a successful run proves what the
// registry now serves.
func Push(ctx context.Context, w io.Writer, as []Artifact, opts ...remote.Option) error {
	opts = append([]remote.Option{remote.WithContext(ctx)}, opts...)
	for _, a := range as {
		var err error
		if a.Index != nil {
			err = remote.WriteIndex(a.Ref, a.Index, opts...)
		} else {
			err = remote.Write(a.Ref, a.Image, opts...)
		}
		if err != nil {
			return errors.Wrapf(err, errFmtPush, a.Ref.Name())
		}
		desc, err := remote.Head(a.Ref, opts...)
		if err != nil {
			return errors.Wrapf(err, errFmtVerify, a.Ref.Name())
		}
		if desc.Digest != a.Digest {
			return errors.Errorf(errFmtDiffer, a.Ref.Name(), desc.Digest, a.Digest)
		}
		fmt.Fprintf(w, "  pushed %s@%s\n", a.Ref.Name(), a.Digest)
	}
	return nil
}

// IsUpbound reports whether a registry host is Upbound's, whose
// repositories must exist before a push.
func IsUpbound(registry string) bool {
	host := strings.ToLower(strings.SplitN(registry, "/", 2)[0])
	return host == "xpkg.upbound.io" || strings.HasSuffix(host, ".xpkg.upbound.io")
}

// Keychain returns the credentials for pushing to registry, from the
// environment first: REGISTRY_USERNAME and REGISTRY_PASSWORD for any
// registry, else for the Upbound registry UP_TOKEN (user name: the token's
// ID, password: the token, as `docker login xpkg.upbound.io` takes them);
// otherwise whatever the Docker config holds (docker login, crane auth
// login). getenv is os.Getenv outside tests.
func Keychain(registry string, getenv func(string) string) (authn.Keychain, error) {
	if u, p := getenv(EnvRegistryUsername), getenv(EnvRegistryPassword); u != "" && p != "" {
		return authn.NewMultiKeychain(staticKeychain{registry: registry, auth: authn.FromConfig(authn.AuthConfig{Username: u, Password: p})}, authn.DefaultKeychain), nil
	}
	if t := getenv(EnvUpboundToken); t != "" && IsUpbound(registry) {
		id, err := TokenID(t)
		if err != nil {
			return nil, err
		}
		return authn.NewMultiKeychain(staticKeychain{registry: registry, auth: authn.FromConfig(authn.AuthConfig{Username: id, Password: t})}, authn.DefaultKeychain), nil
	}
	return authn.DefaultKeychain, nil
}

// staticKeychain answers one registry with fixed credentials and every
// other one anonymously, so they are never sent anywhere else.
type staticKeychain struct {
	registry string
	auth     authn.Authenticator
}

func (k staticKeychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	reg, err := name.NewRegistry(k.registry)
	if err != nil {
		return authn.Anonymous, nil //nolint:nilerr // an unparsable registry matches nothing.
	}
	if r.RegistryStr() == reg.RegistryStr() {
		return k.auth, nil
	}
	return authn.Anonymous, nil
}
