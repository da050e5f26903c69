package pathview_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/gonum/graph/formats/dot"
	"gonum.org/v1/gonum/graph/formats/dot/ast"

	"github.com/meshguard/meshguard/pkg/check"
	"github.com/meshguard/meshguard/pkg/config"
	"github.com/meshguard/meshguard/pkg/pathview"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ from the current output")

const fixtures = "../../test/fixtures/paths/"

// pictures are the cases every format is rendered for.
var pictures = []struct {
	name  string
	host  string
	files []string
	// broken is how many paths the writes break (the exit code follows).
	broken int
}{
	{name: "reviews-as-it-stands", host: "reviews.shop"},
	{name: "reviews-subset-removed", host: "reviews.shop", files: []string{fixtures + "drop-v2.yaml"}, broken: 2},
	{name: "reviews-plaintext-into-strict", host: "shop/reviews", files: []string{fixtures + "plaintext-into-strict.yaml"}, broken: 3},
}

var formats = map[string]string{pathview.Text: "txt", pathview.JSON: "json", pathview.Mermaid: "mmd", pathview.DOT: "dot"}

func render(t *testing.T, host string, files []string, format string) (string, int) {
	t.Helper()
	var out bytes.Buffer
	code, err := check.RunPaths(context.Background(), check.PathsOptions{
		Host: host, Files: files, State: []string{fixtures + "state.yaml"}, Output: format, Config: config.Default(),
		Now: func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) },
	}, &out)
	if err != nil {
		t.Fatalf("paths --host %s: %v", host, err)
	}
	return out.String(), code
}

// TestGolden compares every output format with its golden file; run with
// -update to rewrite them after a deliberate change.
func TestGolden(t *testing.T) {
	for _, c := range pictures {
		for format, ext := range formats {
			t.Run(c.name+"."+ext, func(t *testing.T) {
				got, code := render(t, c.host, c.files, format)
				want := check.ExitOK
				if c.broken > 0 {
					want = check.ExitDenied
				}
				if code != want {
					t.Errorf("exit code %d, want %d", code, want)
				}
				compareGolden(t, c.name+"."+ext, got)
			})
		}
	}
}

// compareGolden compares got with testdata/name, or rewrites it with -update.
func compareGolden(t *testing.T, name, got string) {
	t.Helper()
	golden := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./pkg/pathview/ -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the output (go test ./pkg/pathview/ -update rewrites it); got:\n%s", golden, got)
	}
}

// TestDOTParses parses each DOT output with gonum's DOT parser and checks
// the graph it describes: directed, every edge between declared nodes, and
// exactly the edges of broken paths red.
func TestDOTParses(t *testing.T) {
	for _, c := range pictures {
		t.Run(c.name, func(t *testing.T) {
			src, _ := render(t, c.host, c.files, pathview.DOT)
			f, err := dot.ParseString(src)
			if err != nil {
				t.Fatalf("gonum cannot parse the DOT: %v\n%s", err, src)
			}
			if len(f.Graphs) != 1 || !f.Graphs[0].Directed {
				t.Fatalf("want one digraph, got %d graphs", len(f.Graphs))
			}
			nodes := map[string]bool{}
			var edges []*ast.EdgeStmt
			var walk func([]ast.Stmt)
			walk = func(stmts []ast.Stmt) {
				for _, s := range stmts {
					switch s := s.(type) {
					case *ast.NodeStmt:
						nodes[s.Node.ID] = true
					case *ast.EdgeStmt:
						edges = append(edges, s)
					case *ast.Subgraph:
						walk(s.Stmts)
					}
				}
			}
			walk(f.Graphs[0].Stmts)
			if len(edges) == 0 {
				t.Fatal("no edge")
			}
			red := 0
			for _, e := range edges {
				from, ok := e.From.(*ast.Node)
				if !ok || !nodes[from.ID] || !nodes[e.To.Vertex.(*ast.Node).ID] {
					t.Errorf("edge %v between undeclared nodes", e)
				}
				for _, a := range e.Attrs {
					if a.Key == "color" && a.Val == `"#d62728"` {
						red++
					}
				}
			}
			if (red > 0) != (c.broken > 0) {
				t.Errorf("%d red edges, but %d broken paths", red, c.broken)
			}
		})
	}
}

