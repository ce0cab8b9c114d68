/** A record's PDFs as rows that open on tap (services/documents.js): a delivery's 检验报告 or 票据, a licence's scan. */
const documents = require('../../services/documents');

Component({
  properties: {
    // [{key, url, label}] (services/records.js pdfs)
    items: { type: Array, value: [] },
  },
  methods: {
    onOpen(event) {
      return documents.openStored(event.currentTarget.dataset.url);
    },
  },
});
