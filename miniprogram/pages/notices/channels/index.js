/**
 * 通知方式: how the signed-in person is told of problems. The inbox (消息通知) always has every notice; beside it
 * WeChat subscribe messages (on unless turned off), SMS (腾讯云短信) to their own number or the phone bound to the
 * account, for the risk classes they choose (default 一类 and 二类), and quiet hours (免打扰, Beijing time, may run
 * through midnight) during which a class-2 or class-3 message waits until they end. A class-1 problem ignores
 * quiet hours. Backed by GET/PUT /me/notice-channels (docs/risk.md "Double push and channels"); the server's
 * refusals are shown next to the field they name (behaviors/record-form.js).
 */
const guard = require('../../../utils/guard');
const time = require('../../../utils/time');
const labels = require('../../../utils/labels');
const notices = require('../../../services/notices');
const recordForm = require('../../../behaviors/record-form');
const { loadedPage } = require('../../../behaviors/loaded-page');

// What the server takes (backend/notices/channels.normalize_phone): 11 digits, +86, spaces and dashes allowed.
const PHONE_RE = /^1[3-9]\d{9}$/;
const CLASSES = labels.options(labels.RISK_CLASSES).map((o) => ({ value: Number(o.code), label: o.label }));
const DEFAULT_QUIET = { start: '22:00', end: '07:00' };

/** The 11-digit number typed, or null when it is not a mainland mobile number. */
function normalizePhone(value) {
  let digits = String(value || '').replace(/[\s-]/g, '');
  if (digits.startsWith('+86')) digits = digits.slice(3);
  else if (digits.startsWith('0086')) digits = digits.slice(4);
  return PHONE_RE.test(digits) ? digits : null;
}

/** "22:00 至次日 07:00" when the hours run through midnight. */
function quietText(start, end) {
  if (!start || !end) return '';
  return end < start ? `${start} 至次日 ${end}` : `${start} 至 ${end}`;
}

/** The form from the server's answer. */
function formOf(channels) {
  const quiet = Boolean(channels.quiet_start && channels.quiet_end);
  return {
    wechat: channels.wechat,
    sms: channels.sms,
    // Without a number of their own, SMS goes to the phone bound to the account (if any).
    phoneMode: channels.phone || !channels.account_phone ? 'own' : 'bound',
    phone: channels.phone || '',
    sms_classes: channels.sms_classes.slice(),
    quiet,
    quiet_start: quiet ? channels.quiet_start : DEFAULT_QUIET.start,
    quiet_end: quiet ? channels.quiet_end : DEFAULT_QUIET.end,
  };
}

Component({
  behaviors: [loadedPage, recordForm({
    send: (page, body) => notices.saveChannels(body),
    done: '通知方式已保存',
    fields: ['wechat', 'sms', 'phone', 'sms_classes', 'quiet_start', 'quiet_end'],
  })],
  data: {
    form: formOf({ wechat: true, sms: false, sms_classes: [1, 2] }), classes: CLASSES, accountPhone: '',
    smsPhoneText: '', quietText: '', updatedText: '',
  },
  methods: {
    fetch() {
      return guard.ready({ bound: false }).then(() => notices.channels());
    },

    show(channels) {
      const form = formOf(channels);
      this.setData({
        loading: false, errors: {}, formError: '', form, accountPhone: channels.account_phone || '',
        smsPhoneText: channels.sms_phone || '未设置',
        quietText: quietText(form.quiet_start, form.quiet_end),
        updatedText: channels.updated_at ? `上次保存 ${time.dateTime(channels.updated_at)}` : '尚未设置，以下为默认方式',
        classes: CLASSES.map((c) => Object.assign({}, c, { checked: form.sms_classes.indexOf(c.value) >= 0 })),
      });
    },

    onWechat(event) {
      this.setData({ 'form.wechat': event.detail.value });
      this.clearError('wechat');
    },

    onSms(event) {
      this.setData({ 'form.sms': event.detail.value });
      this.clearError('sms');
      this.clearError('phone');
    },

    onPhoneMode(event) {
      this.setData({ 'form.phoneMode': event.detail.value });
      this.clearError('phone');
    },

    onPhone(event) {
      this.setData({ 'form.phone': event.detail });
      this.clearError('phone');
    },

    onClasses(event) {
      const chosen = event.detail.value.map(Number).sort();
      this.setData({
        'form.sms_classes': chosen,
        classes: CLASSES.map((c) => Object.assign({}, c, { checked: chosen.indexOf(c.value) >= 0 })),
      });
      this.clearError('sms_classes');
    },

    onQuiet(event) {
      this.setData({ 'form.quiet': event.detail.value });
      this.clearError('quiet_start');
      this.clearError('quiet_end');
    },

    onQuietTime(event) {
      const field = event.currentTarget.dataset.field;
      this.setData({ [`form.${field}`]: event.detail.value });
      const form = this.data.form;
      this.setData({ quietText: quietText(form.quiet_start, form.quiet_end) });
      this.clearError('quiet_start');
      this.clearError('quiet_end');
    },

    /** The channels to send, or null after showing what is wrong (the server checks again). */
    validate() {
      const form = this.data.form;
      const errors = {};
      let phone = null;
      if (form.phoneMode === 'own' && (form.sms || form.phone.trim())) {
        phone = normalizePhone(form.phone);
        if (!form.phone.trim()) errors.phone = '开启短信通知需要填写手机号码';
        else if (!phone) errors.phone = '请填写正确的11位手机号码';
      }
      if (!form.sms_classes.length) errors.sms_classes = '请至少选择一个风险等级';
      if (form.quiet && form.quiet_start === form.quiet_end) errors.quiet_end = '免打扰时段的开始和结束时间不能相同';
      if (Object.keys(errors).length) {
        this.setData({ errors });
        return null;
      }
      return {
        wechat: form.wechat, sms: form.sms, phone, sms_classes: form.sms_classes,
        quiet_start: form.quiet ? form.quiet_start : null, quiet_end: form.quiet ? form.quiet_end : null,
      };
    },

    onRecorded(channels) {
      wx.showToast({ title: '通知方式已保存', icon: 'success' });
      this.show(channels);
    },
  },
});
