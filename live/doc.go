// Package live is the one home of live publishing: everything a wall
// screen or phone receives over the hub comes from here, under the topic
// names of topics.go, in the payloads of present.go.
//
//   - Feed: every second (and right after a batch is filed) the engine's
//     values that changed → their indicator topics, each region's
//     composite score and the rankings of every region's children.
//   - Ticker: the newest hotline tickets per region; Tee files the
//     collectors' records into the engine and shows tickets on it.
//   - Pulse: the server's clock and every source's health, every few
//     seconds.
//
// The server decides and the browser paints: a payload carries the value,
// its display text, its colour against the targets and its rank, so no
// page repeats a rule of the server's. Pages draw their first paint with
// the same Presenter.
package live
