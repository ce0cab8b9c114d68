/**
 * 食材溯源: a dish → its ingredients → batch and delivery → supplier → licences with their scans. Those who record
 * correct a delivery or a supplier's certificate from here, and register a supplier's certificate (a missing licence
 * is the gap the page shows); the page is loaded again when shown again.
 */
const guard = require('../../../utils/guard');
const time = require('../../../utils/time');
const labels = require('../../../utils/labels');
const records = require('../../../services/records');
const { loadedPage } = require('../../../behaviors/loaded-page');
const { certificateLinks } = require('../../../behaviors/certificate-links');
const { recordHistory } = require('../../../behaviors/record-history');

Component({
  behaviors: [loadedPage, certificateLinks('certificate'), recordHistory],
  data: {
    dish: {}, mealLabel: '', date: '', ingredients: [], canWrite: false, certTypes: labels.CERTIFICATE_STATUS_TAGS,
  },
  methods: {
    onLoad(query) {
      this.query = query || {};
      this.load();
    },

    fetch() {
      return guard.ready().then(({ schoolId, abilities }) => {
        this.setData({ canWrite: abilities.uploadRecords });
        return records.day(schoolId, this.query.date, { silent: true });
      }).then((day) => {
        const found = records.findDish(day, this.query.dish_id);
        if (!found) throw new Error('菜品不存在或菜单已更正');
        return { day, found };
      });
    },

    show({ day, found }) {
      wx.setNavigationBarTitle({ title: `${found.dish.name} · 溯源` });
      this.setData({
        loading: false,
        dish: found.dish,
        mealLabel: found.meal.meal_label,
        date: time.dayLabel(day.date),
        ingredients: found.dish.ingredients.map((raw) => {
          const item = records.traceIngredient(day, raw);
          if (item.missing) return item;
          const receiving = item.receiving || { files: {} };
          const supplier = item.supplier || { name: '未登记', certificates: [] };
          return Object.assign({}, item, {
            receiving,
            receivedText: time.dateTime(receiving.received_at),
            reportPhotos: records.photos(receiving.files),
            reportPdfs: records.pdfs(receiving.files),
            supplier: Object.assign({}, supplier, {
              certificates: supplier.certificates.map((cert) => Object.assign({}, cert, {
                photos: records.photos(cert.files, 'scan'),
                pdfs: records.pdfs(cert.files, 'scan'),
              })),
            }),
          });
        }),
      });
    },

    /** 更正进货记录, 更正证照: the record's form (data-form), opened on it. */
    onAmend(event) {
      const { id, form } = event.currentTarget.dataset;
      wx.navigateTo({ url: `/pages/records/${form}/index?amend=${id}` });
    },

    onPreview(event) {
      wx.previewImage({ urls: event.currentTarget.dataset.urls, current: event.currentTarget.dataset.url });
    },
  },
});
