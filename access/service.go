package access

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/yiping-ioc/yiping/region"
)

// Config is a Service's dependencies and settings. Zero durations and
// counts take the defaults given; Store is required.
type Config struct {
	Store   Store
	Now     func() time.Time // default time.Now
	Logger  *slog.Logger     // default slog.Default()
	Regions *region.Table    // scopes must be divisions of it; default region.Default()
	Rand    io.Reader        // default crypto/rand.Reader

	// IdleTimeout ends a session not used for this long (default 30 min);
	// AbsoluteTimeout ends any session this long after its login (default
	// 12 h).
	IdleTimeout, AbsoluteTimeout time.Duration
	// TouchEvery is how often a used session's last-seen time, and a
	// screen token's last-used time, are updated (default 1 min): not on
	// every request. An update is kept in memory and written with all the
	// others in one transaction at most every TouchEvery (and by Flush and
	// Close), never on the request path.
	TouchEvery time.Duration
	// ValidTTL is how long what the store said about a session or token
	// is believed (default 2 s): the longest a change made by another
	// process, such as the CLI revoking a token, goes unseen.
	ValidTTL time.Duration
	// CacheEntries bounds that cache (default 100,000).
	CacheEntries int

	// AccountFailures failed logins of one user name within AccountWindow
	// lock it for AccountLockout (defaults 5, 15 min, 15 min; a negative
	// AccountFailures turns the lock off).
	AccountFailures               int
	AccountWindow, AccountLockout time.Duration
	// AddrAttempts login attempts from one client address (an IPv6 /64)
	// within AddrWindow are allowed (defaults 30, 1 min; negative: no
	// limit).
	AddrAttempts int
	AddrWindow   time.Duration
	// LimiterEntries bounds each of the limiter's tables (default 10,000).
	LimiterEntries int

	// Hash is the argon2id cost of new hashes (default
	// DefaultHashParams()). MaxConcurrentHashes bounds the hashes computed
	// at once (default the number of CPUs), since each takes Hash.Memory.
	Hash                HashParams
	MaxConcurrentHashes int
}

func (c *Config) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	defInt := func(n *int, v int) {
		if *n == 0 {
			*n = v
		}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Regions == nil {
		c.Regions = region.Default()
	}
	if c.Rand == nil {
		c.Rand = rand.Reader
	}
	def(&c.IdleTimeout, 30*time.Minute)
	def(&c.AbsoluteTimeout, 12*time.Hour)
	def(&c.TouchEvery, time.Minute)
	def(&c.ValidTTL, 2*time.Second)
	defInt(&c.CacheEntries, 100_000)
	defInt(&c.AccountFailures, 5)
	def(&c.AccountWindow, 15*time.Minute)
	def(&c.AccountLockout, 15*time.Minute)
	defInt(&c.AddrAttempts, 30)
	def(&c.AddrWindow, time.Minute)
	defInt(&c.LimiterEntries, 10_000)
	if c.Hash == (HashParams{}) {
		c.Hash = DefaultHashParams()
	}
	if c.MaxConcurrentHashes <= 0 {
		c.MaxConcurrentHashes = runtime.NumCPU()
	}
}

// pruneEvery is how often a login also deletes the store's stale sessions.
const pruneEvery = time.Hour

// Service is the access rules over a Store: logins, sessions, screen
// tokens, users and the audit log. It is safe for concurrent use.
type Service struct {
	cfg       Config
	store     Store
	log       *slog.Logger
	hashSem   chan struct{}
	dummyHash string // verified for unknown users, so they cost what known ones do
	limits    *limiter
	cache     *cache
	touches   touches

	pruneMu   sync.Mutex
	lastPrune time.Time
}

// New makes a Service. It hashes one dummy password (tens of
// milliseconds at the default cost).
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil {
		return nil, errors.New("access: Config.Store is nil")
	}
	cfg.defaults()
	s := &Service{
		cfg: cfg, store: cfg.Store, log: cfg.Logger,
		hashSem: make(chan struct{}, cfg.MaxConcurrentHashes),
		limits:  newLimiter(cfg),
		cache:   newCache(cfg.ValidTTL, cfg.CacheEntries),
	}
	s.touches.last = time.Now()
	pw, err := newSecret(cfg.Rand)
	if err != nil {
		return nil, fmt.Errorf("access: %w", err)
	}
	if s.dummyHash, err = hashPassword(cfg.Rand, cfg.Hash, pw); err != nil {
		return nil, fmt.Errorf("access: %w", err)
	}
	return s, nil
}

