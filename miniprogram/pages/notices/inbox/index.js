/**
 * 消息通知: every notice the user was sent lands here, whether or not WeChat delivered it (subscription
 * quota, refusals), so nothing depends on WeChat. Opening a notice marks it read and goes to its page.
 */
const guard = require('../../../utils/guard');
const time = require('../../../utils/time');
const notices = require('../../../services/notices');
const { listPage, nextBeforeId } = require('../../../behaviors/list-page');

Component({
  behaviors: [listPage({ pageSize: 50 })],
  data: { unread: 0 },
  methods: {
    onLoad(query) {
      // Messages sent before orders and reports had their pages opened the inbox with the order's or the
      // report's id: they open that page now.
      if (query && (query.order || query.report)) {
        wx.redirectTo({
          url: query.order ? `/pages/regulators/order/index?id=${query.order}` : `/pages/violations/reports/index?id=${query.report}`,
        });
        return null;
      }
      return this.load();
    },

    fetchPage(beforeId, limit) {
      const query = beforeId ? { before_id: beforeId, limit } : { limit };
      return guard.ready({ bound: false }).then(() => notices.inbox(query)).then((page) => {
        this.setData({ unread: page.unread });
        return {
          items: page.items.map((n) => Object.assign({}, n, { when: time.dateTime(n.created_at), read: !!n.read_at })),
          next: nextBeforeId(page.items, limit),
        };
      });
    },

    onOpen(event) {
      const index = event.currentTarget.dataset.index;
      const notice = this.data.items[index];
      if (!notice.read) {
        notices.markRead(notice.id).then(() => this.setData({
          [`items[${index}].read`]: true, unread: Math.max(0, this.data.unread - 1),
        }), () => null);
      }
      if (notice.page) wx.navigateTo({ url: notice.page.charAt(0) === '/' ? notice.page : `/${notice.page}` });
    },

    onReadAll() {
      return notices.markAllRead().then(() => this.setData({
        unread: 0, items: this.data.items.map((n) => Object.assign({}, n, { read: true })),
      }));
    },

    onNotifyMe() {
      return notices.subscribe(null).then((accepted) => {
        wx.showToast({ title: accepted ? '已开启微信通知' : '未开启微信通知', icon: 'none' });
      });
    },
  },
});
