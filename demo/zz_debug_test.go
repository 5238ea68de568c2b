package demo

import (
	"fmt"
	"sort"
	"testing"
)

func TestZZDebug(t *testing.T) {
	d := defaultSet(t)
	labels := map[string]int{}
	for _, x := range d.msgs {
		labels[x.src+" "+x.m.Label()]++
	}
	type kv struct {
		k string
		n int
	}
	var l []kv
	for k, n := range labels {
		l = append(l, kv{k, n})
	}
	sort.Slice(l, func(i, j int) bool { return l[i].n > l[j].n })
	for _, x := range l {
		fmt.Printf("%7d %s\n", x.n, x.k)
	}
}
