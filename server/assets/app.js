// SPDX-License-Identifier: MIT
// silo's web shell: small progressive enhancements. Every page works without this file.
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
})();
