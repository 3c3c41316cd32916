package publish

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/Masterminds/semver/v3"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"sigs.k8s.io/yaml"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
)

const (
	errFmtNoMeta     = "cannot find the package metadata (package.yaml) in %s"
	errFmtReadLayer  = "cannot read a layer of %s"
	errFmtParseMeta  = "cannot parse the package metadata of %s"
	errFmtConstraint = "cannot parse the version constraint %q of %s's dependency %s"
	errFmtVersion2   = "cannot parse version %q"
	errFmtUnsatisfy  = "%s depends on %s %q, which version %s (published with it) does not satisfy: rebuild the Configuration with a matching dependsOn"
)

// packageFile is the file holding a package's metadata and objects in its
// xpkg layer (Crossplane's xpkg format).
const packageFile = "package.yaml"

// A Dependency of a package, as its crossplane.yaml declares it.
type Dependency struct {
	Package string `json:"package,omitempty"`
	// Older metadata names the dependency by kind.
	Function      string `json:"function,omitempty"`
	Provider      string `json:"provider,omitempty"`
	Configuration string `json:"configuration,omitempty"`
	Version       string `json:"version,omitempty"`
}

// Ref returns the package the dependency names, whichever field holds it.
func (d Dependency) Ref() string {
	for _, s := range []string{d.Package, d.Function, d.Provider, d.Configuration} {
		if s != "" {
			return s
		}
	}
	return ""
}

// Dependencies reads the dependsOn list from a package's metadata, the
// first document of package.yaml in its layers.
func Dependencies(img v1.Image, name string) ([]Dependency, error) {
	ls, err := img.Layers()
	if err != nil {
		return nil, errors.Wrapf(err, errFmtReadLayer, name)
	}
	for _, l := range ls {
		b, err := fileInLayer(l, packageFile)
		if err != nil {
			return nil, errors.Wrapf(err, errFmtReadLayer, name)
		}
		if b == nil {
			continue
		}
		for _, doc := range bytes.Split(b, []byte("\n---")) {
			var meta struct {
				APIVersion string `json:"apiVersion"`
				Spec       struct {
					DependsOn []Dependency `json:"dependsOn"`
				} `json:"spec"`
			}
			if err := yaml.Unmarshal(doc, &meta); err != nil {
				return nil, errors.Wrapf(err, errFmtParseMeta, name)
			}
			if strings.HasPrefix(meta.APIVersion, "meta.pkg.crossplane.io/") {
				return meta.Spec.DependsOn, nil
			}
		}
	}
	return nil, errors.Errorf(errFmtNoMeta, name)
}

// fileInLayer returns the contents of the named file in a layer, nil when
// the layer does not hold it.
func fileInLayer(l v1.Layer, name string) ([]byte, error) {
	rc, err := l.Uncompressed()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if strings.TrimPrefix(h.Name, "./") == name {
			return io.ReadAll(tr)
		}
	}
}

// CheckDependencies checks the Configurations among as against the packages
// published with them. A dependency on one of them whose version constraint
// the published version does not satisfy is an error: Crossplane would
// refuse to install that Configuration with these packages. A dependency
// naming the package in another registry or organization than the one
// published to is a warning: clusters would pull the dependency from there
// unless an ImageConfig rewrites it.
func CheckDependencies(as []Artifact, version string) ([]string, error) {
	published := map[string]Artifact{}
	for _, a := range as {
		published[a.Package.Name] = a
	}
	v, err := semver.NewVersion(version)
	if err != nil {
		return nil, errors.Wrapf(err, errFmtVersion2, version)
	}
	var warnings []string
	for _, a := range as {
		if a.Package.Kind != KindConfiguration || a.Image == nil {
			continue
		}
		deps, err := Dependencies(a.Image, a.Package.Name)
		if err != nil {
			return nil, err
		}
		for _, d := range deps {
			ref := d.Ref()
			repo := strings.SplitN(ref, ":", 2)[0]
			dep, ok := published[repo[strings.LastIndex(repo, "/")+1:]]
			if !ok {
				continue
			}
			if d.Version != "" {
				c, err := semver.NewConstraint(d.Version)
				if err != nil {
					return nil, errors.Wrapf(err, errFmtConstraint, d.Version, a.Package.Name, ref)
				}
				if !c.Check(v) {
					return nil, errors.Errorf(errFmtUnsatisfy, a.Package.Name, ref, d.Version, version)
				}
			}
			if want := dep.Ref.Context().Name(); repo != want {
				warnings = append(warnings, fmt.Sprintf("%s depends on %s, not on %s published here: clusters pull that one unless an ImageConfig rewrites %s", a.Package.Name, repo, want, repo))
			}
		}
	}
	return warnings, nil
}
