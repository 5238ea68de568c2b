package analytics

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cjmhq/cjm/opstore"
)

// spendDay is a spend date: 00:00 UTC of the day.
func spendDay(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// octoberSpend is what every header test's one data row reads as.
var octoberSpend = opstore.Spend{WorkspaceID: "ws_1", Channel: "Facebook", Campaign: "11.11", From: spendDay(2026, 10, 1),
	To: spendDay(2026, 11, 1), Amount: 1_500_000, Currency: "VND"}

func errorTexts(errs []SpendError) []string {
	out := []string{}
	for _, e := range errs {
		out = append(out, e.Error())
	}
	return out
}

func TestParseSpendHeaders(t *testing.T) {
	for _, tc := range []struct {
		name, file string
	}{
		{"english", "channel,campaign,from,to,amount\nFacebook,11.11,2026-10-01,2026-10-31,1500000\n"},
		{"english synonyms, any case", "Start, END ,Channel,Campaign Name,SPEND\n2026-10-01,2026-10-31,Facebook,11.11,1500000\n"},
		{"cost and dates", "Channel,Start date,End date,Cost,Campaign\nFacebook,2026-10-01,2026-10-31,1500000,11.11\n"},
		{"vietnamese", "Kênh;Chiến dịch;Từ ngày;Đến ngày;Chi phí\nFacebook;11.11;01/10/2026;31/10/2026;1.500.000\n"},
		{"vietnamese without diacritics", "kenh;chien dich;bat dau;ket thuc;so tien\nFacebook;11.11;01/10/2026;31/10/2026;1.500.000\n"},
		{"vietnamese capitals, unit in header", "KÊNH;CHIẾN DỊCH;NGÀY BẮT ĐẦU;NGÀY KẾT THÚC;CHI PHÍ (VNĐ)\nFacebook;11.11;1/10/2026;31/10/2026;1.500.000\n"},
		{"byte order mark", "\ufeffchannel,campaign,from,to,amount\nFacebook,11.11,2026-10-01,2026-10-31,1500000\n"},
		{"tabs", "channel\tcampaign\tfrom\tto\tamount\nFacebook\t11.11\t2026-10-01\t2026-10-31\t1 500 000\n"},
		{"quoted commas stay in a field", "channel,campaign,from,to,amount\n\"Facebook\",\"11.11\",2026-10-01,2026-10-31,\"1,500,000\"\n"},
		{"semicolon with quoted semicolons in header", "\"kênh;x\",channel,campaign,from,to,amount\nignored,Facebook,11.11,2026-10-01,2026-10-31,1500000\n"},
		{"unknown columns ignored", "note,channel,campaign,from,to,amount,owner\nhi,Facebook,11.11,2026-10-01,2026-10-31,1500000,Mai\n"},
		{"CRLF and blank lines", "channel,campaign,from,to,amount\r\n\r\nFacebook,11.11,2026-10-01,2026-10-31,1500000\r\n,,,,\r\n"},
		{"spaces inside names collapse", "channel,campaign,from,to,amount\n  Facebook ,  11.11  ,2026-10-01,2026-10-31,1500000\n"},
		{"currency column", "channel,campaign,from,to,amount,tiền tệ\nFacebook,11.11,2026-10-01,2026-10-31,1500000,vnd\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, errs := ParseSpend(strings.NewReader(tc.file), "ws_1", "VND")
			if len(errs) > 0 {
				t.Fatalf("errors %v", errorTexts(errs))
			}
			if d := cmp.Diff([]opstore.Spend{octoberSpend}, rows); d != "" {
				t.Errorf("rows (-want +got):\n%s", d)
			}
		})
	}
}

