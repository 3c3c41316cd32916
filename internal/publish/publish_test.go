package publish

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// writeXpkg writes a small image tarball for os/arch (empty for a
// Configuration, which has no runtime image) under dir/file, the way
// `crossplane xpkg build` writes a package, and returns its digest.
func writeXpkg(t *testing.T, dir, file, os_, arch string) v1.Hash {
	t.Helper()
	img, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = os_, arch
	if img, err = mutate.ConfigFile(img, cfg); err != nil {
		t.Fatal(err)
	}
	tag, _ := name.NewTag("example.org/test/pkg:v0.0.0")
	if err := tarball.WriteToFile(filepath.Join(dir, file), tag, img); err != nil {
		t.Fatal(err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// writeConfig writes a Configuration xpkg whose package.yaml depends on
// the given package and version constraint, and returns its digest.
func writeConfig(t *testing.T, dir, file, dependsOn string) v1.Hash {
	t.Helper()
	meta := "apiVersion: meta.pkg.crossplane.io/v1\nkind: Configuration\nmetadata:\n  name: configuration-performer\n" +
		"spec:\n  crossplane:\n    version: \">=v2.4.0\"\n" + dependsOn +
		"\n---\napiVersion: apiextensions.crossplane.io/v2\nkind: CompositeResourceDefinition\nmetadata:\n  name: performers.hourglass.eigenlayer.io\n"
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	if err := tw.WriteHeader(&tar.Header{Name: "package.yaml", Mode: 0o644, Size: int64(len(meta))}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write([]byte(meta)); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b.Bytes())), nil })
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(empty.Image, l)
	if err != nil {
		t.Fatal(err)
	}
	tag, _ := name.NewTag("example.org/test/configuration:v0.0.0")
	if err := tarball.WriteToFile(filepath.Join(dir, file), tag, img); err != nil {
		t.Fatal(err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// depends is the dependsOn the project's crossplane.yaml has.
const depends = "  dependsOn:\n  - apiVersion: pkg.crossplane.io/v1\n    kind: Function\n    package: xpkg.upbound.io/hourglass-xp/function-performer\n    version: \">=v0.1.0\"\n"

// fixture writes the three packages of DefaultPackages for amd64 and arm64
// and returns the digest of each file by name.
func fixture(t *testing.T) (string, map[string]v1.Hash) {
	t.Helper()
	dir := t.TempDir()
	d := map[string]v1.Hash{
		"configuration-performer.xpkg": writeConfig(t, dir, "configuration-performer.xpkg", depends),
	}
	for _, p := range []string{"function-performer", "provider-hourglass"} {
		for _, a := range []string{"amd64", "arm64"} {
			f := p + "-" + a + ".xpkg"
			d[f] = writeXpkg(t, dir, f, "linux", a)
		}
	}
	return dir, d
}

// summary is what a test compares of an Artifact: the interface values
// (images, indexes) are checked through their digests.
type summary struct {
	Ref       string
	Kind      Kind
	Index     bool
	Platforms []PlatformDigest
}

func summarize(as []Artifact) []summary {
	out := make([]summary, 0, len(as))
	for _, a := range as {
		out = append(out, summary{Ref: a.Ref.Name(), Kind: a.Package.Kind, Index: a.Index != nil, Platforms: a.Platforms})
	}
	return out
}

func TestLoad(t *testing.T) {
	dir, digests := fixture(t)
	arches := []string{"amd64", "arm64"}

	type args struct {
		dir      string
		pkgs     []Package
		registry string
		org      string
		version  string
		mangle   func(t *testing.T, dir string)
	}
	type want struct {
		artifacts []summary
		err       string
	}
	cases := map[string]struct {
		reason string
		args   args
		want   want
	}{
		"AllThreeDependenciesFirst": {
			reason: "The Function and Provider are pushed before the Configuration that depends on them, each runtime-image package as a two-platform index.",
			args:   args{dir: dir, pkgs: DefaultPackages(arches), registry: "xpkg.upbound.io", org: "hourglass-xp", version: "v0.1.0"},
			want: want{artifacts: []summary{
				{Ref: "xpkg.upbound.io/hourglass-xp/function-performer:v0.1.0", Kind: KindFunction, Index: true, Platforms: []PlatformDigest{
					{Platform: "linux/amd64", Digest: digests["function-performer-amd64.xpkg"]},
					{Platform: "linux/arm64", Digest: digests["function-performer-arm64.xpkg"]},
				}},
				{Ref: "xpkg.upbound.io/hourglass-xp/provider-hourglass:v0.1.0", Kind: KindProvider, Index: true, Platforms: []PlatformDigest{
					{Platform: "linux/amd64", Digest: digests["provider-hourglass-amd64.xpkg"]},
					{Platform: "linux/arm64", Digest: digests["provider-hourglass-arm64.xpkg"]},
				}},
				{Ref: "xpkg.upbound.io/hourglass-xp/configuration-performer:v0.1.0", Kind: KindConfiguration},
			}},
		},
		"OtherRegistryAndPrerelease": {
			reason: "Registry, organization and a pre-release version make the tag.",
			args:   args{dir: dir, pkgs: DefaultPackages([]string{"amd64"})[:2], registry: "127.0.0.1:5000", org: "team", version: "v1.2.3-rc.1"},
			want: want{artifacts: []summary{
				{Ref: "127.0.0.1:5000/team/function-performer:v1.2.3-rc.1", Kind: KindFunction, Index: true, Platforms: []PlatformDigest{
					{Platform: "linux/amd64", Digest: digests["function-performer-amd64.xpkg"]},
				}},
				{Ref: "127.0.0.1:5000/team/configuration-performer:v1.2.3-rc.1", Kind: KindConfiguration},
			}},
		},
		"BuildMetadataBecomesUnderscore": {
			reason: "A tag cannot hold '+', so build metadata is written with '_' as Crossplane's tooling does.",
			args:   args{dir: dir, pkgs: DefaultPackages(nil)[:1], registry: "r.example", org: "o", version: "v1.0.0+abc"},
			want:   want{artifacts: []summary{{Ref: "r.example/o/configuration-performer:v1.0.0_abc", Kind: KindConfiguration}}},
		},
		"NotSemver": {
			reason: "Crossplane resolves dependency versions by semver, so a tag that is not one is refused.",
			args:   args{dir: dir, pkgs: DefaultPackages(arches), registry: "r.example", org: "o", version: "latest"},
			want:   want{err: `version "latest" is not a semantic version`},
		},
		"ShortSemver": {
			reason: "v1.2 is valid to golang.org/x/mod/semver but not to Crossplane's constraint matching.",
			args:   args{dir: dir, pkgs: DefaultPackages(arches), registry: "r.example", org: "o", version: "v1.2"},
			want:   want{err: `version "v1.2" is not a semantic version`},
		},
		"NoPackages": {
			reason: "Nothing to publish is a mistake, not a success.",
			args:   args{dir: dir, registry: "r.example", org: "o", version: "v0.1.0"},
			want:   want{err: errFmtNoPackages},
		},
		"MissingArch": {
			reason: "A missing per-architecture file names the file, so the user knows which build to run.",
			args:   args{dir: dir, pkgs: DefaultPackages([]string{"amd64", "s390x"}), registry: "r.example", org: "o", version: "v0.1.0"},
			want:   want{err: "function-performer-s390x.xpkg: no such file or directory"},
		},
		"Mislabelled": {
			reason: "A file whose image is for another architecture than its name says is refused: nodes would pull an image they cannot run.",
			args: args{pkgs: DefaultPackages([]string{"arm64"}), registry: "r.example", org: "o", version: "v0.1.0", mangle: func(t *testing.T, dir string) {
				writeXpkg(t, dir, "function-performer-arm64.xpkg", "linux", "amd64")
			}},
			want: want{err: "function-performer-arm64.xpkg is built for linux/amd64, but its file name says linux/arm64"},
		},
		"Corrupt": {
			reason: "A file that is not an image tarball fails at load time, before anything is pushed.",
			args: args{pkgs: DefaultPackages(nil)[:1], registry: "r.example", org: "o", version: "v0.1.0", mangle: func(t *testing.T, dir string) {
				if err := os.WriteFile(filepath.Join(dir, "configuration-performer.xpkg"), []byte("not a tarball"), 0o600); err != nil {
					t.Fatal(err)
				}
			}},
			want: want{err: "cannot load package configuration-performer"},
		},
		"DuplicateArch": {
			reason: "An architecture listed twice would put two manifests for one platform in the index.",
			args:   args{dir: dir, pkgs: []Package{{Name: "function-performer", Kind: KindFunction, Arches: []string{"amd64", "amd64"}}}, registry: "r.example", org: "o", version: "v0.1.0"},
			want:   want{err: "package function-performer lists architecture amd64 twice"},
		},
	}
	for n, tc := range cases {
		t.Run(n, func(t *testing.T) {
			d := tc.args.dir
			if tc.args.mangle != nil {
				d = t.TempDir()
				tc.args.mangle(t, d)
			}
			got, err := Load(d, tc.args.pkgs, tc.args.registry, tc.args.org, tc.args.version)
			if tc.want.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want.err) {
					t.Fatalf("%s\nLoad(...): want error containing %q, got %v", tc.reason, tc.want.err, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("%s\nLoad(...): %v", tc.reason, err)
			}
			if diff := cmp.Diff(tc.want.artifacts, summarize(got)); diff != "" {
				t.Errorf("%s\nLoad(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// TestLoadReproducible checks that the same files give the same index
// digests: a re-run of a publish pushes the same digests, and a dry run
// predicts exactly what a push writes.
func TestLoadReproducible(t *testing.T) {
	dir, _ := fixture(t)
	var got []string
	for range 2 {
		as, err := Load(dir, DefaultPackages([]string{"amd64", "arm64"}), "r.example", "o", "v0.1.0")
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		Describe(&b, as)
		got = append(got, b.String())
	}
	if diff := cmp.Diff(got[0], got[1]); diff != "" {
		t.Errorf("Load twice: plans differ, -first, +second:\n%s", diff)
	}
}

func TestIsUpbound(t *testing.T) {
	cases := map[string]struct {
		reason string
		arg    string
		want   bool
	}{
		"Upbound":      {reason: "The Upbound registry needs its repositories to exist.", arg: "xpkg.upbound.io", want: true},
		"UpperCase":    {reason: "Host names are case-insensitive.", arg: "XPKG.Upbound.io", want: true},
		"Regional":     {reason: "Regional Upbound registry hosts count too.", arg: "us-west-1.xpkg.upbound.io", want: true},
		"Local":        {reason: "A local registry creates repositories on push.", arg: "127.0.0.1:5000", want: false},
		"LookAlike":    {reason: "A host merely ending in the same letters is not Upbound.", arg: "evilxpkg.upbound.io.example", want: false},
		"OtherUpbound": {reason: "Only the package registry, not every upbound.io host.", arg: "api.upbound.io", want: false},
	}
	for n, tc := range cases {
		t.Run(n, func(t *testing.T) {
			if got := IsUpbound(tc.arg); got != tc.want {
				t.Errorf("%s\nIsUpbound(%q): want %t, got %t", tc.reason, tc.arg, tc.want, got)
			}
		})
	}
}
