package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/pflag"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/meshguard/meshguard/pkg/check"
	"github.com/meshguard/meshguard/pkg/cluster"
	"github.com/meshguard/meshguard/pkg/config"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/server"
	"github.com/meshguard/meshguard/pkg/state"
)

// stateFlags are the flags every face that reads cluster state shares:
// --state files, or the live cluster from --kubeconfig; the root namespace
// and the configuration file.
type stateFlags struct {
	states     *[]string
	kubeconfig *string
	root       *string
	configFile *string
	live       client.Client // made on first use: offline runs need no cluster
}

func addStateFlags(fs *pflag.FlagSet) *stateFlags {
	return &stateFlags{
		states:     fs.StringArray("state", nil, "file or directory of cluster state as `kubectl get -o yaml` prints it (repeatable); without it the live cluster is read"),
		kubeconfig: fs.String("kubeconfig", "", "kubeconfig of the live cluster (default: $KUBECONFIG, then ~/.kube/config)"),
		root:       fs.String("root-namespace", "", "Istio root namespace (default istio-system, or the config file's)"),
		configFile: fs.String("config", "", "configuration file shared with `meshguard serve`"),
	}
}

// config loads the configuration file and applies --root-namespace.
func (f *stateFlags) config() (*config.Config, error) {
	cfg, err := config.Load(*f.configFile)
	if err != nil {
		return nil, err
	}
	if err := rules.CheckConfig(cfg); err != nil {
		return nil, fmt.Errorf("config %s: %w", *f.configFile, err)
	}
	if *f.root != "" {
		cfg.RootNamespace = *f.root
	}
	return cfg, nil
}

// cluster is the client of the live cluster, made on first use.
func (f *stateFlags) cluster() (client.Client, error) {
	if f.live != nil {
		return f.live, nil
	}
	rc, err := restConfig(*f.kubeconfig)
	if err != nil {
		return nil, err
	}
	scheme, err := server.Scheme()
	if err != nil {
		return nil, err
	}
	f.live, err = client.New(rc, client.Options{Scheme: scheme})
	return f.live, err
}

// loadCluster fills a store with one listing of the live cluster.
func (f *stateFlags) loadCluster(ctx context.Context, store *state.Store) error {
	c, err := f.cluster()
	if err != nil {
		return err
	}
	return cluster.LoadCluster(ctx, c, store)
}

// session loads the state into a session, from files or the live cluster.
func (f *stateFlags) session(ctx context.Context, cfg *config.Config) (*check.Session, error) {
	return check.LoadState(ctx, cfg, *f.states, f.loadCluster, time.Now)
}

// interruptGrace is how long an interrupted command may take to unwind on
// its own before the process exits anyway (a read of the cluster that ignores
// its context, such as API discovery, must not keep it alive).
const interruptGrace = 2 * time.Second

// interruptible returns a context that the first SIGINT or SIGTERM cancels;
// the process then exits within interruptGrace (exit code 2, with a message),
// and a second signal ends it at once, as without a handler.
func interruptible() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case s := <-sig:
			signal.Stop(sig)
			cancel()
			fmt.Fprintf(os.Stderr, "meshguard: %v: interrupted\n", s)
			time.Sleep(interruptGrace)
			os.Exit(check.ExitBadInput)
		case <-ctx.Done():
		}
	}()
	return ctx, func() { signal.Stop(sig); cancel() }
}

// failed prints err for command and returns the exit code it deserves.
func failed(stderr io.Writer, command string, err error) int {
	fmt.Fprintf(stderr, "meshguard %s: %v\n", command, err)
	return check.ExitBadInput
}