func TestParseSpendHeaderErrors(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		want       []string
	}{
		{"missing amount", "channel,from,to\nFacebook,2026-10-01,2026-10-31\nZalo,2026-10-01,2026-10-31\n",
			[]string{"line 1: amount: the header row has no amount column (name it amount, spend, cost, chi phí or số tiền)"}},
		{"header after blank lines", "\n\nchannel,from,to\n", []string{
			"line 3: amount: the header row has no amount column (name it amount, spend, cost, chi phí or số tiền)"}},
		{"missing channel and dates", "campaign,amount\nx,1\n", []string{
			"line 1: channel: the header row has no channel column (name it channel or kênh)",
			"line 1: from: the header row has no from column (name it from, start, từ ngày or bắt đầu)",
			"line 1: to: the header row has no to column (name it to, end, đến ngày or kết thúc)",
		}},
		{"two amount columns", "channel,from,to,spend,Chi phí\nFacebook,2026-10-01,2026-10-31,1,2\n",
			[]string{`line 1: amount: columns "spend" and "Chi phí" both give the amount`}},
		{"empty file", "", []string{"line 1: the file is empty: it needs a header row and a row per period"}},
		{"only a byte order mark", "\ufeff", []string{"line 1: the file is empty: it needs a header row and a row per period"}},
		{"not UTF-8", "k\xeanh,from,to,amount\n", []string{"line 1: the file is not UTF-8 text: save it as CSV UTF-8"}},
		{"UTF-16", "\xff\xfec\x00h\x00", []string{"line 1: the file is UTF-16 text: save it as CSV UTF-8"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, errs := ParseSpend(strings.NewReader(tc.file), "ws_1", "VND")
			if len(rows) != 0 {
				t.Errorf("rows %+v", rows)
			}
			if d := cmp.Diff(tc.want, errorTexts(errs)); d != "" {
				t.Errorf("errors (-want +got):\n%s", d)
			}
		})
	}
}

func TestParseSpendDates(t *testing.T) {
	for _, tc := range []struct {
		from, to string
		want     [2]time.Time // From, To (exclusive)
		err      string
	}{
		{from: "2026-10-01", to: "2026-10-31", want: [2]time.Time{spendDay(2026, 10, 1), spendDay(2026, 11, 1)}},
		{from: "01/10/2026", to: "31/10/2026", want: [2]time.Time{spendDay(2026, 10, 1), spendDay(2026, 11, 1)}},
		{from: "1/10/2026", to: "5/10/2026", want: [2]time.Time{spendDay(2026, 10, 1), spendDay(2026, 10, 6)}},
		{from: "01-12-2026", to: "31.12.2026", want: [2]time.Time{spendDay(2026, 12, 1), spendDay(2027, 1, 1)}},
		{from: "2026/2/1", to: "2026-2-28", want: [2]time.Time{spendDay(2026, 2, 1), spendDay(2026, 3, 1)}},
		{from: "2026-10-01 00:00:00", to: "2026-10-01 00:00", want: [2]time.Time{spendDay(2026, 10, 1), spendDay(2026, 10, 2)}}, // one day
		{from: "2026-10-02", to: "2026-10-01", err: "line 2: to: 2026-10-01 is before the first day 2026-10-02"},
		{from: "10/31/2026", to: "2026-11-30", err: `line 2: from: "10/31/2026" is not a date: write 2026-10-31 or 31/10/2026 (day first)`},
		{from: "2026-02-30", to: "2026-03-01", err: `line 2: from: "2026-02-30" is not a date`},
		{from: "01/10/26", to: "2026-10-31", err: `line 2: from: "01/10/26" is not a date`},
		{from: "2026-10-01 14:30", to: "2026-10-31", err: `line 2: from: "2026-10-01 14:30" has a time of day`},
		{from: "2026-10-01", to: "", err: "line 2: to: is empty"},
		{from: "0001-01-01", to: "2026-10-31", err: `line 2: from: "0001-01-01" is out of range`},
	} {
		t.Run(tc.from+"_"+tc.to, func(t *testing.T) {
			file := "channel,from,to,amount\nZalo," + tc.from + "," + tc.to + ",100000\n"
			rows, errs := ParseSpend(strings.NewReader(file), "ws_1", "VND")
			if tc.err != "" {
				if len(rows) != 0 || len(errs) != 1 || !strings.HasPrefix(errs[0].Error(), tc.err) {
					t.Fatalf("rows %+v, errors %v, want one error starting %q", rows, errorTexts(errs), tc.err)
				}
				return
			}
			if len(errs) != 0 || len(rows) != 1 {
				t.Fatalf("rows %+v, errors %v", rows, errorTexts(errs))
			}
			if got := [2]time.Time{rows[0].From, rows[0].To}; got != tc.want {
				t.Errorf("period %v, want %v", got, tc.want)
			}
		})
	}
}

