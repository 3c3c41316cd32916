package publish

import (
	"github.com/hourglass-xp/crossplane-hourglass/internal/testtools"

	"bufio"
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// startRegistry runs the local OCI registry (go-containerregistry's
// cmd/registry, built by `make tool-registry` into _output/bin) on a free
// loopback port and returns host:port. It skips when the binary is absent,
// unless HOURGLASS_REQUIRE_TOOLS=1.
func startRegistry(t *testing.T) string {
	t.Helper()
	bin := testtools.Bin(t, "registry")
	// Port 0: the registry binds localhost on a free port and logs it.
	cmd := exec.Command(bin, "-port", "0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	port := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`serving on port (\d+)`)
		s := bufio.NewScanner(stderr)
		for s.Scan() {
			if m := re.FindStringSubmatch(s.Text()); m != nil {
				port <- m[1]
			}
		}
	}()
	select {
	case p := <-port:
		return "127.0.0.1:" + p
	case <-time.After(20 * time.Second):
		t.Fatal("the registry did not say which port it serves on")
	}
	return ""
}

// TestRunPushLocalRegistry publishes the three packages the way `make
// publish PUBLISH=1` does, to a real registry process, with the Upbound
// repository step against a fake Upbound API, and reads back what a
// Crossplane package manager would pull.
func TestRunPushLocalRegistry(t *testing.T) {
	reg := startRegistry(t)
	dir, digests := fixture(t)
	token := testToken("robot-9")
	up := &fakeUpbound{id: "robot-9", token: token}
	api := httptest.NewServer(up)
	defer api.Close()

	var out bytes.Buffer
	err := Run(context.Background(), &out, Options{
		Dir: dir, Registry: reg, Org: "hourglass-xp", Version: "v0.1.0",
		Packages:           DefaultPackages([]string{"amd64", "arm64"}),
		Push:               true,
		EnsureRepositories: EnsureAlways,
		Visibility:         Public,
		PublishPolicy:      true,
		UpboundAPI:         api.URL,
		HTTPClient:         api.Client(),
		Getenv:             func(k string) string { return map[string]string{EnvUpboundToken: token}[k] },
	})
	if err != nil {
		t.Fatalf("Run(push): %v\n%s", err, out.String())
	}
	if strings.Contains(out.String(), token) || strings.Contains(out.String(), testSession) {
		t.Errorf("Run(push): a credential leaked into the output")
	}

	// The repositories were made public before the push.
	up.mu.Lock()
	if len(up.repos) != 3 || up.requests[0] != "POST /v1/login" {
		t.Errorf("Upbound API: want a login and three repositories, got %v", up.requests)
	}
	up.mu.Unlock()

	// Each runtime-image package is an index with one manifest per platform,
	// each the exact xpkg that was built.
	for _, p := range []string{"function-performer", "provider-hourglass"} {
		ref, err := name.ParseReference(reg + "/hourglass-xp/" + p + ":v0.1.0")
		if err != nil {
			t.Fatal(err)
		}
		idx, err := remote.Index(ref)
		if err != nil {
			t.Fatalf("remote.Index(%s): %v", ref, err)
		}
		m, err := idx.IndexManifest()
		if err != nil {
			t.Fatal(err)
		}
		if m.MediaType != types.OCIImageIndex {
			t.Errorf("%s: index media type %s, want %s as crossplane xpkg push writes", p, m.MediaType, types.OCIImageIndex)
		}
		got := map[string]string{}
		for _, d := range m.Manifests {
			got[d.Platform.String()] = d.Digest.String()
		}
		want := map[string]string{
			"linux/amd64": digests[p+"-amd64.xpkg"].String(),
			"linux/arm64": digests[p+"-arm64.xpkg"].String(),
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("index of %s: -want platform → digest, +got:\n%s", p, diff)
		}
		// What a node of each architecture pulls resolves to its own xpkg.
		img, err := remote.Image(ref, remote.WithPlatform(*m.Manifests[1].Platform))
		if err != nil {
			t.Fatal(err)
		}
		if d, _ := img.Digest(); d.String() != want["linux/arm64"] {
			t.Errorf("%s for linux/arm64: want %s, got %s", p, want["linux/arm64"], d)
		}
	}
	ref, _ := name.ParseReference(reg + "/hourglass-xp/configuration-performer:v0.1.0")
	desc, err := remote.Head(ref)
	if err != nil {
		t.Fatal(err)
	}
	if desc.Digest != digests["configuration-performer.xpkg"] {
		t.Errorf("configuration-performer: want %s, got %s", digests["configuration-performer.xpkg"], desc.Digest)
	}

	// A second run pushes the same digests (idempotent re-publish).
	out.Reset()
	if err := Run(context.Background(), &out, Options{
		Dir: dir, Registry: reg, Org: "hourglass-xp", Version: "v0.1.0",
		Packages: DefaultPackages([]string{"amd64", "arm64"}), Push: true,
		EnsureRepositories: EnsureNever, Visibility: Public, Getenv: func(string) string { return "" },
	}); err != nil {
		t.Fatalf("Run(push again): %v", err)
	}
}

// TestRunDryRun checks that the default run writes nothing and calls
// nothing: neither the registry nor the Upbound API sees a request, and the
// plan names every tag and digest a push would write.
func TestRunDryRun(t *testing.T) {
	dir, digests := fixture(t)
	hits := 0
	trap := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits++
		w.WriteHeader(http.StatusTeapot)
	}))
	defer trap.Close()
	token := testToken("robot-1")

	cases := map[string]struct {
		reason   string
		registry string
		ensure   string
		env      map[string]string
		want     []string
		notWant  []string
	}{
		"Upbound": {
			reason:   "For xpkg.upbound.io the plan lists the repositories it would make sure of, and whether a token is set, never the token.",
			registry: "xpkg.upbound.io", ensure: EnsureAuto,
			env: map[string]string{EnvUpboundToken: token},
			want: []string{
				"dry run, nothing is written",
				"UP_TOKEN set",
				"repository hourglass-xp/function-performer",
				"xpkg.upbound.io/hourglass-xp/function-performer:v0.1.0@sha256:",
				"linux/arm64 " + digests["function-performer-arm64.xpkg"].String(),
				"xpkg.upbound.io/hourglass-xp/configuration-performer:v0.1.0@" + digests["configuration-performer.xpkg"].String(),
			},
			notWant: []string{token},
		},
		"UpboundWithoutToken": {
			reason:   "A dry run without UP_TOKEN says the push would fail.",
			registry: "xpkg.upbound.io", ensure: EnsureAuto,
			want: []string{"UP_TOKEN not set: a push would fail"},
		},
		"OtherRegistry": {
			reason:   "Other registries need no repository step.",
			registry: strings.TrimPrefix(trap.URL, "http://"), ensure: EnsureAuto,
			want:    []string{"would push, in this order:", "warning: configuration-performer depends on xpkg.upbound.io/hourglass-xp/function-performer, not on"},
			notWant: []string{"Upbound repositories"},
		},
	}
	for n, tc := range cases {
		t.Run(n, func(t *testing.T) {
			var out bytes.Buffer
			err := Run(context.Background(), &out, Options{
				Dir: dir, Registry: tc.registry, Org: "hourglass-xp", Version: "v0.1.0",
				Packages:           DefaultPackages([]string{"amd64", "arm64"}),
				EnsureRepositories: tc.ensure, Visibility: Public, PublishPolicy: true,
				UpboundAPI: trap.URL, HTTPClient: trap.Client(),
				Getenv: func(k string) string { return tc.env[k] },
			})
			if err != nil {
				t.Fatalf("%s\nRun(dry): %v", tc.reason, err)
			}
			for _, s := range tc.want {
				if !strings.Contains(out.String(), s) {
					t.Errorf("%s\nRun(dry): output lacks %q:\n%s", tc.reason, s, out.String())
				}
			}
			for _, s := range tc.notWant {
				if strings.Contains(out.String(), s) {
					t.Errorf("%s\nRun(dry): output holds something it must not", tc.reason)
				}
			}
			if hits != 0 {
				t.Errorf("%s\nRun(dry): %d requests reached the network", tc.reason, hits)
			}
		})
	}
}

func TestRunOptions(t *testing.T) {
	cases := map[string]struct {
		reason string
		o      Options
		err    string
	}{
		"BadEnsureMode": {reason: "A typo in the mode is an error, not 'auto'.", o: Options{EnsureRepositories: "sometimes", Visibility: Public}, err: `unknown repository mode "sometimes"`},
		"BadVisibility": {reason: "Only public and private exist.", o: Options{Visibility: "internal"}, err: `unknown visibility "internal"`},
	}
	for n, tc := range cases {
		t.Run(n, func(t *testing.T) {
			err := Run(context.Background(), &bytes.Buffer{}, tc.o)
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s\nRun(...): want error containing %q, got %v", tc.reason, tc.err, err)
			}
		})
	}
}
