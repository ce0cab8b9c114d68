/**
 * The head of a record form in correction mode (更正): what is being corrected, that the first version stays in
 * the 台账, and the reason the correction needs (2–500 characters, checked by the form and the server).
 */
Component({
  properties: {
    kindLabel: { type: String, value: '' },
    value: { type: String, value: '' },
    error: { type: String, value: '' },
  },
  methods: {
    onInput(event) {
      this.triggerEvent('change', event.detail);
    },
  },
});
