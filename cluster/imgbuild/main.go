// Command imgbuild writes a single-platform runtime image tarball for one
// static binary, without a container engine: an empty base, one layer holding
// the binary, and a config with Entrypoint, a non-root User and the exposed
// port. The tarball is what `crossplane xpkg build --embed-runtime-image-tarball`
// takes. Layer and config are reproducible: fixed times, owners and modes.
package main

import (
	"archive/tar"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// nonroot is the uid/gid distroless images use for their nonroot user.
const nonroot = 65532

func main() {
	var (
		binary = flag.String("binary", "", "static binary to put in the image (required)")
		dest   = flag.String("path", "/function", "path of the binary inside the image; also the entrypoint")
		arch   = flag.String("arch", "amd64", "image architecture (the OS is linux)")
		port   = flag.Int("port", 9443, "TCP port the image exposes")
		tag    = flag.String("tag", "", "image reference recorded in the tarball (required)")
		out    = flag.String("o", "", "output tarball (required)")
	)
	flag.Parse()
	if *binary == "" || *tag == "" || *out == "" {
		flag.Usage()
		os.Exit(2)
	}
	if err := build(*binary, *dest, *arch, *port, *tag, *out); err != nil {
		fmt.Fprintln(os.Stderr, "imgbuild:", err)
		os.Exit(1)
	}
}

func build(binary, dest, arch string, port int, tag, out string) error {
	ref, err := name.ParseReference(tag)
	if err != nil {
		return fmt.Errorf("cannot parse tag %q: %w", tag, err)
	}
	bin, err := os.ReadFile(binary)
	if err != nil {
		return fmt.Errorf("cannot read binary: %w", err)
	}
	layerTar, err := layerOf(bin, dest)
	if err != nil {
		return err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	})
	if err != nil {
		return fmt.Errorf("cannot make layer: %w", err)
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return fmt.Errorf("cannot append layer: %w", err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return fmt.Errorf("cannot read config: %w", err)
	}
	cfg = cfg.DeepCopy()
	cfg.OS = "linux"
	cfg.Architecture = arch
	cfg.Created = v1.Time{Time: time.Unix(0, 0).UTC()}
	cfg.Config.Entrypoint = []string{dest}
	cfg.Config.User = fmt.Sprintf("%d:%d", nonroot, nonroot)
	cfg.Config.ExposedPorts = map[string]struct{}{fmt.Sprintf("%d/tcp", port): {}}
	cfg.Config.Env = []string{"PATH=/"}
	img, err = mutate.ConfigFile(img, cfg)
	if err != nil {
		return fmt.Errorf("cannot set config: %w", err)
	}
	if err := tarball.WriteToFile(out, ref, img); err != nil {
		return fmt.Errorf("cannot write %s: %w", out, err)
	}
	return nil
}

// layerOf returns an uncompressed tar holding bin at dest (and its parent
// directories), owned by the nonroot user, with zero timestamps.
func layerOf(bin []byte, dest string) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	epoch := time.Unix(0, 0).UTC()
	var dirs []string
	for d := path.Dir(dest); d != "/" && d != "."; d = path.Dir(d) {
		dirs = append([]string{d}, dirs...)
	}
	for _, d := range dirs {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d[1:] + "/", Mode: 0o755, ModTime: epoch}); err != nil {
			return nil, err
		}
	}
	h := &tar.Header{Typeflag: tar.TypeReg, Name: dest[1:], Mode: 0o755, Size: int64(len(bin)),
		Uid: nonroot, Gid: nonroot, ModTime: epoch}
	if err := tw.WriteHeader(h); err != nil {
		return nil, err
	}
	if _, err := tw.Write(bin); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
