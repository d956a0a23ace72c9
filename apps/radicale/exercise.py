#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Exercises a running silo Radicale the way CalDAV and CardDAV clients and a browser do,
so that `spk trace` sees every file those paths need. Used by trace.sh (the trace) and by
tests/integration/test_radicale_tree.py (the check of the traced tree).

usage: exercise.py BASE_URL     e.g. http://127.0.0.1:8000
Talks to 127.0.0.1 only, every request with a timeout; exits non-zero on the first
unexpected answer. Needs Debian's python3-caldav (run it with /usr/bin/python3).
"""
import datetime
import http.client
import re
import sys
import urllib.parse
import uuid

import caldav

HOME = "/grain/"   # the grain's one principal, whoever calls
OWNER = {"X-Sandstorm-User-Id": "0123456789abcdef0123456789abcdef",
         "X-Sandstorm-Username": "Ada%20Lovelace",
         "X-Sandstorm-Permissions": "write"}
VIEWER = {"X-Sandstorm-User-Id": "fedcba9876543210fedcba9876543210",
          "X-Sandstorm-Username": "Charles",
          "X-Sandstorm-Permissions": ""}
TIMEOUT = 20

# A weekly event in a named time zone (recurrence expansion, VTIMEZONE parsing).
EVENT = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//silo//trace//EN
BEGIN:VTIMEZONE
TZID:Europe/Berlin
BEGIN:STANDARD
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
END:DAYLIGHT
END:VTIMEZONE
BEGIN:VEVENT
UID:{uid}
DTSTAMP:20240101T120000Z
DTSTART;TZID=Europe/Berlin:20240610T100000
DTEND;TZID=Europe/Berlin:20240610T110000
RRULE:FREQ=WEEKLY;COUNT=4
SUMMARY:{summary}
END:VEVENT
END:VCALENDAR
"""

TODO = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//silo//trace//EN
BEGIN:VTODO
UID:{uid}
DTSTAMP:20240101T120000Z
DUE:20240620T170000Z
SUMMARY:Water the plants
END:VTODO
END:VCALENDAR
"""

VCARD = """BEGIN:VCARD
VERSION:3.0
UID:{uid}
FN:Grace Hopper
N:Hopper;Grace;;;
EMAIL:grace@example.org
END:VCARD
"""


class Failed(Exception):
    pass


def expect(cond, what):
    if not cond:
        raise Failed(what)


def request(base, method, path, headers, body=None, ctype=None):
    """One plain HTTP request; returns (status, headers, body bytes)."""
    u = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=TIMEOUT)
    h = dict(headers)
    if ctype:
        h["Content-Type"] = ctype
    data = body.encode() if isinstance(body, str) else body
    conn.request(method, path, body=data, headers=h)
    r = conn.getresponse()
    out = (r.status, dict(r.getheaders()), r.read())
    conn.close()
    return out


def dav_client(base, headers):
    client = caldav.DAVClient(base + "/", timeout=TIMEOUT)
    client.session.trust_env = False   # no proxies, no .netrc: 127.0.0.1 only
    client.headers.update(headers)
    return client


def web_ui(base):
    """The browser's first visit: / redirects to /.web/, which loads its scripts."""
    status, headers, _ = request(base, "GET", "/", OWNER)
    expect(status in (301, 302, 303, 307, 308), f"GET / -> {status}")
    status, _, page = request(base, "GET", "/.web/", OWNER)
    expect(status == 200 and b"<html" in page.lower(), f"GET /.web/ -> {status}")
    for ref in sorted(set(re.findall(rb'(?:src|href)="([^":#?]+)"', page))):
        path = urllib.parse.urljoin("/.web/", ref.decode())
        status, _, _ = request(base, "GET", path, OWNER)
        expect(status == 200, f"GET {path} -> {status}")
    return "web UI: / redirects, /.web/ and its assets load"


def calendars(base):
    """A CalDAV session as python3-caldav runs it: discovery, a new calendar, events,
    a to-do, searches with recurrence expansion, sync, rename, delete."""
    principal = dav_client(base, OWNER).principal()
    expect(str(principal.url).endswith(HOME), f"discovery finds {HOME} ({principal.url})")
    names = [c.name for c in principal.calendars()]
    expect("Calendar" in names, f"the new grain's calendar exists ({names})")
    cal = principal.make_calendar(name="Trace calendar", cal_id="trace")
    uid = str(uuid.uuid4())
    cal.save_event(EVENT.format(uid=uid, summary="Weekly sync"))
    cal.save_todo(TODO.format(uid=str(uuid.uuid4())))
    found = cal.date_search(start=datetime.datetime(2024, 6, 1),
                            end=datetime.datetime(2024, 7, 2), expand=True)
    n = sum(e.data.count("BEGIN:VEVENT") for e in found)
    expect(n == 4, f"date_search expands the weekly event to 4 instances ({n})")
    expect(any("Weekly sync" in e.data for e in found), "the event's summary comes back")
    expect(len(cal.todos()) == 1, "the to-do is listed")
    expect("Weekly sync" in cal.event_by_uid(uid).data, "event_by_uid finds it")
    token_objs = cal.objects_by_sync_token(load_objects=True)
    expect(len(list(token_objs)) == 2, "sync-collection lists both objects")
    cal.set_properties([caldav.elements.dav.DisplayName("Renamed calendar")])
    expect(cal.get_properties([caldav.elements.dav.DisplayName()]), "PROPPATCH/PROPFIND")
    extra = principal.make_calendar(name="Scratch", cal_id="scratch")
    extra.save_event(EVENT.format(uid=str(uuid.uuid4()), summary="Scratch"))
    extra.delete()
    return "caldav: calendar created, event saved, searched, synced, renamed, deleted"