// Timeouts returns the session idle and absolute timeouts in force.
func (s *Service) Timeouts() (idle, absolute time.Duration) {
	return s.cfg.IdleTimeout, s.cfg.AbsoluteTimeout
}

// LoginResult is a new session. Token goes into the session cookie (see
// SetSessionCookie) and nowhere else; CSRF goes into the pages.
type LoginResult struct {
	Token     string
	CSRF      string
	User      User
	ExpiresAt time.Time // the absolute timeout; the idle one comes sooner if unused
}

// Login checks a user's password and opens a session. Errors:
// *RateLimitError (ErrRateLimited) before any check when the address or
// the account is over its limit; ErrBadCredentials for an unknown user or
// a wrong password (the same error, and the same cost, for both);
// ErrDisabled for a disabled user with the right password. Every outcome
// but a rate-limit refusal is audited.
func (s *Service) Login(ctx context.Context, name, password, addr string) (*LoginResult, error) {
	now := s.cfg.Now()
	key, nameErr := NormalizeName(name)
	if nameErr != nil {
		key = cut(strings.ToLower(strings.TrimSpace(name)), maxNameLen)
	}
	if rl := s.limits.attempt(key, addr, now); rl != nil {
		s.log.Debug("login refused", "user", key, "addr", addr, "reason", rl.Reason, "retry_after", rl.RetryAfter)
		return nil, rl
	}
	if err := s.acquireHash(ctx); err != nil {
		return nil, err
	}
	defer s.releaseHash()

	// Every path below hashes once, so an unknown user costs what a known
	// one does.
	var reason string
	switch {
	case nameErr != nil:
		reason = "invalid user name"
	case len(password) > MaxPasswordLen:
		reason = "password too long"
		password = password[:MaxPasswordLen]
	}
	var u User
	hash := s.dummyHash
	if reason == "" {
		var err error
		u, hash, err = s.store.User(ctx, key)
		switch {
		case errors.Is(err, ErrNotFound):
			reason, hash = "unknown user", s.dummyHash
		case err != nil:
			return nil, fmt.Errorf("login: %w", err)
		}
	}
	ok, weaker, err := verifyPassword(hash, password, s.cfg.Hash)
	if err != nil {
		s.log.Error("login: stored password hash unreadable", "user", key, "err", err)
	}
	if reason == "" && !ok {
		reason = "bad password"
	}
	if reason != "" {
		return nil, s.loginFailed(ctx, key, addr, now, reason)
	}
	if u.Disabled {
		s.audit(ctx, AuditEntry{At: now, Actor: key, Action: ActionLoginFailed, Target: key, Detail: "disabled", Addr: addr})
		return nil, fmt.Errorf("login %s: %w", key, ErrDisabled)
	}
	s.limits.succeed(key)
	if weaker {
		s.rehash(ctx, key, password, now)
	}

	token, err := newSecret(s.cfg.Rand)
	if err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	csrf, err := newSecret(s.cfg.Rand)
	if err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	se := Session{ID: secretHash(token), User: key, CSRF: csrf, CreatedAt: now, LastSeen: now, Addr: cut(addr, maxAuditAddr)}
	if err := s.store.CreateSession(ctx, se); err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	s.audit(ctx, AuditEntry{At: now, Actor: key, Action: ActionLogin, Target: key, Addr: addr})
	s.maybePrune(ctx, now)
	return &LoginResult{Token: token, CSRF: csrf, User: u, ExpiresAt: now.Add(s.cfg.AbsoluteTimeout)}, nil
}

