/**
 * 监督整改通知: one order a regulator issued to a school — what to fix and by when, the problems it names, the
 * school's answer and the closing. The principal answers here (again, to replace the answer, until it is
 * closed); a regulator of the school closes an answered order. The WeChat messages of all three open this page.
 *
 * Query: `id`, the order.
 */
const guard = require('../../../utils/guard');
const formUtil = require('../../../utils/form');
const prompt = require('../../../utils/prompt');
const regulators = require('../../../services/regulators');
const { loadedPage } = require('../../../behaviors/loaded-page');

Component({
  behaviors: [loadedPage],
  data: { order: {}, canAnswer: false, canClose: false, response: '', responseError: '', busy: false },
  methods: {
    onLoad(query) {
      this.orderId = Number(query.id);
      return this.load();
    },

    fetch() {
      return guard.ready({ bound: false }).then((ctx) => {
        this.ctx = ctx;
        return regulators.order(this.orderId, { silent: true });
      });
    },

    show(order) {
      const open = order.status !== 'closed';
      const school = guard.abilities(guard.capabilitiesIn(order.school_id, this.ctx.user));
      this.setData({
        loading: false,
        order: regulators.orderView(order),
        canAnswer: open && school.answerOrder,
        canClose: order.status === 'responded' && this.ctx.regulator.closeOrder,
        // The draft starts from the answer given, so answering again edits it.
        response: this.data.response || order.response || '',
      });
    },

    onResponse(event) {
      this.setData({ response: event.detail, responseError: '' });
    },

    /** 提交答复: the school's answer; the regulator who issued the order is told. */
    onRespond() {
      const response = this.data.response.trim();
      if (!response) {
        this.setData({ responseError: '请填写整改措施和完成情况' });
        return null;
      }
      this.setData({ busy: true, responseError: '' });
      return regulators.respondOrder(this.orderId, response).then((order) => {
        wx.showToast({ title: '已答复，监管部门已收到通知', icon: 'none' });
        this.setData({ busy: false, response: '' });
        this.show(order);
      }, (err) => this.setData({ busy: false, responseError: formUtil.fieldErrors(err).response || err.message }));
    },

    /** 办结: the regulator is satisfied with the answer; the school is told. */
    onClose() {
      return prompt.askText({ title: '办结', placeholder: '办结意见（选填），如：现场复查合格', confirmText: '办结' })
        .then((reason) => {
          if (reason === null) return null;
          this.setData({ busy: true });
          return regulators.closeOrder(this.orderId, reason).then((order) => {
            wx.showToast({ title: '已办结', icon: 'success' });
            this.setData({ busy: false });
            this.show(order);
          }, () => this.setData({ busy: false }));
        });
    },
  },
});
