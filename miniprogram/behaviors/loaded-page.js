/**
 * The behaviour of a page that shows what it loads: the spinner only on the first load, pull-down refresh, and
 * a refresh when the page is shown again (back from a form that changed what it shows).
 *
 * A page implements `fetch()`, which resolves with what to show, and `show(result)`, which puts it on the
 * page (and sets `loading: false`). A failure shows its message, except that of a user not bound to a school
 * (the guard has already sent them to bind).
 */
const guard = require('../utils/guard');

const loadedPage = Behavior({
  data: { loading: true, loadError: '' },
  methods: {
    onLoad() {
      return this.load();
    },

    onShow() {
      return this.loadedOnce ? this.load() : null;
    },

    onPullDownRefresh() {
      return this.load().then(() => wx.stopPullDownRefresh());
    },

    /** Fetch and show again (first load, refresh, a changed filter). */
    load() {
      this.setData({ loading: !this.loadedOnce, loadError: '' });
      return this.fetch().then((result) => {
        this.loadedOnce = true;
        this.show(result);
      }, guard.loadFailed(this));
    },
  },
});

module.exports = { loadedPage };
