// Package lease elects one leader among Yiping nodes with a lease in a NATS
// JetStream key-value bucket, and hands the leader a fencing token (issue 13:
// collectors and rule evaluation run on exactly one node). app/cluster.go
// runs one Elector per node; cluster/records fences the shared record log
// and the sources' cursors on the term's token.
//
// # Algorithm
//
// The bucket (EnsureBucket) has a TTL equal to the lease TTL (stream MaxAge),
// history 1, file storage and a LimitMarkerTTL. Every node runs an Elector on
// the same key:
//
//   - Campaign: KV Create(key) — succeeds only if the key is absent (or its
//     last entry is a delete/expiry marker), atomically on the server. The
//     revision it returns (the stream sequence) is the term's fencing token.
//   - Renew: while leading, every RenewInterval (default TTL/4) the leader
//     does Update(key, value, lastRevision), a compare-and-set on the
//     revision. Each renewal is a new message, so the key's age restarts.
//   - Expiry: a leader that stops renewing (killed, paused, cut off) leaves a
//     key whose last message ages out after TTL; JetStream removes it and
//     writes an expiry marker, followers see the marker through a watch (or
//     their RetryInterval poll) and one Create succeeds.
//   - Resign: on shutdown the leader cancels the term, waits for the term
//     function to return, then deletes the key (CAS on its revision), so a
//     follower (watching the key) takes over within milliseconds.
//
// This is a lease, not a bare lock: ownership is bounded in time by the TTL
// and every term carries a token that only grows (see Fence).
//
// # Timing and margins
//
// Let s be the local time at which the leader sent its last acknowledged
// Create/Update. The server stamped that message at some t ≥ s and removes it
// no earlier than t + TTL (server clock; in practice up to ~350 ms later, see
// granularity). The leader therefore cancels its term context at
//
//	deadline = s + TTL − Margin          (Margin default TTL/5)
//
// unless a later renewal is acknowledged first: the term ends at least Margin
// before any other node's Create can succeed. Only durations on each clock are
// compared, never wall-clock readings across machines, so Margin has to cover
// the clock rate difference between the node and the NATS server (ppm; tiny)
// and the time the term function needs to notice ctx.Done() and stop. A renewal
// that fails (timeout, no connection) is retried every RenewInterval/4 until
// the deadline; RenewInterval ≤ (TTL−Margin)/2 is enforced so at least two
// attempts fit. A renewal that meets a revision mismatch ends the term at
// once (ErrLeaseLost), unless the key still holds this term's own value (an
// earlier renewal was applied but its reply lost), in which case the newer
// revision is adopted.
//
// Granularity: JetStream refuses MaxAge < 100 ms, runs its age check at most
// every 250 ms and compares against a clock cached every 100 ms, so a key
// disappears between TTL and about TTL + 350 ms after its last renewal
// (never earlier: the server stamps with time.Now and expires against a
// lagging clock). Failover after a kill is therefore between TTL − RenewInterval
// and TTL + ~350 ms + detection (watch: ~immediate; poll: RetryInterval).
// Measured with TTL 1 s, RenewInterval 250 ms on loopback: see the tests'
// logs and BenchmarkFailover.
//
// A bucket whose TTL differs from Config.TTL is refused by Run: a longer TTL
// breaks liveness, a shorter one safety.
//
// # Failure cases
//
//   - Leader killed (kill -9, machine lost): no renewals; the key expires
//     within TTL (+ granularity) of the last renewal, another node's Create
//     succeeds with a larger token. No overlap: the dead leader runs nothing.
//   - Leader partitioned from NATS (or NATS too slow): its renewals fail; at
//     s + TTL − Margin its term context is cancelled with ErrLeaseExpired,
//     before the key can expire on the server, hence before any new term.
//     Followers on the healthy side take over after the expiry. If the old
//     leader's code ignores the context for a while (or was paused past the
//     deadline), its late writes carry the old token and a Fence rejects them.
//   - Partitioned follower: its Creates fail; nothing happens.
//   - NATS restart / outage: nobody can renew, so every term ends at its
//     deadline (no leader during the outage — collectors pause rather than run
//     twice). The file-stored stream keeps its sequence, so after the restart
//     the next Create gets a larger token (tested). With a NATS cluster (R3
//     bucket) a single server's restart is invisible to the lease.
//   - Tokens are only monotonic per bucket incarnation: deleting and
//     recreating the bucket, or using memory storage, restarts revisions at 1.
//     Never do that while resources keep a Fence high-water mark, or carry
//     the mark over (NewFence(floor)).
//
// # What the app must do with the term
//
// Start the leader-only work (collectors, rule evaluation) inside the term
// function with the term context, stop it when the context is done
// (context.Cause tells why) and return; Run only campaigns again after the
// function has returned. Every write to a shared resource (journal, store,
// published rule results) carries term.Token and goes through that
// resource's Fence (Guard or Admit inside the resource's own transaction), so
// a leader that resumes after its lease expired cannot overwrite the newer
// leader's work. Cancel Run's context on shutdown so the lease is released at
// once instead of after the TTL.
package lease
