package notify

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/access"
	"github.com/yiping-ioc/yiping/collectors/sqlsource/pgtest"
)

func testLog(t *testing.T, st *access.SQLStore) {
	t.Helper()
	ctx := context.Background()
	l, err := NewSQLLog(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewSQLLog(ctx, st); err != nil { // a second start
		t.Fatalf("migrating again: %v", err)
	}
	at := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	for _, d := range []Delivery{
		{Receiver: "city", MessageIDs: []string{"r1.1"}, Attempt: 1, Time: at, Status: StatusRetrying, Error: "503", Latency: 30 * time.Millisecond, Next: at.Add(10 * time.Second)},
		{Receiver: "city", MessageIDs: []string{"r1.1"}, Attempt: 2, Time: at.Add(10 * time.Second), Status: StatusSent, Latency: 20 * time.Millisecond},
		{Receiver: "county", MessageIDs: []string{"r2.1", "r3.1"}, Digest: "d1", Attempt: 1, Time: at.Add(time.Minute), Status: StatusSent},
	} {
		if err := l.Record(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	all, err := l.List(ctx, DeliveryFilter{})
	if err != nil || len(all) != 3 || all[0].Receiver != "county" || len(all[0].MessageIDs) != 2 || all[0].Digest != "d1" {
		t.Fatalf("List = %+v, %v", all, err)
	}
	city, _ := l.List(ctx, DeliveryFilter{Receiver: "city"})
	if len(city) != 2 || city[1].Status != StatusRetrying || !city[1].Next.Equal(at.Add(10*time.Second)) || city[1].LatencyMs != 30 {
		t.Errorf("city = %+v", city)
	}
	r3, _ := l.List(ctx, DeliveryFilter{Message: "r3.1"})
	if len(r3) != 1 || r3[0].Receiver != "county" {
		t.Errorf("by message = %+v", r3)
	}
	if none, _ := l.List(ctx, DeliveryFilter{Message: "r3"}); len(none) != 0 {
		t.Errorf("a prefix of an id matched: %+v", none)
	}
}

func TestSQLLogSQLite(t *testing.T) {
	st, err := access.OpenStore(context.Background(), access.StoreConfig{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	testLog(t, st)
}

func TestSQLLogPostgres(t *testing.T) {
	if os.Getenv("YIPING_SKIP_POSTGRES") == "1" {
		t.Skip("YIPING_SKIP_POSTGRES=1")
	}
	srv := pgtest.Start(t)
	st, err := access.OpenPostgres(context.Background(), srv.DSN(""))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	testLog(t, st)
}
