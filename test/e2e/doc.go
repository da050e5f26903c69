// Package e2e installs meshguard as platform teams do, on a real node: a
// control plane (etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler), a kubelet with containerd, runc and the CNI bridge on this
// machine, the image from `make image` imported into containerd, and
// `helm install` of charts/meshguard. Its tests carry the build tag e2e and
// need root: run them with `make e2e`, which builds and installs what they
// use first.
package e2e
