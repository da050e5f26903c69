// Package judge asks istiod whether a write breaks traffic. It reads the same
// inputs as `meshguard check` (state files as `kubectl get -o yaml|json`
// prints them, and the proposed objects), builds istiod's real push context
// and proxy configuration for the cluster before and after the write with
// Istio's own test harness (istio.io/istio/pilot/test/xds), and reports every
// (client, host, port) path whose traffic worked before and fails after.
//
// It is a test oracle, not part of meshguard: it lives in its own module so
// that istio.io/istio never enters the product's dependency graph.
package judge

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// Object is one Kubernetes object read from a file, with where it came from.
type Object struct {
	*unstructured.Unstructured
	Source string // file#document
}

// Key identifies an object by group, kind, namespace and name.
func (o Object) Key() string {
	gv := o.GroupVersionKind()
	ns := o.GetNamespace()
	if ns == "" && namespaced(o.GetKind()) {
		ns = "default"
	}
	return gv.Group + "/" + gv.Kind + "/" + ns + "/" + o.GetName()
}

func namespaced(kind string) bool {
	switch kind {
	case "Namespace", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration":
		return false
	}
	return true
}

// ReadFiles reads every YAML or JSON document of the files and directories
// (recursively, *.yaml, *.yml and *.json), expanding `kind: List`.
func ReadFiles(paths []string) ([]Object, error) {
	var out []Object
	for _, p := range paths {
		files, err := expand(p)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			objs, err := readFile(f)
			if err != nil {
				return nil, err
			}
			out = append(out, objs...)
		}
	}
	return out, nil
}

func expand(p string) ([]string, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return []string{p}, nil
	}
	var files []string
	err = filepath.WalkDir(p, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch strings.ToLower(filepath.Ext(path)) {
		case ".yaml", ".yml", ".json":
			if !d.IsDir() {
				files = append(files, path)
			}
		}
		return nil
	})
	sort.Strings(files)
	return files, err
}

func readFile(path string) ([]Object, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ReadBytes(path, data)
}

// ReadBytes decodes the documents of one file's content.
func ReadBytes(name string, data []byte) ([]Object, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bufio.NewReader(bytes.NewReader(data)), 4096)
	var out []Object
	for doc := 1; ; doc++ {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, fmt.Errorf("%s#%d: %w", name, doc, err)
		}
		if len(m) == 0 {
			continue
		}
		u := &unstructured.Unstructured{Object: m}
		src := fmt.Sprintf("%s#%d", name, doc)
		if strings.HasSuffix(u.GetKind(), "List") {
			items, _, _ := unstructured.NestedSlice(m, "items")
			for i, it := range items {
				im, ok := it.(map[string]any)
				if !ok {
					return nil, fmt.Errorf("%s: items[%d] is not an object", src, i)
				}
				out = append(out, Object{&unstructured.Unstructured{Object: im}, fmt.Sprintf("%s items[%d]", src, i)})
			}
			continue
		}
		if u.GetKind() == "" || u.GetName() == "" {
			return nil, fmt.Errorf("%s: an object needs kind and metadata.name", src)
		}
		out = append(out, Object{u, src})
	}
}
