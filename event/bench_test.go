package event

import (
	"testing"
)

var benchMsg = []byte(`{"type":"track","messageId":"m-12345","userId":"user-4242","event":"Order Completed","properties":{"order_id":"O12345","revenue":1290000,"currency":"VND","products":[{"product_id":"SKU-12","category":"Túi xách","price":1290000,"quantity":1}]},"context":{"ip":"14.161.0.12","locale":"vi-VN","page":{"path":"/gio-hang","url":"https://maybouti.vn/gio-hang"}},"timestamp":"2026-10-12T10:00:00Z"}`)

func BenchmarkNormalize(b *testing.B) {
	b.SetBytes(int64(len(benchMsg)))
	for b.Loop() {
		if _, err := Normalize(benchMsg, Defaults{ReceivedAt: recv}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBinaryRoundTrip(b *testing.B) {
	m, _ := Normalize(benchMsg, Defaults{ReceivedAt: recv})
	var buf []byte
	var out Message
	for b.Loop() {
		buf = AppendBinary(buf[:0], &m)
		if err := DecodeBinary(buf, &out); err != nil {
			b.Fatal(err)
		}
	}
}
