/**
 * The photos of a form (components/photo-picker): the references uploaded so far, whether some are still
 * uploading or failed, and the one message a form shows when that stops it being sent.
 *
 * A page calls `photoField({ path, error })` — `path` where the references go (`form.photo_upload_ids`,
 * `photoKeys`), `error` the field of `errors` the message goes to — binds its picker's change to `onPhotos` and
 * asks `photosPending()` in its check. A form with several pickers gives each its own `data-path` and
 * `data-error`: the form waits for all of them.
 */
function photoField({ path, error } = {}) {
  return Behavior({
    data: { photosBusy: false, photosFailed: false },
    methods: {
      onPhotos(event) {
        const dataset = (event.currentTarget && event.currentTarget.dataset) || {};
        const at = dataset.path || path;
        this.photoStates = Object.assign({}, this.photoStates, { [at]: event.detail });
        const states = Object.keys(this.photoStates).map((key) => this.photoStates[key]);
        this.setData({
          [at]: event.detail.ids, photosBusy: states.some((s) => s.uploading), photosFailed: states.some((s) => s.failed),
          [`errors.${dataset.error || error}`]: '',
        });
      },

      /** What stops the form while photos are on their way ('' when every photo chosen is uploaded). */
      photosPending() {
        if (this.data.photosBusy) return '照片还在上传，请稍候';
        if (this.data.photosFailed) return '有照片上传失败，请点击重试或删除';
        return '';
      },

      /** A new, empty form (its pickers remounted): nothing on its way any more. */
      resetPhotos() {
        this.photoStates = {};
        this.setData({ photosBusy: false, photosFailed: false });
      },
    },
  });
}

module.exports = { photoField };
