package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/meshguard/meshguard/pkg/server"
)

// runSelftest asks the API server for a server-side dry run of a
// PeerAuthentication that is always dangerous (a workload selector in the
// root namespace, which Istio ignores: MG107) and passes only if meshguard
// denies it. `helm test` runs it.
func runSelftest(args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("selftest", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	root := fs.String("root-namespace", "istio-system", "Istio root namespace")
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig (default: $KUBECONFIG, then in-cluster config)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	rc, err := restConfig(*kubeconfig)
	if err != nil {
		fmt.Fprintf(stderr, "selftest: %v\n", err)
		return 2
	}
	scheme, _ := server.Scheme()
	c, err := client.New(rc, client.Options{Scheme: scheme})
	if err != nil {
		fmt.Fprintf(stderr, "selftest: %v\n", err)
		return 2
	}
	pa := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
		"metadata": map[string]any{"name": "meshguard-selftest", "namespace": *root},
		"spec": map[string]any{"selector": map[string]any{"matchLabels": map[string]any{"app": "meshguard-selftest"}},
			"mtls": map[string]any{"mode": "STRICT"}},
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = c.Create(ctx, pa, client.DryRunAll)
	switch {
	case err == nil:
		fmt.Fprintln(stderr, "selftest FAILED: a known-dangerous PeerAuthentication was admitted; is the webhook registered and serving?")
		return 1
	case strings.Contains(err.Error(), `admission webhook "validate.meshguard.io" denied the request`) && strings.Contains(err.Error(), "[MG107]"):
		fmt.Fprintln(stdout, "selftest passed: meshguard denied a known-dangerous PeerAuthentication (dry run)")
		return 0
	default:
		fmt.Fprintf(stderr, "selftest FAILED: the dry run failed for another reason: %v\n", err)
		return 1
	}
}