func TestParseSpendAmounts(t *testing.T) {
	for _, tc := range []struct {
		amount, currency, def string // the amount and currency cells, the default currency
		want                  int64
		wantCur               string
		err                   string
	}{
		{amount: "1500000", want: 1_500_000, wantCur: "VND"},
		{amount: "1.500.000", want: 1_500_000, wantCur: "VND"},
		{amount: "1,500,000", want: 1_500_000, wantCur: "VND"},
		{amount: "1 500 000", want: 1_500_000, wantCur: "VND"},
		{amount: "1\u00a0500\u00a0000", want: 1_500_000, wantCur: "VND"},
		{amount: "1.500.000 ₫", want: 1_500_000, wantCur: "VND"},
		{amount: "1500000đ", want: 1_500_000, wantCur: "VND"},
		{amount: "1.500.000 VNĐ", want: 1_500_000, wantCur: "VND"},
		{amount: "1.500.000d", want: 1_500_000, wantCur: "VND"},
		{amount: "1.500.000 đồng", want: 1_500_000, wantCur: "VND"},
		{amount: "1.500", want: 1_500, wantCur: "VND"},
		{amount: "1500000.00", want: 1_500_000, wantCur: "VND"},
		{amount: "0", want: 0, wantCur: "VND"},
		{amount: "12.50", currency: "USD", want: 1250, wantCur: "USD"},
		{amount: "12,50", currency: "usd", want: 1250, wantCur: "USD"},
		{amount: "12.5", currency: "USD", want: 1250, wantCur: "USD"},
		{amount: "1,200.75", currency: "USD", want: 120075, wantCur: "USD"},
		{amount: "1.200,75", currency: "USD", want: 120075, wantCur: "USD"},
		{amount: "1,200", currency: "USD", want: 120000, wantCur: "USD"},
		{amount: "12", currency: "USD", want: 1200, wantCur: "USD"},
		{amount: "$12.50", want: 1250, wantCur: "USD"},
		{amount: "12.50 USD", want: 1250, wantCur: "USD"},
		{amount: "12.50usd", want: 1250, wantCur: "USD"},
		{amount: "EUR 9.99", want: 999, wantCur: "EUR"},
		{amount: "12.50", def: "USD", want: 1250, wantCur: "USD"},
		{amount: "1500000", currency: "₫", def: "USD", want: 1_500_000, wantCur: "VND"},
		{amount: "-1500000", err: `amount: "-1500000" is negative`},
		{amount: "-1.500.000 ₫", err: "is negative"},
		{amount: "(1.500.000)", err: "is negative"},
		{amount: "abc", err: `amount: "abc" is not a number`},
		{amount: "1.5tr", err: "is not a number"},
		{amount: "1..5", err: "is not a number"},
		{amount: ".", err: "is not a number"},
		{amount: "₫", err: "is not a number"},
		{amount: "", err: "amount: is empty"},
		{amount: "1.50.000", err: "thousands separators are misplaced"},
		{amount: "15.00.000,5", err: "thousands separators are misplaced"},
		{amount: "1.5", err: "has decimals but the currency has none"},
		{amount: "1.500.000,50", err: "has decimals but the currency has none"},
		{amount: "12.505", currency: "USD", want: 1_250_500, wantCur: "USD"}, // one mark and three digits: thousands
		{amount: "1,200.755", currency: "USD", err: "has more than 2 decimals"},
		{amount: "99999999999999999999", err: "is too large"},
		{amount: "$12.50", currency: "VND", err: "amount: is in USD but the currency column says VND"},
		{amount: "12", currency: "dollars", err: `currency: "dollars" is not a currency code`},
	} {
		t.Run(tc.amount+"_"+tc.currency+"_"+tc.def, func(t *testing.T) {
			file := "channel;from;to;amount;currency\nGoogle;2026-10-01;2026-10-31;" + tc.amount + ";" + tc.currency + "\n"
			def := tc.def
			if def == "" {
				def = "VND"
			}
			rows, errs := ParseSpend(strings.NewReader(file), "ws_1", def)
			if tc.err != "" {
				if len(rows) != 0 || len(errs) != 1 || !strings.Contains(errs[0].Error(), tc.err) {
					t.Fatalf("rows %+v, errors %v, want one saying %q", rows, errorTexts(errs), tc.err)
				}
				return
			}
			if len(errs) != 0 || len(rows) != 1 {
				t.Fatalf("rows %+v, errors %v", rows, errorTexts(errs))
			}
			if rows[0].Amount != tc.want || rows[0].Currency != tc.wantCur {
				t.Errorf("amount %d %s, want %d %s", rows[0].Amount, rows[0].Currency, tc.want, tc.wantCur)
			}
		})
	}
}

