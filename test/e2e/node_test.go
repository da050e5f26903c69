//go:build e2e

package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/meshguard/meshguard/pkg/trust/trusttest"
)

// The node's network: pods get addresses on a bridge of their own, and the
// node (kubelet, API server) listens on the bridge's address, so nothing is
// reachable from outside this machine and nothing outside is called.
const (
	bridgeName   = "mge2e0"
	podSubnet    = "10.247.0.0/24"
	nodeIP       = "10.247.0.1"
	serviceCIDR  = "10.248.0.0/24"
	kubernetesIP = "10.248.0.1" // the kubernetes Service: the first address of serviceCIDR
	nodeName     = "meshguard-e2e"
	// PauseImage is the sandbox image containerd runs for every pod, built by
	// hack/pause; the e2e workloads run it too.
	PauseImage = "meshguard.local/pause:e2e"
)

// node is a one-node cluster on this machine. Every process it starts, every
// mount, cgroup, bridge and iptables rule it makes is undone by stop, which
// t.Cleanup calls however the test ends.
type node struct {
	t          *testing.T
	bin        string // kube-apiserver, etcd, kubectl, kubelet, kube-scheduler, kube-controller-manager
	work       string // runtime state, short enough for unix socket paths
	logs       string // one log per process, kept after the run
	kubeconfig string
	socket     string // containerd's
	etcdURL    string
	cfg        *rest.Config
	kube       *kubernetes.Clientset
	procs      []*proc
	undo       []func() // in reverse order
	signals    chan os.Signal
	stopping   sync.Once
}

type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// startNode brings the cluster up: certificates, etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler, containerd with the images
// imported, and a kubelet registered and Ready.
func startNode(t *testing.T, bin, logs string, images []string) *node {
	t.Helper()
	work, err := os.MkdirTemp("/tmp", "mge2e-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(logs, 0o755); err != nil {
		t.Fatal(err)
	}
	n := &node{t: t, bin: bin, work: work, logs: logs, socket: filepath.Join(work, "containerd.sock")}
	t.Cleanup(n.stop)
	// Ctrl-C ends the test binary without its clean-ups; the node's daemons,
	// in process groups of their own, would outlive it.
	n.signals = make(chan os.Signal, 1)
	signal.Notify(n.signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		if s, ok := <-n.signals; ok {
			fmt.Fprintf(os.Stderr, "e2e: %v: stopping the node\n", s)
			n.stop()
			os.Exit(2)
		}
	}()
	steps := []struct {
		what string
		do   func() error
	}{
		{"network", n.network},
		{"certificates", n.certificates},
		{"etcd", n.etcd},
		{"kube-apiserver", n.apiserver},
		{"kube-controller-manager and kube-scheduler", n.controllers},
		{"containerd", n.containerd},
		{"images", func() error { return n.importImages(images) }},
		{"kubelet", n.kubelet},
	}
	for _, s := range steps {
		start := time.Now()
		if err := s.do(); err != nil {
			t.Fatalf("starting the node: %s: %v (logs in %s)", s.what, err, logs)
		}
		t.Logf("node: %s up in %s", s.what, time.Since(start).Round(100*time.Millisecond))
	}
	return n
}

func (n *node) path(p ...string) string { return filepath.Join(append([]string{n.work}, p...)...) }