// loginFailed counts and audits a failed login and returns the error.
func (s *Service) loginFailed(ctx context.Context, key, addr string, now time.Time, reason string) error {
	s.audit(ctx, AuditEntry{At: now, Actor: key, Action: ActionLoginFailed, Target: key, Detail: reason, Addr: addr})
	if s.limits.fail(key, now) {
		s.log.Warn("login locked", "user", key, "addr", addr, "for", s.cfg.AccountLockout)
		s.audit(ctx, AuditEntry{At: now, Actor: key, Action: ActionLoginLocked, Target: key,
			Detail: fmt.Sprintf("%d failures; locked for %s", s.cfg.AccountFailures, s.cfg.AccountLockout), Addr: addr})
	}
	return fmt.Errorf("login: %w", ErrBadCredentials)
}

// rehash rewrites a hash made with weaker parameters than today's, now
// that the password is known. A failure only delays the upgrade.
func (s *Service) rehash(ctx context.Context, name, password string, now time.Time) {
	h, err := hashPassword(s.cfg.Rand, s.cfg.Hash, password)
	if err == nil {
		err = s.store.SetPasswordHash(ctx, name, h, now, false)
	}
	if err != nil {
		s.log.Warn("login: upgrade password hash", "user", name, "err", err)
	}
}

func (s *Service) acquireHash(ctx context.Context) error {
	select {
	case s.hashSem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("login: %w", ctx.Err())
	}
}

func (s *Service) releaseHash() { <-s.hashSem }

func (s *Service) hash(ctx context.Context, password string) (string, error) {
	if err := s.acquireHash(ctx); err != nil {
		return "", err
	}
	defer s.releaseHash()
	return hashPassword(s.cfg.Rand, s.cfg.Hash, password)
}

// maybePrune deletes stale sessions at most every pruneEvery, in the
// background of a login, so expired rows do not pile up.
func (s *Service) maybePrune(ctx context.Context, now time.Time) {
	s.pruneMu.Lock()
	due := now.Sub(s.lastPrune) >= pruneEvery
	if due {
		s.lastPrune = now
	}
	s.pruneMu.Unlock()
	if due {
		if _, err := s.Prune(ctx); err != nil {
			s.log.Warn("prune sessions", "err", err)
		}
	}
}

// Prune deletes the sessions past their idle or absolute timeout and says
// how many. Login calls it hourly; calling it more often is harmless. It
// writes the recorded uses first (Flush), so that none is judged on a
// last-seen time not written yet.
func (s *Service) Prune(ctx context.Context) (int64, error) {
	s.Flush(ctx)
	now := s.cfg.Now()
	return s.store.DeleteStaleSessions(ctx, now.Add(-s.cfg.IdleTimeout), now.Add(-s.cfg.AbsoluteTimeout))
}

// Logout ends p's session and audits it. A screen token has no session:
// nothing happens.
func (s *Service) Logout(ctx context.Context, p *Principal, addr string) error {
	if p == nil || p.Kind != KindUser {
		return nil
	}
	s.cache.forget(sessionKey(p.SessionID))
	if err := s.store.DeleteSession(ctx, p.SessionID); err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("logout %s: %w", p.Name, err)
	}
	s.audit(ctx, AuditEntry{Actor: p.Name, Action: ActionLogout, Target: p.Name, Addr: addr})
	return nil
}

func sessionKey(id string) string    { return "s:" + id }
func tokenKey(id string) string      { return "t:" + id }
func tokenSecretKey(h string) string { return "h:" + h }

// Authenticate returns the principal of a session cookie's value, and
// counts the request as activity (written at most every TouchEvery).
// Errors: ErrBadCredentials (malformed or unknown token), ErrExpired (idle
// or absolute timeout; the session is deleted), ErrDisabled.
func (s *Service) Authenticate(ctx context.Context, sessionToken string) (*Principal, error) {
	secret, ok := parseSessionToken(sessionToken)
	if !ok {
		return nil, ErrBadCredentials
	}
	id := secretHash(secret)
	now := s.cfg.Now()
	st, err := s.cache.get(ctx, sessionKey(id), now, func(ctx context.Context) (*state, error) { return s.loadSession(ctx, id, now) })
	if errors.Is(err, ErrNotFound) {
		return nil, ErrBadCredentials
	}
	if err != nil {
		return nil, fmt.Errorf("authenticate: %w", err)
	}
	if st.err != nil {
		return nil, st.err
	}
	if err := s.sessionAlive(st, now); err != nil {
		// Before ending it, read it afresh: a cached copy can miss the
		// activity another server (on a shared PostgreSQL) has written.
		fresh, ferr := s.loadSession(ctx, id, now)
		if ferr == nil && fresh.err == nil && s.sessionAlive(fresh, now) == nil {
			p := *fresh.p
			return &p, nil
		}
		s.cache.forget(sessionKey(id))
		if err := s.store.DeleteSession(ctx, id); err != nil && !errors.Is(err, ErrNotFound) {
			s.log.Warn("delete expired session", "user", st.p.Name, "err", err)
		}
		return nil, err
	}
	if s.claimTouch(st, now) {
		s.touched(true, id, now)
	}
	p := *st.p
	return &p, nil
}

