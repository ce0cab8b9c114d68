/**
 * 已更正 leads to the record's 更正记录: an element with `data-history="{{recordId}}"` and `bindtap="onHistory"` opens
 * pages/records/history on that record (the ledger rows' foot, 留样与消毒记录, 食材溯源).
 */
const recordHistory = Behavior({
  methods: {
    onHistory(event) {
      wx.navigateTo({ url: `/pages/records/history/index?id=${event.currentTarget.dataset.history}` });
    },
  },
});

module.exports = { recordHistory };
