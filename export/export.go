// Package export writes stored events out of cjm, so data is never locked in:
// JSONL of Segment-spec messages (re-importable with `cjm import`), or CSV.
package export

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/cjmhq/cjm/event"
	"github.com/cjmhq/cjm/eventstore"
)

// Formats are the export formats.
var Formats = []string{"jsonl", "csv"}

// CSVHeader is the header of a CSV export: one column per message field,
// JSON objects as JSON text.
var CSVHeader = []string{"messageId", "type", "timestamp", "userId", "anonymousId", "event", "name", "groupId",
	"previousId", "properties", "traits", "context", "integrations", "originalTimestamp", "sentAt", "receivedAt", "sourceId"}

// Write writes the messages matching f to w in format and returns how many.
func Write(ctx context.Context, store eventstore.Store, f eventstore.Filter, format string, w io.Writer) (int64, error) {
	bw := bufio.NewWriterSize(w, 1<<20)
	var n int64
	var err error
	switch format {
	case "jsonl":
		enc := json.NewEncoder(bw)
		enc.SetEscapeHTML(false)
		err = store.Scan(ctx, f, func(m *event.Message) error {
			n++
			return enc.Encode(m)
		})
	case "csv":
		cw := csv.NewWriter(bw)
		if err := cw.Write(CSVHeader); err != nil {
			return 0, err
		}
		row := make([]string, len(CSVHeader))
		err = store.Scan(ctx, f, func(m *event.Message) error {
			n++
			row = append(row[:0], m.MessageID, string(m.Type), stamp(m.Timestamp), m.UserID, m.AnonymousID, m.Event, m.Name,
				m.GroupID, m.PreviousID, string(m.Properties), string(m.Traits), string(m.Context), string(m.Integrations),
				stamp(m.OriginalTimestamp), stamp(m.SentAt), stamp(m.ReceivedAt), m.SourceID)
			return cw.Write(row)
		})
		cw.Flush()
		if err == nil {
			err = cw.Error()
		}
	default:
		return 0, fmt.Errorf("unknown export format %q (want jsonl or csv)", format)
	}
	if err != nil {
		return n, err
	}
	return n, bw.Flush()
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}
