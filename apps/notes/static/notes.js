// SPDX-License-Identifier: MIT
// Notes: live "who is here", fresh "2 min ago" times, and small conveniences. The page works
// without this file; it only makes it livelier. No inline code anywhere (the grain's CSP).
"use strict";

(function () {
	var POLL_MS = 5000;
	var presence = document.getElementById("presence");
	var text = document.getElementById("presence-text");
	var avatars = document.getElementById("presence-avatars");
	var changed = document.getElementById("changed");
	var revision = document.body.getAttribute("data-revision");
	var timer = null;

	function avatar(p) {
		var li = document.createElement("li");
		li.className = "av av-" + (p.hue | 0);
		li.title = p.name + (p.you ? " (you)" : "") + (p.can_edit ? " \u00b7 can edit" : " \u00b7 viewing");
		li.textContent = p.initial;
		return li;
	}

	function show(data) {
		presence.classList.remove("offline");
		text.textContent = data.text;
		while (avatars.firstChild)
			avatars.removeChild(avatars.firstChild);
		(data.here || []).slice(0, 5).forEach(function (p) { avatars.appendChild(avatar(p)); });
		if (revision !== null && String(data.revision) !== revision && changed)
			changed.hidden = false;
	}

	function offline(why) {
		presence.classList.add("offline");
		text.textContent = why;
	}

	function poll() {
		timer = null;
		fetch("/api/presence", { credentials: "same-origin", cache: "no-store" })
			.then(function (r) {
				if (r.status === 401 || r.status === 403)
					throw new Error("You no longer have access");
				if (!r.ok)
					throw new Error("Reconnecting\u2026");
				return r.json();
			})
			.then(show, function (e) {
				offline(e && e.message === "You no longer have access" ? e.message : "Reconnecting\u2026");
			})
			.then(schedule);
	}

	function schedule() {
		if (!timer && !document.hidden)
			timer = setTimeout(poll, POLL_MS);
	}

	// "just now", "5 min ago", ... as the server words them.
	function ago(then) {
		var d = (Date.now() - then) / 1000;
		if (d < 45) return "just now";
		if (d < 3600) return Math.round(d / 60) + " min ago";
		if (d < 86400) return Math.floor(d / 3600) + " h ago";
		if (d < 2 * 86400) return "yesterday";
		if (d < 7 * 86400) return Math.floor(d / 86400) + " days ago";
		return null;   // keep the date the server wrote
	}

	function refreshTimes() {
		var times = document.querySelectorAll("time[datetime]");
		for (var i = 0; i < times.length; i++) {
			var t = Date.parse(times[i].getAttribute("datetime"));
			var s = isNaN(t) ? null : ago(t);
			if (s)
				times[i].textContent = s;
		}
	}

	// Deleting asks first.
	document.addEventListener("submit", function (e) {
		var msg = e.target.getAttribute("data-confirm");
		if (msg && !window.confirm(msg))
			e.preventDefault();
	});

	// Ctrl+Enter (Cmd+Enter) in a note saves it.
	document.addEventListener("keydown", function (e) {
		if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && e.target.form &&
		    e.target.tagName === "TEXTAREA") {
			e.preventDefault();
			e.target.form.requestSubmit ? e.target.form.requestSubmit() : e.target.form.submit();
		}
	});

	document.addEventListener("visibilitychange", function () {
		if (document.hidden) {
			clearTimeout(timer);
			timer = null;
		} else {
			poll();
		}
	});

	if (presence && text && avatars)
		schedule();
	setInterval(refreshTimes, 30000);
})();
