#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# The whole product in a real browser: headless Chromium, driven over WebDriver, walks it as a
# person would and checks what that person would see. Setup wizard (from the printed link),
# log out and in, install notes.spk through the Apps page's upload form, create a notebook,
# type a note inside the grain's iframe; from inside the grain, no shell cookie is readable
# and fetches to the shell or to another grain's session host are blocked; share a view
# link, open it in a second, fresh profile (the note is there, editing is refused), revoke
# it, and the second profile loses access. A screenshot of each step goes to build/screens/.
# Chromium resolves *.localhost to loopback, so silo.localhost:PORT and its session hosts
# ui-<id>.silo.localhost:PORT reach the server on 127.0.0.1 with no DNS.
# Needs root (sandboxes), `make apps`, and Debian's chromium and chromium-driver.
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import graintest as gt  # noqa: E402
import silotest as st  # noqa: E402
import webdriver as wd  # noqa: E402

SCREENS = st.ROOT / "build" / "screens"
ADMIN = "alice"
NOTE_TITLE = "Groceries"
NOTE_BODY = "Oat milk, lemons, the good bread"
GRAIN_PATH_RE = re.compile(r"/grain/([0-9a-f]{32})$")
SESSION_ORIGIN_RE = re.compile(r"^(http://ui-[0-9a-f]{32}\.[^/]+)/")
SHELL_COOKIES = ("silo_session", "silo_csrf")

# In the page: fetch(url, opts) and report how it ended, with any CSP violation it caused.
FETCH_JS = """
var url = arguments[0], opts = arguments[1], done = arguments[arguments.length - 1];
var seen = [];
function onViolation(e) { seen.push(e.violatedDirective + ' ' + e.blockedURI); }
document.addEventListener('securitypolicyviolation', onViolation);
function finish(r) {
    setTimeout(function () {
        document.removeEventListener('securitypolicyviolation', onViolation);
        r.violations = seen;
        done(r);
    }, 50);
}
fetch(url, opts).then(function (res) {
    finish({resolved: true, status: res.status, type: res.type});
}, function (err) {
    finish({resolved: false, error: String(err)});
});
"""


class Walk:
    """One scenario's state: the server, the browser and the numbered screenshots."""

    def __init__(self, t, server, driver):
        self.t = t
        self.s = server
        self.d = driver
        self.shot_n = 0
        self.base = server.base_url        # http://silo.localhost:PORT

    def shot(self, b, name):
        """Saves build/screens/NN-name.png of browser b's whole window (top frame)."""
        self.shot_n += 1
        b.frame(None)
        b.screenshot(str(SCREENS / f"{self.shot_n:02d}-{name}.png"))

    def text(self, b, css):
        el = b.wait_find(css)
        return el.text if el else None

    def wait_text(self, b, css, want, timeout=15):
        """True once the element at css shows text containing want."""
        return bool(b.wait(lambda: want in (b.find(css).text or ""), timeout))

    def wait_path(self, b, pattern, timeout=15):
        """The match of pattern against the browser's path once it matches, else None."""
        def check():
            url = b.url
            path = url[len(self.base):] if url.startswith(self.base) else ""
            return re.match(pattern, path)
        return b.wait(check, timeout)


# WebDriver's codes for keys: Control held (until Null), Enter.
KEY_CONTROL, KEY_NULL, KEY_ENTER = "\ue009", "\ue000", "\ue007"


def fill(b, css, text):
    el = b.find(css)
    el.clear()
    el.send_keys(text)


def rename_grain(w, b, title):
    """Renames the open grain with the pencil in its top bar, as a person would."""
    b.frame(None)
    b.find("#grain-rename").click()
    b.find("#grain-title-input").send_keys(KEY_CONTROL + "a" + KEY_NULL + title + KEY_ENTER)
    w.t.ok(w.wait_text(b, "#grain-title", title) and b.wait(lambda: title in b.title),
           f"grain: renamed to \"{title}\" from its top bar", b.title)


