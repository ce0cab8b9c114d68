/**
 * A question WeChat's modal asks before something that cannot be undone (撤销邀请, 退出登录, 完成检查): resolves
 * with whether the user confirmed.
 */
function confirmed(title, content) {
  return new Promise((resolve) => {
    wx.showModal({ title, content, success: (res) => resolve(!!res.confirm), fail: () => resolve(false) });
  });
}

/**
 * A line of text asked for in WeChat's editable modal (a reason, a name).
 *
 * Resolves with the trimmed text; with '' when it was left empty and is optional; with null when the user
 * cancelled, or left a required text empty (then `required`, the message saying what is missing, is shown).
 * `value` is the text the box starts with (a stored name being corrected).
 */
function askText({ title, placeholder, confirmText, danger, required, value }) {
  return new Promise((resolve) => {
    wx.showModal({
      title,
      editable: true,
      content: value || '',
      placeholderText: placeholder,
      confirmText: confirmText || '确定',
      confirmColor: danger ? '#ee0a24' : '#576b95',
      success: resolve,
      fail: () => resolve({ confirm: false }),
    });
  }).then((res) => {
    if (!res.confirm) return null;
    const text = (res.content || '').trim();
    if (!text && required) {
      wx.showToast({ title: required, icon: 'none' });
      return null;
    }
    return text;
  });
}

module.exports = { askText, confirmed };
