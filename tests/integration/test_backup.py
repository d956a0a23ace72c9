#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Backups as their users see them, with real sandboxes and the notes app: a note written in a
# grain, the grain's backup downloaded (its bytes read back here as docs/BACKUP.md says) and
# restored as a new grain of the uploader that still holds the note; who may download it;
# restoring for an app that is not installed, or from a newer version; hostile backups
# (truncated, '..', absolute path, device node, setuid, symlink out, huge metadata, wrong
# magic) each refused with its reason and nothing left behind; then a whole server's backup
# restored with `silo restore-server` into a fresh directory, served, and logged into.
# Needs root and `make apps`; skips otherwise.
import json
import lzma
import os
import re
import subprocess

import graintest as gt
import silotest as st

MAGIC = b"\x8fSILOBAK\x01"


def unpack_backup(data):
    """(metadata dict, archive bytes) of a backup file, read as docs/BACKUP.md describes."""
    if data[:9] != MAGIC:
        raise ValueError("bad magic")
    plain = lzma.decompress(data[9:], format=lzma.FORMAT_XZ)
    n = int.from_bytes(plain[:4], "big")
    return json.loads(plain[4:4 + n]), plain[4 + n:]


def archive(entries):
    """A silo archive (docs/SPK.md section 4) of (type, mode, path, payload) entries, as given:
    in whatever order and with whatever values, hostile ones included."""
    out = b"SILOARC\x01"
    for typ, mode, path, data in entries:
        p = path.encode()
        out += bytes([typ]) + mode.to_bytes(2, "big") + len(p).to_bytes(2, "big") + p
        if typ == 2:
            out += len(data).to_bytes(8, "big") + data
        elif typ == 3:
            out += len(data).to_bytes(2, "big") + data
    return out + b"\x00"


def backup_file(meta, arch, meta_bytes=None, length=None):
    m = meta_bytes if meta_bytes is not None else json.dumps(meta).encode()
    n = len(m) if length is None else length
    plain = n.to_bytes(4, "big") + m + arch
    return MAGIC + lzma.compress(plain, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC64)


def restore(client, data):
    return client.request("POST", "/api/v1/grains/restore", body=data,
                          headers={"Content-Type": "application/octet-stream"})



def grain_dirs(s):
    return sorted(os.listdir(os.path.join(s.data, "grains")))


def note_titles(sess):
    r = sess.get("/api/notes")
    return [n.get("title") for n in r.json().get("notes", [])] if r.status == 200 else None


