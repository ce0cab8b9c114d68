// Pages and the guard: no session → 登录; a session without school or region → 无工作台.
import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import { menuFor } from './services/menu'
import { deskOf, loadUser, session, whenExpired } from './services/session'

const routes: RouteRecordRaw[] = [
  { path: '/login', name: 'login', component: () => import('./pages/login/LoginPage.vue'), meta: { public: true } },
  { path: '/no-desk', name: 'no-desk', component: () => import('./pages/no-scope/NoDeskPage.vue') },
  { path: '/', redirect: '/overview' },
  { path: '/overview', name: 'overview', component: () => import('./pages/overview/OverviewPage.vue'), meta: { title: '总览' } },
  { path: '/violations', name: 'violations', component: () => import('./pages/violations/ViolationListPage.vue'), meta: { title: '问题整改' } },
  { path: '/violations/:id', name: 'violation', component: () => import('./pages/violations/ViolationDetailPage.vue'), meta: { title: '问题详情' } },
  { path: '/alarms', name: 'alarms', component: () => import('./pages/alarms/AlarmQueuePage.vue'), meta: { title: '告警审核' } },
  { path: '/supervision', name: 'supervision', component: () => import('./pages/supervision/SupervisionPage.vue'), meta: { title: '监督检查' } },
  { path: '/supervision/orders/:id', name: 'order', component: () => import('./pages/supervision/OrderDetailPage.vue'), meta: { title: '督办单' } },
  { path: '/supervision/inspections/:id', name: 'inspection', component: () => import('./pages/supervision/InspectionDetailPage.vue'), meta: { title: '检查' } },
  { path: '/wall', name: 'wall', component: () => import('./pages/wall/WallPage.vue'), meta: { title: '视频巡查' } },
  // The monitoring room's screen: no menu, no header (App.vue renders `bare` pages alone).
  { path: '/bigscreen', name: 'bigscreen', component: () => import('./pages/wall/BigScreenPage.vue'), meta: { title: '监控大屏', bare: true } },
  { path: '/ledger', name: 'ledger', component: () => import('./pages/ledger/LedgerPage.vue'), meta: { title: '台账' } },
  { path: '/unreported', name: 'unreported', component: () => import('./pages/unreported/UnreportedPage.vue'), meta: { title: '未报送' } },
  { path: '/cameras', name: 'cameras', component: () => import('./pages/cameras/CamerasPage.vue'), meta: { title: '摄像头' } },
  { path: '/risk', name: 'risk', component: () => import('./pages/risk/RiskPage.vue'), meta: { title: '风险警示' } },
  { path: '/warnings', name: 'warnings', component: () => import('./pages/risk/WarningsPage.vue'), meta: { title: '风险预警' } },
  { path: '/playback', name: 'playback', component: () => import('./pages/playback/PlaybackPage.vue'), meta: { title: '录像回放' } },
  { path: '/school', name: 'school', component: () => import('./pages/school/SchoolPage.vue'), meta: { title: '学校管理' } },
  { path: '/ops', name: 'ops', component: () => import('./pages/ops/DeliveriesPage.vue'), meta: { title: '通知投递' } },
  { path: '/users', name: 'users', component: () => import('./pages/ops/UsersPage.vue'), meta: { title: '用户与会话' } },
  { path: '/:pathMatch(.*)*', redirect: '/overview' },
]

export const router = createRouter({ history: createWebHistory('/console/'), routes })

router.beforeEach(async (to) => {
  if (to.meta.public) return true
  const user = await loadUser()
  if (!user) return { name: 'login', query: { next: to.fullPath } }
  if (deskOf(user)) return true
  // No region or school: a platform admin works on the platform's pages (总览 after log-in goes to the first), anyone
  // else is told there is no desk.
  const platform = menuFor(user, null)
  if (!platform.length) return to.name === 'no-desk' ? true : { name: 'no-desk' }
  return platform.some((entry) => entry.path === to.path) ? true : platform[0].path
})

router.afterEach((to) => {
  document.title = `${(to.meta.title as string) ?? '工作台'} · 明厨亮灶`
})

// A 401 in the middle of work: back to log-in, then back here; open forms keep their drafts.
whenExpired(() => {
  const current = router.currentRoute.value
  if (current.name !== 'login') void router.push({ name: 'login', query: { next: current.fullPath, expired: '1' } })
})

export { session }
