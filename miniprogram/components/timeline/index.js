/** A violation's history, newest first: what happened, when, by whom, with photos. */
Component({
  properties: {
    // [{key, title, text, time, actor, photos: [url]}]
    items: { type: Array, value: [] },
  },
  methods: {
    onPreview(event) {
      wx.previewImage({ urls: event.currentTarget.dataset.urls, current: event.currentTarget.dataset.url });
    },
  },
});
