/** The live view: which cameras the caller may watch now, and short-lived signed play URLs. */
const http = require('../utils/request');

module.exports = {
  lobby: (canteenId) => http.get(`/live/canteens/${canteenId}/cameras`),
  // Errors (closed window, camera offline, too many viewers) are shown by the page itself.
  play: (cameraId) => http.post(`/live/cameras/${cameraId}/play`, {}, { silent: true }),
  // Playback (staff): a camera's day, and the recording covering an instant with the offset into it.
  timeline: (cameraId, day) => http.get(`/live/cameras/${cameraId}/playback`, { day }),
  playAt: (cameraId, at) => http.post(`/live/cameras/${cameraId}/playback/play`, { at }, { silent: true }),
};