// network makes the bridge the pods attach to, holding the node's address,
// and sends the kubernetes Service's address to the API server, which is
// what kube-proxy would do for pods (meshguard's in-cluster client).
func (n *node) network() error {
	_ = exec.Command("ip", "link", "del", bridgeName).Run() // a crashed run's
	for _, args := range [][]string{
		{"link", "add", bridgeName, "type", "bridge"},
		{"addr", "add", nodeIP + "/24", "dev", bridgeName},
		{"link", "set", bridgeName, "up"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	n.undo = append(n.undo, func() { n.run("ip", "link", "del", bridgeName) })
	return nil
}

func (n *node) kubernetesServiceRule(op string, port int) []string {
	return []string{"-t", "nat", op, "PREROUTING", "-d", kubernetesIP + "/32", "-p", "tcp", "--dport", "443",
		"-m", "comment", "--comment", "meshguard-e2e", "-j", "DNAT", "--to-destination", fmt.Sprintf("%s:%d", nodeIP, port)}
}

// certificates writes the cluster CA, the API server's serving certificate,
// the service-account signing key and the admin token.
func (n *node) certificates() error {
	ca := trusttest.NewRoot("meshguard-e2e cluster CA")
	cert, key := ca.ServingLeaf("kube-apiserver",
		[]string{"kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local", "localhost"},
		[]net.IP{net.ParseIP(nodeIP), net.ParseIP(kubernetesIP), net.ParseIP("127.0.0.1")})
	sa, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	pub, err := x509.MarshalPKIXPublicKey(&sa.PublicKey)
	if err != nil {
		return err
	}
	token := make([]byte, 16)
	if _, err := rand.Read(token); err != nil {
		return err
	}
	files := map[string][]byte{
		"ca.crt":     ca.PEM,
		"server.crt": cert,
		"server.key": key,
		"sa.key":     trusttest.KeyPEM(sa),
		"sa.pub":     pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}),
		"tokens.csv": []byte(hex.EncodeToString(token) + ",e2e-admin,e2e-admin,system:masters\n"),
	}
	for name, data := range files {
		if err := os.WriteFile(n.path(name), data, 0o600); err != nil {
			return err
		}
	}
	n.kubeconfig = filepath.Join(n.logs, "kubeconfig")
	n.cfg = &rest.Config{Host: "", BearerToken: hex.EncodeToString(token), TLSClientConfig: rest.TLSClientConfig{CAData: ca.PEM}}
	return nil
}

func (n *node) etcd() error {
	client, peer := freePort(), freePort()
	_, err := n.start("etcd", n.bin+"/etcd", "--name", "e2e", "--data-dir", n.path("etcd"),
		"--listen-client-urls", fmt.Sprintf("http://127.0.0.1:%d", client),
		"--advertise-client-urls", fmt.Sprintf("http://127.0.0.1:%d", client),
		"--listen-peer-urls", fmt.Sprintf("http://127.0.0.1:%d", peer),
		"--initial-advertise-peer-urls", fmt.Sprintf("http://127.0.0.1:%d", peer),
		"--initial-cluster", fmt.Sprintf("e2e=http://127.0.0.1:%d", peer),
		"--unsafe-no-fsync", "--log-level", "warn")
	n.etcdURL = fmt.Sprintf("http://127.0.0.1:%d", client)
	return err
}

// apiserver resolves webhook Services to their endpoints itself
// (--enable-aggregator-routing), as it does where no kube-proxy runs on the
// control plane.
func (n *node) apiserver() error {
	port := freePort()
	n.cfg.Host = fmt.Sprintf("https://%s:%d", nodeIP, port)
	if _, err := n.start("kube-apiserver", n.bin+"/kube-apiserver",
		"--etcd-servers", n.etcdURL,
		"--bind-address", nodeIP, "--advertise-address", nodeIP, "--secure-port", fmt.Sprint(port),
		"--tls-cert-file", n.path("server.crt"), "--tls-private-key-file", n.path("server.key"),
		"--client-ca-file", n.path("ca.crt"), "--token-auth-file", n.path("tokens.csv"),
		"--authorization-mode", "RBAC",
		"--service-cluster-ip-range", serviceCIDR,
		"--service-account-issuer", "https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file", n.path("sa.pub"), "--service-account-signing-key-file", n.path("sa.key"),
		"--enable-aggregator-routing=true",
		"--cert-dir", n.path("apiserver")); err != nil {
		return err
	}
	if out, err := exec.Command("iptables", n.kubernetesServiceRule("-A", port)...).CombinedOutput(); err != nil {
		return fmt.Errorf("iptables: %v: %s", err, out)
	}
	n.undo = append(n.undo, func() { n.run("iptables", n.kubernetesServiceRule("-D", port)...) })
	kc := clientcmdapi.NewConfig()
	kc.Clusters["e2e"] = &clientcmdapi.Cluster{Server: n.cfg.Host, CertificateAuthorityData: n.cfg.CAData}
	kc.AuthInfos["e2e-admin"] = &clientcmdapi.AuthInfo{Token: n.cfg.BearerToken}
	kc.Contexts["e2e"] = &clientcmdapi.Context{Cluster: "e2e", AuthInfo: "e2e-admin"}
	kc.CurrentContext = "e2e"
	if err := clientcmd.WriteToFile(*kc, n.kubeconfig); err != nil {
		return err
	}
	kube, err := kubernetes.NewForConfig(n.cfg)
	if err != nil {
		return err
	}
	n.kube = kube
	return n.until(time.Minute, "the API server is ready", func() bool {
		body, err := kube.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(context.Background())
		return err == nil && string(body) == "ok"
	})
}

