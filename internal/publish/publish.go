// Package publish pushes the project's Crossplane packages (the
// Configuration, the Function and the Provider) to an OCI registry: one tag
// per package, a multi-platform index for the packages that embed a runtime
// image, dependencies before the Configuration that depends on them. For the
// Upbound registry it first makes sure the repositories exist with the
// chosen visibility. Dry-run is the default: it loads and checks every
// package and prints exactly what a push would write, digests included,
// without touching the network.
package publish

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/mod/semver"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
)

const (
	errFmtVersion      = "version %q is not a semantic version (vMAJOR.MINOR.PATCH): Crossplane resolves dependencies by semver"
	errFmtRef          = "cannot make a reference for package %s"
	errFmtLoad         = "cannot load package %s from %s"
	errFmtConfig       = "cannot read the image config of %s"
	errFmtPlatform     = "%s is built for %s/%s, but its file name says linux/%s"
	errFmtDigest       = "cannot compute the digest of %s"
	errFmtIndex        = "cannot make the multi-platform index of %s"
	errFmtNoPackages   = "no packages to publish"
	errFmtDuplicateArc = "package %s lists architecture %s twice"
)

// A Kind of Crossplane package.
type Kind string

// The kinds this project publishes.
const (
	KindConfiguration Kind = "Configuration"
	KindFunction      Kind = "Function"
	KindProvider      Kind = "Provider"
)

// order puts a Configuration's dependencies first, so that a Configuration
// is never visible in the registry before the packages it depends on.
var order = map[Kind]int{KindFunction: 0, KindProvider: 1, KindConfiguration: 2}

// A Package is one Crossplane package as `make xpkg` writes it: NAME.xpkg
// without Arches, or one NAME-ARCH.xpkg per architecture with them.
type Package struct {
	// Name of the package, also its repository name in the registry.
	Name string
	Kind Kind
	// Arches of the embedded runtime image; empty for a package without
	// one (a Configuration).
	Arches []string
}

// Files returns the architecture → file name map of a package; the key is
// empty for a package without a runtime image.
func (p Package) Files() map[string]string {
	if len(p.Arches) == 0 {
		return map[string]string{"": p.Name + ".xpkg"}
	}
	f := make(map[string]string, len(p.Arches))
	for _, a := range p.Arches {
		f[a] = fmt.Sprintf("%s-%s.xpkg", p.Name, a)
	}
	return f
}

// DefaultPackages are the three packages of this project, with the
// architectures cluster/cluster.mk and package/provider/provider.mk build.
func DefaultPackages(arches []string) []Package {
	return []Package{
		{Name: "configuration-performer", Kind: KindConfiguration},
		{Name: "function-performer", Kind: KindFunction, Arches: arches},
		{Name: "provider-hourglass", Kind: KindProvider, Arches: arches},
	}
}

// A PlatformDigest is one platform's manifest inside an index.
type PlatformDigest struct {
	Platform string
	Digest   v1.Hash
}

// An Artifact is what is pushed for one package: an image, or an index of
// one image per platform, under one tag.
type Artifact struct {
	Package Package
	Ref     name.Tag
	// Exactly one of Image and Index is set.
	Image     v1.Image
	Index     v1.ImageIndex
	Digest    v1.Hash
	Platforms []PlatformDigest
}

// Repository returns the repository the artifact is pushed to.
func (a Artifact) Repository() name.Repository { return a.Ref.Repository }

