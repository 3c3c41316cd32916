// Command publish pushes the Configuration, Function and Provider packages
// that `make xpkg xpkg-provider` wrote to a registry; see
// internal/publish and package/publish/publish.mk. It is a dry run unless
// --push is given. Credentials come only from the environment (UP_TOKEN,
// REGISTRY_USERNAME/REGISTRY_PASSWORD, or the Docker config), never from
// flags, so they stay out of process listings and make's output.
package main

import (
	"context"
	"os"
	"os/signal"
	"strings"

	"github.com/alecthomas/kong"

	"github.com/hourglass-xp/crossplane-hourglass/internal/publish"
)

// CLI of the publisher.
type CLI struct {
	Dir      string   `default:"_output/xpkg"      help:"Directory holding the .xpkg files."`
	Registry string   `default:"xpkg.upbound.io"   help:"Registry host (and port) to push to."`
	Org      string   `default:"hourglass-xp"      help:"Organization (repository path prefix) in the registry."`
	Version  string   `help:"Tag to push (semver, e.g. v0.1.0); defaults to the contents of the VERSION file."`
	Arches   []string `default:"amd64,arm64"       help:"Architectures of the Function and Provider runtime images, one .xpkg each."`
	Push     bool     `help:"Really push. Without it nothing is written: the plan (tags and digests) is printed."`

	EnsureRepositories string `default:"auto"                   enum:"auto,always,never" help:"Create or update the Upbound repositories first: auto (only for xpkg.upbound.io), always or never."`
	Visibility         string `default:"public"                 enum:"public,private"    help:"Visibility of the Upbound repositories."`
	Draft              bool   `help:"Keep new versions as drafts instead of publishing them to the Upbound Marketplace."`
	UpboundAPI         string `default:"https://api.upbound.io" env:"UP_API_ENDPOINT"    help:"Upbound API endpoint."`
}

// Run the publisher.
func (c *CLI) Run() error {
	v := c.Version
	if v == "" {
		b, err := os.ReadFile("VERSION")
		if err != nil {
			return err
		}
		v = strings.TrimSpace(string(b))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	return publish.Run(ctx, os.Stdout, publish.Options{
		Dir:                c.Dir,
		Registry:           c.Registry,
		Org:                c.Org,
		Version:            v,
		Packages:           publish.DefaultPackages(c.Arches),
		Push:               c.Push,
		EnsureRepositories: c.EnsureRepositories,
		Visibility:         publish.Visibility(c.Visibility),
		PublishPolicy:      !c.Draft,
		UpboundAPI:         c.UpboundAPI,
		Getenv:             os.Getenv,
	})
}

func main() {
	ctx := kong.Parse(&CLI{}, kong.Description("Pushes the crossplane-hourglass packages to a registry (dry run unless --push)."))
	ctx.FatalIfErrorf(ctx.Run())
}