func (s *Service) loadSession(ctx context.Context, id string, now time.Time) (*state, error) {
	se, u, err := s.store.Session(ctx, id)
	if err != nil {
		return nil, err
	}
	st := &state{
		loaded:  now,
		p:       &Principal{Kind: KindUser, Name: u.Name, Role: u.Role, Region: u.Region, SessionID: id, CSRF: se.CSRF},
		created: se.CreatedAt,
	}
	st.seen.Store(s.touches.seen(true, id, se.LastSeen).UnixMicro())
	if u.Disabled {
		// Disabling deletes the sessions; this is the belt to those braces.
		st.err = ErrDisabled
	}
	return st, nil
}

// sessionAlive applies the timeouts to a loaded session.
func (s *Service) sessionAlive(st *state, now time.Time) error {
	return s.alive(time.UnixMicro(st.seen.Load()), st.created, now)
}

// alive applies the timeouts to a session last seen at seen and created
// at created.
func (s *Service) alive(seen, created, now time.Time) error {
	if now.Sub(seen) >= s.cfg.IdleTimeout {
		return fmt.Errorf("idle for %s: %w", s.cfg.IdleTimeout, ErrExpired)
	}
	if now.Sub(created) >= s.cfg.AbsoluteTimeout {
		return fmt.Errorf("older than %s: %w", s.cfg.AbsoluteTimeout, ErrExpired)
	}
	return nil
}

// claimTouch reports whether this caller should write the last-seen time:
// true for one caller per TouchEvery.
func (s *Service) claimTouch(st *state, now time.Time) bool {
	seen := st.seen.Load()
	if now.Sub(time.UnixMicro(seen)) < s.cfg.TouchEvery {
		return false
	}
	return st.seen.CompareAndSwap(seen, now.UnixMicro())
}

// AuthenticateScreenToken returns the principal of a screen token secret
// ("ypt_…"). Errors: ErrBadCredentials (malformed or unknown), ErrRevoked.
func (s *Service) AuthenticateScreenToken(ctx context.Context, secret string) (*Principal, error) {
	raw, ok := parseScreenToken(secret)
	if !ok {
		return nil, ErrBadCredentials
	}
	h := secretHash(raw)
	now := s.cfg.Now()
	st, err := s.cache.get(ctx, tokenSecretKey(h), now, func(ctx context.Context) (*state, error) {
		t, err := s.store.TokenBySecret(ctx, h)
		if err != nil {
			return nil, err
		}
		return s.tokenState(t, now), nil
	})
	if errors.Is(err, ErrNotFound) {
		return nil, ErrBadCredentials
	}
	if err != nil {
		return nil, fmt.Errorf("authenticate screen token: %w", err)
	}
	if st.err != nil {
		return nil, st.err
	}
	if s.claimTouch(st, now) {
		s.touched(false, st.p.TokenID, now)
	}
	p := *st.p
	return &p, nil
}

func (s *Service) tokenState(t Token, now time.Time) *state {
	st := &state{loaded: now, p: &Principal{
		Kind: KindScreen, Name: "token:" + t.ID, Role: RoleScreen, Region: t.Region,
		Screen: t.Screen, Playlist: t.Playlist, TokenID: t.ID,
	}}
	st.seen.Store(s.touches.seen(false, t.ID, t.LastUsedAt).UnixMicro())
	if t.Revoked() {
		st.err = ErrRevoked
	}
	return st
}

