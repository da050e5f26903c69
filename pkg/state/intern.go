package state

import "sync"

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
