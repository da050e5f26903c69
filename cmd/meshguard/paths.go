package main

import (
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"github.com/meshguard/meshguard/pkg/check"
)

// runPaths is `meshguard paths`: every path to a host, and what writes do to them.
func runPaths(args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("paths", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	host := fs.String("host", "", "the host to draw: name.namespace or namespace/name of a Service, its FQDN, or a ServiceEntry host")
	files := fs.StringArrayP("filename", "f", nil, "file or directory of writes to apply (repeatable): shows the paths before and after them")
	del := fs.Bool("delete", false, "apply each -f object as a DELETE of the existing one")
	output := fs.StringP("output", "o", "text", "output format: text, json, mermaid or dot")
	sf := addStateFlags(fs)
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: meshguard paths --host HOST [-f PATH ...] [--delete] [--state PATH ...] [--kubeconfig FILE]\n"+
			"                       [-o text|json|mermaid|dot] [--root-namespace NS] [--config FILE]\n\n"+
			"Every path to the host: client class, route, cluster (subset), share of weight, Ready endpoints,\n"+
			"TLS sent and accepted, verdict; with -f, before and after the writes, the broken ones marked.\n\n"+
			"Exit codes: 0 nothing broken, 1 the -f writes break a path, 2 bad usage or input.\n\n")
		fs.PrintDefaults()
	}
	ctx, stop, code, ok := parseFaceFlags(fs, args, stderr, "paths", "text", "json", "mermaid", "dot")
	if !ok {
		return code
	}
	defer stop()
	cfg, err := sf.config()
	if err != nil {
		return failed(stderr, "paths", err)
	}
	code, err = check.RunPaths(ctx, check.PathsOptions{
		Host: *host, Files: *files, State: *sf.states, Delete: *del, Output: *output, Config: cfg,
		LoadCluster: sf.loadCluster,
	}, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "meshguard paths: %v\n", err)
	}
	return code
}
