package executor

import (
	"regexp"
	"strings"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"

	"github.com/hourglass-xp/crossplane-hourglass/internal/names"
)

const (
	// LabelExecutor is set on every Performer a manager creates: the
	// executor that owns it. ListPerformers selects on it.
	LabelExecutor = "hourglass.eigenlayer.io/executor"

	// LabelAVS is set on every Performer a manager creates: the AVS
	// address, lowercased. It is the label the composed objects carry too.
	LabelAVS = names.LabelAVS
)

const (
	errFmtBadAddress = "AVS address %q is not an Ethereum address: 0x followed by 40 hexadecimal characters"
	errFmtBadVersion = "version %q is not a valid image tag"
	errFmtDigest     = "image %q is pinned by digest: upgrade it with UpgradePerformerImage and a new image"
)

var (
	addressRE = regexp.MustCompile(`^0x[0-9a-fA-F]{40}$`)
	versionRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
)

// PerformerName is the name of the Performer an executor runs for an AVS:
// {executor}-{address without 0x, lowercased}. It depends on nothing else,
// so an executor that restarts under the same name finds the Performers it
// made. When that is not a valid DNS-1035 label of at most 63 characters
// (Crossplane copies a composite's name into a label of everything it
// composes, and the Service name is derived from it) the shared short form
// of internal/names is used: deterministic, and unique through a hash of the
// full name.
func PerformerName(executor, avsAddress string) string {
	addr := strings.TrimPrefix(strings.ToLower(avsAddress), "0x")
	return names.DNSLabel(executor + "-" + addr)
}

// ConnectionSecretName is the Secret the platform composes in a Performer's
// namespace with its connection details (keys ConnectionKeyEndpoint,
// ConnectionKeyHost, ConnectionKeyPort), for executors that cannot import
// the platform's internal naming rules. status.connectionSecretName names
// it too once it is composed.
func ConnectionSecretName(performer string) string {
	return names.ConnectionSecret(performer)
}

func validateAddress(a string) error {
	if !addressRE.MatchString(a) {
		return errors.Errorf(errFmtBadAddress, a)
	}
	return nil
}

func validateVersion(v string) error {
	if !versionRE.MatchString(v) {
		return errors.Errorf(errFmtBadVersion, v)
	}
	return nil
}

// imageWithVersion returns image with its tag replaced by version: the
// Performer API requires spec.version to equal the image's tag when there
// is one. An untagged image is returned as is (version becomes its tag). An
// image pinned by digest cannot follow a version.
func imageWithVersion(image, version string) (string, error) {
	repoStart := strings.LastIndex(image, "/") + 1
	last := image[repoStart:]
	if strings.Contains(last, "@") {
		return "", errors.Errorf(errFmtDigest, image)
	}
	if i := strings.LastIndex(last, ":"); i >= 0 {
		return image[:repoStart] + last[:i] + ":" + version, nil
	}
	return image, nil
}
