// Package hub fans indicator changes out from the engine to wall screens over
// websockets.
//
// A topic is one stream of values ("ind:on_time_rate:620800:month",
// "health:demo-cases"). Publish stores a topic's latest value; the flusher
// sends at most one message per changed topic every Coalesce interval,
// so fifty publishes in one interval cost a screen one repaint. Every message
// a topic sends carries the next sequence number of that topic (no gaps: a
// coalesced burst takes one number, not fifty). A subscriber first gets a
// snapshot (the latest value with its seq), then the changes; a client that
// reconnects with the last seq it saw gets exactly the messages it missed, or
// a fresh snapshot when they are no longer kept.
//
// Every client has a bounded queue; a client whose queue is full is
// disconnected on the spot, so a slow screen never delays the publisher or
// the other screens. A flush encodes each changed topic's message once, as a
// websocket frame, and writes those bytes to every subscriber's socket with
// non-blocking system calls spread over GOMAXPROCS goroutines (the kernel's
// TCP work runs on the writing core). What a socket does not take at once is
// left to a writer goroutine of that client, which writes the rest and what
// queues behind it, several frames per system call, and ends when the queue
// is empty. An idle connection thus holds one goroutine (its reader) and a
// ping timer: see docs/PERFORMANCE.md for the figures at 20,000 screens.
//
// With Config.Registerer set the hub exports Prometheus metrics (clients,
// subscriptions, messages, publishes, coalesced publishes, drops by reason,
// resumes by outcome, publish→write latency); see metrics.go.
//
// Sequence numbers of a hub start at its start time in unix microseconds, so
// the numbers of a restarted hub are above every number the previous process
// sent (a topic sends at most one message per Coalesce interval, far fewer
// than a million a second): a screen resuming across a restart gets a
// snapshot, never a wrong replay. (A topic sends at most one message per
// flush, so at any time t a topic's seq is below t in microseconds unless
// Flush is called more than a million times a second.)
//
// # Several nodes
//
// Config.OnFlush hands the messages of each flush to another part of the
// program (cluster/bus forwards the leader's over NATS); Apply installs a
// message of another hub with that hub's seq, so every node's rings,
// snapshots and resumes answer with the same seqs and a screen may resume
// on any node. Apply refuses a seq not above the topic's (ErrStale) and
// sends a message that does not follow the topic's latest (lost messages,
// a node that started late) as a snapshot. StartEpoch, called by a node
// that becomes the leader, numbers its next flushes above the clock, hence
// above every seq the previous leader sent; each topic's first message
// after it is a snapshot too.
//
// # Protocol
//
// JSON text frames over a websocket served by (*Hub).ServeWS.
//
// Client → server:
//
//	{"op":"subscribe","topics":["ind:on_time_rate:620800:month"],"since":{"ind:on_time_rate:620800:month":1763900000000042}}
//	{"op":"unsubscribe","topics":["..."]}
//
// A topic named only in "since" is subscribed too. "since" is the last seq
// the client saw of that topic; without it the client gets a snapshot.
//
// Server → client: topic messages (Message)
//
//	{"topic":"ind:...","seq":1763900000000043,"data":{...}}
//	{"topic":"ind:...","seq":1763900000000043,"snapshot":true,"data":{...}}
//
// and replies, told apart by "op":
//
//	{"op":"subscribed","topics":[...]}   after the snapshots/replays of the request are queued
//	{"op":"unsubscribed","topics":[...]}
//	{"op":"error","request":"subscribe","error":"too many topics: 129 > 128"}
//	{"op":"error","request":"subscribe","error":"forbidden topic \"ind:x:620100:day\": outside what this screen may see"}
//
// A request is all or nothing: an error reply means none of its topics
// was subscribed. Who may subscribe to what is the server's decision
// (Config.Principal and Config.Authorize); the hub only asks.
//
// Within a topic the seqs a client receives are consecutive after its
// snapshot; a snapshot (seq s) replaces everything before s, and one without
// "data" means the topic has no value yet. A snapshot may also come in the
// middle of a subscription, where consecutive seqs could not follow (a node
// that missed messages of the leader, a new leader): the client takes its
// value and its seq as they are, even a seq lower than one it saw (seqs of
// different nodes' empty topics are not comparable), and resumes with it. Nothing of a topic follows its
// "unsubscribed" reply.
//
// The server pings every PingEvery; a client that answers no ping (browsers
// do answer) within 2×PingEvery is disconnected, and so is a client whose
// queue overflows: it reconnects and resumes with "since". A client message
// larger than MaxMessageBytes closes the connection with status 1009. A
// client whose access is revoked (Disconnect) gets close status 4403
// (CloseRevoked) after what is queued; reconnecting, it is refused by the
// server's authentication before the upgrade.
package hub
