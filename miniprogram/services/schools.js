/** Schools, canteens, kitchen areas and cameras. */
const http = require('../utils/request');

module.exports = {
  schools: () => http.get('/schools'),
  school: (schoolId) => http.get(`/schools/${schoolId}`),
  canteens: (schoolId) => http.get(`/schools/${schoolId}/canteens`),
  areas: (canteenId) => http.get(`/canteens/${canteenId}/areas`),
  cameras: (canteenId) => http.get(`/canteens/${canteenId}/cameras`),
};
