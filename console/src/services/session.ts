// Who is logged in, and what the desk shows them: a regulator's region or a school's staff desk.
import { reactive } from 'vue'
import { useRouter } from 'vue-router'
import { ApiError, configureClient, get, post, type Schemas } from '../api/client'

export type User = Schemas['UserOut']
const TOKEN_KEY = 'console.token'
// School roles that have a desk in the console; parents and the committee use the mini-program.
export const DESK_ROLES = ['principal', 'manager', 'staff'] as const

export interface Desk {
  kind: 'region' | 'school'
  id: number
  name: string
  role: string
}

export const session = reactive({
  token: localStorage.getItem(TOKEN_KEY) as string | null,
  user: null as User | null,
  expired: false,
})

/** The place the user works on: their first regulated region, else their first active staff binding. A platform admin
 * without either works on the platform's pages only (`services/menu.ts` `platform`). */
export function deskOf(user: User | null): Desk | null {
  if (!user) return null
  const scope = (user.regulator_scopes ?? [])[0]
  if (scope?.region_id) return { kind: 'region', id: scope.region_id, name: scope.region_name ?? '', role: 'regulator' }
  const binding = (user.memberships ?? []).find(
    (m) => m.status === 'active' && (DESK_ROLES as readonly string[]).includes(m.role ?? ''))
  if (binding?.school_id) {
    return { kind: 'school', id: binding.school_id, name: binding.school_name ?? '', role: binding.role ?? '' }
  }
  return null
}

const ROLE_NAMES: Record<string, string> = {
  regulator: '监管人员', principal: '校长', manager: '食堂负责人', staff: '食品安全员',
}

/** The Chinese name of a desk role. */
export function roleName(role: string): string {
  return ROLE_NAMES[role] ?? role
}

function forget(): void {
  session.token = null
  session.user = null
  localStorage.removeItem(TOKEN_KEY)
}

let onExpired: () => void = () => undefined

/** What to do when the API answers 401 (the router sends the user to the log-in page). */
export function whenExpired(handler: () => void): void {
  onExpired = handler
}

configureClient({
  token: () => session.token,
  onUnauthorized: () => {
    if (!session.token) return
    forget()
    session.expired = true
    onExpired()
  },
})

/** Log in as a demo user (development only: the API's dev-login route). */
export async function devLogin(openid: string): Promise<User> {
  const answer = await post('/auth/dev-login', { body: { openid } })
  remember(answer.token as string, answer.user ?? null)
  return session.user as User
}

function remember(token: string, user: User | null): void {
  session.token = token
  session.user = user
  session.expired = false
  localStorage.setItem(TOKEN_KEY, token)
}

/** The logged-in user, loaded once per page load; null when there is no (valid) session. */
export async function loadUser(): Promise<User | null> {
  if (!session.token) return null
  if (session.user) return session.user
  try {
    session.user = await get('/me')
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return null
    throw error
  }
  return session.user
}

/** Revoke the session on the server and forget it here. */
export async function logout(): Promise<void> {
  try {
    if (session.token) await post('/auth/logout')
  } finally {
    forget()
  }
}

/** 退出所有设备 (a lost phone, a shared computer): revoke every session of the account, the phone's included, then
 * forget this one; answers how many ended. A failure is thrown, the session kept: the person must know. */
export async function logoutEverywhere(): Promise<number> {
  const { revoked } = await post('/auth/logout-all')
  forget()
  return revoked ?? 0
}

/** A composable: log out, then show the log-in page (the layout's and the no-desk page's button). */
export function useSignOut(): () => Promise<void> {
  const router = useRouter()
  return async () => {
    await logout()
    await router.push({ name: 'login' })
  }
}

/** The demo users of `flask seed-demo` (backend/cli.py) with one-click log-in in development. */
export const DEMO_USERS = [
  { openid: 'demo-regulator', name: '西湖区市场监管局', role: '监管人员（西湖区）' },
  { openid: 'demo-principal-1', name: '西湖实验小学校长', role: '校长' },
  { openid: 'demo-manager-1', name: '西湖实验小学食堂负责人', role: '食堂负责人' },
  { openid: 'demo-staff-1', name: '西湖实验小学食品安全员', role: '食品安全员' },
  { openid: 'demo-principal-2', name: '文三路中学校长', role: '校长' },
  { openid: 'demo-parent-1', name: '西湖实验小学家长', role: '家长（无工作台）' },
  { openid: 'demo-admin', name: '平台管理员', role: '平台运维' },
]

export type Ticket = Schemas['ConsoleTicketOut']

/** Start a scan-to-log-in: a two-minute ticket and its mini-program code (a PNG data URL). */
export function createTicket(): Promise<Ticket> {
  return post('/auth/console-tickets', { body: { env_version: import.meta.env.DEV ? 'develop' : 'release' } })
}

/** Poll a ticket: false while nobody confirmed it, true once this browser is logged in with its own session. */
export async function pollTicket(ticket: Ticket): Promise<boolean> {
  const answer = await post('/auth/console-tickets/{ticket_id}/poll',
    { params: { ticket_id: ticket.id as number }, body: { secret: ticket.secret as string } })
  if (answer.status !== 'confirmed' || !answer.token) return false
  remember(answer.token, answer.user ?? null)
  return true
}
