package main

import (
	"strings"
	"testing"

	"github.com/alecthomas/kong"
	"github.com/google/go-cmp/cmp"
)

func TestCLI(t *testing.T) {
	defaults := CLI{
		Dir: "_output/xpkg", Registry: "xpkg.upbound.io", Org: "hourglass-xp",
		Arches: []string{"amd64", "arm64"}, EnsureRepositories: "auto", Visibility: "public",
		UpboundAPI: "https://api.upbound.io",
	}
	type want struct {
		cli CLI
		err string
	}
	cases := map[string]struct {
		reason string
		args   []string
		env    map[string]string
		want   want
	}{
		"Defaults": {
			reason: "Without flags it is a dry run for the project's Upbound organization.",
			want:   want{cli: defaults},
		},
		"Push": {
			reason: "make publish PUBLISH=1 REGISTRY=… ORG=… passes these.",
			args:   []string{"--push", "--registry=127.0.0.1:5000", "--org=team", "--version=v0.2.0", "--arches=amd64", "--ensure-repositories=never", "--visibility=private", "--draft"},
			want: want{cli: CLI{
				Dir: "_output/xpkg", Registry: "127.0.0.1:5000", Org: "team", Version: "v0.2.0",
				Arches: []string{"amd64"}, Push: true, EnsureRepositories: "never", Visibility: "private", Draft: true,
				UpboundAPI: "https://api.upbound.io",
			}},
		},
		"APIFromEnvironment": {
			reason: "The Upbound API endpoint can come from UP_API_ENDPOINT, as the up CLI's.",
			env:    map[string]string{"UP_API_ENDPOINT": "https://api.example.org"},
			want: want{cli: func() CLI {
				c := defaults
				c.UpboundAPI = "https://api.example.org"
				return c
			}()},
		},
		"BadVisibility": {
			reason: "Only public and private repositories exist.",
			args:   []string{"--visibility=internal"},
			want:   want{err: "--visibility must be one of"},
		},
		"NoTokenFlag": {
			reason: "Credentials are never flags, so they never show in process listings.",
			args:   []string{"--token=secret"},
			want:   want{err: "unknown flag --token"},
		},
	}
	for n, tc := range cases {
		t.Run(n, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			var got CLI
			p, err := kong.New(&got, kong.Exit(func(int) {}))
			if err != nil {
				t.Fatal(err)
			}
			_, err = p.Parse(tc.args)
			if tc.want.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want.err) {
					t.Fatalf("%s\nParse(%v): want error containing %q, got %v", tc.reason, tc.args, tc.want.err, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("%s\nParse(%v): %v", tc.reason, tc.args, err)
			}
			if diff := cmp.Diff(tc.want.cli, got); diff != "" {
				t.Errorf("%s\nParse(%v): -want, +got:\n%s", tc.reason, tc.args, diff)
			}
		})
	}
}
