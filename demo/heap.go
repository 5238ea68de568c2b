package demo

// A binary min-heap over a slice, shared by the generator's timeline of
// episodes and the live simulation's queue of messages: both pop the
// earliest item many millions of times, so no interface boxing.

// beforer is an item that knows whether it comes before another.
type beforer[T any] interface {
	*T
	before(*T) bool
}

// heapPush adds x to the heap h and returns the heap.
func heapPush[T any, P beforer[T]](h []T, x T) []T {
	h = append(h, x)
	for i := len(h) - 1; i > 0; {
		p := (i - 1) / 2
		if !P(&h[i]).before(&h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
	return h
}

// heapPop removes the first item of the non-empty heap h and returns it
// with the heap. The vacated slot is zeroed so it holds no references.
func heapPop[T any, P beforer[T]](h []T) (T, []T) {
	x := h[0]
	last := len(h) - 1
	h[0] = h[last]
	var zero T
	h[last] = zero
	h = h[:last]
	for i := 0; ; {
		c, m := 2*i+1, i
		if c < len(h) && P(&h[c]).before(&h[m]) {
			m = c
		}
		if c+1 < len(h) && P(&h[c+1]).before(&h[m]) {
			m = c + 1
		}
		if m == i {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	return x, h
}
