/** The in-app inbox and WeChat one-time subscriptions (each accept allows one message). */
const http = require('../utils/request');

function inbox(query, extra) {
  return http.get('/inbox', query, extra);
}

function markRead(noticeId) {
  return http.post(`/inbox/${noticeId}/read`, {}, { silent: true });
}

function markAllRead() {
  return http.post('/inbox/read-all', {});
}

/**
 * Ask for one-time subscriptions at a natural moment (after reading a violation, 通知我), then report
 * what the user chose. Resolves with the number of accepted templates (0 when nothing could be asked).
 */
function subscribe(purposes) {
  return http.get('/notices/templates', null, { silent: true }).then((templates) => {
    const wanted = templates.filter((t) => t.template_id && (!purposes || purposes.indexOf(t.purpose) >= 0))
      .slice(0, 3); // WeChat asks for at most 3 templates at once
    if (!wanted.length) return 0;
    return new Promise((resolve) => {
      wx.requestSubscribeMessage({
        tmplIds: wanted.map((t) => t.template_id),
        success: resolve,
        fail: () => resolve(null),
      });
    }).then((res) => {
      if (!res) return 0;
      const results = {};
      wanted.forEach((t) => {
        if (res[t.template_id]) results[t.template_id] = res[t.template_id];
      });
      return http.post('/me/subscriptions', { results }, { silent: true })
        .then(() => Object.keys(results).filter((id) => results[id] === 'accept').length);
    });
  });
}

/** How the caller is told (WeChat messages, SMS, quiet hours); the inbox is always on. */
function channels() {
  return http.get('/me/notice-channels', null, { silent: true });
}

/** Save the caller's channels; a refusal is shown by the form, next to the field it names. */
function saveChannels(body) {
  return http.put('/me/notice-channels', body, { silent: true });
}

module.exports = {
  inbox, markRead, markAllRead, subscribe, channels, saveChannels,
};
