package publish

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCheckDependencies(t *testing.T) {
	legacy := "  dependsOn:\n  - function: xpkg.upbound.io/hourglass-xp/function-performer\n    version: \">=v0.2.0\"\n"
	other := "  dependsOn:\n  - provider: xpkg.upbound.io/crossplane-contrib/provider-kubernetes\n    version: \">=v9.0.0\"\n"

	type args struct {
		dependsOn string // "" writes an image without package.yaml
		registry  string
		org       string
		version   string
	}
	type want struct {
		warnings []string
		err      string
	}
	cases := map[string]struct {
		reason string
		args   args
		want   want
	}{
		"Satisfied": {
			reason: "The project's own dependsOn, published where it points: nothing to say.",
			args:   args{dependsOn: depends, registry: "xpkg.upbound.io", org: "hourglass-xp", version: "v0.1.0"},
		},
		"OtherRegistry": {
			reason: "Published elsewhere, the Configuration still pulls its Function from the registry it names: warn.",
			args:   args{dependsOn: depends, registry: "127.0.0.1:5000", org: "team", version: "v0.3.1"},
			want: want{warnings: []string{
				"configuration-performer depends on xpkg.upbound.io/hourglass-xp/function-performer, not on 127.0.0.1:5000/team/function-performer published here: clusters pull that one unless an ImageConfig rewrites xpkg.upbound.io/hourglass-xp/function-performer",
			}},
		},
		"Unsatisfied": {
			reason: "A constraint the published Function does not meet would make Crossplane refuse the Configuration: an error before any push.",
			args:   args{dependsOn: legacy, registry: "xpkg.upbound.io", org: "hourglass-xp", version: "v0.1.0"},
			want:   want{err: `configuration-performer depends on xpkg.upbound.io/hourglass-xp/function-performer ">=v0.2.0", which version v0.1.0 (published with it) does not satisfy`},
		},
		"PrereleaseNeedsPrereleaseConstraint": {
			reason: "Like Crossplane, a constraint without a pre-release does not admit a pre-release version.",
			args:   args{dependsOn: depends, registry: "xpkg.upbound.io", org: "hourglass-xp", version: "v0.2.0-rc.1"},
			want:   want{err: "which version v0.2.0-rc.1 (published with it) does not satisfy"},
		},
		"Unrelated": {
			reason: "Dependencies on packages not published here are not this run's business.",
			args:   args{dependsOn: other, registry: "xpkg.upbound.io", org: "hourglass-xp", version: "v0.1.0"},
		},
		"NoMetadata": {
			reason: "A Configuration xpkg without package.yaml is not a package.",
			args:   args{registry: "xpkg.upbound.io", org: "hourglass-xp", version: "v0.1.0"},
			want:   want{err: "cannot find the package metadata (package.yaml) in configuration-performer"},
		},
	}
	for n, tc := range cases {
		t.Run(n, func(t *testing.T) {
			dir := t.TempDir()
			if tc.args.dependsOn == "" {
				writeXpkg(t, dir, "configuration-performer.xpkg", "", "")
			} else {
				writeConfig(t, dir, "configuration-performer.xpkg", tc.args.dependsOn)
			}
			writeXpkg(t, dir, "function-performer-amd64.xpkg", "linux", "amd64")
			as, err := Load(dir, DefaultPackages([]string{"amd64"})[:2], tc.args.registry, tc.args.org, tc.args.version)
			if err != nil {
				t.Fatal(err)
			}
			got, err := CheckDependencies(as, tc.args.version)
			if tc.want.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want.err) {
					t.Fatalf("%s\nCheckDependencies(...): want error containing %q, got %v", tc.reason, tc.want.err, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("%s\nCheckDependencies(...): %v", tc.reason, err)
			}
			if diff := cmp.Diff(tc.want.warnings, got); diff != "" {
				t.Errorf("%s\nCheckDependencies(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
