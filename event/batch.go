package event

import (
	"bytes"
	"encoding/json"
	"time"
)

// Batch is the body of a Segment batch request (POST /v1/batch, /v1/b).
type Batch struct {
	Messages []json.RawMessage
	// Context is merged into every message (the message's own keys win).
	Context  json.RawMessage
	SentAt   time.Time
	WriteKey string
}

// DecodeBatch decodes a batch body. It fails only when the body as a whole is
// unusable; single bad messages are reported later by Normalize.
func DecodeBatch(body []byte) (Batch, *Error) {
	var w struct {
		Batch    json.RawMessage `json:"batch"`
		Context  json.RawMessage `json:"context"`
		SentAt   json.RawMessage `json:"sentAt"`
		WriteKey string          `json:"writeKey"`
	}
	var b Batch
	if err := json.Unmarshal(body, &w); err != nil {
		return b, invalid("invalid_json", "", "request body is not a JSON object: %s", jsonErr(err))
	}
	bt := bytes.TrimSpace(w.Batch)
	if len(bt) == 0 || bt[0] != '[' {
		return b, invalid("invalid_batch", "batch", "batch must be an array of messages")
	}
	if err := json.Unmarshal(bt, &b.Messages); err != nil {
		return b, invalid("invalid_batch", "batch", "batch must be an array of messages: %s", jsonErr(err))
	}
	if len(b.Messages) > MaxBatchMessages {
		return b, invalid("batch_too_large", "batch", "batch has %d messages, the limit is %d", len(b.Messages), MaxBatchMessages)
	}
	ctx, e := object("context", w.Context, false)
	if e != nil {
		return b, e
	}
	b.Context = ctx
	sent, e := parseTimeField("sentAt", w.SentAt)
	if e != nil {
		return b, e
	}
	b.SentAt = sent
	b.WriteKey = w.WriteKey
	return b, nil
}

// WriteKeyOf reads the writeKey field of a message or batch body, for senders
// that cannot set the Authorization header (sendBeacon, some browsers).
func WriteKeyOf(body []byte) string {
	var w struct {
		WriteKey string `json:"writeKey"`
	}
	_ = json.Unmarshal(body, &w)
	return w.WriteKey
}
