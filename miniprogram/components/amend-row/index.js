/**
 * The foot of a record's row in a ledger list: 已更正 when the row shows a corrected version (tapped: its 更正记录),
 * and 更正 for those who may record (the `amend` event carries the record's id; behaviors/ledger-page.js opens the
 * form on it).
 */
const { recordHistory } = require('../../behaviors/record-history');

Component({
  behaviors: [recordHistory],
  properties: {
    recordId: { type: Number, value: 0 },
    corrected: { type: Boolean, value: false },
    canAmend: { type: Boolean, value: false },
  },
  methods: {
    onAmend() {
      this.triggerEvent('amend', { id: this.data.recordId });
    },
  },
});
