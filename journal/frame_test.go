package journal

import (
	"reflect"
	"testing"

	"github.com/yiping-ioc/yiping/record"
)

func TestBatchFrameRoundTrip(t *testing.T) {
	nf := len(record.KindItem.Fields())
	vals := make([]string, 2*nf)
	for i := range vals {
		vals[i] = string(rune('a' + i%26))
	}
	in := Batch{Kind: record.KindItem, Replace: true, Source: "platform.items", Values: vals}
	frame := MarshalBatch(nil, &in)
	out, err := UnmarshalBatch(frame)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("round trip: got %+v, want %+v", out, in)
	}
	for _, bad := range [][]byte{nil, frame[:len(frame)-1], append(append([]byte(nil), frame[:len(frame)-1]...), frame[len(frame)-1]^1)} {
		if _, err := UnmarshalBatch(bad); err == nil {
			t.Errorf("a damaged frame of %d bytes was read", len(bad))
		}
	}
}

func FuzzUnmarshalBatch(f *testing.F) {
	b := Batch{Kind: record.KindCall, Source: "s", Values: make([]string, len(record.KindCall.Fields()))}
	f.Add(MarshalBatch(nil, &b))
	f.Fuzz(func(t *testing.T, p []byte) {
		got, err := UnmarshalBatch(p)
		if err != nil {
			return
		}
		again, err := UnmarshalBatch(MarshalBatch(nil, &got))
		if err != nil || !reflect.DeepEqual(got, again) {
			t.Fatalf("re-read %v %+v vs %+v", err, again, got)
		}
	})
}
