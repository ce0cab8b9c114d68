/**
 * 食堂走访: an inspector in one canteen of a joint inspection. Photos are taken on the spot and uploaded as they
 * are taken (the round's photos, judged by content on the server); each finding is recorded with them and, by
 * default, opens a violation the school must rectify; the visit ends with its result (合格 / 发现问题).
 *
 * 现场封存 (`kc-seals`): the canteen's seals in force, released or added on the spot by a regulator who may seal.
 *
 * Query: `round` and `canteen`. The finding form is a record form (behaviors/record-form.js) sending to the
 * round's findings.
 */
const guard = require('../../../utils/guard');
const time = require('../../../utils/time');
const labels = require('../../../utils/labels');
const regulators = require('../../../services/regulators');
const recordForm = require('../../../behaviors/record-form');
const { loadedPage } = require('../../../behaviors/loaded-page');
const { photoField } = require('../../../behaviors/photo-field');

const SEVERITIES = labels.options(labels.SEVERITIES);

function blankForm() {
  return { description: '', severity: 'minor', open_violation: true, photos: [] };
}

Component({
  behaviors: [loadedPage, recordForm({
    send: (page, body) => regulators.addFinding(page.roundId, body),
    done: '已记录检查发现',
    fields: ['description', 'severity', 'photos', 'canteen_id'],
  }), photoField({ path: 'form.photos', error: 'photos' })],
  data: {
    target: {}, findings: [], severities: SEVERITIES, severityIndex: 0, form: blankForm(),
    formKey: 0, roundId: 0, canteenId: 0, visiting: false, canSeal: false,
  },
  methods: {
    onLoad(query) {
      this.roundId = Number(query.round);
      this.setData({ roundId: this.roundId, canteenId: Number(query.canteen) });
      return this.load();
    },

    fetch() {
      return guard.readyAsRegulator('inspect').then((ctx) => {
        this.setData({ canSeal: ctx.regulator.seal });
        return regulators.round(this.roundId, { silent: true });
      });
    },

    show(round) {
      const target = round.targets.find((t) => t.canteen_id === this.data.canteenId);
      if (!target) {
        this.setData({ loading: false, loadError: '该食堂不在本次检查范围内' });
        return;
      }
      if (round.status === 'completed') {
        this.setData({ loading: false, loadError: '检查已结束，不能再添加检查结果' });
        return;
      }
      wx.setNavigationBarTitle({ title: `走访 ${target.school_name}` });
      this.setData({
        loading: false,
        target: Object.assign({}, target, {
          resultLabel: target.result ? labels.label(labels.VISIT_RESULTS, target.result) : '未走访',
          visitedText: target.visited_at ? `走访于 ${time.dateTime(target.visited_at)}` : '尚未走访',
        }),
        findings: round.findings.filter((f) => f.canteen_id === target.canteen_id).map((f) => Object.assign({}, f, {
          severityLabel: labels.label(labels.SEVERITIES, f.severity), timeText: time.dateTime(f.created_at),
        })),
      });
    },

    onField(event) {
      const field = event.currentTarget.dataset.field;
      this.setData({ [`form.${field}`]: event.detail });
      this.clearError(field);
    },

    onSeverity(event) {
      const index = Number(event.detail.value);
      this.setData({ severityIndex: index, 'form.severity': SEVERITIES[index].code });
      this.clearError('severity');
    },

    /** The finding to send, or null after showing what is missing (the server checks the rest). */
    validate() {
      const form = this.data.form;
      const errors = {};
      if (!form.description.trim()) errors.description = '请描述发现的问题';
      if (this.photosPending()) errors.photos = this.photosPending();
      if (Object.keys(errors).length) {
        this.setData({ errors });
        return null;
      }
      return {
        canteen_id: this.data.canteenId, description: form.description.trim(), severity: form.severity, kind: null,
        photos: form.photos, open_violation: form.open_violation,
      };
    },

    /** A finding recorded: the form empties (a new photo picker) for the next one, the list shows it. */
    onRecorded(finding) {
      wx.showToast({ title: finding.violation_id ? '已记录，并已通知学校整改' : '已记录检查发现', icon: 'success' });
      this.setData({ form: blankForm(), severityIndex: 0, errors: {}, formKey: this.data.formKey + 1 });
      this.resetPhotos();
      return this.load();
    },

    onPreview(event) {
      wx.previewImage({ urls: event.currentTarget.dataset.urls, current: event.currentTarget.dataset.url });
    },

    /** The visit's result: 合格 (nothing found) or 发现问题; then back to the round. */
    onVisit(event) {
      const result = event.currentTarget.dataset.result;
      this.setData({ visiting: true });
      return regulators.recordVisit(this.roundId, this.data.canteenId, result).then(() => {
        this.setData({ visiting: false });
        wx.showToast({ title: '走访已记录', icon: 'success' });
        wx.navigateBack({ delta: 1 });
      }, () => this.setData({ visiting: false }));
    },
  },
});
