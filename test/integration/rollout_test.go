package integration

import (
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"
)

// endpoints is a TCP balancer on loopback standing in for the webhook's
// Service: new connections go, in turn, to the ports currently listed (a
// pod leaves the list when it terminates, as endpoints drop it), while
// connections already open stay with their replica, as the API server's
// keep-alive HTTP/2 connections do.
type endpoints struct {
	ln    net.Listener
	mu    sync.Mutex
	ports []int
	next  int
}

func newEndpoints(t *testing.T) *endpoints {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e := &endpoints{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go e.forward(c)
		}
	}()
	return e
}

func (e *endpoints) port() int { return e.ln.Addr().(*net.TCPAddr).Port }

func (e *endpoints) set(ports ...int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.ports = ports
}

func (e *endpoints) forward(c net.Conn) {
	defer c.Close()
	e.mu.Lock()
	if len(e.ports) == 0 {
		e.mu.Unlock()
		return
	}
	port := e.ports[e.next%len(e.ports)]
	e.next++
	e.mu.Unlock()
	up, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 2*time.Second)
	if err != nil {
		return
	}
	defer up.Close()
	go func() { _, _ = io.Copy(up, c); up.Close() }()
	_, _ = io.Copy(c, up)
}

// A rolling restart of two replicas while writes flow through the API
// server, with the chart's registration (failurePolicy Fail, timeout 5 s):
// each old replica leaves the endpoints, gets SIGTERM and is replaced by a
// new one. No write fails and none is wrongly admitted: benign routes are
// admitted, retry storms denied by MG306, throughout.
func TestRollingRestartFailsNoWrite(t *testing.T) {
	wio := &testEnv.WebhookInstallOptions
	bin := meshguardBinary(t)
	args := []string{"--kubeconfig", kubeconfig, "--cert-dir", wio.LocalServingCertDir, "--audit-interval", "0", "--drain-timeout", "5s"}
	lb := newEndpoints(t)
	a, b := startReplica(t, bin, "a", args...), startReplica(t, bin, "b", args...)
	eventually(t, "both replicas ready", func() error { return errors.Join(a.ready(), b.ready()) })
	lb.set(a.port, b.port)

	// The chart's registration, pointed at the balancer.
	registerForWarnModeNamespace(t, "meshguard-rollout", lb.port())
	storm := func(i int) client.Object { return obj(t, retryStorm(warnModeNamespace, fmt.Sprintf("storm-%d", i))) }
	eventually(t, "the registration reaches the API server", func() error {
		return deniedWith(k8s.Create(ctx(), storm(0), client.DryRunAll), "[MG306]")
	})

	var judged atomic.Int64
	var mu sync.Mutex
	var failures []string
	stop := make(chan struct{})
	var writers sync.WaitGroup
	for w := range 4 {
		writers.Add(1)
		go func() {
			defer writers.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				var err error
				if i%2 == 0 {
					err = deniedWith(k8s.Create(ctx(), storm(w*100000+i), client.DryRunAll), "[MG306]")
				} else {
					ok := obj(t, fmt.Sprintf(`{apiVersion: networking.istio.io/v1, kind: VirtualService, metadata: {name: ok-%d-%d, namespace: %s}, spec: {hosts: [a], http: [{route: [{destination: {host: a}}]}]}}`, w, i, warnModeNamespace))
					err = k8s.Create(ctx(), ok, client.DryRunAll)
				}
				if err != nil {
					mu.Lock()
					failures = append(failures, fmt.Sprintf("%s: %v", time.Now().Format("15:04:05.000"), err))
					mu.Unlock()
				}
				judged.Add(1)
			}
		}()
	}
	flowed := func(what string) {
		t.Helper()
		from := judged.Load()
		eventually(t, what, func() error {
			if n := judged.Load() - from; n < 40 {
				return fmt.Errorf("%d writes so far", n)
			}
			return nil
		})
	}
	flowed("writes flow to both replicas")
	serving := []*replica{a, b}
	for i, old := range []*replica{a, b} {
		serving = slices.DeleteFunc(serving, func(r *replica) bool { return r == old })
		ports := []int{}
		for _, r := range serving {
			ports = append(ports, r.port)
		}
		lb.set(ports...) // endpoints drop the terminating pod
		if err := old.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		select {
		case <-old.exited:
		case <-time.After(time.Minute):
			t.Fatalf("replica %s did not exit after SIGTERM", old.name)
		}
		if code := old.cmd.ProcessState.ExitCode(); code != 0 {
			t.Errorf("replica %s exited with %d", old.name, code)
		}
		fresh := startReplica(t, bin, fmt.Sprintf("new-%d", i), args...)
		eventually(t, "the new replica is ready", fresh.ready)
		serving = append(serving, fresh)
		lb.set(append(ports, fresh.port)...)
		flowed("writes flow after replacing " + old.name)
	}
	close(stop)
	writers.Wait()
	t.Logf("%d writes judged across the rolling restart, %d failed", judged.Load(), len(failures))
	if len(failures) > 0 {
		t.Errorf("%d writes failed or were wrongly judged:\n%s", len(failures), strings.Join(failures[:min(len(failures), 20)], "\n"))
	}
}
