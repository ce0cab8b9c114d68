/**
 * 监督整改通知 of the school being viewed (from 我的): the orders its regulators issued, newest first, each with
 * its status and deadline; one opens its page (pages/regulators/order), where the principal answers it.
 */
const guard = require('../../../utils/guard');
const regulators = require('../../../services/regulators');
const { loadedPage } = require('../../../behaviors/loaded-page');

Component({
  behaviors: [loadedPage],
  data: { items: [], waiting: 0 },
  methods: {
    fetch() {
      return guard.ready().then(({ schoolId }) => regulators.orders(schoolId, { silent: true }));
    },

    show(orders) {
      const items = orders.map((o) => Object.assign(regulators.orderView(o), { url: `/pages/regulators/order/index?id=${o.id}` }));
      this.setData({ loading: false, items, waiting: items.filter((o) => o.status === 'issued').length });
    },
  },
});
