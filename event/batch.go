package event

import (
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
	var b Batch
	var rawBatch, rawCtx, rawSent json.RawMessage
	ctxCompact := true
	err := topObject(body, func(m member) error {
		switch string(m.key) {
		case "batch":
			rawBatch = m.val
		case "context":
			rawCtx, ctxCompact = m.val, m.compact
		case "sentAt":
			rawSent = m.val
		case "writeKey":
			b.WriteKey, _ = unquote(m.val)
		}
		return nil
	})
	if err != nil {
		return b, invalid("invalid_json", "", "request body is not a JSON object: %s", jsonErr(err))
	}
	if len(rawBatch) == 0 || rawBatch[0] != '[' {
		return b, invalid("invalid_batch", "batch", "batch must be an array of messages")
	}
	elems, err := arrayElems(rawBatch)
	if err != nil {
		return b, invalid("invalid_batch", "batch", "batch must be an array of messages: %s", jsonErr(err))
	}
	if len(elems) > MaxBatchMessages {
		return b, invalid("batch_too_large", "batch", "batch has %d messages, the limit is %d", len(elems), MaxBatchMessages)
	}
	b.Messages = make([]json.RawMessage, len(elems))
	for i, e := range elems {
		b.Messages[i] = e
	}
	ctx, e := object("context", rawCtx, ctxCompact)
	if e != nil {
		return b, e
	}
	b.Context = ctx
	sent, e := parseTimeField("sentAt", rawSent)
	if e != nil {
		return b, e
	}
	b.SentAt = sent
	return b, nil
}

// WriteKeyOf reads the writeKey field of a message or batch body, for senders
// that cannot set the Authorization header (sendBeacon, some browsers).
func WriteKeyOf(body []byte) string {
	var key string
	_ = topObject(body, func(m member) error {
		if string(m.key) == "writeKey" {
			key, _ = unquote(m.val)
		}
		return nil
	})
	return key
}
