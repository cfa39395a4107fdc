package access

import (
	"testing"
	"time"
)

// The numbers behind docs/PERFORMANCE.md's "authorization overhead per
// API call" and "login p99".

func benchService(b *testing.B, hash HashParams) (*Service, string, string) {
	st, err := OpenSQLite(b.Context(), b.TempDir()+"/"+SQLiteFile)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	s, err := New(Config{Store: st, Logger: quietLog(), Hash: hash, AccountFailures: -1, AddrAttempts: -1})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.AddUser(b.Context(), Actor{Name: "b"}, NewUser{Name: "li", Role: RoleAnalyst, Region: "620802", Password: goodPassword}); err != nil {
		b.Fatal(err)
	}
	res, err := s.Login(b.Context(), "li", goodPassword, "10.0.0.1")
	if err != nil {
		b.Fatal(err)
	}
	secret, _, err := s.AddToken(b.Context(), Actor{Name: "b"}, NewToken{Playlist: "hall", Region: "620000"})
	if err != nil {
		b.Fatal(err)
	}
	return s, res.Token, secret
}

func BenchmarkAuthenticate(b *testing.B) {
	s, tok, _ := benchService(b, cheapHash)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Authenticate(b.Context(), tok); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkAuthenticateScreenToken(b *testing.B) {
	s, _, secret := benchService(b, cheapHash)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.AuthenticateScreenToken(b.Context(), secret); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkValid(b *testing.B) {
	s, _, secret := benchService(b, cheapHash)
	p, err := s.AuthenticateScreenToken(b.Context(), secret)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if !s.Valid(b.Context(), p) {
				b.Fatal("invalid")
			}
		}
	})
}

func BenchmarkLoginDefaultCost(b *testing.B) {
	s, _, _ := benchService(b, DefaultHashParams())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Login(b.Context(), "li", goodPassword, "10.0.0.1"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCovers(b *testing.B) {
	p := &Principal{Region: "620800"}
	for b.Loop() {
		if !p.Covers("620802001") {
			b.Fatal("not covered")
		}
	}
}

// benchTokens makes n screen tokens and authenticates each once (their
// first use, recorded in memory), returning their principals.
func benchTokens(b *testing.B, s *Service, n int) []*Principal {
	ps := make([]*Principal, n)
	for i := range ps {
		secret, _, err := s.AddToken(b.Context(), Actor{Name: "b"}, NewToken{Playlist: "hall", Region: "620100"})
		if err != nil {
			b.Fatal(err)
		}
		if ps[i], err = s.AuthenticateScreenToken(b.Context(), secret); err != nil {
			b.Fatal(err)
		}
	}
	return ps
}

// BenchmarkInvalid10000 is one revalidation cycle of 10,000 websockets,
// each with its own screen token (app's revalidate every 2 s).
func BenchmarkInvalid10000(b *testing.B) {
	s, _, _ := benchService(b, cheapHash)
	ps := benchTokens(b, s, 10_000)
	b.ReportAllocs()
	for b.Loop() {
		if bad := s.Invalid(b.Context(), ps); len(bad) != 0 {
			b.Fatalf("%d invalid", len(bad))
		}
	}
}

// BenchmarkValid10000 is the same cycle asked one principal at a time
// with Valid, as app's revalidate did before Invalid: every cache entry
// has expired by the next cycle, so one store read per token.
func BenchmarkValid10000(b *testing.B) {
	s, _, _ := benchService(b, cheapHash)
	ps := benchTokens(b, s, 10_000)
	now := time.Now()
	s.cfg.Now = func() time.Time { return now }
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(2 * time.Second)
		for _, p := range ps {
			if !s.Valid(b.Context(), p) {
				b.Fatal("invalid")
			}
		}
	}
}

// BenchmarkFlush10000 writes the first uses of 10,000 screen tokens in one
// transaction (the write-behind flush after a wall has connected).
func BenchmarkFlush10000(b *testing.B) {
	s, _, _ := benchService(b, cheapHash)
	ps := benchTokens(b, s, 10_000)
	at := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		at = at.Add(time.Second)
		for _, p := range ps {
			s.touched(false, p.TokenID, at)
		}
		if err := s.Flush(b.Context()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAuthenticateScreenTokenFirstUse authenticates a token the
// service has not seen yet: the look-up by hash; the use is recorded in
// memory. Creating the tokens is not timed.
func BenchmarkAuthenticateScreenTokenFirstUse(b *testing.B) {
	s, _, _ := benchService(b, cheapHash)
	secrets := make([]string, b.N)
	for i := range secrets {
		var err error
		if secrets[i], _, err = s.AddToken(b.Context(), Actor{Name: "b"}, NewToken{Playlist: "hall", Region: "620100"}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, err := s.AuthenticateScreenToken(b.Context(), secrets[i]); err != nil {
			b.Fatal(err)
		}
	}
}