// Valid reports whether p's session or screen token is still good now:
// not logged out, expired, revoked, disabled, nor changed in role or
// region. It does not count as activity. It is meant to be asked every
// few seconds by each open websocket: answers come from a cache refreshed
// every ValidTTL, so a change made by another process is seen within
// that, and the service's own changes at once.
func (s *Service) Valid(ctx context.Context, p *Principal) bool {
	if p == nil {
		return false
	}
	now := s.cfg.Now()
	var st *state
	var err error
	switch p.Kind {
	case KindUser:
		st, err = s.cache.get(ctx, sessionKey(p.SessionID), now, func(ctx context.Context) (*state, error) {
			return s.loadSession(ctx, p.SessionID, now)
		})
	case KindScreen:
		st, err = s.cache.get(ctx, tokenKey(p.TokenID), now, func(ctx context.Context) (*state, error) {
			t, err := s.store.Token(ctx, p.TokenID)
			if err != nil {
				return nil, err
			}
			return s.tokenState(t, now), nil
		})
	default:
		return false
	}
	if err != nil {
		if !errors.Is(err, ErrNotFound) {
			s.log.Warn("access: validity check failed; treating as invalid", "principal", p.Name, "err", err)
		}
		return false
	}
	if st.err != nil || st.p.Name != p.Name || st.p.Role != p.Role || st.p.Region != p.Region {
		return false
	}
	return p.Kind != KindUser || s.sessionAlive(st, now) == nil
}

// Invalid returns the principals of ps that are no longer good, by the
// rules of Valid (logged out, expired, revoked, disabled, changed in role
// or region), checking them all at once: one store query per kind
// (sessions, tokens) and chunk of ids, whatever the cache holds, for the
// distinct sessions and tokens of ps. It is meant for the periodic check
// of every open websocket, so a change made by another process is seen at
// the next call. Like Valid it does not count as activity, and a store
// error makes the principals it concerns invalid. When ctx has ended it
// returns nil: nothing is known.
func (s *Service) Invalid(ctx context.Context, ps []*Principal) []*Principal {
	var sids, tids []string
	haveS, haveT := map[string]bool{}, map[string]bool{}
	for _, p := range ps {
		switch {
		case p == nil:
		case p.Kind == KindUser && !haveS[p.SessionID]:
			haveS[p.SessionID] = true
			sids = append(sids, p.SessionID)
		case p.Kind == KindScreen && !haveT[p.TokenID]:
			haveT[p.TokenID] = true
			tids = append(tids, p.TokenID)
		}
	}
	var sessions map[string]SessionUser
	var tokens map[string]TokenState
	var serr, terr error
	if len(sids) > 0 {
		sessions, serr = s.store.SessionsByID(ctx, sids)
	}
	if len(tids) > 0 {
		tokens, terr = s.store.TokenStates(ctx, tids)
	}
	if ctx.Err() != nil {
		return nil
	}
	for _, err := range []error{serr, terr} {
		if err != nil {
			s.log.Warn("access: validity check failed; treating as invalid", "err", err)
		}
	}
	now := s.cfg.Now()
	var out []*Principal
	for _, p := range ps {
		ok := false
		switch {
		case p == nil:
		case p.Kind == KindUser:
			su, found := sessions[p.SessionID]
			u := su.User
			ok = found && !u.Disabled && u.Name == p.Name && u.Role == p.Role && u.Region == p.Region &&
				s.alive(s.touches.seen(true, p.SessionID, su.Session.LastSeen), su.Session.CreatedAt, now) == nil
		case p.Kind == KindScreen:
			t, found := tokens[p.TokenID]
			ok = found && t.RevokedAt.IsZero() && p.Name == "token:"+p.TokenID && p.Role == RoleScreen && p.Region == t.Region
		}
		if !ok {
			out = append(out, p)
		}
	}
	if len(out) > 0 {
		// What the store says now holds for new requests too: a screen
		// whose socket is closed for a revoked token must not reconnect on
		// a cached answer until the cache's TTL runs out.
		gone := map[string]bool{}
		for _, p := range out {
			if p != nil {
				gone[p.SessionID+"\x00"+p.TokenID] = true
			}
		}
		s.cache.forgetWhere(func(p *Principal) bool { return gone[p.SessionID+"\x00"+p.TokenID] })
	}
	return out
}

