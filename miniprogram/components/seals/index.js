/**
 * 封存 of one canteen: the seals in force (what no record may use until released), 解除 for who may release
 * (`can-release`: the principal, the region's regulators), and for who may seal on the spot (`can-seal`: a
 * regulator on an inspection visit) a form: what to seal (an area, a batch of the last week, a retained sample)
 * and why. Loads itself when `canteen-id` is set, and again after a seal or a release.
 */
const seals = require('../../services/seals');
const { askText } = require('../../utils/prompt');

Component({
  // The app's shared classes (danger, muted, error-text, picker-cell, actions) apply inside.
  options: { styleIsolation: 'apply-shared' },
  properties: {
    canteenId: { type: Number, value: 0 },
    canRelease: { type: Boolean, value: false },
    canSeal: { type: Boolean, value: false },
  },
  data: { items: [], candidates: [], candidateIndex: -1, reason: '', errors: {}, busy: false, loadError: '' },
  observers: {
    canteenId(id) {
      if (id) this.load();
    },
  },
  methods: {
    /** The seals in force, and what could be sealed now (only for who may seal). */
    load() {
      const canteenId = this.data.canteenId;
      return seals.inForce(canteenId).then((found) => {
        this.setData({ items: found.map(seals.line), loadError: '' });
        if (!this.data.canSeal) return null;
        return seals.candidates(canteenId, found).then((candidates) => this.setData({ candidates, candidateIndex: -1 }));
      }).catch((err) => this.setData({ loadError: err.message }));
    },

    onPick(event) {
      this.setData({ candidateIndex: Number(event.detail.value), 'errors.target_id': '' });
    },

    onReason(event) {
      this.setData({ reason: event.detail, 'errors.reason': '' });
    },

    onSeal() {
      const picked = this.data.candidates[this.data.candidateIndex];
      const reason = this.data.reason.trim();
      const errors = {};
      if (!picked) errors.target_id = '请选择要封存的区域、批次或留样';
      if (!reason) errors.reason = '请填写封存原因'; // the server checks the rest and says so under the field
      if (Object.keys(errors).length) {
        this.setData({ errors });
        return null;
      }
      this.setData({ busy: true });
      return seals.seal(this.data.canteenId, picked.target, picked.id, reason).then(() => {
        wx.showToast({ title: '已封存，学校已收到通知', icon: 'none' });
        this.setData({ busy: false, reason: '', errors: {} });
        return this.load();
      }, (err) => {
        const fields = err.fields || {};
        const message = (fields.reason || [])[0];
        this.setData({ busy: false, errors: message ? { reason: message } : { target_id: err.message } });
      });
    },

    /** 解除封存: the reason is required; the seal's record names who released it and why. */
    onRelease(event) {
      const { id, title } = event.currentTarget.dataset;
      return askText({
        title: `解除封存：${title}`, placeholder: '请填写解除原因，例如：检验合格', confirmText: '解除',
        required: '解除封存必须填写原因',
      }).then((reason) => {
        if (reason === null) return null;
        return seals.release(id, reason).then(() => {
          wx.showToast({ title: '已解除封存', icon: 'success' });
            return this.load();
        }, (err) => wx.showToast({ title: err.message, icon: 'none' }));
      });
    },
  },
});
