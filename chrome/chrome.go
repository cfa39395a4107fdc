// Package chrome is how Yiping finds and starts headless Chromium: to
// print bulletins, and in the browser tests. One place, so the flags that
// keep Chromium quiet on an intranet with no internet (no background
// networking, component updates or sync, which it would otherwise try at
// every start) are the same everywhere.
package chrome

import (
	"errors"
	"fmt"
	"os/exec"

	"github.com/chromedp/chromedp"
)

// Env is the environment variable naming the Chromium binary
// (scripts/install-chromium prints it).
const Env = "YIPING_CHROME"

// ErrNotFound is returned by Find when no Chromium is found.
var ErrNotFound = errors.New("chromium not found: install it (scripts/install-chromium, Debian's chromium) or set " + Env)

// candidates are where Chromium usually is, after $YIPING_CHROME.
func candidates() []string {
	return []string{"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome", "/usr/bin/google-chrome-stable",
		"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}
}

// Find returns the Chromium to run: $YIPING_CHROME (which must be
// executable), else the first of the usual paths and names that is.
func Find(getenv func(string) string) (string, error) {
	if p := getenv(Env); p != "" {
		path, err := exec.LookPath(p)
		if err != nil {
			return "", fmt.Errorf("%w: %s=%s: %v", ErrNotFound, Env, p, err)
		}
		return path, nil
	}
	for _, c := range candidates() {
		if p, err := exec.LookPath(c); err == nil {
			return p, nil
		}
	}
	return "", ErrNotFound
}

// Options are the allocator options to start the Chromium at path
// headless with the profile directory profile (a fresh one each start),
// then extra.
func Options(path, profile string, extra ...chromedp.ExecAllocatorOption) []chromedp.ExecAllocatorOption {
	return append([]chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile),
	}, extra...)
}
