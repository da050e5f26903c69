package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestPathsFace(t *testing.T) {
	const fixtures = "../../test/fixtures/paths/"
	state := fixtures + "state.yaml"
	cases := []struct {
		name   string
		args   []string
		code   int
		stdout string // substring; "" with code 2: nothing on stdout
		stderr string
	}{
		{name: "the paths as they stand exit 0", args: []string{"--state", state, "--host", "reviews.shop"},
			code: 0, stdout: "3 path(s); 0 fail"},
		{name: "writes that break paths exit 1 and mark them", args: []string{"--state", state, "--host", "shop/reviews", "-f", fixtures + "drop-v2.yaml"},
			code: 1, stdout: "BROKEN 10% no-subset"},
		{name: "writes that break nothing exit 0", args: []string{"--state", state, "--host", "reviews.shop.svc.cluster.local", "-f", fixtures + "canary-50.yaml"},
			code: 0, stdout: "the writes break none"},
		{name: "a host without its namespace is bad usage", args: []string{"--state", state, "--host", "reviews"},
			code: 2, stderr: "say which namespace"},
		{name: "a host nothing in the state has is bad input", args: []string{"--state", state, "--host", "nothing.shop"},
			code: 2, stderr: "no Service or ServiceEntry in the state has this host"},
		{name: "no host is bad usage", args: []string{"--state", state},
			code: 2, stderr: "--host: the host to draw is required"},
		{name: "an unknown format is bad usage", args: []string{"--state", state, "--host", "reviews.shop", "-o", "png"},
			code: 2, stderr: `-o: "png" is not one of`},
		{name: "an unreadable change is bad input", args: []string{"--state", state, "--host", "reviews.shop", "-f", fixtures + "missing.yaml"},
			code: 2, stderr: "missing.yaml"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := runPaths(c.args, &out, &errOut)
			if code != c.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, c.code, out.String(), errOut.String())
			}
			if c.code == 2 && out.Len() > 0 {
				t.Errorf("bad input printed on stdout: %s", out.String())
			}
			if !strings.Contains(out.String(), c.stdout) || !strings.Contains(errOut.String(), c.stderr) {
				t.Errorf("want %q on stdout and %q on stderr:\n%s%s", c.stdout, c.stderr, out.String(), errOut.String())
			}
		})
	}
}
