package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"github.com/meshguard/meshguard/pkg/check"
	"github.com/meshguard/meshguard/pkg/cluster"
	"github.com/meshguard/meshguard/pkg/trust"
)

func runCheck(args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("check", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	files := fs.StringArrayP("filename", "f", nil, "file or directory of proposed PeerAuthentication, DestinationRule and VirtualService objects (repeatable)")
	del := fs.Bool("delete", false, "judge each -f object as a DELETE of the existing one")
	output := fs.StringP("output", "o", "text", "output format: text, json, sarif or markdown (a pull-request comment)")
	sf := addStateFlags(fs)
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: meshguard check -f PATH [-f PATH ...] [--state PATH ...] [--kubeconfig FILE]\n"+
			"                       [--delete] [-o text|json|sarif|markdown] [--root-namespace NS] [--config FILE]\n\n"+
			"Exit codes: 0 no denying finding, 1 a write would be denied, 2 bad usage or input.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return check.ExitOK
		}
		return check.ExitBadInput
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "meshguard check: unexpected argument %q (files go after -f)\n", fs.Arg(0))
		return check.ExitBadInput
	}
	cfg, err := sf.config()
	if err != nil {
		return failed(stderr, "check", err)
	}
	ctx, stop := interruptible()
	defer stop()
	code, err := check.Run(ctx, check.Options{
		Files: *files, State: *sf.states, Delete: *del, Output: *output, Config: cfg,
		LoadCluster: sf.loadCluster,
		FetchTrust: func(ctx context.Context, view *trust.View, secrets [][2]string, roots []string) error {
			c, err := sf.cluster()
			if err != nil {
				return err
			}
			return cluster.FetchTrust(ctx, c, view, secrets, roots)
		},
	}, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "meshguard check: %v\n", err)
	}
	return code
}
