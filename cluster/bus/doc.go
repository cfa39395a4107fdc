// Package bus fans the hub's messages out between Yiping nodes over NATS
// JetStream (issue 13): every node's hub holds every change, with the same
// seqs, so a screen sees the same sequence per topic on any node and resumes
// on another node after its own died. The app wires it on a cluster node
// (app/cluster.go, docs/CLUSTER.md).
//
// # Design
//
// Only the leader (cluster/lease) computes values and publishes them to its
// hub. Its hub numbers each topic's messages as on a single node (per-topic
// seq, coalesced flushes); Forward, set as the hub's Config.OnFlush, publishes
// each flushed message on Subject(prefix, topic) with its seq in a header.
// Every node runs Follow, which hands each message to its hub's Apply: the
// follower installs it with the leader's seq, in its ring and snapshot, and
// sends it to its screens as its own flush would. Sequences are thus global
// because exactly one hub assigns them and the others copy them; a resume
// ("since" = last seq seen) means the same on every node.
//
// Subjects: a topic is encoded as one subject token (bytes outside
// [A-Za-z0-9_:-] written ~HH), so "ind:x:620800:month" stays readable and
// '.', '*', '>' or spaces in a name cannot change the subject's shape.
//
// # Delivery: JetStream, not core NATS
//
// Core NATS publish is at-most-once with no history (Centrifugo's NATS
// broker): a follower that starts late has nothing until each topic changes.
// The stream (EnsureStream) keeps the last Options.Keep messages of each
// subject (MaxMsgsPerSubject), file-stored: Follow's ordered consumer starts
// with the latest message of every topic (DeliverLastPerSubject), then
// follows in stream order, and resumes where it was after a reconnection.
//
// Nothing is exactly-once and nothing needs to be: a message delivered twice
// has a seq not above the follower's (hub.ErrStale, ignored); a message lost
// (Forward's queue full, a publish not acknowledged, a follower lagging by
// more than Keep messages of a topic) leaves a gap, and the next message of
// that topic does not follow its predecessor: the follower's hub sends it as
// a snapshot, and a resume from before the gap gets a snapshot. Each message
// carries the topic's whole value, so a snapshot costs what a message costs.
// Forward never blocks the hub's flush: OnFlush only queues (Options.Queue
// flushes), a goroutine publishes asynchronously.
//
// # Leader change
//
// The new leader calls hub.StartEpoch before it publishes. Without it, its
// hub would number each topic after the last seq it applied — which may be
// short of the last the old leader sent (lost or in flight), giving one seq
// two values, and a screen resuming with it would be told it is up to date
// with a wrong value. The hub's base alone is not enough either: it is taken
// when the process starts, possibly before the old leader's. StartEpoch
// raises the floor of every topic's next seq to the clock's now in
// microseconds. Every seq a leader sends at time t is below t in
// microseconds: it starts at its floor (its start time or its epoch, < t)
// and grows by one per flush, at most one per Coalesce interval (200 ms),
// far slower than the clock. A new leader's epoch comes at least a lease TTL
// after the old leader's last renewal, so its seqs are above all of the old
// leader's as long as the two machines' clocks differ by less than that
// (NTP keeps them within milliseconds; TTL is seconds). Each topic's first
// message after the epoch is a jump, sent as a snapshot to every screen of
// every node.
//
// A deposed leader stops forwarding at once when Options.Leading says it no
// longer leads (pass the lease term's state); a message it published late is
// still applied by followers on topics the new leader has not published yet
// (its seq is below the new epoch, so anything the new leader sent refuses
// it as stale). Messages carry the publisher's node and lease token
// (headers) for diagnostics; the leader's own Follow skips its node's
// messages.
//
// # In the app
//
// app/cluster.go sets Forward's OnFlush on every node's hub, with Leading
// from the node's lease term; runs Follow on every node; calls StartEpoch
// when a term starts; and uses LastMessage to call a follower cut off when
// the leader (whose clock topic ticks every second) has been silent.
package bus
