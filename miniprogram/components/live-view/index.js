/**
 * The live picture of one camera: <live-player> for RTMP (low delay, needs the 实时播放音视频流 permission
 * of the mini-program), <video> for HLS otherwise; or the "closed now, opens at HH:MM" card.
 * The play URLs carry a short-lived token, so a reconnect asks the page for fresh ones ('reconnect').
 */
const LIVE_PLAYING = 2004;
const LIVE_DISCONNECTED = -2301;
const LIVE_RECONNECTING = 2103;

Component({
  properties: {
    // {rtmp_url, hls_url, expires_at} from POST /live/cameras/<id>/play, or null.
    play: { type: Object, value: null },
    // {message, next_open_at} when the window is closed, or null.
    closed: { type: Object, value: null },
    prefer: { type: String, value: 'rtmp' },
  },
  data: { mode: '', status: '', broken: '', closedText: '' },
  observers: {
    'play, prefer': function choose(play, prefer) {
      let mode = '';
      if (play && play.rtmp_url && (prefer === 'rtmp' || !play.hls_url)) mode = 'rtmp';
      else if (play && play.hls_url) mode = 'hls';
      this.setData({ mode, broken: '', status: mode ? '连接中…' : '' });
    },
    closed(closed) {
      this.setData({ closedText: closed ? closed.message : '' });
    },
  },
  lifetimes: {
    detached() {
      this.stop();
    },
  },
  methods: {
    context() {
      return this.data.mode === 'rtmp' ? wx.createLivePlayerContext('player', this) : wx.createVideoContext('player', this);
    },
    stop() {
      if (this.data.mode) this.context().stop();
    },
    onState(event) {
      const code = event.detail.code;
      if (code === LIVE_PLAYING) this.setData({ status: '直播中', broken: '' });
      else if (code === LIVE_RECONNECTING) this.setData({ status: '网络不佳，正在重连…' });
      else if (code === LIVE_DISCONNECTED) this.setData({ status: '', broken: '直播连接已断开' });
    },
    onPlaying() {
      this.setData({ status: '直播中', broken: '' });
    },
    onWaiting() {
      this.setData({ status: '缓冲中…' });
    },
    onError() {
      // <live-player> needs the 实时播放音视频流 permission of the mini-program's category; without it
      // (or when RTMP is blocked) the same signed stream plays as HLS in <video>.
      if (this.data.mode === 'rtmp' && this.data.play && this.data.play.hls_url) {
        this.setData({ mode: 'hls', status: '已切换到备用线路…' });
        return;
      }
      this.setData({ status: '', broken: '直播画面加载失败' });
    },
    onReconnect() {
      this.setData({ broken: '', status: '连接中…' });
      this.triggerEvent('reconnect');
    },
  },
});
