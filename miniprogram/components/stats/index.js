/** 发现 / 已整改 / 整改中: the figures parents and regulators read first. */
Component({
  properties: {
    found: { type: Number, value: 0 },
    rectified: { type: Number, value: 0 },
    inProgress: { type: Number, value: 0 },
    // 0–1, or null when nothing was found yet.
    rate: { type: null, value: null },
  },
  observers: {
    rate(rate) {
      this.setData({ rateText: typeof rate === 'number' ? `${Math.round(rate * 1000) / 10}%` : '' });
    },
  },
  data: { rateText: '' },
});
