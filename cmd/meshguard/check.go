package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/pflag"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/meshguard/meshguard/pkg/check"
	"github.com/meshguard/meshguard/pkg/config"
	"github.com/meshguard/meshguard/pkg/server"
	"github.com/meshguard/meshguard/pkg/state"
	"github.com/meshguard/meshguard/pkg/trust"
)

func runCheck(args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("check", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	files := fs.StringArrayP("filename", "f", nil, "file or directory of proposed PeerAuthentication, DestinationRule and VirtualService objects (repeatable)")
	states := fs.StringArray("state", nil, "file or directory of cluster state as `kubectl get -o yaml` prints it (repeatable); without it the live cluster is read")
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig of the live cluster (default: $KUBECONFIG, then ~/.kube/config)")
	del := fs.Bool("delete", false, "judge each -f object as a DELETE of the existing one")
	output := fs.StringP("output", "o", "text", "output format: text or json")
	root := fs.String("root-namespace", "", "Istio root namespace (default istio-system, or the config file's)")
	configFile := fs.String("config", "", "configuration file shared with `meshguard serve`")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: meshguard check -f PATH [-f PATH ...] [--state PATH ...] [--kubeconfig FILE]\n"+
			"                       [--delete] [-o text|json] [--root-namespace NS] [--config FILE]\n\n"+
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
	cfg, err := config.Load(*configFile)
	if err != nil {
		fmt.Fprintf(stderr, "meshguard check: %v\n", err)
		return check.ExitBadInput
	}
	if *root != "" {
		cfg.RootNamespace = *root
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var live client.Client // made on first use: offline runs need no cluster
	cluster := func() (client.Client, error) {
		if live != nil {
			return live, nil
		}
		rc, err := restConfig(*kubeconfig)
		if err != nil {
			return nil, err
		}
		scheme, err := server.Scheme()
		if err != nil {
			return nil, err
		}
		live, err = client.New(rc, client.Options{Scheme: scheme})
		return live, err
	}
	code, err := check.Run(ctx, check.Options{
		Files: *files, State: *states, Delete: *del, Output: *output, Config: cfg,
		LoadCluster: func(ctx context.Context, store *state.Store) error {
			c, err := cluster()
			if err != nil {
				return err
			}
			return state.LoadCluster(ctx, c, store)
		},
		FetchTrust: func(ctx context.Context, view *trust.View, secrets [][2]string, roots []string) error {
			c, err := cluster()
			if err != nil {
				return err
			}
			return state.FetchTrust(ctx, c, view, secrets, roots)
		},
	}, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "meshguard check: %v\n", err)
	}
	return code
}