// Load reads every package from dir, checks it and returns what would be
// pushed to registry/org/NAME:version, dependencies first. Nothing is
// written anywhere: loading is all a dry run does.
func Load(dir string, pkgs []Package, registry, org, version string) ([]Artifact, error) {
	if !semver.IsValid(version) || semver.Canonical(version) != strings.SplitN(version, "+", 2)[0] {
		return nil, errors.Errorf(errFmtVersion, version)
	}
	if len(pkgs) == 0 {
		return nil, errors.New(errFmtNoPackages)
	}
	sorted := append([]Package(nil), pkgs...)
	sort.SliceStable(sorted, func(i, j int) bool { return order[sorted[i].Kind] < order[sorted[j].Kind] })

	out := make([]Artifact, 0, len(sorted))
	for _, p := range sorted {
		// Tags cannot hold '+'; Crossplane's own tooling replaces it with '_'.
		ref, err := name.NewTag(fmt.Sprintf("%s/%s/%s:%s", registry, org, p.Name, strings.ReplaceAll(version, "+", "_")), name.StrictValidation)
		if err != nil {
			return nil, errors.Wrapf(err, errFmtRef, p.Name)
		}
		a, err := load(dir, p)
		if err != nil {
			return nil, err
		}
		a.Ref = ref
		out = append(out, a)
	}
	return out, nil
}

func load(dir string, p Package) (Artifact, error) {
	a := Artifact{Package: p}
	if len(p.Arches) == 0 {
		img, err := loadImage(filepath.Join(dir, p.Files()[""]))
		if err != nil {
			return a, errors.Wrapf(err, errFmtLoad, p.Name, dir)
		}
		d, err := img.Digest()
		if err != nil {
			return a, errors.Wrapf(err, errFmtDigest, p.Name)
		}
		a.Image, a.Digest = img, d
		return a, nil
	}

	// An OCI image index over the per-platform xpkgs (Docker schema 2
	// images, as `crossplane xpkg build` writes them): what `crossplane xpkg
	// push` writes for several package files, and the index type that may
	// carry the artifactType go-containerregistry puts in each descriptor.
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	seen := map[string]bool{}
	for _, arch := range p.Arches {
		if seen[arch] {
			return a, errors.Errorf(errFmtDuplicateArc, p.Name, arch)
		}
		seen[arch] = true
		file := filepath.Join(dir, p.Files()[arch])
		img, err := loadImage(file)
		if err != nil {
			return a, errors.Wrapf(err, errFmtLoad, p.Name, dir)
		}
		cfg, err := img.ConfigFile()
		if err != nil {
			return a, errors.Wrapf(err, errFmtConfig, file)
		}
		// A mislabelled file would make nodes of one architecture pull a
		// runtime image they cannot run: refuse it.
		if cfg.OS != "linux" || cfg.Architecture != arch {
			return a, errors.Errorf(errFmtPlatform, filepath.Base(file), cfg.OS, cfg.Architecture, arch)
		}
		d, err := img.Digest()
		if err != nil {
			return a, errors.Wrapf(err, errFmtDigest, file)
		}
		mt, err := img.MediaType()
		if err != nil {
			return a, errors.Wrapf(err, errFmtDigest, file)
		}
		plat := v1.Platform{OS: cfg.OS, Architecture: cfg.Architecture, Variant: cfg.Variant, OSVersion: cfg.OSVersion}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
			Add:        img,
			Descriptor: v1.Descriptor{MediaType: mt, Platform: &plat},
		})
		a.Platforms = append(a.Platforms, PlatformDigest{Platform: plat.String(), Digest: d})
	}
	d, err := idx.Digest()
	if err != nil {
		return a, errors.Wrapf(err, errFmtIndex, p.Name)
	}
	a.Index, a.Digest = idx, d
	return a, nil
}

// loadImage reads an xpkg (an image tarball). It checks that the file
// exists first, so that a missing package says which file and not a
// tarball error.
func loadImage(path string) (v1.Image, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	img, err := tarball.ImageFromPath(path, nil)
	if err != nil {
		return nil, err
	}
	// Reading the manifest here surfaces a corrupt file at load time,
	// before anything is pushed.
	if _, err := img.Manifest(); err != nil {
		return nil, err
	}
	return img, nil
}

// Describe writes one line per artifact (and per platform of an index):
// the plan a dry run prints and a push confirms.
func Describe(w io.Writer, as []Artifact) {
	for _, a := range as {
		fmt.Fprintf(w, "  %-13s %s@%s\n", a.Package.Kind, a.Ref.Name(), a.Digest)
		for _, p := range a.Platforms {
			fmt.Fprintf(w, "  %-13s   %s %s\n", "", p.Platform, p.Digest)
		}
	}
}
