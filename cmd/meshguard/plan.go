package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"github.com/meshguard/meshguard/pkg/audit"
	"github.com/meshguard/meshguard/pkg/check"
	"github.com/meshguard/meshguard/pkg/plan"
	"github.com/meshguard/meshguard/pkg/report"
	"github.com/meshguard/meshguard/pkg/state"
)

// runCoverage is `meshguard coverage`: per namespace, how far the mesh reaches.
func runCoverage(args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("coverage", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	output := fs.StringP("output", "o", "text", "output format: text or json")
	sf := addStateFlags(fs)
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: meshguard coverage [--state PATH ...] [--kubeconfig FILE] [-o text|json]\n\n")
		fs.PrintDefaults()
	}
	ctx, stop, code, ok := parseFaceFlags(fs, args, stderr, "coverage", "text", "json")
	if !ok {
		return code
	}
	defer stop()
	cfg, err := sf.config()
	if err != nil {
		return failed(stderr, "coverage", err)
	}
	sess, err := sf.session(ctx, cfg)
	if err != nil {
		return failed(stderr, "coverage", err)
	}
	var cov plan.Coverage
	_ = sess.Store().View(func(s state.Snapshot) error { cov = plan.Compute(s, cfg); return nil })
	if err := plan.WriteCoverage(stdout, *output, cov); err != nil {
		return failed(stderr, "coverage", err)
	}
	return check.ExitOK
}

// runPlan is `meshguard plan strict`: the staged STRICT migration.
func runPlan(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "strict" {
		fmt.Fprint(stderr, "Usage: meshguard plan strict [--state PATH ...] [--kubeconfig FILE] [--holdout NS ...] [-o text|yaml|json]\n")
		return check.ExitBadInput
	}
	fs := pflag.NewFlagSet("plan strict", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	output := fs.StringP("output", "o", "text", "output format: text, yaml (only the policies safe now, for kubectl apply) or json")
	holdouts := fs.StringArray("holdout", nil, "namespace kept PERMISSIVE on purpose (repeatable)")
	sf := addStateFlags(fs)
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: meshguard plan strict [--state PATH ...] [--kubeconfig FILE] [--holdout NS ...] [-o text|yaml|json]\n\n")
		fs.PrintDefaults()
	}
	ctx, stop, code, ok := parseFaceFlags(fs, args[1:], stderr, "plan strict", "text", "yaml", "json")
	if !ok {
		return code
	}
	defer stop()
	cfg, err := sf.config()
	if err != nil {
		return failed(stderr, "plan strict", err)
	}
	sess, err := sf.session(ctx, cfg)
	if err != nil {
		return failed(stderr, "plan strict", err)
	}
	if err := plan.WritePlan(stdout, *output, plan.Strict(sess, cfg, *holdouts)); err != nil {
		return failed(stderr, "plan strict", err)
	}
	return check.ExitOK
}

// parseFaceFlags parses args, refuses stray arguments and unknown output
// formats, and returns a context that SIGINT and SIGTERM cancel. ok is false
// when the command must exit with code (help, or bad usage).
func parseFaceFlags(fs *pflag.FlagSet, args []string, stderr io.Writer, command string, formats ...string) (context.Context, context.CancelFunc, int, bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return nil, nil, check.ExitOK, false
		}
		return nil, nil, check.ExitBadInput, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "meshguard %s: unexpected argument %q\n", command, fs.Arg(0))
		return nil, nil, check.ExitBadInput, false
	}
	out, _ := fs.GetString("output")
	known := false
	for _, f := range formats {
		known = known || out == f
	}
	if !known {
		fmt.Fprintf(stderr, "meshguard %s: -o: %q is not one of %v\n", command, out, formats)
		return nil, nil, check.ExitBadInput, false
	}
	ctx, stop := interruptible()
	return ctx, stop, 0, true
}

// runAudit is `meshguard audit`: every existing object judged as it stands.
func runAudit(args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("audit", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	output := fs.StringP("output", "o", "text", "output format: text, json or sarif")
	namespaces := fs.StringArrayP("namespace", "n", nil, "audit only this namespace (repeatable)")
	sf := addStateFlags(fs)
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: meshguard audit [--state PATH ...] [--kubeconfig FILE] [-n NAMESPACE ...] [-o text|json|sarif]\n"+
			"                       [--root-namespace NS] [--config FILE]\n\n"+
			"Exit codes: 0 no deny finding, 1 at least one, 2 bad usage or input.\n\n")
		fs.PrintDefaults()
	}
	ctx, stop, code, ok := parseFaceFlags(fs, args, stderr, "audit", "text", "json", "sarif")
	if !ok {
		return code
	}
	defer stop()
	cfg, err := sf.config()
	if err != nil {
		return failed(stderr, "audit", err)
	}
	sess, err := sf.session(ctx, cfg)
	if err != nil {
		return failed(stderr, "audit", err)
	}
	rep := audit.Run(sess, cfg, *namespaces)
	if err := report.Write(stdout, *output, rep); err != nil {
		return failed(stderr, "audit", err)
	}
	if rep.Denied {
		return check.ExitDenied
	}
	return check.ExitOK
}
