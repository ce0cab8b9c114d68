// 群机器人 (WeCom group robots) of a school (its principal and food-safety staff: `notice.settings`) or of a region
// (its regulators: `risk.settings`), and the signed-in person's own notice channels (我的通知方式). Routes of
// backend/notices/routes.py; docs/risk.md "Double push and channels". A robot's webhook key never comes back from
// the server: only `key_hint` (****abcd).
import { del, get, post, put, type Schemas } from '../api/client'

export type Robot = Schemas['RobotOut']
export type RobotIn = Schemas['RobotIn']
export type RobotUpdate = Schemas['RobotUpdateIn']
export type Channels = Schemas['ChannelsOut']
export type ChannelsIn = Schemas['ChannelsIn']
export type RiskClass = RobotIn['classes'][number]

/** Whose robots: the desk's school or region. */
export interface RobotOwner { kind: 'school' | 'region', id: number }

// The risk classes of backend/risk (1: acted on at once, whatever the hour).
export const ROBOT_CLASS_OPTIONS: { value: RiskClass, label: string }[] = [
  { value: 1, label: '一级风险' },
  { value: 2, label: '二级风险' },
  { value: 3, label: '三级风险' },
]

/** "一级、二级" for the classes a robot posts (or a person gets an SMS for). */
export function classesText(classes: readonly number[] | undefined): string {
  return (classes ?? []).map((c) => ROBOT_CLASS_OPTIONS[c - 1]?.label.replace('风险', '') ?? String(c)).join('、')
}

/** The owner's robots. */
export function listRobots(owner: RobotOwner): Promise<Robot[]> {
  return owner.kind === 'school'
    ? get('/schools/{school_id}/notice-robots', { params: { school_id: owner.id } })
    : get('/regions/{region_id}/notice-robots', { params: { region_id: owner.id } })
}

/** Add a robot (the webhook URL or its key; the classes it posts). */
export function addRobot(owner: RobotOwner, body: RobotIn): Promise<Robot> {
  const robot = { ...body, webhook_key: body.webhook_key.trim() }
  return owner.kind === 'school'
    ? post('/schools/{school_id}/notice-robots', { params: { school_id: owner.id }, body: robot })
    : post('/regions/{region_id}/notice-robots', { params: { region_id: owner.id }, body: robot })
}

/** Change a robot's name, classes or switch; its key only when a new one is given. */
export function updateRobot(owner: RobotOwner, robot: Robot, change: Partial<RobotUpdate>): Promise<Robot> {
  const key = change.webhook_key?.trim()
  const body: RobotUpdate = {
    name: change.name ?? robot.name ?? '', classes: change.classes ?? (robot.classes as RiskClass[] | undefined) ?? [1, 2],
    enabled: change.enabled ?? robot.enabled ?? true, webhook_key: key ? key : null,
  }
  const id = robot.id as number
  return owner.kind === 'school'
    ? put('/schools/{school_id}/notice-robots/{robot_id}', { params: { school_id: owner.id, robot_id: id }, body })
    : put('/regions/{region_id}/notice-robots/{robot_id}', { params: { region_id: owner.id, robot_id: id }, body })
}

/** Remove a robot (what it still had to post is dropped). */
export function deleteRobot(owner: RobotOwner, robot: Robot): Promise<void> {
  const id = robot.id as number
  return owner.kind === 'school'
    ? del('/schools/{school_id}/notice-robots/{robot_id}', { params: { school_id: owner.id, robot_id: id } })
    : del('/regions/{region_id}/notice-robots/{robot_id}', { params: { region_id: owner.id, robot_id: id } })
}

/** The signed-in person's channels. */
export function loadChannels(): Promise<Channels> {
  return get('/me/notice-channels')
}

/** What the channel form edits: quiet hours as a switch and two times, the number mode explicit. */
export interface ChannelsForm {
  wechat: boolean
  sms: boolean
  useBoundPhone: boolean
  phone: string
  sms_classes: RiskClass[]
  quiet: boolean
  quiet_start: string
  quiet_end: string
}

/** The form of a person's channels as they stand (quiet hours default to 22:00–07:00 when switched on). */
export function channelsForm(channels: Channels): ChannelsForm {
  const quiet = Boolean(channels.quiet_start && channels.quiet_end)
  return {
    wechat: channels.wechat ?? true, sms: channels.sms ?? false,
    useBoundPhone: !channels.phone && Boolean(channels.account_phone), phone: channels.phone ?? '',
    sms_classes: [...(channels.sms_classes ?? [1, 2])] as RiskClass[], quiet,
    quiet_start: quiet ? channels.quiet_start! : '22:00', quiet_end: quiet ? channels.quiet_end! : '07:00',
  }
}

/** Save the person's channels from the form. */
export function saveChannels(form: ChannelsForm): Promise<Channels> {
  const phone = form.useBoundPhone ? null : form.phone.trim() || null
  return put('/me/notice-channels', {
    body: {
      wechat: form.wechat, sms: form.sms, phone, sms_classes: [...form.sms_classes].sort(),
      quiet_start: form.quiet ? form.quiet_start : null, quiet_end: form.quiet ? form.quiet_end : null,
    },
  })
}

/** "22:00 至次日 07:00" when quiet hours run through midnight. */
export function quietText(start: string, end: string): string {
  return end < start ? `${start} 至次日 ${end}` : `${start} 至 ${end}`
}
