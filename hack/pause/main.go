// Command pause is the pod sandbox image for `make e2e`, where no registry
// serves registry.k8s.io/pause: like Kubernetes' own pause, it holds the
// pod's namespaces, reaps the children it inherits as PID 1, and exits on
// SIGINT or SIGTERM. The e2e workloads run it too: a container that only
// waits, Running and (without a failing probe) Ready.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sig := make(chan os.Signal, 4)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for s := range sig {
		if s != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			pid, err := syscall.Wait4(-1, nil, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