// controllers runs the controller manager (Deployments, ReplicaSets,
// endpoints, service-account tokens' root CA, namespace deletion, node
// lifecycle) and the scheduler.
func (n *node) controllers() error {
	common := func(name string) []string {
		return []string{"--kubeconfig", n.kubeconfig, "--authentication-kubeconfig", n.kubeconfig,
			"--authorization-kubeconfig", n.kubeconfig, "--bind-address", "127.0.0.1",
			"--secure-port", fmt.Sprint(freePort()), "--cert-dir", n.path(name), "--leader-elect=false"}
	}
	if _, err := n.start("kube-controller-manager", n.bin+"/kube-controller-manager", append(common("kcm"),
		"--service-account-private-key-file", n.path("sa.key"), "--root-ca-file", n.path("ca.crt"),
		"--use-service-account-credentials=false")...); err != nil {
		return err
	}
	_, err := n.start("kube-scheduler", n.bin+"/kube-scheduler", common("scheduler")...)
	return err
}

// containerd runs with its own root, state, socket and runc root, so it
// shares nothing with another runtime on this machine. This machine does not
// let even root lower a process's oom_score_adj (no CAP_SYS_RESOURCE), while
// the kubelet asks -998 for every pod sandbox and runc then fails with "can't
// get final child's PID from pipe: EOF"; restrict_oom_score_adj makes
// containerd clamp what it passes to runc to its own score, as for rootless
// Kubernetes.
func (n *node) containerd() error {
	for _, d := range []string{"cni", "containerd"} {
		if err := os.MkdirAll(n.path(d), 0o755); err != nil {
			return err
		}
	}
	// No gateway flag: the bridge already holds the node's address, and the
	// bridge plugin would otherwise turn on IP forwarding for the whole machine.
	cni := fmt.Sprintf(`{"cniVersion": "0.4.0", "name": "meshguard-e2e", "plugins": [{"type": "bridge", "bridge": %q,
  "isGateway": false, "ipMasq": false, "hairpinMode": true,
  "ipam": {"type": "host-local", "ranges": [[{"subnet": %q, "gateway": %q}]], "routes": [{"dst": "0.0.0.0/0"}], "dataDir": %q}}]}
`, bridgeName, podSubnet, nodeIP, n.path("cni-ipam"))
	if err := os.WriteFile(n.path("cni", "10-meshguard-e2e.conflist"), []byte(cni), 0o644); err != nil {
		return err
	}
	config := fmt.Sprintf(`version = 2
root = %q
state = %q
oom_score = 0

[grpc]
  address = %q

[ttrpc]
  address = %q

[plugins."io.containerd.internal.v1.opt"]
  path = %q

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %q
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = %q
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        Root = %q
        SystemdCgroup = false
`, n.path("containerd", "root"), n.path("containerd", "state"), n.socket, n.socket+".ttrpc",
		n.path("containerd", "opt"), PauseImage, n.path("cni"), n.path("runc"))
	if err := os.WriteFile(n.path("containerd", "config.toml"), []byte(config), 0o644); err != nil {
		return err
	}
	if _, err := n.start("containerd", "containerd", "--config", n.path("containerd", "config.toml")); err != nil {
		return err
	}
	return n.until(30*time.Second, "containerd answers", func() bool {
		return exec.Command("ctr", "--address", n.socket, "version").Run() == nil
	})
}