def contacts(base):
    """CardDAV as a phone's contacts app does it: PUT, GET, PROPFIND, REPORT, MOVE,
    DELETE of a vCard in the owner's address book."""
    uid = str(uuid.uuid4())
    book = f"{HOME}contacts/"
    status, _, _ = request(base, "PUT", f"{book}{uid}.vcf", OWNER, VCARD.format(uid=uid),
                           "text/vcard; charset=utf-8")
    expect(status == 201, f"PUT vcard -> {status}")
    status, _, body = request(base, "GET", f"{book}{uid}.vcf", OWNER)
    expect(status == 200 and b"Grace Hopper" in body, f"GET vcard -> {status}")
    status, _, body = request(base, "PROPFIND", book, {**OWNER, "Depth": "1"},
                              '<propfind xmlns="DAV:"><prop><getetag/></prop></propfind>',
                              "application/xml")
    expect(status == 207 and uid.encode() in body, f"PROPFIND address book -> {status}")
    query = ('<C:addressbook-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav">'
             '<D:prop><D:getetag/><C:address-data/></D:prop><C:filter><C:prop-filter '
             'name="FN"><C:text-match>Grace</C:text-match></C:prop-filter></C:filter>'
             '</C:addressbook-query>')
    status, _, body = request(base, "REPORT", book, {**OWNER, "Depth": "1"}, query,
                              "application/xml")
    expect(status == 207 and b"Grace Hopper" in body, f"REPORT addressbook-query -> {status}")
    dest = f"{base}{book}moved-{uid}.vcf"
    status, _, _ = request(base, "MOVE", f"{book}{uid}.vcf", {**OWNER, "Destination": dest})
    expect(status in (201, 204), f"MOVE vcard -> {status}")
    status, _, _ = request(base, "DELETE", f"{book}moved-{uid}.vcf", OWNER)
    expect(status in (200, 204), f"DELETE vcard -> {status}")
    return "carddav: vcard PUT, GET, PROPFIND, REPORT, MOVE, DELETE"


def viewer(base):
    """A read-only visitor and an anonymous one: they see the same calendars, reads pass,
    writes get 403, and Radicale tells their clients the calendar is read-only."""
    principal = dav_client(base, VIEWER).principal()
    cals = {c.name: c for c in principal.calendars()}
    expect("Renamed calendar" in cals, f"a viewer discovers the shared calendar ({cals})")
    found = cals["Renamed calendar"].date_search(start=datetime.datetime(2024, 6, 1),
                                                 end=datetime.datetime(2024, 6, 30))
    expect(any("Weekly sync" in e.data for e in found), "a viewer finds the event")
    cal = f"{HOME}trace/"
    privs = ('<propfind xmlns="DAV:"><prop><current-user-privilege-set/></prop>'
             '</propfind>')
    status, _, body = request(base, "PROPFIND", cal, {**VIEWER, "Depth": "0"}, privs,
                              "application/xml")
    expect(status == 207 and b"read" in body and b"write" not in body,
           f"a viewer's privileges on the calendar are read-only ({status})")
    status, _, body = request(base, "PROPFIND", cal, {**OWNER, "Depth": "0"}, privs,
                              "application/xml")
    expect(status == 207 and b"write" in body, f"the owner's include write ({status})")
    status, _, _ = request(base, "PUT", cal + "x.ics", VIEWER,
                           EVENT.format(uid="x", summary="x"), "text/calendar")
    expect(status == 403, f"a viewer's PUT is refused ({status})")
    status, _, _ = request(base, "DELETE", cal, {})
    expect(status == 403, f"an anonymous DELETE is refused ({status})")
    status, _, _ = request(base, "PROPFIND", cal, {"Depth": "0"})
    expect(status == 207, f"an anonymous visitor reads ({status})")
    return "permissions: viewer and anonymous see the calendars, their writes get 403"


STEPS = (web_ui, calendars, contacts, viewer)


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    base = sys.argv[1].rstrip("/")
    for step in STEPS:
        try:
            print("exercise:", step(base), flush=True)
        except Exception as e:  # a failed step names itself
            print(f"exercise: {step.__name__} failed: {type(e).__name__}: {e}",
                  file=sys.stderr, flush=True)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
