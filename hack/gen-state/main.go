// Command gen-state writes a generated whole-cluster state export and the
// mesh-wide STRICT change for benchmarking `meshguard check` (see
// test/bench/statefile and hack/bench-vs-istioctl.sh).
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/meshguard/meshguard/test/bench/statefile"
)

func main() {
	out := flag.String("o", "", "directory to write state.<ext> and change.yaml into")
	namespaces := flag.Int("namespaces", 1000, "namespaces")
	pods := flag.Int("pods", 100, "meshed pods per namespace")
	format := flag.String("format", statefile.YAMLDocuments, "yaml (documents), yaml-list (kubectl get -o yaml), yaml-wrapped (a List with long annotations, wrapped at 80 columns), yaml-flow (hand-written flow style with comments) or json (kubectl get -o json); written to state.yaml, state.json or state-<format>.yaml")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "gen-state: -o DIR is required")
		os.Exit(2)
	}
	if err := run(*out, statefile.Shape{Namespaces: *namespaces, PodsPerNS: *pods}, *format); err != nil {
		fmt.Fprintln(os.Stderr, "gen-state:", err)
		os.Exit(1)
	}
}

func run(dir string, s statefile.Shape, format string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	name := "state.yaml"
	switch format {
	case statefile.YAMLDocuments:
	case statefile.JSONList:
		name = "state.json"
	default:
		name = "state-" + format + ".yaml"
	}
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		return err
	}
	if err := statefile.Write(f, s, format); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Printf("%s: %d objects\n", f.Name(), s.Objects())
	return os.WriteFile(filepath.Join(dir, "change.yaml"), []byte(statefile.Change), 0o644)
}