def setup_wizard(w, b):
    t = w.t
    links = w.s.setup_links()
    t.ok(links and links[-1][0] == w.base,
         "server: prints a setup link on the shell's own address", repr(links))
    b.go(f"{links[-1][0]}/setup/{links[-1][1]}")
    t.ok(w.text(b, "h1") == "Claim your server", "wizard: the setup link shows the wizard",
         b.title)
    fill(b, "#server_name", "Home cloud")
    fill(b, "#name", ADMIN)
    fill(b, "#password", st.PASSWORD)
    fill(b, "#password2", st.PASSWORD)
    w.shot(b, "setup-wizard")
    b.find("button[type=submit]").click()
    t.ok(w.wait_text(b, "h1", f"Welcome, {ADMIN}") and w.wait_path(b, r"/$"),
         "wizard: creating the admin lands on the home page, logged in", b.url)
    t.ok("Home cloud" in w.text(b, ".topbar .brand"), "home: the server's new name in the bar")


def log_out_and_in(w, b):
    t = w.t
    b.find("nav form[action='/logout'] button").click()
    t.ok(w.wait_path(b, r"/login"), "log out: back on the login page", b.url)
    fill(b, "#name", ADMIN)
    fill(b, "#password", "not the password")
    b.find("button[type=submit]").click()
    t.ok(b.wait(lambda: b.find_all("[role=alert]")) and w.wait_path(b, r"/login"),
         "log in: a wrong password is refused with a message")
    fill(b, "#password", st.PASSWORD)
    w.shot(b, "login")
    b.find("button[type=submit]").click()
    t.ok(w.wait_text(b, "h1", f"Welcome, {ADMIN}"), "log in: the home page greets the admin",
         b.url)
    t.ok(w.wait_text(b, "main", "No apps yet"), "home: says there are no apps yet")


def install_notes(w, b):
    t = w.t
    b.go(w.base + "/apps")
    upload = b.wait_find("#app-upload")
    t.ok(upload is not None, "apps page: has the upload form")
    upload.send_keys(str(gt.SPK["notes"]))
    b.find("#app-upload-button").click()
    t.ok(w.wait_text(b, "#apps-list", "Notes", timeout=60),
         "apps page: after the upload, Notes is listed as installed", w.text(b, "main"))
    t.ok(w.wait_text(b, "[role=status]", "is installed"), "apps page: says it is installed")
    w.shot(b, "apps-installed")


def new_grain(w, b):
    """Clicks "New notebook" on the home page; returns the new grain's id."""
    b.go(w.base + "/")
    button = b.wait_find("button[data-new-grain]")
    w.t.ok(button is not None and "New notebook" in button.text,
           "home: a \"New notebook\" button")
    button.click()
    m = w.wait_path(b, GRAIN_PATH_RE.pattern, timeout=30)
    w.t.ok(m, "new notebook: opens the new grain's page", b.url)
    return m.group(1) if m else None


def enter_frame(w, b, ready="#notes-heading"):
    """Switches b into #grain-frame once the app inside shows ready; returns the frame's
    origin (its session host) or None."""
    frame = b.wait_find("#grain-frame")
    if not frame:
        return None
    src = frame.attr("src") or ""
    b.frame(frame)
    if not b.wait_find(ready, timeout=30):
        return None
    m = SESSION_ORIGIN_RE.match(b.execute("return location.href") + "")
    return m.group(1) if m else src


def write_note(w, b, gid):
    t = w.t
    origin = enter_frame(w, b, "#note-title")
    t.ok(origin and re.match(r"http://ui-[0-9a-f]{32}\.silo\.localhost:\d+$", origin),
         "grain: the app runs in the frame on its own ui-<id>.silo.localhost host", origin)
    t.ok(w.text(b, "#access") == "Can edit", "grain: the owner's notebook says \"Can edit\"")
    t.ok(w.wait_text(b, "#empty-state", "No notes yet"), "grain: a new notebook is empty")
    fill(b, "#note-title", NOTE_TITLE)
    fill(b, "#note-body", NOTE_BODY)
    b.find("#note-save").click()
    t.ok(w.wait_text(b, "#notes .note-title", NOTE_TITLE) and
         w.wait_text(b, "#notes .note-body", NOTE_BODY),
         "grain: the saved note is in the list", w.text(b, "main"))
    t.ok(w.wait_text(b, "#note-count", "1 note"), "grain: the count says 1 note")
    w.shot(b, "note-saved")
    rename_grain(w, b, NOTE_TITLE)
    return origin


