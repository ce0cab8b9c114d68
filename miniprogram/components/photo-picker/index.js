/**
 * Take or choose photos (wx.chooseMedia), upload each through the API as soon as it is chosen, show
 * progress and failures, and retry a failed one on tap with the same idempotency key. The form reads
 * the references from the `change` event: {ids, uploading, failed} — upload ids for records
 * (kind 'record', owner-id = canteen id), object keys for violations (kind 'violation', owner-id =
 * school id) and inspection findings (kind 'inspection', owner-id = round id, canteen-id).
 *
 * `initial` (a record's files as the API answers them: {upload_id, url, content_type}) starts the picker from files
 * already uploaded, as a correction does (更正): they count as sent, and can be removed or added to. A PDF among
 * them shows as a document that opens, never as a broken picture.
 *
 * `documents`: the field takes PDFs too (a delivery's 检验报告 or 票据 as the supplier sent them in a WeChat chat,
 * wx.chooseMessageFile): 添加 asks 拍照或从相册选择 or 从微信聊天选择 PDF.
 */
const uploads = require('../../services/uploads');
const documents = require('../../services/documents');

const FROM_CAMERA = '拍照或从相册选择';
const FROM_CHAT = '从微信聊天选择 PDF';

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
    documents: { type: Boolean, value: false },
  },
  data: { photos: [] },
  methods: {
    showInitial(files) {
      // An observer runs whenever the page sets the property, even to the same files: start from them once.
      const ids = (files || []).map((file) => file.upload_id).join(',');
      if (!ids || ids === this.initialIds) return;
      this.initialIds = ids;
      this.setData({ photos: files.map((file) => ({ path: file.url, id: file.upload_id, status: 'done',
        pdf: documents.isPdf(file), stored: true })) });
      this.emit();
    },

    onAdd() {
      if (!this.data.documents) {
        this.choosePhotos();
        return;
      }
      wx.showActionSheet({
        itemList: [FROM_CAMERA, FROM_CHAT],
        success: (res) => (res.tapIndex === 1 ? this.choosePdfs() : this.choosePhotos()),
      });
    },

    choosePdfs() {
      documents.choosePdfs(this.data.max - this.data.photos.length).then((chosen) => {
        this.added(chosen.filter((file) => this.fits(file, '文件超过 10MB，请压缩后再选'))
          .map((file) => ({ path: file.path, name: file.name, pdf: true })));
      });
    },

    /** Whether a chosen file is within the upload limit; says so when it is not. */
    fits(file, message) {
      if (file.size && file.size > uploads.MAX_BYTES) {
        wx.showToast({ title: message, icon: 'none' });
        return false;
      }
      return true;
    },

    /** Files just chosen ({path, name?, pdf?}): shown at once, each uploaded on its own. */
    added(files) {
      const start = this.data.photos.length;
      this.setData({ photos: this.data.photos.concat(files.map((file) => Object.assign(
        { status: 'uploading', id: null, pdf: false, stored: false }, file))) });
      this.emit();
      files.forEach((file, i) => this.send(start + i));
    },

    choosePhotos() {
      wx.chooseMedia({
        count: this.data.max - this.data.photos.length,
        mediaType: ['image'],
        sourceType: ['camera', 'album'],
        sizeType: ['compressed'],
        success: (res) => {
          this.added(res.tempFiles.filter((file) => this.fits(file, '照片超过 10MB，请重新拍摄'))
            .map((file) => ({ path: file.tempFilePath })));
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
      if (photo.pdf) {
        (photo.stored ? documents.openStored : documents.openLocal)(photo.path);
        return;
      }
      wx.previewImage({ urls: this.data.photos.filter((p) => !p.pdf).map((p) => p.path), current: photo.path });
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
