// SPDX-License-Identifier: MIT
// silo's web shell: small progressive enhancements, and the actions on apps and grains
// (which call the JSON API). Every page reads fine without this file.
(function () {
	'use strict';

	// One polite live region tells screen readers what a click did.
	var live = document.createElement('div');
	live.className = 'sr-only';
	live.setAttribute('aria-live', 'polite');
	document.body.appendChild(live);

	function say(text) {
		live.textContent = '';
		window.setTimeout(function () { live.textContent = text; }, 50);
	}

	// The Clipboard API needs a secure context; a LAN address over plain HTTP is not one.
	function copyText(text) {
		if (navigator.clipboard && window.isSecureContext)
			return navigator.clipboard.writeText(text);
		return new Promise(function (resolve, reject) {
			var ta = document.createElement('textarea');
			ta.value = text;
			ta.className = 'offscreen';
			ta.setAttribute('readonly', '');
			document.body.appendChild(ta);
			ta.select();
			var ok = false;
			try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
			document.body.removeChild(ta);
			if (ok) resolve(); else reject(new Error('copy failed'));
		});
	}

	// <button data-copy="TEXT" hidden>: shown only when we can act on it.
	document.querySelectorAll('button[data-copy]').forEach(function (btn) {
		var label = btn.textContent;
		var timer = 0;
		btn.hidden = false;
		btn.addEventListener('click', function () {
			copyText(btn.getAttribute('data-copy')).then(function () {
				btn.textContent = 'Copied';
				say('Copied to the clipboard');
			}, function () {
				btn.textContent = 'Select and copy';
				say('Could not copy; select the text and copy it by hand');
			});
			window.clearTimeout(timer);
			timer = window.setTimeout(function () { btn.textContent = label; }, 2000);
		});
	});

	// "Password again" must match "Password"; the server checks too.
	document.querySelectorAll('input[name="password2"]').forEach(function (again) {
		var first = again.form && again.form.querySelector('input[name="password"]');
		if (!first)
			return;
		function check() {
			var bad = again.value !== '' && again.value !== first.value;
			again.setCustomValidity(bad ? 'The two passwords do not match.' : '');
			again.classList.toggle('mismatch', bad);
		}
		first.addEventListener('input', check);
		again.addEventListener('input', check);
	});

	// <form data-confirm="Question?">: ask before a consequential action.
	document.querySelectorAll('form[data-confirm]').forEach(function (form) {
		form.addEventListener('submit', function (ev) {
			if (!window.confirm(form.getAttribute('data-confirm')))
				ev.preventDefault();
		});
	});

	// Forms are submitted once: a double click must not post twice. Coming back to the
	// page from the history (bfcache) makes them usable again.
	var posts = document.querySelectorAll('form[method="post"]');
	window.addEventListener('pageshow', function () {
		posts.forEach(function (form) { delete form.dataset.sent; });
	});
	posts.forEach(function (form) {
		form.addEventListener('submit', function (ev) {
			if (ev.defaultPrevented)
				return;
			if (form.dataset.sent) {
				ev.preventDefault();
				return;
			}
			form.dataset.sent = '1';
		});
	});

	// --- Apps and grains: actions that need the server's parent go through the JSON API,
	// with the session's CSRF token from <meta name="csrf">. ---

	var csrfMeta = document.querySelector('meta[name="csrf"]');

	// A notice carried in the address (?installed=, ?upgraded=, ?trashed=) is shown once:
	// reloading the page or sharing its address must not repeat it.
	if (/[?&](installed|upgraded|trashed)=/.test(window.location.search) && window.history.replaceState)
		window.history.replaceState(null, '', window.location.pathname);

	// Resolves to {ok, status, data}; rejects only when the server cannot be reached.
	function api(method, path, body) {
		var opts = { method: method, credentials: 'same-origin', headers: {} };
		if (csrfMeta)
			opts.headers['X-CSRF-Token'] = csrfMeta.content;
		if (body !== undefined) {
			opts.headers['Content-Type'] = 'application/json';
			opts.body = JSON.stringify(body);
		}
		return fetch(path, opts).then(function (res) {
			return res.json().catch(function () { return {}; }).then(function (data) {
				return { ok: res.ok, status: res.status, data: data || {} };
			});
		});
	}

	var OFFLINE = 'The server could not be reached. Check your connection and try again.';

	function sentence(text) {
		text = String(text || '');
		return text.charAt(0).toUpperCase() + text.slice(1) + (/[.!?]$/.test(text) ? '' : '.');
	}

	function apiError(r, fallback) {
		return r.data && r.data.error ? sentence(r.data.error) : fallback + ' (error ' + r.status + ').';
	}

	// kind: 'error', 'ok', 'busy' or '' (plain).
	function show(el, text, kind) {
		if (!el)
			return;
		el.textContent = text;
		el.className = el.className.replace(/\bis-\w+/g, '').trim() + (kind ? ' is-' + kind : '');
	}

	function busy(btn, on, label) {
		if (on) {
			btn.dataset.label = btn.innerHTML;
			btn.setAttribute('aria-busy', 'true');
			btn.disabled = true;
			if (label)
				btn.textContent = label;
		} else if (btn.dataset.label !== undefined) {
			btn.innerHTML = btn.dataset.label;
			delete btn.dataset.label;
			btn.removeAttribute('aria-busy');
			btn.disabled = false;
		}
	}

	function quoted(s) {
		return '\u201c' + s + '\u201d';
	}

	// <time data-relative datetime="ISO">: "5 minutes ago", the date in the tooltip.
	var UNITS = [['year', 31536000], ['month', 2592000], ['week', 604800], ['day', 86400],
		['hour', 3600], ['minute', 60]];

	function relative(date) {
		var secs = (date.getTime() - Date.now()) / 1000;
		if (Math.abs(secs) < 45 || !window.Intl || !Intl.RelativeTimeFormat)
			return Math.abs(secs) < 45 ? 'just now' : null;
		var rtf = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
		for (var i = 0; i < UNITS.length; i++) {
			if (Math.abs(secs) >= UNITS[i][1] || i === UNITS.length - 1)
				return rtf.format(Math.round(secs / UNITS[i][1]), UNITS[i][0]);
		}
		return null;
	}

	document.querySelectorAll('time[data-relative]').forEach(function (t) {
		var d = new Date(t.getAttribute('datetime'));
		var text = isNaN(d) ? null : relative(d);
		if (!text)
			return;
		t.title = d.toLocaleString();
		t.textContent = text;
	});

	function formatBytes(n) {
		var units = ['bytes', 'KB', 'MB', 'GB', 'TB'];
		var i = 0;
		while (n >= 1000 && i < units.length - 1) {
			n /= 1000;
			i++;
		}
		return (i === 0 || n >= 10 ? Math.round(n) : n.toFixed(1)) + ' ' + units[i];
	}

	// Home: "New ..." buttons create a grain and open it.
	var newStatus = document.getElementById('new-status');
	var newButtons = document.querySelectorAll('button[data-new-grain]');
	newButtons.forEach(function (btn) {
		btn.addEventListener('click', function () {
			newButtons.forEach(function (b) { b.disabled = true; });
			busy(btn, true, 'Creating\u2026');
			show(newStatus, '', '');
			api('POST', '/api/v1/grains', {
				app_id: btn.dataset.app, action: Number(btn.dataset.action)
			}).then(function (r) {
				if (r.ok && r.data.grain_id) {
					window.location.href = '/grain/' + encodeURIComponent(r.data.grain_id);
					return;
				}
				failed(apiError(r, 'The grain could not be created'));
			}, function () { failed(OFFLINE); });
			function failed(msg) {
				busy(btn, false);
				newButtons.forEach(function (b) { b.disabled = false; });
				show(newStatus, msg, 'error');
			}
		});
	});

	// Home: sizes and running badges come from the API (the parent measures the sizes).
	if (document.getElementById('grains-list')) {
		api('GET', '/api/v1/grains').then(function (r) {
			(r.ok && r.data.grains || []).forEach(function (g) {
				var id = window.CSS && CSS.escape ? CSS.escape(g.grain_id) : g.grain_id;
				var size = document.querySelector('[data-size="' + id + '"]');
				var run = document.querySelector('[data-running="' + id + '"]');
				if (size && g.size_bytes > 0) {
					size.textContent = formatBytes(g.size_bytes);
					size.hidden = false;
				}
				if (run)
					run.hidden = !g.running;
			});
		}, function () {});
	}

	// Sends file as the raw body of a POST to url, with a progress bar and a status line
	// that says checking once every byte is out; then(xhr) on an answer, failed() without.
	function postFile(url, file, progress, status, checking, then, failed) {
		var xhr = new XMLHttpRequest();
		progress.value = 0;
		progress.hidden = false;
		show(status, 'Uploading ' + file.name + '\u2026', 'busy');
		xhr.open('POST', url);
		if (csrfMeta)
			xhr.setRequestHeader('X-CSRF-Token', csrfMeta.content);
		xhr.setRequestHeader('Content-Type', 'application/octet-stream');
		xhr.upload.addEventListener('progress', function (ev) {
			if (!ev.lengthComputable)
				return;
			progress.value = Math.round(100 * ev.loaded / ev.total);
			if (ev.loaded === ev.total)
				show(status, checking, 'busy');
		});
		xhr.addEventListener('load', function () { then(xhr); });
		xhr.addEventListener('error', failed);
		xhr.send(file);
	}

	// Apps: upload a package; a newer version of an installed app asks first.
	var upload = document.getElementById('app-upload');
	if (upload)
		appsPage(upload);

	function appsPage(input) {
		var button = document.getElementById('app-upload-button');
		var status = document.getElementById('app-upload-status');
		var progress = document.getElementById('app-upload-progress');
		var ask = document.getElementById('app-upgrade');
		var file = null;

		function done(kind, msg) {
			progress.hidden = true;
			busy(button, false);
			input.disabled = false;
			show(status, msg, kind);
		}

		function question(data) {
			var m = /upgrades (.+) from version/.exec(data.error || '');
			document.getElementById('app-upgrade-q').textContent = 'Upgrade ' +
				(m ? m[1] : 'this app') + ' from version ' + data.installed_version +
				' to ' + data.version + '?';
			ask.hidden = false;
			document.getElementById('app-upgrade-yes').focus();
		}

		function answered(xhr) {
			var data = {};
			try { data = JSON.parse(xhr.responseText) || {}; } catch (e) { data = {}; }
			if ((xhr.status === 201 || xhr.status === 200) && data.app_id) {
				if (data.status === 'unchanged')
					return done('ok', 'This exact package of ' + data.title + ' is installed already.');
				window.location.href = '/apps?' + (data.status === 'upgraded' ? 'upgraded' : 'installed') +
					'=' + encodeURIComponent(data.app_id);
				return;
			}
			if (xhr.status === 409 && data.version > data.installed_version) {
				done('', '');
				return question(data);
			}
			if (xhr.status === 413)
				return done('error', 'That file is larger than this server accepts for a package.');
			done('error', data.error ? sentence(data.error) : 'The upload failed (error ' + xhr.status + ').');
		}

		function send(upgrade) {
			ask.hidden = true;
			input.disabled = true;
			busy(button, true, 'Installing\u2026');
			postFile('/api/v1/apps' + (upgrade ? '?upgrade=1' : ''), file, progress, status,
				'Checking the signature and unpacking\u2026', answered,
				function () { done('error', OFFLINE); });
		}

		input.addEventListener('change', function () {
			ask.hidden = true;
			show(status, '', '');
		});
		button.addEventListener('click', function () {
			file = input.files && input.files[0];
			if (!file) {
				show(status, 'Choose a .spk package file first.', 'error');
				input.focus();
				return;
			}
			send(false);
		});
		document.getElementById('app-upgrade-yes').addEventListener('click', function () { send(true); });
		document.getElementById('app-upgrade-no').addEventListener('click', function () {
			ask.hidden = true;
			show(status, 'Nothing was changed.', '');
			button.focus();
		});
	}

	// Home: restore a grain from its backup file; the new grain opens when it is there.
	var restoreInput = document.getElementById('restore-upload');
	if (restoreInput)
		restoreForm(restoreInput);

	function restoreForm(input) {
		var button = document.getElementById('restore-button');
		var status = document.getElementById('restore-status');
		var progress = document.getElementById('restore-progress');

		function done(kind, msg) {
			progress.hidden = true;
			busy(button, false);
			input.disabled = false;
			show(status, msg, kind);
		}

		function answered(xhr) {
			var data = {};
			try { data = JSON.parse(xhr.responseText) || {}; } catch (e) { data = {}; }
			if (xhr.status === 201 && data.grain_id) {
				window.location.href = '/grain/' + encodeURIComponent(data.grain_id);
				return;
			}
			if (xhr.status === 413)
				return done('error', 'That file is larger than this server accepts for a backup.');
			done('error', data.error ? sentence(data.error) : 'The restore failed (error ' + xhr.status + ').');
		}

		button.addEventListener('click', function () {
			var file = input.files && input.files[0];
			if (!file) {
				show(status, 'Choose a .silo-backup file first.', 'error');
				input.focus();
				return;
			}
			input.disabled = true;
			busy(button, true, 'Restoring\u2026');
			postFile('/api/v1/grains/restore', file, progress, status,
				'Checking and unpacking the backup\u2026', answered,
				function () { done('error', OFFLINE); });
		});
	}

	// Admin, this machine: restart and power off (asked first), and an OS update upload.
	var systemStatus = document.getElementById('system-status');
	document.querySelectorAll('button[data-system]').forEach(function (btn) {
		btn.addEventListener('click', function () {
			if (!window.confirm(btn.dataset.question))
				return;
			busy(btn, true, 'Asking\u2026');
			api('POST', btn.dataset.system, {}).then(function (r) {
				busy(btn, false);
				if (r.status === 202)
					show(systemStatus, r.data.state === 'rebooting'
						? 'The server is restarting. Reload this page in a minute.'
						: 'The server is powering off.', 'ok');
				else
					show(systemStatus, apiError(r, 'The server did not do it'), 'error');
			}, function () {
				busy(btn, false);
				show(systemStatus, OFFLINE, 'error');
			});
		});
	});
	var osButton = document.getElementById('os-update-button');
	if (osButton)
		osButton.addEventListener('click', function () {
			var input = document.getElementById('os-update-file');
			var file = input.files && input.files[0];
			if (!file) {
				show(systemStatus, 'Choose an .update file first.', 'error');
				input.focus();
				return;
			}
			var xhr = new XMLHttpRequest();
			busy(osButton, true, 'Installing\u2026');
			show(systemStatus, 'Uploading and checking ' + file.name + '\u2026', 'busy');
			xhr.open('POST', '/api/v1/admin/os-update');
			if (csrfMeta)
				xhr.setRequestHeader('X-CSRF-Token', csrfMeta.content);
			xhr.setRequestHeader('Content-Type', 'application/octet-stream');
			xhr.addEventListener('load', function () {
				var data = {};
				try { data = JSON.parse(xhr.responseText) || {}; } catch (e) { data = {}; }
				busy(osButton, false);
				if (xhr.status === 201)
					return show(systemStatus, 'Version ' + data.version + ' is installed. ' +
						'Restart the server to start it.', 'ok');
				if (xhr.status === 413)
					return show(systemStatus, 'That file is larger than an OS update can be.', 'error');
				show(systemStatus, data.error ? sentence(data.error) : 'The update failed (error ' + xhr.status + ').', 'error');
			});
			xhr.addEventListener('error', function () {
				busy(osButton, false);
				show(systemStatus, OFFLINE, 'error');
			});
			xhr.send(file);
		});

	// A grain open: rename in place, its console log, the trash.
	// Renaming, the log and the trash are the owner's; others only see the grain.
	var grainBar = document.querySelector('.grain-bar[data-grain][data-owner]');
	if (grainBar)
		grainPage(grainBar.dataset.grain);

	function grainPage(id) {
		var path = '/api/v1/grains/' + encodeURIComponent(id);
		var status = document.getElementById('grain-status');
		var timer = 0;

		function toast(msg, kind) {
			show(status, msg, kind);
			window.clearTimeout(timer);
			timer = window.setTimeout(function () { show(status, '', ''); }, kind === 'error' ? 6000 : 2500);
		}

		renameControl(path, toast);
		logPanel(path);
		document.getElementById('grain-trash').addEventListener('click', function () {
			var title = document.getElementById('grain-title').textContent;
			if (!window.confirm('Move ' + quoted(title) + ' to the trash? You can restore it from the trash for 30 days.'))
				return;
			api('DELETE', path).then(function (r) {
				if (r.ok)
					window.location.href = '/?trashed=' + encodeURIComponent(id);
				else
					toast(apiError(r, 'The grain could not be moved to the trash'), 'error');
			}, function () { toast(OFFLINE, 'error'); });
		});
	}

	function renameControl(path, toast) {
		var h1 = document.getElementById('grain-title');
		var btn = document.getElementById('grain-rename');
		var input = document.getElementById('grain-title-input');
		var saving = false;

		function editing(on) {
			h1.hidden = on;
			btn.hidden = on;
			input.hidden = !on;
			if (on) {
				input.value = h1.textContent;
				input.focus();
				input.select();
			}
		}

		function save() {
			var title = input.value.trim();
			if (saving)
				return;
			if (!title || title === h1.textContent) {
				editing(false);
				return;
			}
			saving = true;
			api('PATCH', path, { title: title }).then(function (r) {
				saving = false;
				if (!r.ok)
					return toast(apiError(r, 'The grain could not be renamed'), 'error');
				document.title = r.data.title + document.title.slice(h1.textContent.length);
				h1.textContent = r.data.title;
				editing(false);
				btn.focus();
				toast('Renamed', 'ok');
			}, function () { saving = false; toast(OFFLINE, 'error'); });
		}

		btn.addEventListener('click', function () { editing(true); });
		input.addEventListener('keydown', function (ev) {
			if (ev.key === 'Enter') {
				ev.preventDefault();
				save();
			} else if (ev.key === 'Escape') {
				editing(false);
				btn.focus();
			}
		});
		input.addEventListener('blur', function () {
			if (!input.hidden)
				save();
		});
	}

	function logPanel(path) {
		var panel = document.getElementById('grain-log');
		var toggle = document.getElementById('grain-log-button');
		var text = document.getElementById('grain-log-text');
		var note = document.getElementById('grain-log-note');

		function load() {
			show(note, 'Loading\u2026', '');
			api('GET', path + '/log').then(function (r) {
				if (r.ok) {
					text.textContent = r.data.log || '';
					show(note, r.data.log ? 'Updated ' + new Date().toLocaleTimeString() : 'The app has written nothing yet.', '');
					text.scrollTop = text.scrollHeight;
				} else {
					text.textContent = '';
					show(note, r.status === 404 ? 'The app has written nothing yet.' : apiError(r, 'The log could not be read'), '');
				}
			}, function () { show(note, OFFLINE, ''); });
		}

		function open(on) {
			panel.hidden = !on;
			toggle.setAttribute('aria-expanded', on ? 'true' : 'false');
			if (on) {
				load();
				text.focus();
			}
		}

		toggle.addEventListener('click', function () { open(panel.hidden); });
		document.getElementById('grain-log-refresh').addEventListener('click', load);
		document.getElementById('grain-log-close').addEventListener('click', function () {
			open(false);
			toggle.focus();
		});
		panel.addEventListener('keydown', function (ev) {
			if (ev.key === 'Escape') {
				open(false);
				toggle.focus();
			}
		});
	}

	// Trash: restore, or delete for good.
	var trashStatus = document.getElementById('trash-status');

	function trashRowGone(btn, msg, link) {
		var row = btn.closest('tr');
		var body = row.parentNode;
		var left;
		row.remove();
		left = body.querySelectorAll('tr').length;
		show(document.getElementById('trash-count'), left + (left === 1 ? ' grain' : ' grains'), '');
		show(trashStatus, msg, 'ok');
		if (link) {
			var a = document.createElement('a');
			a.href = link;
			a.textContent = 'Open it';
			trashStatus.appendChild(document.createTextNode(' '));
			trashStatus.appendChild(a);
		}
		if (!body.querySelector('tr'))
			window.setTimeout(function () { window.location.reload(); }, 1200);
	}

	function trashAction(btn, method, url, okMsg, link) {
		busy(btn, true);
		api(method, url).then(function (r) {
			if (r.ok)
				return trashRowGone(btn, okMsg, link);
			busy(btn, false);
			show(trashStatus, apiError(r, 'That did not work'), 'error');
		}, function () {
			busy(btn, false);
			show(trashStatus, OFFLINE, 'error');
		});
	}

	document.querySelectorAll('button[data-restore]').forEach(function (btn) {
		btn.addEventListener('click', function () {
			var id = btn.dataset.restore;
			trashAction(btn, 'POST', '/api/v1/grains/' + encodeURIComponent(id) + '/restore',
				'Restored.', '/grain/' + encodeURIComponent(id));
		});
	});

	document.querySelectorAll('button[data-purge]').forEach(function (btn) {
		btn.addEventListener('click', function () {
			if (!window.confirm('Delete ' + quoted(btn.dataset.title) + ' forever? Its data cannot be recovered.'))
				return;
			trashAction(btn, 'DELETE', '/api/v1/grains/' + encodeURIComponent(btn.dataset.purge) + '?purge=1',
				'Deleted ' + quoted(btn.dataset.title) + ' for good.', null);
		});
	});
	// --- The HTTPS step (/admin/https): the name check answers in place, and the
	// certificate's progress is polled from GET /api/v1/https. Without scripts the forms
	// post and the page refreshes itself while a certificate is fetched. ---

	var httpsBox = document.querySelector('[data-https-poll]');
	var dynCheck = document.getElementById('dyn-check');
	if (dynCheck) {
		var dynName = document.getElementById('dyn-name');
		var dynSay = document.getElementById('dyn-available');
		dynCheck.addEventListener('click', function (ev) {
			ev.preventDefault();
			if (!dynName.value)
				return show(dynSay, 'Type a name first.', 'error');
			busy(dynCheck, true);
			show(dynSay, 'Asking the name service…', 'busy');
			api('POST', '/api/v1/https/available', { name: dynName.value }).then(function (r) {
				busy(dynCheck, false);
				show(dynSay, r.ok ? sentence(r.data.message) : apiError(r, 'The check failed'),
					r.ok ? 'ok' : 'error');
			}, function () {
				busy(dynCheck, false);
				show(dynSay, OFFLINE, 'error');
			});
		});
	}
	if (httpsBox) {
		var working = /^(starting|ordering|renewing)$/;
		var pollHttps = function () {
			api('GET', '/api/v1/https').then(function (r) {
				var a = r.ok && r.data.acme;
				if (!a)
					return;
				var err = document.getElementById('acme-error');
				show(document.getElementById('acme-state'), a.state, a.state === 'error' ? 'error' : '');
				err.hidden = !a.error;
				err.textContent = a.error ? sentence(a.error) : '';
				var wait = document.getElementById('https-wait');
				if (wait)
					wait.hidden = !working.test(a.state);
				if (working.test(a.state) || a.state === 'error')
					window.setTimeout(pollHttps, 2000);
			}, function () {
				window.setTimeout(pollHttps, 5000);
			});
		};
		pollHttps();
	}
})();
