/**
 * 告警审核: the AI alarms of the regions the user regulates that wait for a verdict, newest first, with the
 * evidence frame; alarms of one camera and kind within minutes of each other are marked as one event. Each is
 * confirmed, marked a false positive (with the reason, required by the server) or escalated; a judged alarm
 * leaves the queue (API of backend/violations/alarm_routes.py).
 */
const guard = require('../../../utils/guard');
const time = require('../../../utils/time');
const { askText } = require('../../../utils/prompt');
const regulators = require('../../../services/regulators');
const { listPage } = require('../../../behaviors/list-page');

const DONE = { confirmed: '已确认', false_positive: '已标记误报', escalated: '已升级督办' };

/** Alarms as cards: where, when, how sure, and "one of N" for an event of several alarms. */
function cards(page) {
  const groupOf = {};
  page.groups.forEach((group) => group.ids.forEach((id) => {
    groupOf[id] = group;
  }));
  return page.items.map((alarm) => {
    const group = groupOf[alarm.id];
    return Object.assign({}, alarm, {
      where: [alarm.school_name, alarm.canteen_name, alarm.camera_name].filter(Boolean).join(' · '),
      timeText: time.dateTime(alarm.occurred_at),
      confidenceText: typeof alarm.confidence === 'number' ? `置信度 ${Math.round(alarm.confidence * 100)}%` : '',
      groupText: group && group.count > 1 ? `同一摄像头连续告警 ${group.count} 条` : '',
    });
  });
}

Component({
  behaviors: [listPage({ pageSize: 20 })],
  data: { busyId: null },
  methods: {
    fetchPage(beforeId, limit) {
      return guard.readyAsRegulator('reviewAlarms').then(({ regions }) => {
        if (!regions.length) throw new Error('您还没有负责的监管地区');
        this.regionId = regions[0].region_id;
        return regulators.alarms(this.regionId, { before_id: beforeId, limit }, { silent: true });
      }).then((page) => ({ items: cards(page), next: page.next_before_id }));
    },

    onPreview(event) {
      wx.previewImage({ urls: [event.currentTarget.dataset.url] });
    },

    onConfirm(event) {
      return this.judge(event.currentTarget.dataset.id, 'confirmed', null);
    },

    onEscalate(event) {
      return this.judge(event.currentTarget.dataset.id, 'escalated', null);
    },

    /** 误报: the reason is asked for (parents never see an alarm marked false; the reason stays with it). */
    onFalse(event) {
      const id = event.currentTarget.dataset.id;
      // The server requires the reason and says so (a toast) when it is left empty.
      return askText({ title: '标记为误报', placeholder: '请填写误报原因（必填）' })
        .then((reason) => (reason === null ? null : this.judge(id, 'false_positive', reason)));
    },

    /**
     * Send a verdict; the judged alarm leaves the list, as does one someone else judged meanwhile (the server's
     * refusal says how, in a toast).
     */
    judge(id, verdict, reason) {
      if (this.data.busyId) return null;
      this.setData({ busyId: id });
      const leave = () => this.setData({ busyId: null, items: this.data.items.filter((alarm) => alarm.id !== id) });
      return regulators.reviewAlarm(id, verdict, reason).then(() => {
        wx.showToast({ title: DONE[verdict], icon: 'success' });
        leave();
      }, (err) => (err.code === 'alarm_already_reviewed' ? leave() : this.setData({ busyId: null })));
    },
  },
});
