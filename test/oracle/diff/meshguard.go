package diff

import (
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
)

// BuildMeshguard builds the meshguard binary from the repository this module
// sits in (two directories up) into dir.
func BuildMeshguard(dir string) (string, error) {
	bin := filepath.Join(dir, "meshguard")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/meshguard")
	cmd.Dir = filepath.Join("..", "..", "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building meshguard: %v\n%s", err, out)
	}
	return bin, nil
}

// RunCheck runs `meshguard check` on the files and reads its verdict.
func RunCheck(bin, state, change string, del bool) (Meshguard, string, error) {
	args := []string{"check", "--state", state, "-f", change, "-o", "json"}
	if del {
		args = append(args, "--delete")
	}
	out, err := exec.Command(bin, args...).Output()
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 1) {
		stderr := ""
		if exit != nil {
			stderr = string(exit.Stderr)
		}
		return Meshguard{}, "", fmt.Errorf("meshguard check: %v: %s", err, stderr)
	}
	var rep struct {
		Findings []struct {
			Rule, Action, Message, Field string
		} `json:"findings"`
	}
	if err := json.Unmarshal(out, &rep); err != nil {
		return Meshguard{}, "", fmt.Errorf("meshguard check -o json: %v: %s", err, out)
	}
	var m Meshguard
	for _, f := range rep.Findings {
		if f.Action == "deny" && !slices.Contains(m.Denying, f.Rule) {
			m.Denying = append(m.Denying, f.Rule)
		}
	}
	return m, string(out), nil
}
