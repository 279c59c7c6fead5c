/* In-page QR scanner: progressive enhancement of
 *   <div class="scanner" data-scanner data-target="#code" data-submit="true"></div>
 *
 * Options (data- attributes on the element):
 *   data-target      CSS selector of the input that receives the decoded text (required)
 *   data-submit      "true": submit the input's form after a successful scan
 *   data-autostart   "true": start the camera on load (the user still grants permission once)
 *   data-continuous  "true": keep the camera on after a scan (the page handles the input itself);
 *                    the same text is not reported again for 3 s
 *   data-label-start / data-label-stop   override the button labels
 *
 * The decoder is the browser's BarcodeDetector where it reads QR codes (Chrome on Android), else
 * the vendored pure-JS worker (static/vendor/qr-scanner/), loaded only when a camera starts.
 * Strict CSP: no inline code or style; the worker is a same-origin file (no object URLs, no
 * WebAssembly). The stylesheet css/scanner.css is linked by this script if the page has not.
 * Once a user has started the camera, it restarts by itself when a page with a scanner loads
 * again in this tab (the kiosk reloads after each vote), until they press Stop. The camera is
 * released whenever the page is hidden or left, so a tablet never keeps it on in the background.
 */
(function () {
  'use strict';

  var ME = document.currentScript;
  var WORKER_URL = (ME && ME.getAttribute('data-worker')) ||
    (ME ? ME.src.replace(/js\/scanner\.js(\?.*)?$/, '') : '/static/') +
    'vendor/qr-scanner/qr-scanner-worker.min.js';
  var FLAG = 'cv-scanner-on';   // sessionStorage: the user turned the camera on in this tab
  var LAST = 'cv-scanner-last'; // sessionStorage: the last text read, and when
  // The same code is not reported again within this time (ms): after a refused ballot the
  // kiosk page comes back with the slip still in front of the camera, and must not loop.
  var REPEAT_MS = 10000, REPEAT_CONTINUOUS_MS = 3000;
  var FRAME_MS = 125;           // ~8 scans a second: enough for a held slip, easy on a tablet
  var MAX_SIDE = 640;           // frames are downscaled to this before decoding

  var TEXT = {
    vi: {
      start: 'Dùng camera',
      stop: 'Tắt camera',
      starting: 'Đang mở camera…',
      aim: 'Đưa mã QR vào giữa khung hình',
      read: 'Đã đọc mã',
      again: 'Mã này vừa được đọc — hãy đưa phiếu tiếp theo',
      absent: 'Không có camera — hãy nhập mã bằng tay',
      denied: 'Camera chưa được cho phép — hãy nhập mã bằng tay',
      insecure: 'Camera cần kết nối an toàn (https) — hãy nhập mã bằng tay',
      busy: 'Camera đang được ứng dụng khác dùng — hãy nhập mã bằng tay',
      broken: 'Không khởi động được bộ đọc mã QR — hãy nhập mã bằng tay'
    },
    en: {
      start: 'Use camera',
      stop: 'Stop camera',
      starting: 'Starting the camera…',
      aim: 'Hold the QR code in the middle of the frame',
      read: 'Code read',
      again: 'This code was just read — show the next one',
      absent: 'Camera not available — type the code instead',
      denied: 'Camera permission denied — type the code instead',
      insecure: 'The camera needs a secure (https) connection — type the code instead',
      busy: 'The camera is in use by another app — type the code instead',
      broken: 'The QR reader could not start — type the code instead'
    }
  };

  function lang() {
    var l = (document.documentElement.lang || 'vi').toLowerCase().slice(0, 2);
    return TEXT[l] ? l : 'vi';
  }

  function t(key) { return TEXT[lang()][key]; }

  function lastRead(text) {
    try {
      if (text === undefined) return JSON.parse(sessionStorage.getItem(LAST) || 'null');
      sessionStorage.setItem(LAST, JSON.stringify({ text: text, at: Date.now() }));
    } catch (e) { /* storage disabled */ }
    return null;
  }

  function flag(on) {
    try {
      if (on === undefined) return sessionStorage.getItem(FLAG) === '1';
      if (on) sessionStorage.setItem(FLAG, '1'); else sessionStorage.removeItem(FLAG);
    } catch (e) { /* storage disabled: no auto-restart, nothing else lost */ }
    return false;
  }

  // ---- decoders: each is {decode(canvas, ctx, w, h) -> Promise<string|null>, close()} --------

  function barcodeDetector() {
    if (!('BarcodeDetector' in window) || !window.BarcodeDetector.getSupportedFormats) {
      return Promise.resolve(null);
    }
    return window.BarcodeDetector.getSupportedFormats().then(function (formats) {
      if (formats.indexOf('qr_code') < 0) return null;
      var det = new window.BarcodeDetector({ formats: ['qr_code'] });
      return {
        kind: 'barcode-detector',
        decode: function (canvas) {
          return det.detect(canvas).then(function (codes) {
            return codes.length ? codes[0].rawValue : null;
          });
        },
        close: function () {}
      };
    }, function () { return null; });
  }

  function workerDecoder() {
    return new Promise(function (resolve, reject) {
      var worker;
      try { worker = new Worker(WORKER_URL); } catch (e) { reject(e); return; }
      var pending = {};
      var seq = 0;
      var ready = false;
      var dead = null;
      worker.onmessage = function (ev) {
        var msg = ev.data || {};
        if (msg.type !== 'qrResult') return;
        ready = true;
        var p = pending[msg.id];
        delete pending[msg.id];
        if (p) p.resolve(msg.data || null);
      };
      worker.onerror = function (ev) {
        if (ev && ev.preventDefault) ev.preventDefault();
        if (ready) {
          // The decoder threw on one odd frame: count it as "nothing read" and go on.
          Object.keys(pending).forEach(function (k) { pending[k].resolve(null); });
          pending = {};
          return;
        }
        // A missing or broken worker file: fail loudly rather than scan forever.
        dead = new Error('decoder failed: ' + (ev && ev.message || 'cannot load ' + WORKER_URL));
        Object.keys(pending).forEach(function (k) { pending[k].reject(dead); });
        pending = {};
        reject(dead);
      };
      var dec = {
        kind: 'worker',
        decode: function (canvas, ctx, w, h) {
          if (dead) return Promise.reject(dead);
          return new Promise(function (res, rej) {
            var id = ++seq;
            pending[id] = { resolve: res, reject: rej };
            worker.postMessage({ id: id, type: 'decode', data: ctx.getImageData(0, 0, w, h) });
          });
        },
        close: function () {
          try { worker.postMessage({ type: 'close' }); } catch (e) { /* already gone */ }
          worker.terminate();
        }
      };
      // Answer once the worker has evaluated (an empty 1x1 decode), so a missing file is
      // reported as "could not start" instead of silently never reading anything.
      var probe = document.createElement('canvas');
      probe.width = probe.height = 32;
      var pctx = probe.getContext('2d');
      pctx.fillStyle = '#fff';
      pctx.fillRect(0, 0, 32, 32);
      dec.decode(probe, pctx, 32, 32).then(function () { resolve(dec); }, reject);
    });
  }

  function makeDecoder() {
    return barcodeDetector().then(function (d) { return d || workerDecoder(); });
  }

  // ---- one scanner element ------------------------------------------------------------------

  var all = [];

  function Scanner(el) {
    this.el = el;
    this.target = document.querySelector(el.getAttribute('data-target') || '');
    this.submit = el.getAttribute('data-submit') === 'true';
    this.continuous = el.getAttribute('data-continuous') === 'true';
    this.stream = null;
    this.decoder = null;
    this.timer = null;
    this.busy = false;
    this.last = { text: null, at: 0 };  // used when sessionStorage is not available
    this.session = 0;  // bumps on every stop, so late promises of an old start do nothing
    this.build();
  }

  Scanner.prototype.build = function () {
    var el = this.el;
    el.classList.add('scanner-ready');
    this.startBtn = button('scanner-start', el.getAttribute('data-label-start') || t('start'));
    this.stopBtn = button('scanner-stop', el.getAttribute('data-label-stop') || t('stop'));
    this.stopBtn.hidden = true;
    this.view = document.createElement('div');
    this.view.className = 'scanner-view';
    this.view.hidden = true;
    this.video = document.createElement('video');
    this.video.setAttribute('playsinline', '');
    this.video.setAttribute('autoplay', '');
    this.video.muted = true;
    var frame = document.createElement('div');
    frame.className = 'scanner-frame';
    frame.setAttribute('aria-hidden', 'true');
    this.view.appendChild(this.video);
    this.view.appendChild(frame);
    this.msg = document.createElement('p');
    this.msg.className = 'scanner-msg';
    this.msg.setAttribute('role', 'status');
    this.msg.setAttribute('aria-live', 'polite');
    el.appendChild(this.startBtn);
    el.appendChild(this.stopBtn);
    el.appendChild(this.view);
    el.appendChild(this.msg);
    this.canvas = document.createElement('canvas');
    this.ctx = this.canvas.getContext('2d', { willReadFrequently: true });
    var self = this;
    this.startBtn.addEventListener('click', function () { self.start(true); });
    this.stopBtn.addEventListener('click', function () { flag(false); self.stop(); });
    if (!this.target) this.fail('broken');
  };

  function button(cls, label) {
    var b = document.createElement('button');
    b.type = 'button';
    b.className = 'scanner-btn ' + cls;
    b.textContent = label;
    return b;
  }

  Scanner.prototype.say = function (key, isError) {
    this.msg.textContent = key ? t(key) : '';
    this.msg.classList.toggle('scanner-error', !!isError);
    this.el.setAttribute('data-state', isError ? 'error' : (this.stream ? 'scanning' : 'idle'));
  };

  Scanner.prototype.fail = function (key) {
    this.stop();
    this.say(key, true);
    this.el.setAttribute('data-state', 'error');
  };

  Scanner.prototype.start = function (byUser) {
    if (this.stream || !this.target) return;
    if (!window.isSecureContext) { this.fail('insecure'); return; }
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      this.fail('absent'); return;
    }
    var self = this;
    var session = ++this.session;
    if (byUser) flag(true);
    this.startBtn.hidden = true;
    this.stopBtn.hidden = false;
    this.say('starting');
    var decoderReady = this.decoder ? Promise.resolve(this.decoder) : makeDecoder();
    navigator.mediaDevices.getUserMedia({
      video: { facingMode: 'environment', width: { ideal: 1280 }, height: { ideal: 720 } },
      audio: false
    }).then(function (stream) {
      if (session !== self.session) { stopTracks(stream); return null; }
      self.stream = stream;
      self.video.srcObject = stream;
      self.view.hidden = false;
      return Promise.all([decoderReady, self.video.play()]);
    }).then(function (res) {
      if (!res || session !== self.session) return;
      self.decoder = res[0];
      self.el.setAttribute('data-decoder', self.decoder.kind);
      self.say('aim');
      self.loop(session);
    }).catch(function (err) {
      if (session !== self.session) return;
      var name = err && err.name;
      if (name === 'NotAllowedError' || name === 'SecurityError') {
        flag(false);
        self.fail('denied');
      } else if (name === 'NotFoundError' || name === 'OverconstrainedError' ||
                 name === 'TypeError') {
        self.fail('absent');
      } else if (name === 'NotReadableError' || name === 'AbortError') {
        self.fail('busy');
      } else {
        self.fail('broken');
      }
      if (window.console) console.warn('scanner:', err);
    });
  };

  function stopTracks(stream) {
    stream.getTracks().forEach(function (tr) { tr.stop(); });
  }

  Scanner.prototype.stop = function () {
    this.session++;
    clearTimeout(this.timer);
    this.timer = null;
    this.busy = false;
    if (this.stream) stopTracks(this.stream);
    this.stream = null;
    this.video.srcObject = null;
    this.view.hidden = true;
    this.stopBtn.hidden = true;
    this.startBtn.hidden = false;
    this.say('');
  };

  Scanner.prototype.loop = function (session) {
    var self = this;
    if (session !== this.session) return;
    this.timer = setTimeout(function () {
      // requestAnimationFrame pauses in a hidden tab, together with the camera.
      window.requestAnimationFrame(function () { self.tick(session); });
    }, FRAME_MS);
  };

  Scanner.prototype.tick = function (session) {
    var self = this;
    var v = this.video;
    if (session !== this.session) return;
    if (this.busy || v.readyState < 2 || !v.videoWidth) { this.loop(session); return; }
    var vw = v.videoWidth, vh = v.videoHeight;
    // Alternate the framed centre square (finer) with the whole picture (a slip held off-centre).
    this.frameNo = (this.frameNo || 0) + 1;
    var sx = 0, sy = 0, sw = vw, sh = vh;
    if (this.frameNo % 2) {
      var side = Math.round(Math.min(vw, vh) * 0.8);
      sx = Math.round((vw - side) / 2); sy = Math.round((vh - side) / 2); sw = sh = side;
    }
    var scale = Math.min(1, MAX_SIDE / Math.max(sw, sh));
    var w = Math.max(1, Math.round(sw * scale)), h = Math.max(1, Math.round(sh * scale));
    if (this.canvas.width !== w) this.canvas.width = w;
    if (this.canvas.height !== h) this.canvas.height = h;
    this.ctx.drawImage(v, sx, sy, sw, sh, 0, 0, w, h);
    this.busy = true;
    this.decoder.decode(this.canvas, this.ctx, w, h).then(function (text) {
      self.busy = false;
      if (session !== self.session) return;
      if (text) self.found(text); else self.loop(session);
    }, function (err) {
      self.busy = false;
      if (session !== self.session) return;
      if (window.console) console.warn('scanner:', err);
      if (self.decoder && self.decoder.kind === 'barcode-detector') {
        // Some devices list qr_code but fail at run time: fall back to the vendored decoder.
        self.decoder = null;
        workerDecoder().then(function (d) {
          if (session !== self.session) { d.close(); return; }
          self.decoder = d;
          self.el.setAttribute('data-decoder', d.kind);
          self.loop(session);
        }, function () { self.fail('broken'); });
      } else {
        self.decoder = null;
        self.fail('broken');
      }
    });
  };

  Scanner.prototype.found = function (text) {
    var session = this.session;
    var last = lastRead() || this.last;
    var gap = Date.now() - last.at;
    if (text === last.text && gap >= 0 && gap < (this.continuous ? REPEAT_CONTINUOUS_MS : REPEAT_MS)) {
      this.say('again');
      this.loop(session);
      return;
    }
    this.last = { text: text, at: Date.now() };
    lastRead(text);
    signal();
    if (this.continuous) {
      this.say('read');
      var self = this;
      this.timer = setTimeout(function () { self.say('aim'); self.loop(session); }, 800);
    } else {
      this.stop();
      this.say('read');
    }
    var input = this.target;
    input.value = text;
    input.dispatchEvent(new Event('input', { bubbles: true }));
    input.dispatchEvent(new Event('change', { bubbles: true }));
    this.el.dispatchEvent(new CustomEvent('scanner:decoded', { bubbles: true, detail: { text: text } }));
    if (this.submit && input.form) {
      if (input.form.requestSubmit) input.form.requestSubmit(); else input.form.submit();
    }
  };

  var audio = null;
  function signal() {
    try { if (navigator.vibrate) navigator.vibrate(80); } catch (e) { /* not supported */ }
    try {
      var AC = window.AudioContext || window.webkitAudioContext;
      if (!AC) return;
      audio = audio || new AC();
      var osc = audio.createOscillator(), gain = audio.createGain();
      osc.frequency.value = 1200;
      gain.gain.value = 0.15;
      osc.connect(gain); gain.connect(audio.destination);
      osc.start();
      osc.stop(audio.currentTime + 0.12);
    } catch (e) { /* no sound is fine */ }
  }

  // ---- page wiring ----------------------------------------------------------------------------

  function ensureStylesheet() {
    if (!ME || document.querySelector('link[href*="css/scanner.css"]')) return;
    var link = document.createElement('link');
    link.rel = 'stylesheet';
    link.href = ME.src.replace(/js\/scanner\.js(\?.*)?$/, '') + 'css/scanner.css';
    document.head.appendChild(link);
  }

  function init(root) {
    ensureStylesheet();
    var els = (root || document).querySelectorAll('[data-scanner]');
    for (var i = 0; i < els.length; i++) {
      if (els[i].scanner) continue;
      var s = new Scanner(els[i]);
      els[i].scanner = s;
      all.push(s);
      if (els[i].getAttribute('data-autostart') === 'true' || flag()) s.start(false);
    }
  }

  function releaseAll() {
    all.forEach(function (s) { if (s.stream) s.stop(); });
  }

  document.addEventListener('visibilitychange', function () {
    if (document.visibilityState === 'hidden') {
      releaseAll();
    } else if (flag()) {
      all.forEach(function (s) { if (!s.stream) s.start(false); });
    }
  });
  window.addEventListener('pagehide', releaseAll);
  window.addEventListener('pageshow', function (ev) {
    // Back from the browser's page cache: the camera was released on pagehide.
    if (ev.persisted && flag()) all.forEach(function (s) { if (!s.stream) s.start(false); });
  });

  window.CongressScanner = { init: init, stopAll: releaseAll, workerUrl: WORKER_URL };

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', function () { init(); });
  } else {
    init();
  }
})();