// authorize checks that by may change something in region: anyone without
// a principal (the CLI, the server itself), or an admin whose scope covers
// region.
func authorize(by Actor, r region.Code) error {
	if by.Principal == nil {
		return nil
	}
	if by.Principal.Role != RoleAdmin || by.Principal.Kind != KindUser {
		return fmt.Errorf("%s is not an admin: %w", by.Principal.Name, ErrForbidden)
	}
	if !by.Principal.Covers(string(r)) {
		return fmt.Errorf("%s is outside %s's scope %s: %w", r, by.Principal.Name, by.Principal.Region, ErrForbidden)
	}
	return nil
}

// NewUser is what AddUser needs.
type NewUser struct {
	Name     string
	Role     Role
	Region   string // a GB/T 2260 code of the table
	Password string
}

// AddUser creates a user and audits it. Errors: a ValidationError naming
// the field, ErrExists, ErrForbidden.
func (s *Service) AddUser(ctx context.Context, by Actor, in NewUser) (User, error) {
	name, err := NormalizeName(in.Name)
	if err != nil {
		return User{}, err
	}
	role, err := ParseRole(string(in.Role))
	if err != nil {
		return User{}, err
	}
	reg, err := checkRegion(s.cfg.Regions, in.Region)
	if err != nil {
		return User{}, err
	}
	if err := CheckPassword(in.Password); err != nil {
		return User{}, err
	}
	if err := authorize(by, reg); err != nil {
		return User{}, fmt.Errorf("add user %s: %w", name, err)
	}
	h, err := s.hash(ctx, in.Password)
	if err != nil {
		return User{}, fmt.Errorf("add user %s: %w", name, err)
	}
	now := s.cfg.Now()
	u := User{Name: name, Role: role, Region: reg, CreatedAt: now, UpdatedAt: now}
	if err := s.store.CreateUser(ctx, u, h); err != nil {
		return User{}, err
	}
	s.audit(ctx, AuditEntry{At: now, Actor: by.Name, Action: ActionUserAdd, Target: name,
		Detail: fmt.Sprintf("role=%s region=%s", role, reg), Addr: by.Addr})
	return u, nil
}

// userFor loads a user for a change by by.
func (s *Service) userFor(ctx context.Context, by Actor, name string) (User, error) {
	n, err := NormalizeName(name)
	if err != nil {
		return User{}, err
	}
	u, _, err := s.store.User(ctx, n)
	if err != nil {
		return User{}, err
	}
	if err := authorize(by, u.Region); err != nil {
		return User{}, fmt.Errorf("user %s: %w", n, err)
	}
	return u, nil
}

// DisableUser disables a user and ends all of their sessions at once.
func (s *Service) DisableUser(ctx context.Context, by Actor, name string) error {
	return s.setDisabled(ctx, by, name, true)
}

// EnableUser enables a disabled user again.
func (s *Service) EnableUser(ctx context.Context, by Actor, name string) error {
	return s.setDisabled(ctx, by, name, false)
}

func (s *Service) setDisabled(ctx context.Context, by Actor, name string, disabled bool) error {
	u, err := s.userFor(ctx, by, name)
	if err != nil {
		return err
	}
	now := s.cfg.Now()
	if err := s.store.SetDisabled(ctx, u.Name, disabled, now); err != nil {
		return err
	}
	s.forgetUser(u.Name)
	action := ActionUserEnable
	if disabled {
		action = ActionUserDisable
	}
	s.audit(ctx, AuditEntry{At: now, Actor: by.Name, Action: action, Target: u.Name, Addr: by.Addr})
	return nil
}

func (s *Service) forgetUser(name string) {
	s.cache.forgetWhere(func(p *Principal) bool { return p.Kind == KindUser && p.Name == name })
}

