/**
 * 厨房直播: one tab per kitchen area the caller may watch, the picture of its camera (<live-player> RTMP
 * or <video> HLS through kc-live-view), and a clear "closed now, opens at …" card outside the published
 * hours. Play URLs are short-lived and signed for this user, so every (re)connect asks the API again.
 */
const guard = require('../../../utils/guard');
const time = require('../../../utils/time');
const schools = require('../../../services/schools');
const live = require('../../../services/live');

const WEEKDAY_NAMES = ['周一', '周二', '周三', '周四', '周五', '周六', '周日'];

function hoursText(windows) {
  if (!windows || !windows.length) return '食堂尚未设置直播开放时间';
  const byDay = {};
  windows.forEach((w) => {
    byDay[w.weekday] = (byDay[w.weekday] || []).concat(`${w.start}–${w.end}`);
  });
  const lines = [];
  Object.keys(byDay).sort().forEach((day) => {
    const spans = byDay[day].join('、');
    const last = lines[lines.length - 1];
    if (last && last.spans === spans && last.to === Number(day) - 1) last.to = Number(day);
    else lines.push({ from: Number(day), to: Number(day), spans });
  });
  return lines.map((l) => `${WEEKDAY_NAMES[l.from]}${l.to > l.from ? `至${WEEKDAY_NAMES[l.to]}` : ''} ${l.spans}`).join('；');
}

Component({
  data: {
    loading: true, loadError: '', loadedEmpty: '', areas: [], activeArea: 0, cameras: [], cameraId: null,
    play: null, closed: null, message: '', hoursText: '', closesText: '', canPlayback: false,
    canReport: false,
  },
  methods: {
    onLoad(query) {
      this.wantedCamera = query && query.camera_id ? Number(query.camera_id) : null;
      this.load();
    },

    onHide() {
      // Leaving the page stops the picture; coming back asks for fresh URLs.
      this.setData({ play: null });
    },

    onShow() {
      if (this.data.cameraId && !this.data.play && !this.data.closed) this.start(this.data.cameraId);
    },

    load() {
      this.setData({ loading: true, loadError: '' });
      return guard.ready().then(({ schoolId, abilities }) => {
        this.setData({ canPlayback: abilities.playback, canReport: abilities.report });
        return schools.canteens(schoolId);
      }).then((canteens) => {
        if (!canteens.length) throw new Error('学校尚未登记食堂');
        this.canteenId = canteens[0].id;
        return live.lobby(canteens[0].id);
      }).then((lobby) => {
        const areas = [];
        lobby.cameras.forEach((camera) => {
          let area = areas.find((a) => a.id === camera.area_id);
          if (!area) {
            area = { id: camera.area_id, name: camera.area_name, cameras: [] };
            areas.push(area);
          }
          area.cameras.push(camera);
        });
        this.areas = areas;
        this.setData({
          loading: false, areas: areas.map((a) => ({ id: a.id, name: a.name })),
          hoursText: lobby.any_time ? '您可随时观看全部区域' : hoursText(lobby.live_windows),
          loadedEmpty: areas.length ? '' : '暂无可观看的直播画面',
        });
        if (!areas.length) return null;
        const start = areas.find((a) => a.cameras.some((c) => c.id === this.wantedCamera)) || areas[0];
        return this.showArea(start.id, this.wantedCamera);
      }, guard.loadFailed(this));
    },

    showArea(areaId, cameraId) {
      const area = this.areas.find((a) => a.id === areaId);
      const camera = area.cameras.find((c) => c.id === cameraId) || area.cameras[0];
      this.setData({ activeArea: areaId, cameras: area.cameras, cameraId: camera.id });
      return this.start(camera.id);
    },

    start(cameraId) {
      this.setData({ play: null, closed: null, message: '' });
      return live.play(cameraId).then((play) => {
        if (cameraId !== this.data.cameraId) return;
        this.setData({ play, closesText: play.window_closes_at ? time.hm(play.window_closes_at) : '' });
      }, (err) => {
        if (cameraId !== this.data.cameraId) return;
        if (err.code === 'live_window_closed' || err.code === 'live_not_scheduled') {
          this.setData({ closed: { message: err.message, next_open_at: (err.details || {}).next_open_at || null } });
        } else {
          this.setData({ message: err.message });
        }
      });
    },

    onArea(event) {
      return this.showArea(event.detail.name);
    },

    onCamera(event) {
      const id = event.currentTarget.dataset.id;
      this.setData({ cameraId: id });
      return this.start(id);
    },

    /** Staff: the recordings of the camera on screen. */
    onPlayback() {
      wx.navigateTo({ url: `/pages/live/playback/index?camera_id=${this.data.cameraId}` });
    },

    /** 反映问题 about what is on screen: the report carries the canteen and the camera being watched. */
    onReport() {
      wx.navigateTo({ url: `/pages/violations/report/index?canteen=${this.canteenId}&camera=${this.data.cameraId}` });
    },

    onReconnect() {
      return this.start(this.data.cameraId);
    },
  },
});
