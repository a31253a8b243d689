// The HTML of the emulator's iframe host: what a Bitrix24 portal page around an app looks like to the
// app. It form-POSTs the app URL into `<iframe name="DOMAIN|PROTOCOL|APP_SID">` and then answers the
// frame's postMessage commands the way BX.rest.AppLayout (rest/install/js/rest/applayout.js) does:
//
//   frame → host: "command:JSON-params:callbackId:APP_SID" (the JSON part may contain ':' — it is
//                 everything between the first and the last two fields), or an object
//                 {method, params, callback, appSid} for commands whose name contains ':'.
//   host → frame: "callbackId:" + JSON.stringify(result)   (nothing after ':' when result is undefined),
//                 posted to the iframe with the app's origin as target origin.
//
// Messages from another origin or with another APP_SID are ignored. Everything accepted is recorded in
// `window.__b24host.log` for tests.

/** What the host page needs to render; built by iframe-host.ts. */
export interface HostPageConfig {
  sid: string;
  /** `DOMAIN|PROTOCOL|APP_SID`: the iframe's name, read by the SDK as `window.name`. */
  frameName: string;
  /** The app URL with DOMAIN, PROTOCOL, LANG and APP_SID in the query string. */
  action: string;
  /** Origin of the app URL: the only origin commands are accepted from and replies are sent to. */
  appOrigin: string;
  /** The form-encoded POST body fields (reference §5.2). */
  form: Record<string, string>;
  /** The answer to `getInitData` (the SDK's MessageInitData). */
  initData: Record<string, unknown>;
  /** Where the page does what the portal does server-side (token refresh, install finish, options). */
  ajaxUrl: string;
  title: string;
  lang: string;
}

const HTML_ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => HTML_ENTITIES[c]!);
}