// SetPassword replaces a user's password (the rules of CheckPassword) and
// ends all of their sessions.
func (s *Service) SetPassword(ctx context.Context, by Actor, name, password string) error {
	if err := CheckPassword(password); err != nil {
		return err
	}
	u, err := s.userFor(ctx, by, name)
	if err != nil {
		return err
	}
	h, err := s.hash(ctx, password)
	if err != nil {
		return fmt.Errorf("set password of %s: %w", u.Name, err)
	}
	now := s.cfg.Now()
	if err := s.store.SetPasswordHash(ctx, u.Name, h, now, true); err != nil {
		return err
	}
	s.forgetUser(u.Name)
	s.limits.succeed(u.Name) // a reset is how an admin lifts a lockout
	s.audit(ctx, AuditEntry{At: now, Actor: by.Name, Action: ActionPasswordSet, Target: u.Name, Addr: by.Addr})
	return nil
}

// ListUsers lists the users inside scope's region (all of them when scope
// is nil, for the CLI), by name.
func (s *Service) ListUsers(ctx context.Context, scope *Principal) ([]User, error) {
	us, err := s.store.Users(ctx)
	if err != nil {
		return nil, err
	}
	if scope == nil {
		return us, nil
	}
	out := us[:0]
	for _, u := range us {
		if scope.Covers(string(u.Region)) {
			out = append(out, u)
		}
	}
	return out, nil
}

// NewToken is what AddToken needs: exactly one of Screen and Playlist (a
// dashboards id), a region, and an optional note (where the screen is).
type NewToken struct {
	Screen, Playlist string
	Region           string
	Note             string
}

// AddToken creates a screen token and returns its secret, which is shown
// this once and never stored, and the token. Errors: a ValidationError
// naming the field, ErrForbidden.
func (s *Service) AddToken(ctx context.Context, by Actor, in NewToken) (string, Token, error) {
	switch {
	case in.Screen != "" && in.Playlist != "":
		return "", Token{}, invalid("screen", "give a screen or a playlist, not both")
	case in.Screen != "":
		if err := checkDashboardID("screen", in.Screen); err != nil {
			return "", Token{}, err
		}
	case in.Playlist != "":
		if err := checkDashboardID("playlist", in.Playlist); err != nil {
			return "", Token{}, err
		}
	default:
		return "", Token{}, invalid("screen", "missing: give a screen or a playlist")
	}
	reg, err := checkRegion(s.cfg.Regions, in.Region)
	if err != nil {
		return "", Token{}, err
	}
	if err := checkNote(in.Note); err != nil {
		return "", Token{}, err
	}
	if err := authorize(by, reg); err != nil {
		return "", Token{}, fmt.Errorf("add token: %w", err)
	}
	now := s.cfg.Now()
	t := Token{Screen: in.Screen, Playlist: in.Playlist, Region: reg, Note: in.Note, CreatedBy: cut(by.Name, maxAuditActor), CreatedAt: now}
	for try := 0; ; try++ {
		if t.ID, err = newTokenID(s.cfg.Rand); err != nil {
			return "", Token{}, fmt.Errorf("add token: %w", err)
		}
		secret, err := newSecret(s.cfg.Rand)
		if err != nil {
			return "", Token{}, fmt.Errorf("add token: %w", err)
		}
		err = s.store.CreateToken(ctx, t, secretHash(secret))
		if errors.Is(err, ErrExists) && try < 3 {
			continue // an id collision: 40 random bits make it rare, not impossible
		}
		if err != nil {
			return "", Token{}, err
		}
		s.audit(ctx, AuditEntry{At: now, Actor: by.Name, Action: ActionTokenAdd, Target: "token:" + t.ID,
			Detail: fmt.Sprintf("%s region=%s note=%q", t.Target(), reg, t.Note), Addr: by.Addr})
		return ScreenTokenPrefix + secret, t, nil
	}
}

func checkNote(n string) error {
	if len([]rune(n)) > maxNoteLen {
		return invalid("note", "longer than %d characters", maxNoteLen)
	}
	if strings.ContainsFunc(n, func(r rune) bool { return unicode.IsControl(r) || r == unicode.ReplacementChar }) {
		return invalid("note", "contains control characters or invalid UTF-8")
	}
	return nil
}

