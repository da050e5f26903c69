// Command judge asks istiod whether a write breaks traffic: the same inputs
// as `meshguard check`, and exit 1 when some (client, host, port) path that
// worked before a write fails after it.
//
//	go run ./cmd/judge --state state.yaml -f change.yaml [--delete] [-o json]
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/meshguard/meshguard/test/oracle/judge"
)

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	os.Exit(run())
}

func run() int {
	var files, states list
	flag.Var(&files, "f", "file or directory of the proposed objects (repeatable)")
	flag.Var(&states, "state", "file or directory of the cluster state (repeatable)")
	del := flag.Bool("delete", false, "each reviewed object in -f is a DELETE")
	out := flag.String("o", "text", "text or json")
	all := flag.Bool("paths", false, "also print every path after each write")
	flag.Parse()
	if len(files) == 0 || len(states) == 0 || (*out != "text" && *out != "json") {
		fmt.Fprintln(os.Stderr, "usage: judge --state PATH... -f PATH... [--delete] [-o text|json]")
		return 2
	}
	judge.Quiet()
	st, err := judge.ReadFiles(states)
	if err != nil {
		fmt.Fprintln(os.Stderr, "--state:", err)
		return 2
	}
	ch, err := judge.ReadFiles(files)
	if err != nil {
		fmt.Fprintln(os.Stderr, "-f:", err)
		return 2
	}
	steps, err := judge.Judge(judge.Input{State: st, Change: ch, Delete: *del, AllPaths: *all})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	broken := false
	for _, s := range steps {
		broken = broken || len(s.Broken) > 0
	}
	if *out == "json" {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(map[string]any{"steps": steps, "broken": broken})
	} else {
		for _, s := range steps {
			fmt.Printf("%s %s %s/%s: %d paths, %d broken, %d failing before and after\n",
				s.Operation, s.Kind, s.Namespace, s.Name, s.Paths, len(s.Broken), s.Failing)
			for _, b := range s.Broken {
				fmt.Printf("  broken %s: %d%% failing (was %d%%) %s: %s\n", b.After.Key(), b.After.FailShare, b.Before.FailShare,
					strings.Join(b.After.Causes, ","), strings.Join(b.After.Why, "; "))
			}
			for _, p := range s.All {
				fmt.Printf("  path %s: %d%% failing %s %s\n", p.Key(), p.FailShare, strings.Join(p.Causes, ","), strings.Join(p.Why, "; "))
			}
			for _, u := range s.Unjudged {
				fmt.Printf("  not judged: %s\n", u)
			}
		}
	}
	if broken {
		return 1
	}
	return 0
}
