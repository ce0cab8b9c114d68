/** The committee and school staff approve or reject pending bindings of their school. */
const guard = require('../../../utils/guard');
const labels = require('../../../utils/labels');
const time = require('../../../utils/time');
const { askText } = require('../../../utils/prompt');
const accounts = require('../../../services/accounts');
const { listPage } = require('../../../behaviors/list-page');

Component({
  // Every pending request of the school at once: a school has few, and all of them wait for a decision.
  behaviors: [listPage({ pageSize: null })],
  data: { schoolId: null },
  methods: {
    fetchPage() {
      return guard.ready().then(({ schoolId, abilities }) => {
        if (!abilities.approveBindings) throw new Error('只有学校管理人员和家委会可以审核绑定');
        this.setData({ schoolId });
        return accounts.pending(schoolId, { silent: true });
      }).then((items) => ({
        items: items.map((m) => Object.assign({}, m, {
          roleLabel: labels.label(labels.ROLES, m.role), when: time.dateTime(m.created_at),
          who: m.applicant_name || m.nickname || '微信用户', relationLabel: labels.label(labels.RELATIONS, m.relation),
        })),
        next: null,
      }));
    },

    decide(id, approve, reason) {
      return accounts.decide(id, approve, reason).then(() => {
        this.setData({ items: this.data.items.filter((m) => m.id !== id) });
        wx.showToast({ title: approve ? '已通过' : '已拒绝', icon: 'success' });
      }, (err) => {
        // Someone else decided first: drop it from the list, the toast already says so.
        if (err.code === 'membership_not_pending') this.setData({ items: this.data.items.filter((m) => m.id !== id) });
      });
    },

    onApprove(event) {
      return this.decide(event.currentTarget.dataset.id, true, null);
    },

    onReject(event) {
      const id = event.currentTarget.dataset.id;
      return askText({ title: '拒绝绑定申请', placeholder: '请填写拒绝原因（选填）', confirmText: '拒绝', danger: true })
        .then((reason) => (reason === null ? null : this.decide(id, false, reason || null)));
    },
  },
});