// RevokeToken revokes a screen token; the websockets open with it close
// within the Valid interval. Revoking a revoked token changes nothing.
func (s *Service) RevokeToken(ctx context.Context, by Actor, id string) error {
	if !validTokenID(id) {
		return invalid("id", "%q: want the 8-character id that token list shows", id)
	}
	t, err := s.store.Token(ctx, id)
	if err != nil {
		return err
	}
	if err := authorize(by, t.Region); err != nil {
		return fmt.Errorf("revoke token %s: %w", id, err)
	}
	now := s.cfg.Now()
	if err := s.store.RevokeToken(ctx, id, now); err != nil {
		return err
	}
	s.cache.forgetWhere(func(p *Principal) bool { return p.Kind == KindScreen && p.TokenID == id })
	if !t.Revoked() {
		s.audit(ctx, AuditEntry{At: now, Actor: by.Name, Action: ActionTokenRevoke, Target: "token:" + id,
			Detail: t.Target(), Addr: by.Addr})
	}
	return nil
}

// ListTokens lists the screen tokens inside scope's region (all of them
// when scope is nil), newest first, revoked ones included.
func (s *Service) ListTokens(ctx context.Context, scope *Principal) ([]Token, error) {
	ts, err := s.store.Tokens(ctx)
	if err != nil {
		return nil, err
	}
	if scope == nil {
		return ts, nil
	}
	out := ts[:0]
	for _, t := range ts {
		if scope.Covers(string(t.Region)) {
			out = append(out, t)
		}
	}
	return out, nil
}

// Audit appends an entry to the audit log, with At set to now when zero.
// It is for the other parts of the server (exports, dispatch actions);
// this package audits its own operations.
func (s *Service) Audit(ctx context.Context, e AuditEntry) error {
	if e.Action == "" {
		return invalid("action", "missing")
	}
	if e.Actor == "" {
		return invalid("actor", "missing")
	}
	if e.At.IsZero() {
		e.At = s.cfg.Now()
	}
	return s.store.AppendAudit(ctx, e)
}

// audit appends an entry of the service's own. A failure is logged, not
// returned: the change it records has already happened.
func (s *Service) audit(ctx context.Context, e AuditEntry) {
	if err := s.Audit(ctx, e); err != nil {
		s.log.Error("audit entry lost", "action", e.Action, "actor", e.Actor, "target", e.Target, "err", err)
	}
}

// ListAudit returns the audit entries matching f, newest first (for
// admins only: the HTTP layer checks the role).
func (s *Service) ListAudit(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	return s.store.Audit(ctx, f)
}

// FirstStartSecrets are the credentials FirstStart made. They exist
// nowhere else: the server prints them once.
type FirstStartSecrets struct {
	AdminName     string
	AdminPassword string
	TokenID       string
	Token         string // a screen token for the playlist "hall", region 620000
	Playlist      string
}

// FirstStart makes a fresh installation usable: when the store has no
// user, it creates the user "admin" (role admin, region 620000) with a
// random password and a screen token for the playlist "hall" in region
// 620000, and returns their secrets. With users present it does nothing
// and returns nil.
func (s *Service) FirstStart(ctx context.Context) (*FirstStartSecrets, error) {
	n, err := s.store.CountUsers(ctx)
	if err != nil {
		return nil, fmt.Errorf("first start: %w", err)
	}
	if n > 0 {
		return nil, nil
	}
	by := Actor{Name: "system"}
	pw, err := newSecret(s.cfg.Rand)
	if err != nil {
		return nil, fmt.Errorf("first start: %w", err)
	}
	const province = "620000" // the demo platform's: Gansu
	if _, err := s.AddUser(ctx, by, NewUser{Name: "admin", Role: RoleAdmin, Region: province, Password: pw}); err != nil {
		if errors.Is(err, ErrExists) {
			return nil, nil // another process got there first
		}
		return nil, fmt.Errorf("first start: %w", err)
	}
	secret, t, err := s.AddToken(ctx, by, NewToken{Playlist: "hall", Region: province, Note: "demo wall (first start)"})
	if err != nil {
		return nil, fmt.Errorf("first start: %w", err)
	}
	s.audit(ctx, AuditEntry{Actor: by.Name, Action: ActionFirstStart, Target: "admin", Detail: "token:" + t.ID})
	return &FirstStartSecrets{AdminName: "admin", AdminPassword: pw, TokenID: t.ID, Token: secret, Playlist: "hall"}, nil
}
