/** Live-view opening hours as people read them (Asia/Shanghai, Monday = weekday 0 as the API sends). */
const time = require('./time');

/** The API's weekday (Monday = 0) of a moment in Shanghai. */
function apiWeekday(now) {
  return (time.parts(now || Date.now()).weekday + 6) % 7;
}

/** "今日直播开放：06:30–13:30、16:30–19:00", or that there is none today. */
function todayText(canteens, now) {
  const weekday = apiWeekday(now);
  const spans = [];
  (canteens || []).forEach((canteen) => {
    (canteen.live_windows || []).filter((w) => w.weekday === weekday).forEach((w) => {
      const span = `${w.start}–${w.end}`;
      if (spans.indexOf(span) < 0) spans.push(span);
    });
  });
  return spans.length ? `今日直播开放：${spans.join('、')}` : '今日无直播开放时段';
}

module.exports = { todayText, apiWeekday };
