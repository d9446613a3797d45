package web_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserExerciseScoreboardLive: a hub admin starts an exercise from
// the interface; as the exercise advances, its scoreboard updates in the
// open page without a reload.
func TestBrowserExerciseScoreboardLive(t *testing.T) {
	h := newHub(t)
	ctx := browse(t)
	browserSignIn(t, ctx, h, "hana")
	run(t, ctx, "starting an exercise",
		chromedp.WaitVisible(`.who`),
		chromedp.Navigate(h.srv.URL+"/exercises"),
		chromedp.WaitVisible(`#x-scenario`),
		chromedp.SendKeys(`#x-scenario`, "financial-drill"),
		chromedp.SendKeys(`#x-parts`, drillParts),
		chromedp.SetValue(`#x-speed`, "60"),
		chromedp.Click(`form[action="/exercises"] button[type="submit"]`),
		chromedp.WaitVisible(`#scoreboard`),
	)
	if path := read(t, ctx, "location", chromedp.Evaluate[string](`location.pathname`)); path != "/exercises/1" {
		t.Fatalf("after starting: at %s", path)
	}
	const sum = `Array.from(document.querySelectorAll('#scoreboard td.fired')).reduce((n, td) => n + parseInt(td.textContent, 10), 0)`
	fired := func() int { return read(t, ctx, "steps fired", chromedp.Evaluate[int](sum)) }
	before := fired()
	// A mark on the page: a reload would lose it.
	read(t, ctx, "marking the page", chromedp.Evaluate[bool](`window.notReloaded = true`))
	// Two scenario hours pass (two minutes at 60×) and the hub advances
	// the exercise, as serve's ticker does.
	h.exerciseAhead.Store(int64(2 * time.Minute))
	if err := h.api.Exercise.Tick(t.Context()); err != nil {
		t.Fatal(err)
	}
	read(t, ctx, "waiting for the scoreboard to change",
		chromedp.Poll[bool](sum+` > `+strconv.Itoa(before)))
	if after := fired(); after <= before {
		t.Errorf("steps fired %d, before %d", after, before)
	}
	if !read(t, ctx, "mark", chromedp.Evaluate[bool](`window.notReloaded === true`)) {
		t.Error("the page was reloaded")
	}
	screenshot(t, ctx, "exercise")
	run(t, ctx, "pausing", chromedp.Click(`form[action="/exercises/1/pause"] button`), chromedp.WaitVisible(`form[action="/exercises/1/resume"]`))
	if s := text(t, ctx, `#board-state`); s != "paused" {
		t.Errorf("state after pausing: %q", s)
	}
}

// TestBrowserDashboardLive: an object published while another user has
// the dashboard open appears there without a reload, and one that user
// may not see does not.
func TestBrowserDashboardLive(t *testing.T) {
	h := newHub(t)
	ctx := browse(t)
	browserSignIn(t, ctx, h, "bob")
	run(t, ctx, "dashboard", chromedp.WaitVisible(`#live-empty`))
	// The stream is open once the page has it connected; wait for that
	// by asking the browser.
	run(t, ctx, "stream open", chromedp.WaitReady(`#live[data-connected="true"]`))
	read(t, ctx, "marking the page", chromedp.Evaluate[bool](`window.notReloaded = true`))
	red, note := h.publishLive(t)
	run(t, ctx, "waiting for the new object",
		chromedp.WaitVisible(`#live a[href="/objects/`+note+`"]`))
	body := read(t, ctx, "list", chromedp.Text(`#live`))
	if !strings.Contains(body, "Live note") || strings.Contains(body, "Redwing") || strings.Contains(read(t, ctx, "html", chromedp.OuterHTML(`#live`)), red) {
		t.Errorf("bob's live list: %q", body)
	}
	if !read(t, ctx, "mark", chromedp.Evaluate[bool](`window.notReloaded === true`)) {
		t.Error("the page was reloaded")
	}
	screenshot(t, ctx, "dashboard-live")
}
