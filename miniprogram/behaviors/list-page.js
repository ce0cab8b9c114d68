/**
 * The behaviour every list page shares: the first load (the spinner shows only then), pull-down refresh,
 * a refresh when the page is shown again, and paging (reaching the bottom loads the next page).
 *
 * A page calls `listPage({ pageSize })` and implements `fetchPage(cursor, pageSize)`, which resolves with
 * `{ items, next }`: the items ready to show and the cursor of the next page (null on the last one). The first
 * page is asked for with a null cursor. Loading, refreshing and showing again are those of `loadedPage`.
 */
const { loadedPage } = require('./loaded-page');

/** The cursor of the next page of a list paged by id (`before_id`): the last id when the page was full. */
function nextBeforeId(items, pageSize) {
  return items.length >= pageSize ? items[items.length - 1].id : null;
}

function listPage(options) {
  return Behavior({
    behaviors: [loadedPage],
    data: { items: [], more: false, loadingMore: false, pageSize: options.pageSize },
    methods: {
      onReachBottom() {
        return this.loadMore();
      },

      /** The first page (what `load` fetches). */
      fetch() {
        return this.fetchPage(null, this.data.pageSize);
      },

      show(page) {
        this.next = page.next || null;
        this.setData({ loading: false, items: page.items, more: !!this.next });
      },

      /** The next page, appended; nothing when there is none or one is on its way. */
      loadMore() {
        if (!this.data.more || this.data.loadingMore) return Promise.resolve(null);
        this.setData({ loadingMore: true });
        return this.fetchPage(this.next, this.data.pageSize).then((page) => {
          this.next = page.next || null;
          this.setData({ loadingMore: false, items: this.data.items.concat(page.items), more: !!this.next });
        }, () => this.setData({ loadingMore: false }));
      },
    },
  });
}

module.exports = { listPage, nextBeforeId };
