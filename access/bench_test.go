package access

import (
	"testing"
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