def scenario_grain(t, s, admin, app):
    r = admin.post("/api/v1/grains", {"app_id": app, "title": "Shopping list"})
    gid = r.json().get("grain_id", "")
    sess = gt.GrainSession(s, admin, gid)
    r = sess.post("/api/notes", {"title": "Milk", "body": "2 litres"})
    t.eq(r.status, 201, "setup: a note is written in the grain")

    # --- Download ---
    r = admin.get(f"/api/v1/grains/{gid}/backup")
    t.eq(r.status, 200, "backup: the owner downloads the grain's backup")
    t.eq(r.header("Content-Type"), "application/octet-stream", "backup: served as octet-stream")
    t.eq(r.header("Content-Disposition"), 'attachment; filename="Shopping_list.silo-backup"',
         "backup: an attachment named after the title, made safe")
    data = r.body
    meta, arch = unpack_backup(data)
    t.ok(meta.get("kind") == "grain" and meta.get("format") == 1 and
         meta.get("title") == "Shopping list" and meta.get("app_id") == app and
         meta.get("app_title") == "Notes" and meta.get("app_version") == 1 and
         re.fullmatch(r"[0-9a-f]{32}", meta.get("package_id", "")) is not None,
         "backup: its metadata names the title, app, package and version", repr(meta))
    t.ok(arch.startswith(b"SILOARC\x01") and b"2 litres" in arch,
         "backup: its archive holds the grain's files, the note among them")
    t.ok(gt.wait_stopped(admin, gid), "backup: the grain was stopped to take it")
    t.eq(note_titles(sess), ["Milk"], "backup: the grain starts again on its next request")

    # --- The shell's pages ---
    t.ok(f'href="/api/v1/grains/{gid}/backup"' in admin.get(f"/grain/{gid}").text() and
         "Download backup" in admin.get(f"/grain/{gid}").text(),
         "pages: the grain's page links to its backup")
    home = admin.get("/").text()
    t.ok('id="restore-upload"' in home and "Restore from backup" in home,
         "pages: the home page has the restore-from-backup upload")
    t.ok('href="/api/v1/admin/backup"' in admin.get("/admin").text(),
         "pages: the admin page links to the server backup")

    # --- Who may download ---
    bob = gt.invite_user(s, admin, "bob")
    t.eq(bob.get(f"/api/v1/grains/{gid}/backup").status, 403,
         "backup: another user gets 403 for someone else's grain")
    t.eq(s.client().get(f"/api/v1/grains/{gid}/backup").status, 401,
         "backup: logged out is 401")
    t.eq(admin.get(f"/api/v1/grains/{'0' * 32}/backup").status, 404,
         "backup: a grain that does not exist is 404")
    t.eq(bob.get("/api/v1/admin/backup").status, 403,
         "server backup: a user who is not an administrator gets 403")

    # --- Restore ---
    t.eq(admin.request("POST", "/api/v1/grains/restore", body=data, csrf=False).status, 403,
         "restore: without X-CSRF-Token is 403")
    r = restore(bob, data)
    j = r.json()
    new = j.get("grain_id", "")
    t.eq(r.status, 201, "restore: bob restores the backup (201)")
    t.ok(re.fullmatch(r"[0-9a-f]{32}", new) is not None and new != gid and
         j.get("title") == "Shopping list" and j.get("app_id") == app,
         "restore: a new grain id, the title and the app", repr(j))
    t.ok(gt.grain_entry(bob, new) is not None and gt.grain_entry(admin, new) is None,
         "restore: the new grain is bob's (in his list, not the admin's)")
    gdir = os.path.join(s.data, "grains", new)
    old_var = os.stat(os.path.join(s.data, "grains", gid, "var"))
    new_var = os.stat(os.path.join(gdir, "var"))
    t.ok(os.stat(gdir).st_uid == 0 and (os.stat(gdir).st_mode & 0o777) == 0o711 and
         sorted(os.listdir(gdir)) == ["var"],
         "restore: the grain's directory is root's (0711) and holds var/ only")
    t.ok(new_var.st_uid >= 3000000 and new_var.st_uid != old_var.st_uid and
         (new_var.st_mode & 0o777) == 0o700 and
         all(os.lstat(os.path.join(dp, f)).st_uid == new_var.st_uid
             for dp, _, fs in os.walk(os.path.join(gdir, "var")) for f in fs),
         "restore: its files belong to a new grain uid of their own, var/ is 0700")
    bsess = gt.GrainSession(s, bob, new)
    r = bsess.get("/api/notes")
    notes = r.json().get("notes", []) if r.status == 200 else []
    t.ok([(n.get("title"), n.get("body")) for n in notes] == [("Milk", "2 litres")],
         "restore: the restored grain holds the note", repr(r))
    t.eq(bsess.post("/api/notes", {"title": "Eggs"}).status, 201,
         "restore: the restored grain takes new notes")
    t.eq(note_titles(sess), ["Milk"], "restore: the original grain is not changed by that")
    return gid, data, meta, arch


