package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestImage(t *testing.T) {
	cases := map[string]struct {
		reason         string
		image, version string
		want           string
	}{
		"NoTagNoVersion":  {reason: "Used as given.", image: "myavs/performer", want: "myavs/performer"},
		"NoTagVersion":    {reason: "version becomes the tag.", image: "myavs/performer", version: "v1.5.0", want: "myavs/performer:v1.5.0"},
		"TagAndVersion":   {reason: "A tag is kept.", image: "myavs/performer:v2.1.0", version: "v2.1.0", want: "myavs/performer:v2.1.0"},
		"TagNoVersion":    {reason: "A tag is kept.", image: "myavs/performer:latest", want: "myavs/performer:latest"},
		"RegistryPort":    {reason: "A registry port is not a tag.", image: "registry.local:5000/avs/performer", version: "v1", want: "registry.local:5000/avs/performer:v1"},
		"Digest":          {reason: "A digest pins the image; version only labels it.", image: "myavs/performer@sha256:0123456789abcdef0123456789abcdef", version: "v1", want: "myavs/performer@sha256:0123456789abcdef0123456789abcdef"},
		"RegistryPortTag": {reason: "A tag after a registry port is a tag.", image: "registry.local:5000/avs/performer:v2", version: "v2", want: "registry.local:5000/avs/performer:v2"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := Image(tc.image, tc.version)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nImage(%q, %q): -want, +got:\n%s", tc.reason, tc.image, tc.version, diff)
			}
		})
	}
}
