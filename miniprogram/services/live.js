/** The live view: which cameras the caller may watch now, and short-lived signed play URLs. */
const http = require('../utils/request');

module.exports = {
  lobby: (canteenId) => http.get(`/live/canteens/${canteenId}/cameras`),
  // Errors (closed window, camera offline, too many viewers) are shown by the page itself.
  play: (cameraId) => http.post(`/live/cameras/${cameraId}/play`, {}, { silent: true }),
};