def scenario_refusals(t, s, admin, app, data, meta, arch):
    before_dirs = grain_dirs(s)
    before_list = sorted(g["grain_id"] for g in gt.grain_list(admin))

    def refused(body, status, reason, name):
        r = restore(admin, body)
        err = r.json().get("error", "") if r.body[:1] == b"{" else ""
        t.ok(r.status == status and reason in err, f"hostile: {name}: {status}, saying '{reason}'",
             repr(r))

    ghost = dict(meta, app_id="0" * 52, app_title="Ghost Writer")
    refused(backup_file(ghost, arch), 422, "'Ghost Writer'",
            "a backup of an app that is not installed names the app")
    refused(backup_file(dict(meta, app_version=999), arch), 409, "version 999",
            "a backup from a newer app version")
    refused(data[:len(data) // 2], 400, "truncated", "truncated backup")
    refused(backup_file(meta, archive([(2, 0o644, "../evil", b"x")])), 400, "'..'",
            "a '..' path")
    refused(backup_file(meta, archive([(2, 0o644, "/etc/evil", b"x")])), 400, "absolute",
            "an absolute path")
    refused(backup_file(meta, archive([(4, 0o644, "dev", b"")])), 400, "unknown type",
            "a device node (there is no type for one)")
    refused(backup_file(meta, archive([(2, 0o4755, "suid", b"x")])), 400, "setuid",
            "a setuid file")
    refused(backup_file(meta, archive([(3, 0o777, "l", b"../../../etc/passwd")])), 400,
            "outside", "a symlink out of the tree")
    refused(backup_file(meta, arch, meta_bytes=b"{}", length=0x7fffffff), 400, "out of range",
            "huge metadata")
    refused(backup_file({"format": 1, "kind": "grain"}, arch), 400, "metadata",
            "metadata missing its fields")
    refused(b"PK\x03\x04" + data[4:], 400, "bad magic", "wrong magic")
    refused(b"", 400, "send the backup file", "an empty body")
    r = restore(admin, backup_file(meta, arch))
    t.eq(r.status, 201, "hostile: the same backup built here from its parts restores (control)")
    ctl = r.json().get("grain_id")
    t.eq(grain_dirs(s), sorted(before_dirs + [ctl]),
         "hostile: no grain directory is left behind by any refused backup")
    t.eq(sorted(g["grain_id"] for g in gt.grain_list(admin)), sorted(before_list + [ctl]),
         "hostile: no grain is recorded for any refused backup")
    t.ok(re.search(r"restore of grain [0-9a-f]+ failed", s.stderr()) is not None,
         "hostile: the parent logs the refusals")


def scenario_server(t, s, admin, gid):
    r = admin.get("/api/v1/admin/backup")
    t.eq(r.status, 200, "server backup: the administrator downloads it")
    t.ok(re.fullmatch(r'attachment; filename="silo-server-\d{4}-\d\d-\d\d\.silo-backup"',
                      r.header("Content-Disposition", "")) is not None,
         "server backup: an attachment named after the day", r.header("Content-Disposition"))
    meta, arch = unpack_backup(r.body)
    t.eq(meta.get("kind"), "server", "server backup: its metadata says kind server")
    t.ok(b"silo.db" in arch and f"grains/{gid}/var".encode() in arch,
         "server backup: it holds the store and the grain's files")
    path = os.path.join(st.tmpdir("silo-backup-"), "server.silo-backup")
    with open(path, "wb") as f:
        f.write(r.body)
    t.eq(restore(admin, r.body).status, 400, "restore: a server backup is refused as a grain's")

    fresh = os.path.join(st.tmpdir("silo-restored-"), "data")
    p = subprocess.run([st.silo_bin(), "restore-server", "--data", fresh, path],
                       capture_output=True, timeout=120)
    t.ok(p.returncode == 0 and b"restored" in p.stdout, "restore-server: restores into a fresh "
         "directory", p.stderr.decode(errors="replace")[-400:])
    p2 = subprocess.run([st.silo_bin(), "restore-server", "--data", fresh, path],
                        capture_output=True, timeout=60)
    t.ok(p2.returncode != 0 and b"already holds a store" in p2.stderr,
         "restore-server: refuses a directory that holds a store",
         p2.stderr.decode(errors="replace")[-300:])
    bad = os.path.join(st.tmpdir("silo-restored-"), "data")
    p3 = subprocess.run([st.silo_bin(), "restore-server", "--data", bad, path + ".missing"],
                        capture_output=True, timeout=60)
    t.ok(p3.returncode != 0 and b".missing" in p3.stderr,
         "restore-server: a missing file is named in the error")
    gpath = os.path.join(st.tmpdir("silo-backup-"), "grain.silo-backup")
    with open(gpath, "wb") as f:
        f.write(admin.get(f"/api/v1/grains/{gid}/backup").body)
    p4 = subprocess.run([st.silo_bin(), "restore-server", "--data", bad, gpath],
                        capture_output=True, timeout=60)
    t.ok(p4.returncode != 0 and b"one grain" in p4.stderr,
         "restore-server: a grain's backup is refused", p4.stderr.decode(errors="replace"))

    st_var = os.stat(os.path.join(fresh, "grains", gid, "var"))
    t.ok(st_var.st_uid >= 3000000 and (st_var.st_mode & 0o777) == 0o700,
         "restore-server: the grain's files belong to a grain uid, var/ is 0700")
    t.eq(os.stat(os.path.join(fresh, "silo.db")).st_uid, 2999000,
         "restore-server: the store belongs to the front's uid")

    s2 = gt.new_server(data=fresh).start()
    c = s2.client()
    t.eq(c.login("admin").status, 200, "restored server: the same user logs in")
    t.ok(gt.grain_entry(c, gid) is not None, "restored server: the grain is listed")
    t.eq(note_titles(gt.GrainSession(s2, c, gid)), ["Milk"],
         "restored server: the grain opens and holds the note")
    s2.stop()


def scenario(t):
    if not gt.skip_unless_ready(t, "notes"):
        return
    s = gt.new_server().start()
    admin = st.setup_admin(s)
    app = gt.install(admin, "notes").json().get("app_id", "")
    gid, data, meta, arch = scenario_grain(t, s, admin, app)
    scenario_refusals(t, s, admin, app, data, meta, arch)
    scenario_server(t, s, admin, gid)


if __name__ == "__main__":
    st.run(scenario, time_limit=170)
