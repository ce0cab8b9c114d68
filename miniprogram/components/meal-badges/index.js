const labels = require('../../utils/labels');

/**
 * Per meal: 留样 taken/required and 消毒 status, coloured by the server's status (done = green,
 * pending = blue, missing = red, not_applicable = grey).
 */
Component({
  properties: {
    // [{meal, label, sampleStatus, sampleText, disinfectionStatus, disinfectionText}] (services/records.mealSummaries)
    items: { type: Array, value: [] },
  },
  data: {
    types: labels.RECORD_STATUS_TAGS,
  },
});
