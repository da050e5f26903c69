package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// spec is what the final stage of the Dockerfile says about the image: the
// binary it copies in and where, the user, the entrypoint and the default
// arguments. `make image` builds exactly this, so the Dockerfile stays the one
// description of the image.
type spec struct {
	Path       string   // where the binary lands (COPY --from=... SRC PATH)
	User       string   // USER, as uid:gid
	Entrypoint []string // ENTRYPOINT, exec form
	Cmd        []string // CMD, exec form
}

// readDockerfile reads the final stage of a Dockerfile: the last FROM and the
// COPY, USER, ENTRYPOINT and CMD after it. It knows only the forms a static
// image needs (one COPY of the binary, exec-form ENTRYPOINT and CMD) and says
// so when it meets anything else there.
func readDockerfile(file string) (spec, error) {
	f, err := os.Open(file)
	if err != nil {
		return spec{}, err
	}
	defer f.Close()
	// Only the lines after the last FROM describe the image.
	type line struct {
		n    int
		text string
	}
	var stage []line
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		if instr, _, _ := strings.Cut(text, " "); strings.EqualFold(instr, "FROM") {
			stage = stage[:0]
			continue
		}
		stage = append(stage, line{n, text})
	}
	if err := sc.Err(); err != nil {
		return spec{}, err
	}
	var s spec
	for _, l := range stage {
		instr, rest, _ := strings.Cut(l.text, " ")
		rest = strings.TrimSpace(rest)
		switch instr = strings.ToUpper(instr); instr {
		case "COPY":
			args := strings.Fields(rest)
			if len(args) != 3 || !strings.HasPrefix(args[0], "--from=") || s.Path != "" {
				return spec{}, fmt.Errorf("%s:%d: the final stage copies one binary from a build stage (COPY --from=STAGE SRC DST), not %q", file, l.n, l.text)
			}
			s.Path = args[2]
		case "USER":
			s.User = rest
		case "ENTRYPOINT", "CMD":
			var argv []string
			if err := json.Unmarshal([]byte(rest), &argv); err != nil {
				return spec{}, fmt.Errorf("%s:%d: %s must use the exec form [\"...\"] (the image has no shell): %w", file, l.n, instr, err)
			}
			if instr == "ENTRYPOINT" {
				s.Entrypoint = argv
			} else {
				s.Cmd = argv
			}
		case "ARG":
		default:
			return spec{}, fmt.Errorf("%s:%d: %s in the final stage is not something make image builds", file, l.n, instr)
		}
	}
	if s.Path == "" || s.User == "" || len(s.Entrypoint) == 0 {
		return spec{}, fmt.Errorf("%s: the final stage needs COPY of the binary, USER and ENTRYPOINT", file)
	}
	return s, nil
}
