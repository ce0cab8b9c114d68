/**
 * The ways from a holder (a staff member, a supplier) to its certificate form: 登记 opens the form with the holder
 * picked (`?holder=`, behaviors/certificate-reading.js) and 更正 opens it on the certificate held (`?amend=`). A page
 * calls `certificateLinks(form)` with the form's page folder ('health', 'certificate') and binds `onAddCertificate` /
 * `onAmendCertificate` to elements whose `data-id` is the holder's or the certificate's record id.
 */
function certificateLinks(form) {
  const open = (query, id) => wx.navigateTo({ url: `/pages/records/${form}/index?${query}=${id}` });
  return Behavior({
    methods: {
      onAddCertificate(event) {
        open('holder', event.currentTarget.dataset.id);
      },

      onAmendCertificate(event) {
        open('amend', event.currentTarget.dataset.id);
      },
    },
  });
}

module.exports = { certificateLinks };