def grain_list(w, b, gid):
    """Home page lists the grain, and a second notebook; returns the second one's origin."""
    t = w.t
    other = new_grain(w, b)
    other_origin = enter_frame(w, b)
    t.ok(other and other != gid and other_origin, "grain: a second notebook opens",
         other_origin)
    rename_grain(w, b, "Book club")
    b.go(w.base + "/")
    rows = b.wait(lambda: len(b.find_all("#grains-list li")) == 2 and
                  b.find_all("#grains-list li"))
    names = sorted(r.find_all(".grain-name")[0].text for r in rows or [])
    t.ok(names == ["Book club", NOTE_TITLE], "home: the grain list shows both notebooks",
         names)
    t.ok(b.find_all(f"#grains-list a[href='/grain/{gid}']"), "home: the first one links to it")
    w.shot(b, "grain-list")
    return other_origin


def fetch(b, url, **opts):
    return b.execute_async(FETCH_JS, url, opts) or {}


def confinement(w, b, gid, other_origin):
    """From inside the grain's frame: no shell cookie, no reaching the shell or another grain."""
    t = w.t
    b.go(f"{w.base}/grain/{gid}")
    origin = enter_frame(w, b)
    t.ok(origin, "grain: opens again from its link", b.url)
    cookie = b.execute("return document.cookie")
    t.ok(not any(name in cookie for name in SHELL_COOKIES + ("silo_grain",)),
         "in the grain: document.cookie holds no shell cookie (nor the grain's)", cookie)
    own = fetch(b, origin + "/", credentials="include")
    t.ok(own.get("resolved") and own.get("status") == 200,
         "in the grain: a fetch to its own origin works (the control)", own)
    for what, url in (("the shell's origin", w.base + "/api/v1/grains"),
                      ("another grain's session host", other_origin + "/")):
        for mode in ("cors", "no-cors"):
            r = fetch(b, url, mode=mode, credentials="include")
            t.ok(r.get("resolved") is False,
                 f"in the grain: a {mode} fetch to {what} is blocked (the promise rejects)", r)
        t.ok(any(v.startswith("connect-src") for v in r.get("violations", [])),
             f"in the grain: the CSP's connect-src is what blocks {what}", r)
    b.frame(None)


def share_view_link(w, b, gid):
    """The owner makes a view link from the grain's top bar; returns the link."""
    t = w.t
    b.frame(None)
    b.go(f"{w.base}/grain/{gid}")
    enter_frame(w, b)
    b.frame(None)
    button = b.find("#share-button")
    t.ok("Share" in button.text, "grain: a \"Share\" button in the top bar", button.text)
    button.click()
    roles = [o.attr("value") for o in b.find_all("#share-role option")]
    t.ok(sorted(roles) == ["editor", "viewer"], "share: offers the app's roles", roles)
    b.find("#share-role option[value=viewer]").click()
    fill(b, "#share-label", "For Bob")
    b.find("#share-create").click()
    field = b.wait_find("#share-url")
    link = field.prop("value") if field else ""
    t.ok(re.match(re.escape(w.base) + r"/shared/[A-Za-z0-9_-]{32,}$", link or ""),
         "share: the new view link is shown, on the server's address", link)
    t.ok(b.find("#share").attr("open") is not None, "share: the dialog stays open to copy it")
    w.shot(b, "share-dialog")
    return link