// importImages loads OCI archives into the namespace the kubelet's pods use,
// as a platform team loads images where no registry is reachable.
func (n *node) importImages(archives []string) error {
	for _, a := range archives {
		if out, err := exec.Command("ctr", "--address", n.socket, "-n", "k8s.io", "images", "import", a).CombinedOutput(); err != nil {
			return fmt.Errorf("ctr images import %s: %v: %s", a, err, out)
		}
	}
	out, err := exec.Command("ctr", "--address", n.socket, "-n", "k8s.io", "images", "ls", "-q").CombinedOutput()
	n.t.Logf("node: images in containerd:\n%s", out)
	return err
}

// kubelet registers the node with the cgroup v1 layout this machine mounts,
// the cgroupfs driver and containerd; its API listens on the node address
// only.
func (n *node) kubelet() error {
	if err := os.MkdirAll(n.path("kubelet"), 0o755); err != nil {
		return err
	}
	config := fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: %s
port: %d
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: %d
authentication:
  anonymous: {enabled: true}
  webhook: {enabled: false}
authorization: {mode: AlwaysAllow}
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
containerRuntimeEndpoint: unix://%s
imageServiceEndpoint: unix://%s
clusterDomain: cluster.local
resolvConf: /etc/resolv.conf
evictionHard: {memory.available: 100Mi, nodefs.available: 1%%, imagefs.available: 1%%, nodefs.inodesFree: 1%%}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
`, nodeIP, freePort(), freePort(), n.socket, n.socket)
	if err := os.WriteFile(n.path("kubelet", "config.yaml"), []byte(config), 0o644); err != nil {
		return err
	}
	if _, err := n.start("kubelet", n.bin+"/kubelet", "--config", n.path("kubelet", "config.yaml"),
		"--kubeconfig", n.kubeconfig, "--root-dir", n.path("kubelet"), "--node-ip", nodeIP,
		"--hostname-override", nodeName); err != nil {
		return err
	}
	return n.until(2*time.Minute, "the node is Ready and schedulable", func() bool {
		node, err := n.kube.CoreV1().Nodes().Get(context.Background(), nodeName, metav1.GetOptions{})
		if err != nil {
			return false
		}
		for _, taint := range node.Spec.Taints {
			if taint.Key == "node.kubernetes.io/not-ready" {
				return false
			}
		}
		for _, c := range node.Status.Conditions {
			if c.Type == corev1.NodeReady {
				return c.Status == corev1.ConditionTrue
			}
		}
		return false
	})
}

// start runs a process with its output in logs/<name>.log, in its own
// process group.
func (n *node) start(name, bin string, args ...string) (*proc, error) {
	log, err := os.Create(filepath.Join(n.logs, name+".log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); log.Close(); close(p.done) }()
	n.procs = append(n.procs, p)
	return p, nil
}

// until polls ok every 250 ms for at most d, failing early when a process
// of the node has exited.
func (n *node) until(d time.Duration, what string, ok func() bool) error {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if ok() {
			return nil
		}
		for _, p := range n.procs {
			select {
			case <-p.done:
				return fmt.Errorf("%s exited (%v) while waiting until %s; see %s", p.name, p.err, what,
					filepath.Join(n.logs, p.name+".log"))
			default:
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	return fmt.Errorf("timed out after %s waiting until %s", d, what)
}

// stop takes the node down in reverse: the workloads first, through the API,
// so that the kubelet tears their sandboxes down (CNI, mounts, cgroups) as it
// would on a real node; then the processes; then whatever a failed run left.
func (n *node) stop() { n.stopping.Do(n.teardown) }

func (n *node) teardown() {
	signal.Stop(n.signals)
	if n.kube != nil && n.running("kubelet") {
		n.drain()
	}
	for i := len(n.procs) - 1; i >= 0; i-- {
		p := n.procs[i]
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(20 * time.Second):
			n.t.Logf("node: %s did not stop on SIGTERM, killing it", p.name)
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
	}
	n.sweep()
	for i := len(n.undo) - 1; i >= 0; i-- {
		n.undo[i]()
	}
	if mounts := n.mountsUnder(); len(mounts) > 0 {
		n.t.Errorf("node: mounts left under %s, not removing it: %v", n.work, mounts)
		return
	}
	if err := os.RemoveAll(n.work); err != nil {
		n.t.Errorf("node: %v", err)
	}
}

func (n *node) running(name string) bool {
	for _, p := range n.procs {
		if p.name == name {
			select {
			case <-p.done:
				return false
			default:
				return true
			}
		}
	}
	return false
}

// drain deletes every namespace the test made and waits until the kubelet
// has stopped every pod.
func (n *node) drain() {
	ctx := context.Background()
	nss, err := n.kube.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	if err != nil {
		n.t.Logf("node: drain: %v", err)
		return
	}
	for _, ns := range nss.Items {
		switch ns.Name {
		case "default", "kube-system", "kube-public", "kube-node-lease":
			continue
		}
		_ = n.kube.CoreV1().Namespaces().Delete(ctx, ns.Name, metav1.DeleteOptions{})
	}
	err = n.until(3*time.Minute, "every pod is gone", func() bool {
		pods, err := n.kube.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
		return err == nil && len(pods.Items) == 0
	})
	if err != nil {
		n.t.Logf("node: drain: %v", err)
	}
}

// sweep removes what a run that could not drain left behind: containers
// still running under this node's runc root, shims serving its containerd,
// mounts under its directory and the kubelet's empty cgroups.
func (n *node) sweep() {
	runcRoot := n.path("runc", "k8s.io")
	if entries, err := os.ReadDir(runcRoot); err == nil {
		for _, e := range entries {
			n.run("runc", "--root", runcRoot, "kill", "--all", e.Name(), "KILL")
			n.run("runc", "--root", runcRoot, "delete", "--force", e.Name())
		}
	}
	// The shims outlive containerd by design; ours name its socket.
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, f := range procs {
		b, err := os.ReadFile(f)
		if err != nil || !strings.Contains(string(b), n.socket) {
			continue
		}
		var pid int
		if _, err := fmt.Sscanf(f, "/proc/%d/cmdline", &pid); err == nil && pid != os.Getpid() {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	// containerd makes the shims' socket directory there whatever its state
	// directory; removed only when empty (another containerd may use it).
	_ = os.Remove("/run/containerd/s")
	_ = os.Remove("/run/containerd")
	mounts := n.mountsUnder()
	sort.Sort(sort.Reverse(sort.StringSlice(mounts)))
	for _, m := range mounts {
		if err := syscall.Unmount(m, syscall.MNT_DETACH); err != nil {
			n.t.Logf("node: unmount %s: %v", m, err)
		}
	}
	// The kubelet's QoS cgroups (the pods' are gone with them); rmdir fails
	// on any that still holds a process, and then it stays.
	for _, root := range []string{"cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids", "systemd"} {
		var dirs []string
		_ = filepath.WalkDir(filepath.Join("/sys/fs/cgroup", root, "kubepods"), func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		for i := len(dirs) - 1; i >= 0; i-- {
			_ = syscall.Rmdir(dirs[i])
		}
	}
}

func (n *node) mountsUnder() []string {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && (f[4] == n.work || strings.HasPrefix(f[4], n.work+"/")) {
			out = append(out, f[4])
		}
	}
	return out
}

// run runs a clean-up command, logging a failure.
func (n *node) run(name string, args ...string) {
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		n.t.Logf("node: %s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

var errNotRoot = errors.New("make e2e runs a kubelet and containerd: it needs root")
