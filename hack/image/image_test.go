package main

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

const dockerfile = "../../Dockerfile"

// The Dockerfile is what users build; make image builds from its final stage.
// Both must describe the same image: a non-root user, an entrypoint that is
// the binary the stage copies in, exec form (there is no shell).
func TestDockerfileFinalStage(t *testing.T) {
	s, err := readDockerfile(dockerfile)
	if err != nil {
		t.Fatal(err)
	}
	if s.User != "65532:65532" {
		t.Errorf("USER %q, want the distroless nonroot user 65532:65532", s.User)
	}
	if len(s.Entrypoint) == 0 || s.Entrypoint[0] != s.Path {
		t.Errorf("ENTRYPOINT %q does not run the binary copied to %s", s.Entrypoint, s.Path)
	}
}

func TestImageMatchesDockerfile(t *testing.T) {
	s, err := readDockerfile(dockerfile)
	if err != nil {
		t.Fatal(err)
	}
	binary := []byte("\x7fELF not really a binary")
	archive := filepath.Join(t.TempDir(), "image.tar")
	img, err := buildImage(s, binary, "amd64")
	if err != nil {
		t.Fatal(err)
	}
	if err := writeOCIArchive(archive, "meshguard.local/meshguard:test", img); err != nil {
		t.Fatal(err)
	}
	checkArchive(t, archive, "meshguard.local/meshguard:test", s, binary)
	again := filepath.Join(t.TempDir(), "again.tar")
	if err := writeOCIArchive(again, "meshguard.local/meshguard:test", img); err != nil {
		t.Fatal(err)
	}
	if a, b := read(t, archive), read(t, again); !bytes.Equal(a, b) {
		t.Error("the same binary gave two different archives; the image must be reproducible")
	}
}

// TestBuiltImageMatchesDockerfile checks the archive `make image` wrote, when
// there is one.
func TestBuiltImageMatchesDockerfile(t *testing.T) {
	archive := "../../bin/meshguard-image.tar"
	if _, err := os.Stat(archive); errors.Is(err, os.ErrNotExist) {
		t.Skip("no bin/meshguard-image.tar: run make image")
	}
	s, err := readDockerfile(dockerfile)
	if err != nil {
		t.Fatal(err)
	}
	checkArchive(t, archive, "", s, nil)
}

func TestReadDockerfileRefusesWhatItCannotBuild(t *testing.T) {
	for _, c := range []struct{ name, text, want string }{
		{"a shell-form entrypoint needs a shell the image does not have",
			"FROM scratch\nCOPY --from=build /out/x /x\nUSER 1:1\nENTRYPOINT /x serve\n", "exec form"},
		{"a RUN in the final stage is not a copy of one binary",
			"FROM scratch\nRUN true\nCOPY --from=build /out/x /x\nUSER 1:1\nENTRYPOINT [\"/x\"]\n", "RUN in the final stage"},
		{"a final stage without USER would run as root",
			"FROM scratch\nCOPY --from=build /out/x /x\nENTRYPOINT [\"/x\"]\n", "needs COPY of the binary, USER and ENTRYPOINT"},
		{"a COPY from the build context is not the built binary",
			"FROM scratch\nCOPY x /x\nUSER 1:1\nENTRYPOINT [\"/x\"]\n", "COPY --from=STAGE"},
	} {
		t.Run(c.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "Dockerfile")
			if err := os.WriteFile(file, []byte(c.text), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := readDockerfile(file)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error containing %q", err, c.want)
			}
		})
	}
}

// checkArchive reads an OCI archive as an engine would (index, manifest,
// config, layer) and compares it with the Dockerfile's final stage: the user,
// entrypoint and arguments, an executable root-owned binary at the copied
// path (with the given content, unless nil), and no shell.
func checkArchive(t *testing.T, archive, name string, s spec, binary []byte) {
	t.Helper()
	dir := t.TempDir()
	untar(t, archive, dir)
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Manifests) != 1 {
		t.Fatalf("%d manifests in index.json, want 1", len(m.Manifests))
	}
	ref := m.Manifests[0].Annotations["io.containerd.image.name"]
	if ref == "" || (name != "" && ref != name) || m.Manifests[0].Annotations["org.opencontainers.image.ref.name"] != ref {
		t.Errorf("image named %q (ref.name %q), want %q under both annotations", ref,
			m.Manifests[0].Annotations["org.opencontainers.image.ref.name"], name)
	}
	img, err := idx.Image(m.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Config.User != s.User || !reflect.DeepEqual(cfg.Config.Entrypoint, s.Entrypoint) || !reflect.DeepEqual(cfg.Config.Cmd, s.Cmd) {
		t.Errorf("image runs %q %q as %q; the Dockerfile says %q %q as %q",
			cfg.Config.Entrypoint, cfg.Config.Cmd, cfg.Config.User, s.Entrypoint, s.Cmd, s.User)
	}
	if cfg.OS != "linux" || cfg.Architecture == "" {
		t.Errorf("platform %s/%s", cfg.OS, cfg.Architecture)
	}
	files := layerFiles(t, img)
	want := strings.TrimPrefix(s.Path, "/")
	bin, ok := files[want]
	switch {
	case !ok:
		t.Errorf("no %s in the image", s.Path)
	case bin.Mode&0o111 == 0 || bin.Uid != 0:
		t.Errorf("%s has mode %o owner %d, want executable and owned by root", s.Path, bin.Mode, bin.Uid)
	case binary != nil && !bytes.Equal(bin.data, binary):
		t.Errorf("%s is not the binary given", s.Path)
	}
	for _, shell := range []string{"bin/sh", "bin/bash", "bin/busybox", "usr/bin/sh"} {
		if _, ok := files[shell]; ok {
			t.Errorf("the image has a shell: /%s", shell)
		}
	}
}

type entry struct {
	*tar.Header
	data []byte
}

func layerFiles(t *testing.T, img v1.Image) map[string]entry {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]entry{}
	for _, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		tr := tar.NewReader(rc)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			data, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			files[strings.TrimSuffix(h.Name, "/")] = entry{h, data}
		}
		rc.Close()
	}
	return files
}

func untar(t *testing.T, archive, dir string) {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, filepath.Clean("/"+h.Name))
		if h.Typeflag == tar.TypeDir {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func read(t *testing.T, file string) []byte {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