def visitor_sees_note(w, v, link):
    """A fresh profile (nobody logged in) opens the link: the note shows, editing is refused."""
    t = w.t
    v.go(link)
    origin = enter_frame(w, v)
    t.ok(origin, "visitor: the link shows the grain in a frame", v.url)
    t.ok(w.wait_text(v, "#notes .note-title", NOTE_TITLE) and
         w.wait_text(v, "#notes .note-body", NOTE_BODY), "visitor: the note is visible")
    t.ok(w.text(v, "#access") == "View only" and not v.find_all("#note-form") and
         not v.find_all("[data-note-edit]"),
         "visitor: \"View only\", no form to write and no Edit button")
    r = fetch(v, origin + "/notes", method="POST", credentials="same-origin",
              headers={"Content-Type": "application/x-www-form-urlencoded"},
              body="title=Vandal&body=gone")
    t.ok(r.get("resolved") and r.get("status") == 403,
         "visitor: a note posted from inside the frame is refused (403)", r)
    v.execute("location.reload()")
    t.ok(w.wait_text(v, "#note-count", "1 note") and
         "Vandal" not in w.text(v, "#notes"), "visitor: after a reload, still the one note")
    w.shot(v, "visitor-view-only")
    v.frame(v.find("#grain-frame"))
    return origin


def revoke(w, b, v, link, origin):
    """The owner revokes the link on "Who has access"; the visitor loses access at once."""
    t = w.t
    b.frame(None)
    b.find("#share-access").click()
    rows = b.wait(lambda: b.find_all("#share-links tr[data-share-id]"))
    t.ok(rows and len(rows) == 1 and "For Bob" in rows[0].text and "viewer" in rows[0].text,
         "who has access: lists the view link with its label and role",
         rows and rows[0].text)
    w.shot(b, "who-has-access")
    rows[0].find_all("button.revoke")[0].click()
    question = b.alert_text()   # a confirm() before the revoke, if the page asks one
    if question:
        b.accept_alert()
    t.ok(b.wait(lambda: not b.find_all("#share-links tr[data-share-id]")),
         "who has access: the link is gone after Revoke")
    r = fetch(v, origin + "/")
    t.ok(r.get("resolved") and r.get("status") in (401, 403, 404),
         "visitor: the frame's next request is refused", r)
    # The app's own poll learns it too (403, then 404 once the session is gone).
    t.ok(v.wait(lambda: v.find_all("#presence.offline")),
         "visitor: the open notebook's \"who is here\" goes offline", w.text(v, "#presence"))
    v.execute("location.reload()")
    t.ok(v.wait(lambda: not v.find_all("#notes") and re.search(
        "no longer have access|session has ended", v.find("body").text)),
         "visitor: reloading the frame shows a refusal, not the notes", w.text(v, "body"))
    w.shot(v, "visitor-refused")
    v.go(link)
    t.ok(w.wait_text(v, "main", "not valid") and not v.find_all("#grain-frame"),
         "visitor: the link page now says the link is not valid", w.text(v, "main"))
    w.shot(v, "link-revoked")


def scenario(t):
    why = wd.missing()
    if why:
        t.ok(True, f"# SKIP {why}")
        return
    if not gt.skip_unless_ready(t, "notes"):
        return
    for old in SCREENS.glob("*.png"):   # this run's pictures only
        old.unlink()
    s = gt.new_server().start()
    d = wd.Driver().start()
    try:
        w = Walk(t, s, d)
        owner = d.session()
        setup_wizard(w, owner)
        log_out_and_in(w, owner)
        install_notes(w, owner)
        gid = new_grain(w, owner)
        write_note(w, owner, gid)
        owner.frame(None)
        other_origin = grain_list(w, owner, gid)
        confinement(w, owner, gid, other_origin)
        link = share_view_link(w, owner, gid)
        visitor = d.session()
        origin = visitor_sees_note(w, visitor, link)
        revoke(w, owner, visitor, link, origin)
    finally:
        d.quit()


if __name__ == "__main__":
    st.run(scenario, time_limit=170)
