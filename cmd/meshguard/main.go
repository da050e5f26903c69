// Command meshguard is a validating admission webhook that stops dangerous
// Istio configuration, and the same rule engine offline for CI.
//
//	meshguard serve   run the webhook
//	meshguard check   judge manifests against a cluster snapshot
//	meshguard audit   judge every existing object as it stands
//	meshguard paths   every path to a host, before and after writes
//	meshguard coverage how far the mesh reaches, per namespace
//	meshguard plan strict the staged migration to mesh-wide STRICT
//	meshguard selftest check that the webhook denies a known-dangerous object
//	meshguard rules   list the rule catalogue
//	meshguard version print the version
package main

import (
	"fmt"
	"os"
)

// version is stamped at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `meshguard stops dangerous Istio configuration before it breaks a mesh.

Usage:
  meshguard serve   [flags]   run the validating admission webhook
  meshguard check   [flags]   judge manifests offline (CI); see 'meshguard check --help'
  meshguard audit   [flags]   judge the mesh as it stands (-o text|json|sarif)
  meshguard paths   [flags]   every path to a host, before and after -f writes (-o text|json|mermaid|dot)
  meshguard coverage [flags]  per namespace: enrolment, mTLS mode, workloads outside the mesh
  meshguard plan strict [flags] the staged migration to mesh-wide STRICT (-o yaml to apply)
  meshguard selftest [flags]  dry-run a known-dangerous object; pass only if it is denied
  meshguard rules             list the rule catalogue
  meshguard version           print the version
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	args := os.Args[2:]
	switch os.Args[1] {
	case "serve":
		os.Exit(serve(args))
	case "check":
		os.Exit(runCheck(args, os.Stdout, os.Stderr))
	case "audit":
		os.Exit(runAudit(args, os.Stdout, os.Stderr))
	case "paths":
		os.Exit(runPaths(args, os.Stdout, os.Stderr))
	case "coverage":
		os.Exit(runCoverage(args, os.Stdout, os.Stderr))
	case "plan":
		os.Exit(runPlan(args, os.Stdout, os.Stderr))
	case "selftest":
		os.Exit(runSelftest(args, os.Stdout, os.Stderr))
	case "rules":
		printRules(os.Stdout)
	case "version", "--version":
		fmt.Println("meshguard", version)
	case "help", "-h", "--help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "meshguard: unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
}
