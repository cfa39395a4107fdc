// Package widget holds the widget types of the wall screens: for each type,
// in one Go file, the YAML keys it takes, how it reads and checks them, and
// how it draws its first paint; beside it, in one JavaScript file, how it
// paints the payloads the hub pushes afterwards.
//
// # Layout: data flows one way
//
//	widget      the types: keys, parsing, first paint, their JS
//	  ↑
//	dashboards  screen and playlist files: reads type, title, at, region
//	  ↑         and period of every widget and hands the rest to its type
//	wall        HTTP: the page around the widgets, the live runtime
//	            (wall.js), and the Data every widget draws from
//
// A type is needed by both the loader (which must reject a misspelt key at
// start) and the renderer (which draws it), so it lives below both: package
// dashboards imports widget to parse, package wall imports both to draw,
// and widget imports neither. What a type draws from, it declares (Data),
// and the wall implements it from the engine, the store and the collectors:
// widget depends on no server part. Everything a type shows comes from
// package live's Presenter and payloads, so the first paint and every
// later payload carry the same text, status and rank, decided by the
// server; the JS files only paint.
//
// # Adding a widget type
//
// One Go file (the settings struct, a pointer to which implements Spec),
// one JS file (Wall.kind("name", function (w, wall) {...})) and one line in
// Kinds. docs/howto/add-widget.md walks through an example.
//
// # The JavaScript contract
//
// The wall concatenates static/wall.js and every type's Script into one
// file, so a page holds no inline script (a strict Content-Security-Policy
// can forbid it). A type's script registers a painter:
//
//	Wall.kind("tiles", function (w, wall) { ... });
//
// w.id is the widget's section id and w.cfg what the type's Render put in
// View.Config (JSON); wall offers on(topic, fn), section(id), chart(spec),
// paint(el, payload[, write]), color(status), later(key, fn) and words.
// Topic names come from Config, built in Go with package live: a script
// never spells a topic.
package widget
