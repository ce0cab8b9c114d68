/**
 * A stand-in for the WeChat runtime's `wx` object: storage, network through the FixtureServer, login,
 * media, navigation and UI feedback, each recorded so tests can assert what the user saw.
 */
function createWx(base, server) {
  const storage = {};
  const state = {
    toasts: [], modals: [], navigations: [], loading: 0, previews: [], clipboard: [], subscribeAsks: [],
    players: [], loginCodes: 0, scanResult: null, media: [], subscribeResult: {}, modalAnswers: [],
    envVersion: 'develop', uploads: [], titles: [], pullDownStops: 0, shareMenus: 0, messageFiles: [], documents: [],
    actionSheetIndex: 0,
  };
  const later = (fn) => Promise.resolve().then(fn);
  const deliver = (options, answer, toRes) => {
    later(() => {
      if (answer.network) {
        const res = { errMsg: `${toRes.api}:fail net::ERR_CONNECTION_RESET` };
        if (options.fail) options.fail(res);
        if (options.complete) options.complete(res);
        return;
      }
      const res = toRes(answer);
      if (options.success) options.success(res);
      if (options.complete) options.complete(res);
    });
  };
  const ok = (options, res) => later(() => {
    if (options && options.success) options.success(Object.assign({ errMsg: 'ok' }, res || {}));
    if (options && options.complete) options.complete(res || {});
  });
  // A picker of the runtime: the first `count` of what the test put in `files()`; none, and the person cancels.
  const picker = (api, files, defaultCount, answer) => (options) => {
    const chosen = files().slice(0, options.count || defaultCount);
    later(() => {
      if (!chosen.length) {
        if (options.fail) options.fail({ errMsg: `${api}:fail cancel` });
        return;
      }
      options.success(answer(chosen));
    });
  };
  const nav = (kind) => (options) => {
    state.navigations.push({ kind, url: options.url || null, delta: options.delta || null });
    ok(options);
  };

  const api = Object.assign({}, base, {
    __state: state,
    getStorageSync: (key) => (key in storage ? JSON.parse(storage[key]) : ''),
    setStorageSync: (key, value) => {
      storage[key] = JSON.stringify(value);
    },
    removeStorageSync: (key) => {
      delete storage[key];
    },
    clearStorageSync: () => Object.keys(storage).forEach((key) => delete storage[key]),
    getAccountInfoSync: () => ({ miniProgram: { appId: 'wx_test_appid', envVersion: state.envVersion } }),
    getSystemInfoSync: () => ({
      SDKVersion: '3.3.4', platform: 'devtools', windowWidth: 375, windowHeight: 667, pixelRatio: 2,
      screenWidth: 375, screenHeight: 667, statusBarHeight: 20, safeArea: { top: 20, bottom: 667 },
    }),
    getWindowInfo: () => ({ windowWidth: 375, windowHeight: 667, pixelRatio: 2, statusBarHeight: 20 }),
    canIUse: () => true,
    nextTick: (fn) => setTimeout(fn, 0),
    login: (options) => {
      state.loginCodes += 1;
      ok(options, { code: `wx-login-code-${state.loginCodes}` });
    },
    request: (options) => {
      const answer = server.handle((options.method || 'GET').toUpperCase(), options.url, options.data, options.header);
      deliver(options, answer, Object.assign((a) => ({ statusCode: a.statusCode, data: a.body, header: a.header || {}, errMsg: 'request:ok' }), { api: 'request' }));
    },
    uploadFile: (options) => {
      state.uploads.push({ url: options.url, filePath: options.filePath, name: options.name, header: options.header });
      const answer = server.handle('POST', options.url, { filePath: options.filePath, name: options.name,
        formData: options.formData }, options.header);
      // wx.uploadFile hands the body over as a string, like the real runtime.
      deliver(options, answer, Object.assign((a) => ({ statusCode: a.statusCode, data: JSON.stringify(a.body), errMsg: 'uploadFile:ok' }), { api: 'uploadFile' }));
    },
    downloadFile: (options) => {
      const answer = server.handle('GET', options.url, null, options.header);
      deliver(options, answer, Object.assign((a) => ({ statusCode: a.statusCode, tempFilePath: `wxfile://tmp/download-${server.requests.length}.png` }), { api: 'downloadFile' }));
    },
    showToast: (options) => {
      state.toasts.push(options.title);
      ok(options);
    },
    showLoading: (options) => {
      state.loading += 1;
      ok(options);
    },
    hideLoading: (options) => {
      state.loading = Math.max(0, state.loading - 1);
      ok(options);
    },
    showModal: (options) => {
      state.modals.push({ title: options.title, content: options.content });
      const answer = state.modalAnswers.length ? state.modalAnswers.shift() : { confirm: true, content: '' };
      ok(options, { confirm: !!answer.confirm, cancel: !answer.confirm, content: answer.content || '' });
    },
    showActionSheet: (options) => ok(options, { tapIndex: state.actionSheetIndex }),
    navigateTo: nav('navigateTo'),
    redirectTo: nav('redirectTo'),
    switchTab: nav('switchTab'),
    reLaunch: nav('reLaunch'),
    navigateBack: nav('navigateBack'),
    setNavigationBarTitle: (options) => {
      state.titles.push(options.title);
      ok(options);
    },
    stopPullDownRefresh: () => {
      state.pullDownStops += 1;
    },
    showShareMenu: (options) => {
      state.shareMenus += 1;
      ok(options);
    },
    chooseMedia: picker('chooseMedia', () => state.media, 9,
      (files) => ({ type: 'image', tempFiles: files.map((f) => Object.assign({ fileType: 'image' }, f)) })),
    // Files of a WeChat chat the person picks (state.messageFiles: [{path, name, size}]).
    chooseMessageFile: picker('chooseMessageFile', () => state.messageFiles, 1,
      (files) => ({ tempFiles: files.map((f) => Object.assign({ type: 'file', time: 0 }, f)) })),
    openDocument: (options) => {
      state.documents.push(options);
      ok(options);
    },
    previewImage: (options) => {
      state.previews.push(options);
      ok(options);
    },
    setClipboardData: (options) => {
      state.clipboard.push(options.data);
      ok(options);
    },
    scanCode: (options) => later(() => {
      if (!state.scanResult) {
        if (options.fail) options.fail({ errMsg: 'scanCode:fail cancel' });
        return;
      }
      options.success(Object.assign({ errMsg: 'scanCode:ok' }, state.scanResult));
    }),
    requestSubscribeMessage: (options) => {
      state.subscribeAsks.push(options.tmplIds);
      const result = { errMsg: 'requestSubscribeMessage:ok' };
      options.tmplIds.forEach((id) => {
        result[id] = state.subscribeResult[id] || 'reject';
      });
      ok(options, result);
    },
    createLivePlayerContext: (id) => {
      const player = { kind: 'live-player', id, calls: [] };
      state.players.push(player);
      ['play', 'stop', 'pause', 'resume', 'requestFullScreen', 'exitFullScreen'].forEach((m) => {
        player[m] = (options) => {
          player.calls.push(m);
          ok(options);
        };
      });
      return player;
    },
    createVideoContext: (id) => {
      const player = { kind: 'video', id, calls: [] };
      state.players.push(player);
      ['play', 'stop', 'pause', 'requestFullScreen', 'exitFullScreen'].forEach((m) => {
        player[m] = () => player.calls.push(m);
      });
      ['seek', 'playbackRate'].forEach((m) => {
        player[m] = (value) => player.calls.push(`${m}:${value}`);
      });
      return player;
    },
    vibrateShort: (options) => ok(options),
  });
  return api;
}

module.exports = { createWx };
