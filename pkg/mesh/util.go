package mesh

import (
	"slices"
	"strconv"
)

func itoa(n uint32) string { return strconv.FormatUint(uint64(n), 10) }

func sortedPorts[V any](m map[uint32]V) []uint32 {
	out := make([]uint32, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
