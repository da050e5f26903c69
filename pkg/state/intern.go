package state

import (
	"slices"
	"sync"
)

// The strings a whole-cluster export repeats in every pod (namespaces,
// label keys, and label values shared by a workload's pods) are kept once:
// at 100k pods that is most of what a lean pod's labels cost.
var internTable = struct {
	sync.Mutex
	m map[string]string
}{m: map[string]string{}}

// maxInterned bounds the table; past it, it starts over.
const maxInterned = 1 << 16

func interned(s string) string {
	internTable.Lock()
	defer internTable.Unlock()
	if v, ok := internTable.m[s]; ok {
		return v
	}
	if len(internTable.m) >= maxInterned {
		internTable.m = map[string]string{}
	}
	internTable.m[s] = s
	return s
}

// labelSets holds one map per distinct label set: the pods of a ReplicaSet
// carry the same labels, and lean pods never change theirs, so they share it.
var labelSets = struct {
	sync.Mutex
	m map[string]map[string]string
}{m: map[string]map[string]string{}}

// internedLabels returns a map equal to m, shared with every other pod
// whose labels are the same.
func internedLabels(m map[string]string) map[string]string {
	if len(m) == 0 {
		return m
	}
	keys := make([]string, 0, len(m))
	size := 0
	for k, v := range m {
		keys = append(keys, k)
		size += len(k) + len(v) + 2
	}
	slices.Sort(keys)
	b := make([]byte, 0, size)
	for _, k := range keys {
		b = append(append(append(append(b, k...), 0), m[k]...), 0)
	}
	labelSets.Lock()
	if shared, ok := labelSets.m[string(b)]; ok {
		labelSets.Unlock()
		return shared
	}
	labelSets.Unlock()
	shared := internedMap(m)
	labelSets.Lock()
	defer labelSets.Unlock()
	if len(labelSets.m) >= maxInterned {
		labelSets.m = map[string]map[string]string{}
	}
	labelSets.m[string(b)] = shared
	return shared
}

// internedMap returns m with its keys and values interned.
func internedMap(m map[string]string) map[string]string {
	if len(m) == 0 {
		return m
	}
	out := make(map[string]string, len(m))
	internTable.Lock()
	defer internTable.Unlock()
	for k, v := range m {
		if len(internTable.m) >= maxInterned {
			internTable.m = map[string]string{}
		}
		ik, ok := internTable.m[k]
		if !ok {
			internTable.m[k], ik = k, k
		}
		iv, ok := internTable.m[v]
		if !ok {
			internTable.m[v], iv = v, v
		}
		out[ik] = iv
	}
	return out
}
