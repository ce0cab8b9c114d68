/**
 * 录像回放 (staff): one camera's day as a bar (recordings, gaps, violation and health marks) and a <video>
 * playing the MP4 recording that covers the chosen moment, from that moment. Marks and recordings are listed
 * under the bar to tap; the speed is 0.5×, 1× or 2× (what WeChat's <video> supports everywhere).
 */
const guard = require('../../../utils/guard');
const time = require('../../../utils/time');
const live = require('../../../services/live');

const SPEEDS = [0.5, 1, 2];

function seconds(value) {
  return Date.parse(value) / 1000;
}

/** `HH:mm:ss` in Shanghai of an epoch in seconds. */
function clock(epochSeconds) {
  return new Date(epochSeconds * 1000 + 8 * 3600 * 1000).toISOString().slice(11, 19);
}

/** Spans and marks of a timeline placed on the day's bar, in percent. */
function layout(timeline) {
  const from = seconds(timeline.start);
  const length = seconds(timeline.end) - from;
  const pct = (iso) => Math.min(100, Math.max(0, ((seconds(iso) - from) / length) * 100)).toFixed(2);
  const span = (start, end) => ({
    left: pct(start), width: Math.max(0.3, pct(end) - pct(start)).toFixed(2), at: start,
    label: `${clock(seconds(start))}–${clock(seconds(end))}`,
  });
  const marks = timeline.violations.map((v) => ({
    kind: 'violation', id: `violation-${v.id}`, at: v.at, left: pct(v.at), label: `${clock(seconds(v.at))} ${v.title}`,
  })).concat(timeline.health.map((h, index) => ({
    kind: 'health', id: `health-${index}`, at: h.at, left: pct(h.at), label: `${clock(seconds(h.at))} ${h.label}`,
  })));
  return {
    recordings: timeline.recordings.map((r) => span(r.started_at, r.ended_at)),
    gaps: timeline.gaps.map((g) => span(g.start, g.end)),
    marks,
  };
}

Component({
  data: {
    loading: true, loadError: '', cameraName: '', day: '', recordings: [], gaps: [], marks: [],
    src: '', offset: 0, speed: 1, speeds: SPEEDS, position: '', message: '',
  },
  methods: {
    onLoad(query) {
      this.cameraId = Number(query.camera_id);
      this.setData({ day: query.day || time.today() });
      this.load();
    },

    load() {
      this.setData({ loading: true, loadError: '' });
      return guard.ready().then(() => live.timeline(this.cameraId, this.data.day)).then((timeline) => {
        this.setData(Object.assign({ loading: false, cameraName: timeline.camera_name }, layout(timeline)));
      }, guard.loadFailed(this));
    },

    onDay(event) {
      this.setData({ day: event.detail.value, src: '', position: '', message: '' });
      return this.load();
    },

    /** Play from a mark's or a recording's moment: the segment covering it, from its offset. */
    onPick(event) {
      const at = event.currentTarget.dataset.at;
      this.setData({ message: '' });
      return live.playAt(this.cameraId, at).then((answer) => {
        this.playing = answer;
        this.setData({ src: answer.url, offset: answer.offset_seconds });
        this.startAt(answer.offset_seconds);
      }, (err) => this.setData({ message: err.message }));
    },

    startAt(offset) {
      const player = wx.createVideoContext('player', this);
      player.seek(offset);
      player.playbackRate(this.data.speed);
      player.play();
    },

    onMeta() {
      if (this.playing) this.startAt(this.data.offset);
    },

    onSpeed(event) {
      const speed = Number(event.currentTarget.dataset.speed);
      this.setData({ speed });
      wx.createVideoContext('player', this).playbackRate(speed);
    },

    onTime(event) {
      if (this.playing) {
        this.setData({ position: clock(seconds(this.playing.started_at) + event.detail.currentTime) });
      }
    },
  },
});
