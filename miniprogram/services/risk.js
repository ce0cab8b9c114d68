/** Risk as parents see it: the school's camera uptime and its active yellow and red cards (透明公示). */
const http = require('../utils/request');

module.exports = {
  publicRisk: (schoolId) => http.get(`/schools/${schoolId}/risk/public`),
};
