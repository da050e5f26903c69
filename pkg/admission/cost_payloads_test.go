package admission_test

import (
	"fmt"
	"strings"
)

// giantVirtualService is the CPU payload: hosts host names and
// routes HTTP routes, each with a path match and one destination (500 × 666
// is about 85 KB).
func giantVirtualService(hosts, routes int) string {
	var b strings.Builder
	b.WriteString(`{"apiVersion":"networking.istio.io/v1","kind":"VirtualService","metadata":{"name":"giant","namespace":"legacy"},"spec":{"hosts":[`)
	for i := 0; i < hosts; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"h%d.example.com"`, i)
	}
	b.WriteString(`],"http":[`)
	for i := 0; i < routes; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"match":[{"uri":{"prefix":"/p%d"}}],"route":[{"destination":{"host":"r%d"}}]}`, i, i)
	}
	b.WriteString(`]}}`)
	return b.String()
}

// giantDestinationRule is the memory payload: subsets subsets, each
// with ports port-level TLS settings.
func giantDestinationRule(subsets, ports int) string {
	var b strings.Builder
	b.WriteString(`{"apiVersion":"networking.istio.io/v1","kind":"DestinationRule","metadata":{"name":"giant","namespace":"legacy"},"spec":{"host":"api","subsets":[`)
	for i := 0; i < subsets; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"name":"s%d","labels":{"version":"v%d"},"trafficPolicy":{"portLevelSettings":[`, i, i)
		for j := 0; j < ports; j++ {
			if j > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"port":{"number":%d},"tls":{"mode":"ISTIO_MUTUAL"}}`, 8000+j)
		}
		b.WriteString(`]}}`)
	}
	b.WriteString(`]}}`)
	return b.String()
}