// TestMermaid checks each mermaid output. With MMDC set to the path of
// mermaid-cli's mmdc (`make test-pictures` installs it with hack/mermaid-cli.sh; it needs a
// Chromium), mermaid itself parses and renders it; without, a structural
// check stands in: a flowchart header, every node declared once before an
// edge uses it, quoted labels without raw quotes or pipes, balanced
// subgraphs, and linkStyle indexes within the edges drawn.
func TestMermaid(t *testing.T) {
	mmdc := os.Getenv("MMDC")
	for _, c := range pictures {
		t.Run(c.name, func(t *testing.T) {
			src, _ := render(t, c.host, c.files, pathview.Mermaid)
			checkMermaid(t, src, c.broken > 0)
			if mmdc == "" {
				t.Log("MMDC not set: mermaid-cli not run, structural check only")
				return
			}
			dir := t.TempDir()
			in := filepath.Join(dir, "in.mmd")
			if err := os.WriteFile(in, []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			args := []string{"-i", in, "-o", filepath.Join(dir, "out.svg")}
			if cfg := os.Getenv("MMDC_PUPPETEER_CONFIG"); cfg != "" {
				args = append(args, "-p", cfg)
			}
			if out, err := exec.Command(mmdc, args...).CombinedOutput(); err != nil {
				t.Fatalf("mermaid-cli rejects the diagram: %v\n%s\n%s", err, out, src)
			}
			svg, err := os.ReadFile(filepath.Join(dir, "out.svg"))
			if err != nil || !bytes.Contains(svg, []byte("<svg")) || bytes.Contains(svg, []byte("Syntax error")) {
				t.Fatalf("mermaid-cli rendered no diagram: %v", err)
			}
		})
	}
}

var (
	mermaidNode = regexp.MustCompile(`^\s*((?:[ab]_)?[chke]\d+)\["([^"|]*)"\]:::(client|host|cluster|endpoints)$`)
	mermaidEdge = regexp.MustCompile(`^\s*((?:[ab]_)?[chke]\d+) (-->|-\.->)\|"([^"|]*)"\| ((?:[ab]_)?[chke]\d+)$`)
	mermaidLink = regexp.MustCompile(`^\s*linkStyle (\d+) stroke:#[0-9a-f]{6},stroke-width:\dpx,color:#[0-9a-f]{6}$`)
)

func checkMermaid(t *testing.T, src string, broken bool) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(src, "\n"), "\n")
	if lines[0] != "flowchart LR" {
		t.Fatalf("first line %q, want flowchart LR", lines[0])
	}
	nodes := map[string]bool{}
	edges, depth, red := 0, 0, 0
	for _, l := range lines[1:] {
		switch {
		case strings.HasPrefix(strings.TrimSpace(l), "classDef "):
		case strings.HasPrefix(strings.TrimSpace(l), "subgraph "):
			depth++
		case strings.TrimSpace(l) == "end":
			depth--
		case mermaidNode.MatchString(l):
			id := mermaidNode.FindStringSubmatch(l)[1]
			if nodes[id] {
				t.Errorf("node %s declared twice", id)
			}
			nodes[id] = true
		case mermaidEdge.MatchString(l):
			m := mermaidEdge.FindStringSubmatch(l)
			if !nodes[m[1]] || !nodes[m[4]] {
				t.Errorf("edge %q uses a node not declared before it", l)
			}
			edges++
		case mermaidLink.MatchString(l):
			i, _ := strconv.Atoi(mermaidLink.FindStringSubmatch(l)[1])
			if i >= edges {
				t.Errorf("linkStyle %d, but only %d edges", i, edges)
			}
			if strings.Contains(l, "#d62728") {
				red++
			}
		default:
			t.Errorf("line not understood: %q", l)
		}
		if depth < 0 || depth > 1 {
			t.Errorf("subgraphs unbalanced at %q", l)
		}
	}
	if depth != 0 {
		t.Error("a subgraph is not closed")
	}
	if (red > 0) != broken {
		t.Errorf("%d red edges, broken: %v", red, broken)
	}
}
