// Command image builds a container image from a static binary without a
// container engine or a base image, the way ko does: one layer holding the
// binary, written as an OCI archive (`make image`). The user, entrypoint,
// default arguments and the binary's path come from the final stage of the
// Dockerfile, which stays the documented build; --path, --user and
// --entrypoint describe other images (the e2e pause image) instead.
//
//	go run ./hack/image --dockerfile Dockerfile --binary bin/meshguard --name meshguard.local/meshguard:dev -o bin/meshguard-image.tar
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
)

func main() {
	dockerfile := flag.String("dockerfile", "", "Dockerfile whose final stage describes the image")
	binPath := flag.String("path", "", "where the binary lands in the image (without --dockerfile)")
	user := flag.String("user", "65532:65532", "uid:gid the image runs as (without --dockerfile)")
	entrypoint := flag.String("entrypoint", "", "the entrypoint, space-separated (without --dockerfile; default --path)")
	binary := flag.String("binary", "", "the static binary to put in the image")
	name := flag.String("name", "", "the image's name, e.g. meshguard.local/meshguard:dev")
	arch := flag.String("arch", "amd64", "the binary's architecture")
	out := flag.String("o", "", "the OCI archive to write")
	flag.Parse()
	if err := run(*dockerfile, *binPath, *user, *entrypoint, *binary, *name, *arch, *out); err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
}

func run(dockerfile, binPath, user, entrypoint, binary, name, arch, out string) error {
	if binary == "" || name == "" || out == "" {
		return errors.New("--binary, --name and -o are required")
	}
	var s spec
	switch {
	case dockerfile != "":
		var err error
		if s, err = readDockerfile(dockerfile); err != nil {
			return err
		}
	case binPath != "":
		s = spec{Path: binPath, User: user, Entrypoint: strings.Fields(entrypoint)}
		if len(s.Entrypoint) == 0 {
			s.Entrypoint = []string{binPath}
		}
	default:
		return errors.New("either --dockerfile or --path")
	}
	data, err := os.ReadFile(binary)
	if err != nil {
		return err
	}
	img, err := buildImage(s, data, arch)
	if err != nil {
		return err
	}
	if err := writeOCIArchive(out, name, img); err != nil {
		return err
	}
	digest, err := img.Digest()
	if err != nil {
		return err
	}
	fmt.Printf("%s %s (%s)\n", out, name, digest)
	return nil
}
