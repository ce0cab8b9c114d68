/** A history, newest first (a violation's, a record's versions): what happened, when, by whom, with photos. */
Component({
  properties: {
    // [{key, title, text, lines: [text] (optional, one a line), time, actor, photos: [url]}]
    items: { type: Array, value: [] },
  },
  methods: {
    onPreview(event) {
      wx.previewImage({ urls: event.currentTarget.dataset.urls, current: event.currentTarget.dataset.url });
    },
  },
});
