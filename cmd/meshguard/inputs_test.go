package main

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain lets a test run the real command in a child process (for signals).
func TestMain(m *testing.M) {
	if args := os.Getenv("MESHGUARD_TEST_MAIN"); args != "" {
		os.Exit(runCheck(strings.Fields(args), os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func TestCheckInputsThatMustNotPass(t *testing.T) {
	dir := t.TempDir()
	writeFile := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	empty := writeFile("empty.yaml", "# nothing here\n---\n")
	// Services and Namespaces are reviewed since issue 25; a Pod is not.
	pod := writeFile("pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop}\nspec: {containers: [{name: web, image: web}]}\n")
	fifo := filepath.Join(dir, "pipe.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name         string
		args         []string
		code         int
		stdout, errs string
	}{
		{name: "-f without any document is bad input", args: []string{"-f", empty, "--state", clusterState}, code: 2, errs: "no document to review"},
		{name: "--state without any object is bad input", args: []string{"-f", fixtures + "mesh-strict.yaml", "--state", empty}, code: 2, errs: "export the cluster first"},
		{name: "-f with only other kinds has nothing to review", args: []string{"-f", pod, "--state", clusterState}, code: 0, stdout: "nothing to review"},
		{name: "a FIFO is refused, not read", args: []string{"-f", fifo, "--state", clusterState}, code: 2, errs: "pipe.yaml: not a regular file (a FIFO)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := runCheckArgs(t, c.args...)
			if code != c.code || !strings.Contains(stdout, c.stdout) || !strings.Contains(stderr, c.errs) || (code == 2 && stdout != "") {
				t.Errorf("exit %d (want %d)\nstdout: %s\nstderr: %s", code, c.code, stdout, stderr)
			}
		})
	}
}

// SIGTERM stops check at any point, here while it waits on a cluster that
// accepts the connection and never answers.
func TestCheckStopsOnSIGTERM(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	connected := make(chan struct{}, 1)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // hold it open, say nothing
			select {
			case connected <- struct{}{}:
			default:
			}
		}
	}()
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	_ = os.WriteFile(kubeconfig, []byte("apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: \"http://"+ln.Addr().String()+"\"}}]\n"+
		"contexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\nusers: [{name: u, user: {}}]\n"), 0o600)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "MESHGUARD_TEST_MAIN=-f "+fixtures+"mesh-strict.yaml --kubeconfig "+kubeconfig)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select { // signal once check is blocked reading the cluster
	case <-connected:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("check never reached the cluster: %s", stderr.String())
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
		if !strings.Contains(stderr.String(), "context canceled") && !strings.Contains(stderr.String(), "interrupted") {
			t.Errorf("stopped, but said: %s", stderr.String())
		}
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("check ignored SIGTERM")
	}
}