/** JSON that can sit inside a `<script>` element. */
function scriptJson(v: unknown): string {
  return JSON.stringify(v)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

export function renderHostPage(cfg: HostPageConfig): string {
  const inputs = Object.entries(cfg.form)
    .map(([k, v]) => `    <input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`)
    .join('\n');
  const frameName = escapeHtml(cfg.frameName);
  return `<!doctype html>
<html lang="${escapeHtml(cfg.lang)}">
<head>
  <meta charset="utf-8">
  <title>${escapeHtml(cfg.title)} — Bitrix24 emulator</title>
  <style>
    body { margin: 0; font: 14px/1.4 sans-serif; background: #eef2f4; }
    #pagetitle { margin: 0; padding: 12px 20px; font-size: 20px; font-weight: normal; }
    #b24-host-warning { margin: 0 20px 12px; padding: 8px 12px; background: #ffe8a3; }
    #b24-app-layout { width: 100%; height: 600px; background: #fff; }
    #b24-app-frame { display: block; width: 100%; height: 100%; border: 0; }
  </style>
</head>
<body>
  <h1 id="pagetitle">${escapeHtml(cfg.title)}</h1>
  <div id="b24-app-layout">
    <iframe id="b24-app-frame" name="${frameName}" src="about:blank" allow="clipboard-read; clipboard-write" allowfullscreen></iframe>
  </div>
  <form id="b24-app-form" method="post" action="${escapeHtml(cfg.action)}" target="${frameName}" style="display:none">
${inputs}
  </form>
  <script type="application/json" id="b24-host-config">${scriptJson({
    sid: cfg.sid,
    appOrigin: cfg.appOrigin,
    ajaxUrl: cfg.ajaxUrl,
    domain: String(cfg.initData.DOMAIN ?? ''),
    initData: cfg.initData,
  })}</script>
  <script>
${HOST_SCRIPT}
  </script>
</body>
</html>
`;
}

// Plain browser JS, kept free of template-literal syntax so it can live in this string as is.
const HOST_SCRIPT = String.raw`(function () {
  'use strict';
  var cfg = JSON.parse(document.getElementById('b24-host-config').textContent);
  var frame = document.getElementById('b24-app-frame');
  var layout = document.getElementById('b24-app-layout');
  var init = cfg.initData;

  var host = {
    sid: cfg.sid,
    /** Every accepted command: {command, params, callback, handled}. */
    log: [],
    /** Messages ignored: wrong origin, wrong APP_SID, unparsable. */
    rejected: [],
    /** Last resizeWindow: the layout size after it. */
    size: null,
    title: null,
    scroll: null,
    /** openPath / openApplication requests; answer one with closeSlider(i). */
    sliders: [],
    /** 'Y' / 'N' once setInstallFinish went through (the page then reloads, as the portal does). */
    installFinished: null,
    warnings: [],
    errors: [],
    /** Answer a pending command (selectUser, selectCRM, ...) by its callback id. */
    reply: function (callback, result) { send(callback, result); },
    /** The user closes slider i: openPath gets {result: 'close'}, openApplication gets nothing. */
    closeSlider: function (i) {
      var s = host.sliders[i === undefined ? host.sliders.length - 1 : i];
      if (!s || s.closed) return false;
      s.closed = true;
      send(s.callback, s.command === 'openPath' ? { result: 'close' } : undefined);
      return true;
    }
  };
  window.__b24host = host;

  if (cfg.domain !== location.host) {
    host.warnings.push('portal DOMAIN ' + cfg.domain + ' is not this page\'s host ' + location.host +
      ': the SDK posts to http(s)://DOMAIN, so the browser will drop its messages');
    var warn = document.createElement('p');
    warn.id = 'b24-host-warning';
    warn.textContent = host.warnings[0];
    layout.parentNode.insertBefore(warn, layout);
  }

  function send(callback, result) {
    if (!callback || !frame.contentWindow) return;
    frame.contentWindow.postMessage(callback + ':' + (result === undefined ? '' : JSON.stringify(result)), cfg.appOrigin);
  }

  function ajax(action, data) {
    var body = Object.assign({ sid: cfg.sid, action: action }, data || {});
    return fetch(cfg.ajaxUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
      .then(function (r) { return r.json(); })
      .catch(function (e) { host.errors.push(action + ': ' + e); throw e; });
  }

  // BX.rest.AppLayout's split(): [command, params JSON (may contain ':'), callback, APP_SID].
  function parse(data) {
    if (typeof data === 'string') {
      var r = data.split(':');
      var json = r.slice(1, r.length - 2).join(':');
      return { command: r[0], params: json ? JSON.parse(json) : [], callback: r[r.length - 2], appSid: r[r.length - 1] };
    }
    if (data && typeof data === 'object') {
      return { command: data.method, params: data.params || [], callback: data.callback, appSid: data.appSid };
    }
    return null;
  }

  function sliderOpen(command, params, msg) {
    host.sliders.push({ command: command, params: params, path: params.path || null, callback: msg.callback || null, closed: false });
  }

  // Commands that answer nothing here: in a portal they wait for a user (dialogs, sliders) or act
  // outside the page (messenger). Tests answer pending ones with __b24host.reply / closeSlider.
  function pending() {}

  var handlers = {
    getInitData: function (p, cb) {
      cb(init);
      init.FIRST_RUN = false;
    },
    getInterface: function (p, cb) {
      cb({ command: Object.keys(handlers), event: [] });
    },
    refreshAuth: function (p, cb) {
      ajax('access_refresh').then(function (d) {
        if (!d.access_token) { host.errors.push('access_refresh: ' + JSON.stringify(d)); return; }
        init.AUTH_ID = d.access_token;
        init.AUTH_EXPIRES = d.expires_in;
        init.REFRESH_ID = d.refresh_token;
        cb({ AUTH_ID: init.AUTH_ID, AUTH_EXPIRES: init.AUTH_EXPIRES, REFRESH_ID: init.REFRESH_ID });
      });
    },
    resizeWindow: function (p, cb) {
      var width = p.width == '100%' ? '100%' : (parseInt(p.width, 10) || 100) + 'px';
      var height = parseInt(p.height, 10);
      layout.style.width = width;
      if (height) layout.style.height = height + 'px';
      host.size = { width: layout.offsetWidth, height: layout.offsetHeight, requested: { width: p.width, height: p.height } };
      cb({ width: layout.offsetWidth, height: layout.offsetHeight });
    },
    setTitle: function (p, cb) {
      host.title = String(p.title);
      document.getElementById('pagetitle').textContent = host.title;
      document.title = host.title;
      cb(p);
    },
    setScroll: function (p, cb) {
      if (p && p.scroll !== undefined && p.scroll >= 0) {
        host.scroll = parseInt(p.scroll, 10);
        window.scrollTo(window.scrollX, host.scroll);
      }
      cb(p);
    },
    setUserOption: function (p, cb) {
      init.USER_OPTIONS[p.name] = p.value;
      ajax('set_user_option', { name: p.name, value: p.value }).then(function () { cb(p); });
    },
    setAppOption: function (p, cb) {
      if (!init.IS_ADMIN) return; // the portal silently ignores non-admins
      init.APP_OPTIONS[p.name] = p.value;
      ajax('set_option', { options: [{ name: p.name, value: p.value }] }).then(cb);
    },
    setInstall: function (p, cb) {
      ajax('set_install', { install: !!p.install }).then(function () { cb(p); });
    },
    // The portal marks the app installed and reloads its own page; the frame gets no answer.
    setInstallFinish: function (p) {
      var v = p.value === false ? 'N' : 'Y';
      ajax('set_installed', { v: v }).then(function (d) {
        host.installFinished = d.result ? 'Y' : 'N';
        var u = new URL(location.href);
        u.searchParams.delete('install');
        u.searchParams.set('install_finished', host.installFinished);
        location.href = u.toString();
      });
    },
    reloadWindow: function () { location.reload(); },
    openPath: function (p, cb, msg) { sliderOpen('openPath', p, msg); },
    openApplication: function (p, cb, msg) { sliderOpen('openApplication', p, msg); },
    closeApplication: pending,
    selectUser: pending,
    selectAccess: pending,
    selectCRM: pending,
    imCallTo: pending,
    imPhoneTo: pending,
    imOpenMessenger: pending,
    imOpenHistory: pending
  };

  window.addEventListener('message', function (e) {
    var sample = typeof e.data === 'string' ? e.data.slice(0, 200) : e.data;
    if (e.origin !== cfg.appOrigin) { host.rejected.push({ reason: 'origin', origin: e.origin, data: sample }); return; }
    var msg;
    try { msg = parse(e.data); } catch (err) { msg = null; }
    if (!msg || typeof msg.command !== 'string') { host.rejected.push({ reason: 'format', origin: e.origin, data: sample }); return; }
    if (msg.appSid !== cfg.sid) { host.rejected.push({ reason: 'APP_SID', origin: e.origin, data: sample }); return; }
    var handler = Object.prototype.hasOwnProperty.call(handlers, msg.command) ? handlers[msg.command] : null;
    host.log.push({ command: msg.command, params: msg.params, callback: msg.callback || null, handled: !!handler });
    if (handler) handler(msg.params, function (res) { send(msg.callback, res); }, msg);
  });

  document.getElementById('b24-app-form').submit();
})();`;
