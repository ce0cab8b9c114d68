// Times are shown in Asia/Shanghai whatever the browser's own zone is.
const FORMAT = new Intl.DateTimeFormat('zh-CN', {
  timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit',
  hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
})

/** `2024-05-01T04:30:00Z` → `2024-05-01 12:30` (Shanghai); empty for null. */
export function shanghaiTime(value: string | null | undefined): string {
  if (!value) return ''
  const parts = Object.fromEntries(FORMAT.formatToParts(new Date(value)).map((p) => [p.type, p.value]))
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}`
}

/** The local (Shanghai) day of a timestamp, `YYYY-MM-DD`. */
export function shanghaiDay(value: string): string {
  return shanghaiTime(value).slice(0, 10)
}
