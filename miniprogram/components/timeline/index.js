/** A history, newest first (a violation's, a record's versions): what happened, when, by whom, with photos. */

/** An entry's photos as captioned groups: its own photos (no caption), then its galleries that hold any. */
function galleriesOf(item) {
  const own = item.photos && item.photos.length ? [{ key: 'photos', label: '', photos: item.photos }] : [];
  return own.concat((item.galleries || []).filter((gallery) => gallery.photos.length));
}

Component({
  properties: {
    // [{key, title, text, lines: [text] (optional, one a line), time, actor, photos: [url],
    //   galleries: [{key, label, photos: [url]}] (optional: captioned photos, such as before and after a correction),
    //   documents: [{key, label, url}] (optional: PDFs that open, components/documents)}]
    items: { type: Array, value: [] },
  },
  data: { entries: [] },
  observers: {
    items(items) {
      this.setData({ entries: items.map((item) => Object.assign({}, item, { galleries: galleriesOf(item) })) });
    },
  },
  methods: {
    onPreview(event) {
      wx.previewImage({ urls: event.currentTarget.dataset.urls, current: event.currentTarget.dataset.url });
    },
  },
});