func TestParseSpendCurrencyFromHeader(t *testing.T) {
	file := "channel,from,to,Amount (USD)\nGoogle,2026-10-01,2026-10-31,12.50\nMeta,2026-10-01,2026-10-31,$3\nZalo,2026-10-01,2026-10-31,1.000 ₫\n"
	rows, errs := ParseSpend(strings.NewReader(file), "ws_1", "")
	if d := cmp.Diff([]string{"line 4: amount: is in VND but the amount column's header says USD"}, errorTexts(errs)); d != "" {
		t.Errorf("errors (-want +got):\n%s", d)
	}
	if len(rows) != 2 || rows[0].Amount != 1250 || rows[0].Currency != "USD" || rows[1].Amount != 300 {
		t.Errorf("rows %+v", rows)
	}

	// Without a currency anywhere, the default of "" is VND.
	rows, errs = ParseSpend(strings.NewReader("channel,from,to,amount\nZalo,2026-10-01,2026-10-31,1.000\n"), "ws_1", "")
	if len(errs) != 0 || len(rows) != 1 || rows[0].Currency != "VND" || rows[0].Amount != 1000 {
		t.Errorf("rows %+v, errors %v", rows, errorTexts(errs))
	}
}

// Bad rows are reported with their line; the good rows around them are kept.
func TestParseSpendKeepsGoodRows(t *testing.T) {
	file := strings.Join([]string{
		"Kênh;Chiến dịch;Từ ngày;Đến ngày;Chi phí",
		"Facebook;11.11;01/10/2026;31/10/2026;15.000.000",
		";;;;",
		"Google;;01/10/2026;31/10/2026;abc",
		"  ;x;01/10/2026;31/10/2026;1",
		"TikTok;\"Tết; 2027\";01/01/2027;31/01/2027;9.000.000 ₫",
		"Zalo;;31/10/2026;01/10/2026;-5",
		"Facebook;11.11;01/10/2026;15/10/2026;1",
		"\"Email\nnewsletter\";;01/10/2026;31/10/2026;200.000",
	}, "\r\n") + "\r\n"
	rows, errs := ParseSpend(strings.NewReader(file), "ws_1", "VND")
	want := []opstore.Spend{
		{WorkspaceID: "ws_1", Channel: "Facebook", Campaign: "11.11", From: spendDay(2026, 10, 1), To: spendDay(2026, 11, 1), Amount: 15_000_000, Currency: "VND"},
		{WorkspaceID: "ws_1", Channel: "TikTok", Campaign: "Tết; 2027", From: spendDay(2027, 1, 1), To: spendDay(2027, 2, 1), Amount: 9_000_000, Currency: "VND"},
		{WorkspaceID: "ws_1", Channel: "Email newsletter", From: spendDay(2026, 10, 1), To: spendDay(2026, 11, 1), Amount: 200_000, Currency: "VND"},
	}
	if d := cmp.Diff(want, rows); d != "" {
		t.Errorf("rows (-want +got):\n%s", d)
	}
	wantErrs := []string{
		`line 4: amount: "abc" is not a number`,
		"line 5: channel: is empty",
		"line 7: to: 2026-10-01 is before the first day 2026-10-31",
		`line 7: amount: "-5" is negative: spend is zero or more`,
		"line 8: repeats the channel, campaign and first day of line 2",
	}
	if d := cmp.Diff(wantErrs, errorTexts(errs)); d != "" {
		t.Errorf("errors (-want +got):\n%s", d)
	}
	if e := errs[0]; e.Line != 4 || e.Field != "amount" || e.Msg != `"abc" is not a number` {
		t.Errorf("first error %#v", e)
	}
}

func TestParseSpendBadCSV(t *testing.T) {
	file := "channel,from,to,amount\nZalo,2026-10-01,2026-10-31,1\nTV 12\",2026-10-01,2026-10-31,2\n" +
		"SMS,2026-10-01,2026-10-31,3\n\"Bad,2026-10-01,2026-10-31,4\nlost,2026-10-01,2026-10-31,5\n"
	rows, errs := ParseSpend(strings.NewReader(file), "ws_1", "VND")
	want := []string{
		`line 3: not valid CSV: bare " in non-quoted-field`,
		`line 5: not valid CSV: extraneous or missing " in quoted-field`, // the quote runs to the end
	}
	if d := cmp.Diff(want, errorTexts(errs)); d != "" {
		t.Errorf("errors (-want +got):\n%s", d)
	}
	if len(rows) != 2 || rows[0].Channel != "Zalo" || rows[1].Channel != "SMS" {
		t.Errorf("rows %+v", rows)
	}
}

func TestSpendErrorText(t *testing.T) {
	for _, tc := range []struct {
		e    SpendError
		want string
	}{
		{SpendError{Line: 4, Field: "amount", Msg: "is empty"}, "line 4: amount: is empty"},
		{SpendError{Line: 8, Msg: "repeats line 2"}, "line 8: repeats line 2"},
		{SpendError{Msg: "cannot read the file"}, "cannot read the file"},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("%#v: %q, want %q", tc.e, got, tc.want)
		}
	}
}
