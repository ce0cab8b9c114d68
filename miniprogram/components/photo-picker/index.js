/**
 * Take or choose photos (wx.chooseMedia), upload each through the API as soon as it is chosen, show
 * progress and failures, and retry a failed one on tap with the same idempotency key. The form reads
 * the references from the `change` event: {ids, uploading, failed} — upload ids for records
 * (kind 'record', owner-id = canteen id), object keys for violations (kind 'violation', owner-id =
 * school id) and inspection findings (kind 'inspection', owner-id = round id, canteen-id).
 *
 * `initial` (a record's files as the API answers them: {upload_id, url}) starts the picker from photos already
 * uploaded, as a correction does (更正): they count as sent, and can be removed or added to.
 */
const uploads = require('../../services/uploads');

Component({
  properties: {
    label: { type: String, value: '' },
    max: { type: Number, value: 3 },
    required: { type: Boolean, value: false },
    kind: { type: String, value: 'record' },
    ownerId: { type: Number, value: 0 },
    canteenId: { type: Number, value: 0 },
    error: { type: String, value: '' },
    initial: { type: Array, value: [], observer: 'showInitial' },
  },
  data: { photos: [] },
  methods: {
    showInitial(files) {
      // An observer runs whenever the page sets the property, even to the same files: start from them once.
      const ids = (files || []).map((file) => file.upload_id).join(',');
      if (!ids || ids === this.initialIds) return;
      this.initialIds = ids;
      this.setData({ photos: files.map((file) => ({ path: file.url, id: file.upload_id, status: 'done' })) });
      this.emit();
    },

    onAdd() {
      wx.chooseMedia({
        count: this.data.max - this.data.photos.length,
        mediaType: ['image'],
        sourceType: ['camera', 'album'],
        sizeType: ['compressed'],
        success: (res) => {
          const chosen = res.tempFiles.filter((file) => {
            if (file.size && file.size > uploads.MAX_BYTES) {
              wx.showToast({ title: '照片超过 10MB，请重新拍摄', icon: 'none' });
              return false;
            }
            return true;
          });
          const start = this.data.photos.length;
          const photos = this.data.photos.concat(chosen.map((file) => ({ path: file.tempFilePath, status: 'uploading', id: null })));
          this.setData({ photos });
          this.emit();
          chosen.forEach((file, i) => this.send(start + i));
        },
      });
    },

    send(index) {
      const photo = this.data.photos[index];
      this.setData({ [`photos[${index}].status`]: 'uploading' });
      uploads.upload(this.data.kind, photo.path, this.data.ownerId, this.data.canteenId).then((result) => {
        const at = this.data.photos.findIndex((p) => p.path === photo.path);
        if (at < 0) return;
        this.setData({ [`photos[${at}].status`]: 'done', [`photos[${at}].id`]: result.ref });
        this.emit();
      }, (err) => {
        const at = this.data.photos.findIndex((p) => p.path === photo.path);
        if (at < 0) return;
        this.setData({ [`photos[${at}].status`]: 'failed' });
        wx.showToast({ title: err.message, icon: 'none' });
        this.emit();
      });
    },

    onTapPhoto(event) {
      const index = event.currentTarget.dataset.index;
      const photo = this.data.photos[index];
      if (photo.status === 'failed') {
        this.send(index);
        this.emit();
        return;
      }
      wx.previewImage({ urls: this.data.photos.map((p) => p.path), current: photo.path });
    },

    onRemove(event) {
      const photos = this.data.photos.slice();
      photos.splice(event.currentTarget.dataset.index, 1);
      this.setData({ photos });
      this.emit();
    },

    emit() {
      const photos = this.data.photos;
      this.triggerEvent('change', {
        ids: photos.filter((p) => p.status === 'done').map((p) => p.id),
        uploading: photos.some((p) => p.status === 'uploading'),
        failed: photos.some((p) => p.status === 'failed'),
      });
    },
  },
});
